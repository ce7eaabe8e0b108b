import Foundation
import Imaging
import TestSupport
import Testing
@testable import MNIST

/// Hostile and careless input to the `mnist` tool and the library (issue 12, the command-line part): every
/// case refused before any work with a message naming the problem, never a trap, a hang or lost data.
/// The command-line cases run the `mnist` tool `swift build --build-tests` builds next to the tests, on
/// small MNIST-format folders written here, so each run takes a fraction of a second.
@Suite struct HostileInputTests {
    // MARK: Helpers

    static let tool: URL? = {
        let url = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("mnist")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }()

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs the tool, killing it after `seconds` (status nil then: it hung).
    static func run(
        _ arguments: [String], seconds: Double = 120
    ) throws -> (status: Int32?, output: String, error: String) {
        let tool = try #require(tool, "the mnist tool should be built next to the tests (swift build --build-tests)")
        return try runProcess(tool, arguments, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: seconds)
    }

    /// An MNIST-format folder (raw IDX) of `count` training and `testCount` test images of rows × columns.
    static func writeDataset(
        in directory: URL, count: Int, testCount: Int? = nil, rows: Int = 28, columns: Int = 28
    ) throws {
        func word(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        for (prefix, images) in [("train", count), ("t10k", testCount ?? count)] {
            let pixels = (0..<(images * rows * columns)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try Data(word(2051) + word(images) + word(rows) + word(columns) + pixels)
                .write(to: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try Data(word(2049) + word(images) + (0..<images).map { UInt8($0 % 10) })
                .write(to: directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
    }

    /// A trap leaves status 132 (SIGILL) or 133 (SIGTRAP) and "Fatal error"/"runtime failure" behind.
    static func expectCleanFailure(
        _ result: (status: Int32?, output: String, error: String), containing text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != nil, "the command hung", sourceLocation: sourceLocation)
        #expect(
            result.status != 0 && result.status.map { $0 < 128 } == true,
            "status \(String(describing: result.status)): \(result.error)", sourceLocation: sourceLocation)
        #expect(
            !result.error.contains("runtime failure") && !result.error.contains("Fatal error"), "\(result.error)",
            sourceLocation: sourceLocation)
        #expect(result.error.contains(text), "expected '\(text)' in: \(result.error)", sourceLocation: sourceLocation)
    }

    // MARK: 1. Images the models cannot take, empty sets

    @Test(arguments: [(10, 10), (29, 27)])
    func imagesOfAnotherSizeAreRefusedBeforeTraining(rows: Int, columns: Int) throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 100, rows: rows, columns: columns)
        let images = directory.appendingPathComponent("train-images-idx3-ubyte").path
        let train = try Self.run([
            "train", "--data", directory.path, "--epochs", "1", "--output",
            directory.appendingPathComponent("out.safetensors").path,
        ])
        Self.expectCleanFailure(
            train, containing: "expected 28×28 images, found \(rows)×\(columns) (rows × columns) in \(images)")
        #expect(!train.output.contains("Epoch ["))

        let weights = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let evaluate = try Self.run(["evaluate", "--weights", weights.path, "--data", directory.path])
        Self.expectCleanFailure(
            evaluate,
            containing:
                "expected 28×28 images, found \(rows)×\(columns) (rows × columns) in \(directory.appendingPathComponent("t10k-images-idx3-ubyte").path)"
        )
    }

    @Test func emptySetsAreRefused() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 0)
        let images = directory.appendingPathComponent("train-images-idx3-ubyte").path
        let data = try Self.run([
            "data", "--data", directory.path, "--png", directory.appendingPathComponent("grid.png").path,
        ])
        Self.expectCleanFailure(
            data, containing: "\(images) holds no images (its header counts 0), so there are no samples to draw")
        let train = try Self.run([
            "train", "--data", directory.path, "--epochs", "1", "--output",
            directory.appendingPathComponent("out.safetensors").path,
        ])
        Self.expectCleanFailure(
            train, containing: "\(images) holds no images (its header counts 0): the training set must not be empty")
        let weights = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let evaluate = try Self.run(["evaluate", "--weights", weights.path, "--data", directory.path])
        Self.expectCleanFailure(
            evaluate,
            containing: "t10k-images-idx3-ubyte holds no images (its header counts 0): the test set must not be empty")
    }

    @Test func anotherDatasetInMNISTsFormatTrainsWithANoteAndAWrongFolderIsRefused() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataset = directory.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: dataset, withIntermediateDirectories: true)
        try Self.writeDataset(in: dataset, count: 64)
        let output = directory.appendingPathComponent("out.safetensors").path
        let train = try Self.run([
            "train", "--model", "mlp", "--epochs", "1", "--data", dataset.path, "--output", output,
        ])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("Epoch [1/1]: Accuracy: "))
        #expect(
            train.error.contains(
                "note: \(dataset.path) is not MNIST: the MD5s of train-labels-idx1-ubyte and t10k-labels-idx1-ubyte are "
                    + "not MNIST's; reading it as another dataset in MNIST's format"), "\(train.error)")

        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        Self.expectCleanFailure(
            try Self.run(["train", "--data", empty.path, "--output", output]),
            containing: "expected train-images-idx3-ubyte.gz or train-images-idx3-ubyte in \(empty.path), found neither"
        )
        let missing = directory.appendingPathComponent("missing").path
        Self.expectCleanFailure(
            try Self.run(["train", "--data", missing, "--output", output]),
            containing: "--data \(missing): no such folder")
        Self.expectCleanFailure(
            try Self.run(["evaluate", "--weights", output, "--data", output]),
            containing: "--data \(output) is not a folder: give the folder that holds the IDX files")
    }

    // MARK: 2. Option ranges, a checkpoint's recipe

    @Test func outOfRangeOptionsAreRefusedWithoutOverflow() throws {
        let epochs = try Self.run(["train", "--epochs", "10000000000000000", "--schedule", "cosine"])
        Self.expectCleanFailure(epochs, containing: "--epochs must be between 1 and 100000, found 10000000000000000")
        let threads = try Self.run(["evaluate", "--weights", "unused.safetensors", "--threads", "4611686018427387904"])
        Self.expectCleanFailure(threads, containing: "--threads must be between 1 and 1024, found 4611686018427387904")
        let batch = try Self.run(["train", "--batch-size", "0"])
        Self.expectCleanFailure(batch, containing: "--batch-size must be between 1 and 1000000, found 0")
        let momentum = try Self.run(["train", "--optimizer", "sgd", "--momentum", "nan"])
        Self.expectCleanFailure(momentum, containing: "--momentum must be a finite number of at least 0, found nan")
    }

    /// A checkpoint with its recipe changed to `change`, written in `directory`.
    static func checkpoint(
        in directory: URL, history epochs: Int = 0, _ change: (inout TrainingConfiguration) -> Void
    ) throws -> URL {
        var configuration = TrainingConfiguration()
        configuration.model = .mlp
        configuration.epochs = max(epochs, 1)
        let trainer = Trainer(configuration: configuration)
        let tiny = MNISTDataset(
            images: [UInt8](repeating: 9, count: 64 * 784), labels: [UInt8](repeating: 3, count: 64), rows: 28,
            columns: 28)
        for _ in 0..<epochs { _ = try trainer.runEpoch(trainingSet: tiny, testSet: tiny) }
        let url = directory.appendingPathComponent("run.checkpoint.safetensors")
        try trainer.saveCheckpoint(to: url)
        let file = try SafeTensors.read(from: url)
        var recipe = configuration
        change(&recipe)
        var metadata = file.metadata
        metadata["configuration"] = String(decoding: try JSONEncoder().encode(recipe), as: UTF8.self)
        try SafeTensors.write(file.tensors, metadata: metadata, to: url)
        return url
    }

    @Test func aCheckpointsRecipeIsValidatedLikeTheCommandLine() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let zeroBatch = try Self.checkpoint(in: directory) { $0.batchSize = 0 }
        #expect { _ = try Trainer.resume(from: zeroBatch) } throws: {
            "\($0)"
                == "run.checkpoint.safetensors: its recipe cannot be trained: --batch-size must be between 1 and 1000000, found 0"
        }
        let negativeRate = try Self.checkpoint(in: directory) { $0.learningRate = -1 }
        #expect { _ = try Trainer.resume(from: negativeRate) } throws: {
            "\($0)".contains("its recipe cannot be trained: --lr must be a positive finite number, found -1.0")
        }
        // End to end: refused before any epoch.
        let result = try Self.run(["train", "--resume", negativeRate.path, "--data", directory.path])
        Self.expectCleanFailure(result, containing: "--lr must be a positive finite number, found -1.0")
        #expect(!result.output.contains("Epoch ["))
        // (Each checkpoint here replaces the one before.)
        let overSmoothed = try Self.checkpoint(in: directory) { $0.labelSmoothing = 2 }
        #expect { _ = try Trainer.resume(from: overSmoothed) } throws: {
            "\($0)".contains("its recipe cannot be trained: --label-smoothing must be between 0 and 1, found 2.0")
        }
        let negativeRadius = try Self.checkpoint(in: directory) { $0.sharpnessRadius = -0.5 }
        #expect { _ = try Trainer.resume(from: negativeRadius) } throws: {
            "\($0)".contains("--sharpness-radius must be a finite number of at least 0, found -0.5")
        }
    }

    /// An optimizer step count no `Int` holds (a damaged checkpoint: 10³⁰ is finite, so the finiteness check
    /// passes it) is refused naming the tensor; it stopped the program with a runtime failure before.
    @Test func aCheckpointsOptimizerStepPastIntMaxIsRefused() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try Self.checkpoint(in: directory, history: 1) { _ in }
        let file = try SafeTensors.read(from: url)
        let damaged = file.tensors.map { name, tensor in
            name == "optimizer.layer1.weight.step" ? (name, Tensor(1e30)) : (name, tensor)
        }
        #expect(file.tensors.contains { $0.name == "optimizer.layer1.weight.step" })
        try SafeTensors.write(damaged, metadata: file.metadata, to: url)
        let result = try Self.run(["train", "--resume", url.path, "--epochs", "2", "--data", directory.path])
        Self.expectCleanFailure(result, containing: "optimizer state 'layer1.weight.step' is missing or malformed")
        #expect(!result.output.contains("Epoch ["))
    }

    // MARK: 4. Weights that are not numbers

    @Test func nonFiniteWeightsAreRefusedAtLoadWithTheTensorNamed() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = RandomGenerator(seed: 1)
        let lenet = LeNet5(generator: &generator)
        let weights = lenet.stateDict.map { name, tensor in
            guard name == "conv1.weight" else { return (name, tensor) }
            var data = tensor.data
            data[17] = .nan
            return (name, Tensor(shape: tensor.shape, data: data))
        }
        let url = directory.appendingPathComponent("nan.safetensors")
        try SafeTensors.write(weights, metadata: ["model": "lenet5"], to: url)
        #expect { _ = try WeightsFile.read(from: url) } throws: {
            "\($0)".hasPrefix("nan.safetensors: conv1.weight holds NaN at element 17 (of 150)")
        }
        let infinite = directory.appendingPathComponent("inf.safetensors")
        try SafeTensors.write(
            lenet.stateDict.map { name, tensor in
                name == "fc2.bias"
                    ? (
                        name,
                        Tensor(
                            shape: tensor.shape,
                            data: tensor.data.enumerated().map { $0.offset == 2 ? -.infinity : $0.element })
                    ) : (name, tensor)
            }, metadata: ["model": "lenet5"], to: infinite)
        #expect { _ = try WeightsFile.read(from: infinite) } throws: {
            "\($0)".hasPrefix("inf.safetensors: fc2.bias holds -infinity at element 2")
        }

        let image = try Self.imagePNG(in: directory)
        let predict = try Self.run(["predict", "--weights", url.path, image.path])
        Self.expectCleanFailure(predict, containing: "conv1.weight holds NaN at element 17")
        #expect(!predict.output.contains("nan%"))
        let evaluate = try Self.run(["evaluate", "--weights", url.path])
        Self.expectCleanFailure(evaluate, containing: "conv1.weight holds NaN at element 17")
        #expect(!evaluate.output.contains("Accuracy"))
    }

    /// Weights that are finite but so large that the outputs overflow give NaN probabilities: `evaluate` (with
    /// `--report`, whose captions trapped on them) and `predict` stop naming the problem.
    @Test func weightsWhoseOutputsOverflowAreRefusedWhenTheyAreUsed() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 20)
        let fixture = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensors.read(from: fixture)
        let huge = directory.appendingPathComponent("huge.safetensors")
        try SafeTensors.write(
            file.tensors.map { name, tensor in
                name == "fc2.weight" ? (name, Tensor(shape: tensor.shape, repeating: 3e38)) : (name, tensor)
            }, metadata: file.metadata, to: huge)
        let evaluate = try Self.run([
            "evaluate", "--weights", huge.path, "--data", directory.path, "--report",
            directory.appendingPathComponent("report").path,
        ])
        Self.expectCleanFailure(
            evaluate, containing: "its weights may be broken (values so large that its outputs overflow)")
        // With test-time augmentation, stopped before any accuracy is printed.
        let augmented = try Self.run(["evaluate", "--weights", huge.path, "--data", directory.path, "--tta"])
        Self.expectCleanFailure(augmented, containing: "the model gave test image 0 a probability of")
        #expect(!augmented.output.contains("Accuracy"), "\(augmented.output)")
        let predict = try Self.run(["predict", "--weights", huge.path, try Self.imagePNG(in: directory).path])
        Self.expectCleanFailure(predict, containing: "bar.png: the model gave non-finite probabilities")
        #expect(!predict.output.contains("nan"))
    }

    /// `mnist data` reads images of any size, so its checks are against the images it read: a header whose
    /// sides are 0 or past `MNISTDataset.maximumSide` (2³² − 1 each made rows × columns overflow), an ink width
    /// wider than the images, a sample grid wider than a PNG may be. Each stopped the program before.
    @Test func dataRefusesSizesItsImagesCannotTake() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 3, rows: 5, columns: 5)
        let narrow = try Self.run(["data", "--data", directory.path, "--ink-width", "10"])
        Self.expectCleanFailure(narrow, containing: "the images in \(directory.path) are 5 pixels wide")

        try Self.writeDataset(in: directory, count: 10, rows: 1, columns: 2500)
        let png = directory.appendingPathComponent("grid.png").path
        let wide = try Self.run(["data", "--data", directory.path, "--png", png])
        Self.expectCleanFailure(wide, containing: "10 samples of 1×2500 pixels make a 25018×1 grid")
        #expect(!FileManager.default.fileExists(atPath: png))

        for (rows, columns) in [(0, 7), (0xFFFF_FFFF, 0xFFFF_FFFF), (4097, 28)] {
            try Self.writeDataset(in: directory, count: 0, rows: rows, columns: columns)
            let result = try Self.run(["data", "--data", directory.path, "--deskew"])
            Self.expectCleanFailure(
                result,
                containing:
                    "train-images-idx3-ubyte: image size out of range at offset 8: expected rows and columns of 1 to 4096, found \(rows)×\(columns)"
            )
        }
    }

    /// Numbers that overflowed or trapped further on: `bench --max-batches` times the batch size, and
    /// `download --timeout`, which Foundation turns into whole milliseconds.
    @Test func benchAndDownloadBoundTheirNumbers() throws {
        let bench = try Self.run([
            "bench", "--model", "mlp", "--pytorch", "off", "--max-batches", "9223372036854775807",
        ])
        Self.expectCleanFailure(bench, containing: "--batch1-images and --max-batches must be between 1 and 1000000")
        for timeout in ["nan", "inf", "1e300", "0"] {
            let download = try Self.run([
                "download", "--to", FileManager.default.temporaryDirectory.path, "--timeout", timeout,
            ])
            Self.expectCleanFailure(download, containing: "--timeout must be more than 0 and at most 86400 seconds")
        }
    }

    /// A small gray PNG with a bar in it, enough for `predict` to read.
    static func imagePNG(in directory: URL) throws -> URL {
        let (width, height) = (28, 28)
        let pixels = (0..<(width * height)).map { index -> UInt8 in (index % width == 14) ? 0 : 255 }
        let url = directory.appendingPathComponent("bar.png")
        try Data(PNGEncoder.encode(GrayImage(width: width, height: height, pixels: pixels))).write(to: url)
        return url
    }

    // MARK: 5. Output paths

    @Test func dataPNGAndEvaluateReportPathsAreCheckedBeforeTheWork() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 20, testCount: 10)
        let labels = directory.appendingPathComponent("t10k-labels-idx1-ubyte")
        let before = try Data(contentsOf: labels)
        let ontoData = try Self.run(["data", "--data", directory.path, "--png", labels.path])
        Self.expectCleanFailure(
            ontoData, containing: "--png \(labels.path) is the same file as the input --data \(labels.path)")
        #expect(try Data(contentsOf: labels) == before, "the test labels must be untouched")
        let missing = directory.appendingPathComponent("missing/grid.png").path
        Self.expectCleanFailure(
            try Self.run(["data", "--data", directory.path, "--png", missing]),
            containing: "the folder \(directory.appendingPathComponent("missing").path) does not exist")

        let weights = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let report = try Self.run([
            "evaluate", "--weights", weights.path, "--data", directory.path, "--report", file.path,
        ])
        Self.expectCleanFailure(report, containing: "--report \(file.path) exists and is not a folder")
        #expect(!report.output.contains("Accuracy"))
        let under = try Self.run([
            "evaluate", "--weights", weights.path, "--data", directory.path, "--report",
            file.appendingPathComponent("report").path,
        ])
        Self.expectCleanFailure(under, containing: "cannot create it, \(file.path) is not a folder")
        // A new folder is fine.
        let fine = try Self.run([
            "evaluate", "--weights", weights.path, "--data", directory.path, "--report",
            directory.appendingPathComponent("new/report").path,
        ])
        #expect(fine.status == 0, "\(fine.error)")
        // Weights kept in the report's folder under one of its file names are refused before the work, untouched.
        let reportFolder = directory.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: reportFolder, withIntermediateDirectories: true)
        let weightsInFolder = reportFolder.appendingPathComponent("report.md")
        try FileManager.default.copyItem(at: weights, to: weightsInFolder)
        let weightsBytes = try Data(contentsOf: weightsInFolder)
        let ontoWeights = try Self.run([
            "evaluate", "--weights", weightsInFolder.path, "--data", directory.path, "--report", reportFolder.path,
        ])
        Self.expectCleanFailure(
            ontoWeights,
            containing:
                "--report \(weightsInFolder.path) is the same file as the input --weights \(weightsInFolder.path)")
        #expect(!ontoWeights.output.contains("Accuracy"))
        #expect(try Data(contentsOf: weightsInFolder) == weightsBytes, "the weights must be untouched")
    }

    @Test func outputPathsAreCheckedBeforeTheFirstEpoch() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.writeDataset(in: directory, count: 64, testCount: 10)
        func train(_ extra: [String]) throws -> (status: Int32?, output: String, error: String) {
            try Self.run(["train", "--model", "mlp", "--epochs", "1", "--data", directory.path] + extra)
        }
        let missing = directory.appendingPathComponent("missing/out.safetensors").path
        let intoMissing = try train(["--output", missing])
        Self.expectCleanFailure(
            intoMissing,
            containing:
                "--output \(missing): the folder \(directory.appendingPathComponent("missing").path) does not exist")
        #expect(!intoMissing.output.contains("Epoch ["))

        let folder = directory.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let ontoDirectory = try train(["--output", folder.path])
        Self.expectCleanFailure(ontoDirectory, containing: "--output \(folder.path) is a directory")
        #expect(!ontoDirectory.output.contains("Epoch ["))

        let same = directory.appendingPathComponent("a").path
        let sameFile = try train(["--output", same, "--checkpoint", same])
        Self.expectCleanFailure(sameFile, containing: "--output and --checkpoint are the same file, \(same)")

        let trainingImages = directory.appendingPathComponent("train-images-idx3-ubyte")
        let before = try Data(contentsOf: trainingImages)
        let ontoData = try train(["--output", trainingImages.path])
        Self.expectCleanFailure(
            ontoData,
            containing: "--output \(trainingImages.path) is the same file as the input --data \(trainingImages.path)")
        #expect(try Data(contentsOf: trainingImages) == before, "the training data must be untouched")
        let metricsOntoData = try train([
            "--metrics", directory.appendingPathComponent("./t10k-labels-idx1-ubyte").path,
        ])
        Self.expectCleanFailure(metricsOntoData, containing: "is the same file as the input --data")

        // The normal case still trains, and resuming rewrites its own checkpoint.
        let output = directory.appendingPathComponent("mlp.safetensors").path
        let good = try train(["--output", output])
        #expect(good.status == 0, "\(good.error)")
        let checkpoint = directory.appendingPathComponent("mlp.checkpoint.safetensors").path
        let resumed = try Self.run([
            "train", "--resume", checkpoint, "--epochs", "2", "--data", directory.path, "--output", output,
        ])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("Epoch [2/2]"))

        // 6. Fewer epochs than the checkpoint has done.
        let fewer = try Self.run([
            "train", "--resume", checkpoint, "--epochs", "1", "--data", directory.path, "--output", output,
        ])
        Self.expectCleanFailure(
            fewer, containing: "--epochs 1 is fewer than the 2 epochs mlp.checkpoint.safetensors has already trained")
        #expect(!fewer.output.contains("Epoch [2/1]"))
    }

    // MARK: 6. A machine without OpenBLAS

    #if os(Linux)
    /// Where OpenBLAS cannot be used (here: another library under its name, zlib, found first through
    /// LD_LIBRARY_PATH, so the loader finds no `cblas_sgemm`), the commands that compute stop before any work
    /// with the loader's reason and the package to install, not a trap at the first matrix product.
    @Test func aMissingOpenBLASIsAOneLineErrorNotATrap() throws {
        let tool = try #require(
            Self.tool, "the mnist tool should be built next to the tests (swift build --build-tests)")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let zlib = try #require(
            ["/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib64/libz.so.1"].first {
                FileManager.default.fileExists(atPath: $0)
            }, "zlib, which the package links, should be installed")
        // The library itself, not the link to it that the name is.
        try FileManager.default.copyItem(
            at: URL(fileURLWithPath: zlib).resolvingSymlinksInPath(),
            to: directory.appendingPathComponent("libopenblas.so.0"))
        try Self.writeDataset(in: directory, count: 64)
        let weights = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        for arguments in [
            [
                "train", "--epochs", "1", "--data", directory.path, "--output",
                directory.appendingPathComponent("w").path,
            ],
            ["evaluate", "--weights", weights.path, "--data", directory.path],
        ] {
            let result = try runProcess(
                tool, arguments, environment: ["SWIFT_BACKTRACE": "enable=no", "LD_LIBRARY_PATH": directory.path],
                timeout: 120)
            Self.expectCleanFailure(result, containing: "the loaded OpenBLAS has no cblas_sgemm")
            #expect(result.error.contains("apt-get install libopenblas0"), "\(result.error)")
            #expect(!result.output.contains("Epoch ["))
        }
    }
    #endif
}
