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
        // Upper bounds as `train`'s: no product of them (max-batches × the batch size) can overflow.
        guard InputLimits.epochs.contains(epochs) else {
            throw ValidationError("--epochs must be between 1 and \(InputLimits.epochs.upperBound), found \(epochs)")
        }
        guard (1...1_000_000).contains(batch1Images), (1...1_000_000).contains(maxBatches ?? 1) else {
            throw ValidationError("--batch1-images and --max-batches must be between 1 and 1000000")
        }
    }

    func run() throws {
        try requireMatrixProducts()
        try threadOptions.apply()
        if let worker {
            let result = try runWorker(worker, kind: try requireModel(model))
            print(String(decoding: try JSONEncoder.bench(pretty: false).encode(result), as: UTF8.self))
            return
        }
        let kinds = model == "all" ? ModelKind.tutorialModels : [ModelKind(rawValue: model)!]
        let sgemm = measureSgemm()
        // Figures mean little without the machine: name its CPU and the OpenBLAS kernels that ran.
        print("CPU: \(CPUFeatures.current); OpenBLAS core \(BLAS.coreName) (\(BLAS.configuration))")
        print(
            "Swift: \(Parallel.threadCount) threads; sgemm 2048³ float32 through OpenBLAS (one call per thread): \(String(format: "%.1f", sgemm)) GFLOP/s"
        )
        // On a shared host the hypervisor may run other guests on our CPUs: say how much of the time it took
        // during each side's measurements, since it slows whichever side it falls on.
        let beforeSwift = ProcessorTimes.current()
        var swift: [String: ModelFigures] = [:]
        for kind in kinds {
            let training = try spawnWorker("train", kind: kind, as: TrainingFigures.self)
            let inference = try spawnWorker("inference", kind: kind, as: InferenceFigures.self)
            let epochSeconds = training.secondsPerEpoch
            let trainedImages = training.trainingImages, testedImages = training.testImages
            let flopsPerEpoch =
                Double(kind.trainingFlopsPerImage) * trainedImages + Double(kind.forwardFlopsPerImage) * testedImages
            let gigaflopsPerSecond = flopsPerEpoch / epochSeconds / 1e9
            swift[kind.rawValue] = ModelFigures(
                training: training, inference: inference, gigaflopsPerSecond: gigaflopsPerSecond,
                fractionOfSgemm: gigaflopsPerSecond / sgemm)
            printError("measured \(kind.rawValue): \(String(format: "%.2f", epochSeconds)) s per epoch")
        }
        let afterSwift = ProcessorTimes.current()
        let reference = try runPyTorch(kinds: kinds)
        let afterPyTorch = ProcessorTimes.current()
        let stolenDuringSwift = afterSwift?.stolenFraction(since: beforeSwift)
        let stolenDuringPyTorch = reference == nil ? nil : afterPyTorch?.stolenFraction(since: afterSwift)
        print()
        print(table(swift: swift, pytorch: reference, kinds: kinds, sgemm: sgemm))
        if let stolenDuringSwift {
            let pytorchPart = stolenDuringPyTorch.map { String(format: ", during PyTorch's %.0f%%", $0 * 100) } ?? ""
            print(
                String(
                    format: "CPU time taken by the hypervisor (steal): during the Swift measurements %.0f%%",
                    stolenDuringSwift * 100)
                    + pytorchPart)
        }
        if let json {
            let report = BenchReport(
                swift: swift, sgemmGigaflopsPerSecond: sgemm, threads: Parallel.threadCount, epochs: epochs,
                cpu: CPUFeatures.current.description, openBLASCore: BLAS.coreName, maxBatches: maxBatches, seed: seed,
                pytorch: reference, stolenFractionDuringSwift: stolenDuringSwift,
                stolenFractionDuringPyTorch: stolenDuringPyTorch)
            let data = try JSONEncoder.bench(pretty: true).encode(report)
            try AtomicFile.write(Array(data), to: URL(fileURLWithPath: json))
            print("Wrote \(json)")
        }
    }

    // MARK: - Workers (child processes)

    /// A `TrainingFigures` or an `InferenceFigures`, as `measurement` says.
    func runWorker(_ measurement: String, kind: ModelKind) throws -> any Encodable {
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
            return TrainingFigures(
                secondsPerEpoch: (trainSeconds + testSeconds) / Double(epochs),
                trainSecondsPerEpoch: trainSeconds / Double(epochs), testSecondsPerEpoch: testSeconds / Double(epochs),
                testAccuracy: accuracy * 100, peakResidentMegabytes: peakResidentMegabytes(),
                trainingImages: Double(trainingSet.imageCount), testImages: Double(testSet.imageCount))
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
            return InferenceFigures(
                batch1000ImagesPerSecond: Double(testSet.imageCount) / best,
                batch1ImagesPerSecond: Double(singles.count) / single)
        default:
            throw ValidationError("unknown worker measurement \(measurement)")
        }
    }

    /// Runs `mnist bench --worker measurement` in a child process and decodes the line it prints last.
    func spawnWorker<Figures: Decodable>(
        _ measurement: String, kind: ModelKind, as _: Figures.Type
    ) throws -> Figures {
        var arguments = [
            "bench", "--worker", measurement, "--model", kind.rawValue, "--epochs", String(epochs),
            "--batch1-images", String(batch1Images), "--seed", String(seed), "--threads", String(Parallel.threadCount),
        ]
        if let maxBatches { arguments += ["--max-batches", String(maxBatches)] }
        if let data = dataOptions.data { arguments += ["--data", data] }
        let output = try runProcess(URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL, arguments)
        guard let line = output.split(separator: "\n").last,
            let figures = try? JSONDecoder().decode(Figures.self, from: Data(line.utf8))
        else {
            throw ExitError(message: "bench worker \(measurement) for \(kind.rawValue) printed no result")
        }
        return figures
    }

    // MARK: - PyTorch

    func runPyTorch(kinds: [ModelKind]) throws -> PyTorchReport? {
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
            script.path, "--epochs", String(epochs), "--threads", String(Parallel.threadCount), "--batch1-images",
            String(batch1Images), "--json", output.path,
        ]
        // The models the Swift side measured, no others (the script's own "all" adds models no table shows).
        arguments += ["--model"] + kinds.map(\.rawValue)
        if let maxBatches { arguments += ["--max-batches", String(maxBatches)] }
        if let data = dataOptions.data { arguments += ["--data", data] }
        printError("running the PyTorch reference (\(script.lastPathComponent)); this takes a few minutes")
        _ = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        do {
            return try JSONDecoder().decode(PyTorchReport.self, from: Data(contentsOf: output))
        } catch let error as DecodingError {
            throw ExitError(message: "\(script.path) wrote JSON this version cannot read: \(describe(error))")
        }
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

    func table(swift: [String: ModelFigures], pytorch: PyTorchReport?, kinds: [ModelKind], sgemm: Double) -> String {
        func format(_ value: Double?, _ digits: Int = 2) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "–"
        }
        func ratio(_ numerator: Double?, _ denominator: Double?) -> String {
            guard let numerator, let denominator, denominator > 0 else { return "–" }
            return String(format: "%.1f×", numerator / denominator)
        }
        var lines: [String] = []
        lines.append(
            "| model | Swift s/epoch | PyTorch tutorial s/epoch | speed-up | PyTorch preloaded s/epoch | speed-up | Swift accuracy | PyTorch accuracy |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue]?.training
            let tutorial = pytorch?.models[kind.rawValue]?.tutorial
            let preloaded = pytorch?.models[kind.rawValue]?.preloaded
            lines.append(
                "| \(kind.rawValue) | \(format(mine?.secondsPerEpoch)) | \(format(tutorial?.secondsPerEpoch)) | "
                    + "\(ratio(tutorial?.secondsPerEpoch, mine?.secondsPerEpoch)) | \(format(preloaded?.secondsPerEpoch)) | "
                    + "\(ratio(preloaded?.secondsPerEpoch, mine?.secondsPerEpoch)) | \(format(mine?.testAccuracy))% | "
                    + "\(format(tutorial?.testAccuracy))% |")
        }
        lines.append("")
        lines.append(
            "| model | Swift img/s, batch 1000 | PyTorch | speed-up | Swift img/s, batch 1 | PyTorch | speed-up |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue]?.inference, theirs = pytorch?.models[kind.rawValue]?.inference
            lines.append(
                "| \(kind.rawValue) | \(format(mine?.batch1000ImagesPerSecond, 0)) | \(format(theirs?.batch1000ImagesPerSecond, 0)) | "
                    + "\(ratio(mine?.batch1000ImagesPerSecond, theirs?.batch1000ImagesPerSecond)) | "
                    + "\(format(mine?.batch1ImagesPerSecond, 0)) | \(format(theirs?.batch1ImagesPerSecond, 0)) | "
                    + "\(ratio(mine?.batch1ImagesPerSecond, theirs?.batch1ImagesPerSecond)) |")
        }
        lines.append("")
        let pytorchSgemm = pytorch?.sgemm.torchGigaflopsPerSecond
        lines.append(
            "| model | Swift peak RSS MB (training) | PyTorch tutorial peak RSS MB | Swift / PyTorch | Swift GFLOP/s | of sgemm \(format(sgemm, 0)) GFLOP/s |"
        )
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for kind in kinds {
            let mine = swift[kind.rawValue], tutorial = pytorch?.models[kind.rawValue]?.tutorial
            let ownMemory = mine?.training.peakResidentMegabytes
            let memoryShare =
                ownMemory.flatMap { own in
                    tutorial.map { String(format: "%.0f%%", own / $0.peakResidentMegabytes * 100) }
                } ?? "–"
            lines.append(
                "| \(kind.rawValue) | \(format(ownMemory, 0)) | \(format(tutorial?.peakResidentMegabytes, 0)) | \(memoryShare) | "
                    + "\(format(mine?.gigaflopsPerSecond, 1)) | \(format(mine.map { $0.fractionOfSgemm * 100 }, 0))% |"
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

/// The machine's CPU time so far, all CPUs together, from the first line of Linux's /proc/stat (in clock ticks):
/// the total, and the part the hypervisor gave to other guests (steal). Nil where there is no /proc/stat.
struct ProcessorTimes {
    var total: Double
    var stolen: Double

    static func current() -> ProcessorTimes? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return ProcessorTimes(procStatLine: stat.prefix { $0 != "\n" })
    }

    /// "cpu  user nice system idle iowait irq softirq steal …": steal is the eighth number.
    init?(procStatLine line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.first == "cpu", fields.count >= 9 else { return nil }
        let ticks = fields.dropFirst().prefix(8).compactMap { Double($0) }
        guard ticks.count == 8 else { return nil }
        total = ticks.reduce(0, +)
        stolen = ticks[7]
    }

    /// The share of the CPU time between `earlier` and now that was stolen; nil without `earlier` or time.
    func stolenFraction(since earlier: ProcessorTimes?) -> Double? {
        guard let earlier, total > earlier.total else { return nil }
        return (stolen - earlier.stolen) / (total - earlier.total)
    }
}

/// This process's peak resident memory (VmHWM) in MB, from /proc; 0 where /proc is not available.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
}
