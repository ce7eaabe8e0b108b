import ArgumentParser
import Foundation
import Hardware
import Kernels
import MNIST

/// `mnist bench`: training and inference speed, memory and arithmetic rate, side by side with PyTorch
/// when it is installed (benchmarks/pytorch_reference.py runs in the same invocation, on the same machine).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference speed beside PyTorch's (when torch is installed).",
        discussion: """
            Each measurement runs in its own process so peak memory is its own. The tutorial's recipe \
            throughout: batch 64, Adam lr 0.001; an epoch is a training pass over the 60,000 images plus a \
            test pass over the 10,000. Run it on an otherwise idle machine.
            """)

    enum PyTorchMode: String, ExpressibleByArgument { case auto, on, off }

    @Option(help: ArgumentHelp("\(ModelKind.names), or all (the tutorial's three)."))
    var model = "all"
    @Option(help: "Training epochs per measurement.")
    var epochs = 1
    @Option(help: "Test images timed one at a time for batch-1 inference.")
    var batch1Images = 2000
    @Option(help: "Stop training after this many batches (quick checks only; figures are then not comparable).")
    var maxBatches: Int?
    @Option(help: "Seed for the weights and shuffling.")
    var seed: UInt64 = 0
    @Option(help: "Run the PyTorch reference: auto (when python3 can import torch), on or off.")
    var pytorch: PyTorchMode = .auto
    @Option(
        help: ArgumentHelp("Also write every figure as JSON.", valueName: "file"),
        completion: .file(extensions: ["json"]))
    var json: String?
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: .hidden)
    var worker: String?

    func validate() throws {
        guard model == "all" || ModelKind(rawValue: model) != nil else {
            throw ValidationError("--model must be \(ModelKind.names) or all (the tutorial's three)")
        }
        guard epochs >= 1, batch1Images >= 1, (maxBatches ?? 1) >= 1 else {
            throw ValidationError("--epochs, --batch1-images and --max-batches must be positive")
        }
    }

    func run() throws {
        try threadOptions.apply()
        if let worker {
            let result = try runWorker(worker, kind: try requireModel(model))
            print(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self)
            )
            return
        }
        let kinds = model == "all" ? ModelKind.tutorialModels : [ModelKind(rawValue: model)!]
        let sgemm = measureSgemm()
        // Figures mean little without the machine: name its CPU and the OpenBLAS kernels that ran.
        print("CPU: \(CPUFeatures.current); OpenBLAS core \(BLAS.coreName) (\(BLAS.configuration))")
        print(
            "Swift: \(Parallel.threadCount) threads; sgemm 2048³ float32 through OpenBLAS (one call per thread): \(String(format: "%.1f", sgemm)) GFLOP/s"
        )
        var swift: [String: [String: Any]] = [:]
        for kind in kinds {
            var figures = try spawnWorker("train", kind: kind)
            figures.merge(try spawnWorker("inference", kind: kind)) { first, _ in first }
            let epochSeconds = figures["seconds_per_epoch"] as? Double ?? .nan
            let trainedImages = figures["training_images"] as? Double ?? 0,
                testedImages = figures["test_images"] as? Double ?? 0
            let flopsPerEpoch =
                Double(kind.trainingFlopsPerImage) * trainedImages + Double(kind.forwardFlopsPerImage) * testedImages
            figures["gflops"] = flopsPerEpoch / epochSeconds / 1e9
            figures["fraction_of_sgemm"] = (figures["gflops"] as! Double) / sgemm
            swift[kind.rawValue] = figures
            printError("measured \(kind.rawValue): \(String(format: "%.2f", epochSeconds)) s per epoch")
        }
        let reference = try runPyTorch(kinds: kinds)
        print()
        print(table(swift: swift, pytorch: reference, kinds: kinds, sgemm: sgemm))
        if let json {
            var report: [String: Any] = [
                "swift": swift, "sgemm_gflops": sgemm, "threads": Parallel.threadCount, "epochs": epochs,
                "cpu": CPUFeatures.current.description, "openblas_core": BLAS.coreName,
                "max_batches": maxBatches as Any, "seed": seed,
            ]
            if let reference { report["pytorch"] = reference }
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(Array(data), to: URL(fileURLWithPath: json))
            print("Wrote \(json)")
        }
    }

    // MARK: - Workers (child processes)

    func runWorker(_ measurement: String, kind: ModelKind) throws -> [String: Any] {
        var trainingSet = try dataOptions.load(.train)
        let testSet = try dataOptions.load(.test)
        var configuration = TrainingConfiguration()
        configuration.model = kind
        configuration.seed = seed
        let trainer = Trainer(configuration: configuration)
        switch measurement {
        case "train":
            if let maxBatches { trainingSet = trainingSet.prefix(maxBatches * configuration.batchSize) }
            var trainSeconds = 0.0, testSeconds = 0.0
            var accuracy = 0.0
            for _ in 0..<epochs {
                let start = Date()
                _ = try trainer.trainEpoch(on: trainingSet)
                let trained = Date()
                accuracy = evaluate(model: trainer.model, on: testSet).accuracy
                trainSeconds += trained.timeIntervalSince(start)
                testSeconds += Date().timeIntervalSince(trained)
            }
            return [
                "seconds_per_epoch": (trainSeconds + testSeconds) / Double(epochs),
                "train_seconds_per_epoch": trainSeconds / Double(epochs),
                "test_seconds_per_epoch": testSeconds / Double(epochs),
                "test_accuracy": accuracy * 100, "peak_rss_mb": peakResidentMegabytes(),
                "training_images": Double(trainingSet.imageCount), "test_images": Double(testSet.imageCount),
            ]
        case "inference":
            let model = trainer.model
            model.eval()
            let images = DataLoader(dataset: testSet, batchSize: 1000).epoch().map(\.images)
            // Classified as `evaluate` does (`predictions`: a part of each batch per thread), argmax included.
            var best = Double.infinity
            for _ in 0..<3 {
                let start = Date()
                for batch in images { _ = predictions(of: model, for: batch) }
                best = min(best, Date().timeIntervalSince(start))
            }
            let singles = DataLoader(dataset: testSet.prefix(batch1Images), batchSize: 1).epoch().map(\.images)
            for image in singles.prefix(50) { _ = predictions(of: model, for: image) }
            let start = Date()
            for image in singles { _ = predictions(of: model, for: image) }
            let single = Date().timeIntervalSince(start)
            return [
                "batch1000_images_per_s": Double(testSet.imageCount) / best,
                "batch1_images_per_s": Double(singles.count) / single,
            ]
        default:
            throw ValidationError("unknown worker measurement \(measurement)")
        }
    }

    func spawnWorker(_ measurement: String, kind: ModelKind) throws -> [String: Any] {
        var arguments = [
            "bench", "--worker", measurement, "--model", kind.rawValue, "--epochs", String(epochs),
            "--batch1-images", String(batch1Images), "--seed", String(seed), "--threads", String(Parallel.threadCount),
        ]
        if let maxBatches { arguments += ["--max-batches", String(maxBatches)] }
        if let data = dataOptions.data { arguments += ["--data", data] }
        let output = try runProcess(URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL, arguments)
        guard let line = output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw ExitError(message: "bench worker \(measurement) for \(kind.rawValue) printed no result")
        }
        return object
    }

    // MARK: - PyTorch

    func runPyTorch(kinds: [ModelKind]) throws -> [String: Any]? {
        guard pytorch != .off else { return nil }
        guard let script = locateScript(),
            (try? runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import torch, torchvision"]))
                != nil
        else {
            if pytorch == .on {
                throw ExitError(
                    message:
                        "--pytorch on: python3 with torch and torchvision, and benchmarks/pytorch_reference.py, are needed"
                )
            }
            printError(
                "PyTorch reference skipped: python3 cannot import torch and torchvision (pip install torch torchvision)"
            )
            return nil
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mnist-bench-pytorch-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: output) }
        var arguments = [
            script.path, "--model", kinds.count == 1 ? kinds[0].rawValue : "all", "--epochs", String(epochs),
            "--threads", String(Parallel.threadCount), "--batch1-images", String(batch1Images), "--json", output.path,
        ]
        if let maxBatches { arguments += ["--max-batches", String(maxBatches)] }
        if let data = dataOptions.data { arguments += ["--data", data] }
        printError("running the PyTorch reference (\(script.lastPathComponent)); this takes a few minutes")
        _ = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        return try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
    }

    /// benchmarks/pytorch_reference.py, from the current directory or from this package's checkout.
    func locateScript() -> URL? {
        let relative = "benchmarks/pytorch_reference.py"
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
                .appendingPathComponent(relative),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    // MARK: - Report

    func table(swift: [String: [String: Any]], pytorch: [String: Any]?, kinds: [ModelKind], sgemm: Double) -> String {
        func number(_ dictionary: [String: Any]?, _ key: String) -> Double? { dictionary?[key] as? Double }
        func format(_ value: Double?, _ digits: Int = 2) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "–"
        }
        func ratio(_ numerator: Double?, _ denominator: Double?) -> String {
            guard let numerator, let denominator, denominator > 0 else { return "–" }
            return String(format: "%.1f×", numerator / denominator)
        }
        let models = pytorch?["models"] as? [String: [String: [String: Any]]]
        var lines: [String] = []
        lines.append(
            "| model | Swift s/epoch | PyTorch tutorial s/epoch | speed-up | PyTorch preloaded s/epoch | speed-up | Swift accuracy | PyTorch accuracy |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue]
            let tutorial = models?[kind.rawValue]?["tutorial"], preloaded = models?[kind.rawValue]?["preloaded"]
            lines.append(
                "| \(kind.rawValue) | \(format(number(mine, "seconds_per_epoch"))) | \(format(number(tutorial, "seconds_per_epoch"))) | "
                    + "\(ratio(number(tutorial, "seconds_per_epoch"), number(mine, "seconds_per_epoch"))) | \(format(number(preloaded, "seconds_per_epoch"))) | "
                    + "\(ratio(number(preloaded, "seconds_per_epoch"), number(mine, "seconds_per_epoch"))) | \(format(number(mine, "test_accuracy")))% | "
                    + "\(format(number(tutorial, "test_accuracy")))% |")
        }
        lines.append("")
        lines.append(
            "| model | Swift img/s, batch 1000 | PyTorch | speed-up | Swift img/s, batch 1 | PyTorch | speed-up |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue], theirs = models?[kind.rawValue]?["inference"]
            lines.append(
                "| \(kind.rawValue) | \(format(number(mine, "batch1000_images_per_s"), 0)) | \(format(number(theirs, "batch1000_images_per_s"), 0)) | "
                    + "\(ratio(number(mine, "batch1000_images_per_s"), number(theirs, "batch1000_images_per_s"))) | "
                    + "\(format(number(mine, "batch1_images_per_s"), 0)) | \(format(number(theirs, "batch1_images_per_s"), 0)) | "
                    + "\(ratio(number(mine, "batch1_images_per_s"), number(theirs, "batch1_images_per_s"))) |")
        }
        lines.append("")
        let pytorchSgemm = (pytorch?["sgemm"] as? [String: Any])?["torch_gflops"] as? Double
        lines.append(
            "| model | Swift peak RSS MB (training) | PyTorch tutorial peak RSS MB | Swift / PyTorch | Swift GFLOP/s | of sgemm \(format(sgemm, 0)) GFLOP/s |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue], tutorial = models?[kind.rawValue]?["tutorial"]
            let memoryShare =
                number(mine, "peak_rss_mb").flatMap { own in
                    number(tutorial, "peak_rss_mb").map { String(format: "%.0f%%", own / $0 * 100) }
                } ?? "–"
            lines.append(
                "| \(kind.rawValue) | \(format(number(mine, "peak_rss_mb"), 0)) | \(format(number(tutorial, "peak_rss_mb"), 0)) | \(memoryShare) | "
                    + "\(format(number(mine, "gflops"), 1)) | \(format(number(mine, "fraction_of_sgemm").map { $0 * 100 }, 0))% |"
            )
        }
        if let pytorchSgemm {
            lines.append("\nPyTorch's own sgemm 2048³ in the same run: \(format(pytorchSgemm, 1)) GFLOP/s.")
        }
        if pytorch == nil { lines.append("\n(PyTorch columns are empty: the reference did not run.)") }
        return lines.joined(separator: "\n")
    }

    /// Best of five 2048³ products, split by rows over the threads.
    func measureSgemm() -> Double {
        let size = 2048
        var generator = RandomGenerator(seed: 1)
        let a = (0..<(size * size)).map { _ in generator.nextUniform(low: -1, high: 1) }
        let b = (0..<(size * size)).map { _ in generator.nextUniform(low: -1, high: 1) }
        var c = [Float](repeating: 0, count: size * size)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = Date()
            BLAS.parallelGemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: &c, ldc: size)
            best = min(best, Date().timeIntervalSince(start))
        }
        return 2 * pow(Double(size), 3) / best / 1e9
    }
}

/// The model named by `name` (already validated).
private func requireModel(_ name: String) throws -> ModelKind {
    guard let kind = ModelKind(rawValue: name) else { throw ValidationError("a worker needs one model, not \(name)") }
    return kind
}

/// Runs a program to completion and returns its standard output; throws, with its standard error, when it fails.
func runProcess(_ executable: URL, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read before waiting so a chatty child cannot fill the pipe and block.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ExitError(
            message:
                "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus)): "
                + String(decoding: errorData, as: UTF8.self).suffix(2000))
    }
    return String(decoding: outputData, as: UTF8.self)
}

/// This process's peak resident memory (VmHWM) in MB, from /proc; 0 where /proc is not available.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
}
