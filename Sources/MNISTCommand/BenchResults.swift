import Foundation

// What `mnist bench` measures and what `--json` writes, as Codable types. The JSON keys are snake_case,
// as they have been since the first `--json` file and as benchmarks/pytorch_reference.py writes its own.

/// A worker's training measurement for one model: `mnist bench --worker train` prints it as one JSON line.
struct TrainingFigures: Codable, Equatable {
    /// A training pass plus a test pass, averaged over the epochs.
    var secondsPerEpoch: Double
    var trainSecondsPerEpoch: Double
    var testSecondsPerEpoch: Double
    /// After the last epoch, in percent.
    var testAccuracy: Double
    /// The worker's peak resident memory (VmHWM), in MB.
    var peakResidentMegabytes: Double
    /// Images per training pass (fewer than 60,000 with `--max-batches`).
    var trainingImages: Double
    var testImages: Double

    enum CodingKeys: String, CodingKey {
        case secondsPerEpoch = "seconds_per_epoch"
        case trainSecondsPerEpoch = "train_seconds_per_epoch"
        case testSecondsPerEpoch = "test_seconds_per_epoch"
        case testAccuracy = "test_accuracy"
        case peakResidentMegabytes = "peak_rss_mb"
        case trainingImages = "training_images"
        case testImages = "test_images"
    }
}

/// A worker's inference measurement for one model: `mnist bench --worker inference` prints it as one line.
struct InferenceFigures: Codable, Equatable {
    var batch1000ImagesPerSecond: Double
    var batch1ImagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case batch1000ImagesPerSecond = "batch1000_images_per_s"
        case batch1ImagesPerSecond = "batch1_images_per_s"
    }
}

/// Everything measured for one model, written as one flat JSON object: the training and inference figures'
/// keys side by side with `gflops` and `fraction_of_sgemm`.
struct ModelFigures: Codable, Equatable {
    var training: TrainingFigures
    var inference: InferenceFigures
    /// The arithmetic rate of an epoch (training FLOPs and test forward FLOPs over its seconds), in GFLOP/s.
    var gigaflopsPerSecond: Double
    /// `gigaflopsPerSecond` as a fraction of the run's sgemm rate.
    var fractionOfSgemm: Double

    enum CodingKeys: String, CodingKey {
        case gigaflopsPerSecond = "gflops"
        case fractionOfSgemm = "fraction_of_sgemm"
    }

    init(training: TrainingFigures, inference: InferenceFigures, gigaflopsPerSecond: Double, fractionOfSgemm: Double) {
        self.training = training
        self.inference = inference
        self.gigaflopsPerSecond = gigaflopsPerSecond
        self.fractionOfSgemm = fractionOfSgemm
    }

    init(from decoder: any Decoder) throws {
        training = try TrainingFigures(from: decoder)
        inference = try InferenceFigures(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gigaflopsPerSecond = try container.decode(Double.self, forKey: .gigaflopsPerSecond)
        fractionOfSgemm = try container.decode(Double.self, forKey: .fractionOfSgemm)
    }

    func encode(to encoder: any Encoder) throws {
        try training.encode(to: encoder)
        try inference.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(gigaflopsPerSecond, forKey: .gigaflopsPerSecond)
        try container.encode(fractionOfSgemm, forKey: .fractionOfSgemm)
    }
}

/// What `mnist bench --json FILE` writes.
struct BenchReport: Codable, Equatable {
    /// By model name (`ModelKind.rawValue`).
    var swift: [String: ModelFigures]
    var sgemmGigaflopsPerSecond: Double
    var threads: Int
    var epochs: Int
    var cpu: String
    var openBLASCore: String
    /// Absent when every batch was trained.
    var maxBatches: Int?
    var seed: UInt64
    /// Absent when the PyTorch reference did not run.
    var pytorch: PyTorchReport?
    /// The share of the machine's CPU time the hypervisor gave to other guests while the Swift side was
    /// measured, and while PyTorch's was (absent without /proc/stat, or without the PyTorch run).
    var stolenFractionDuringSwift: Double? = nil
    var stolenFractionDuringPyTorch: Double? = nil

    enum CodingKeys: String, CodingKey {
        case swift, threads, epochs, cpu, seed, pytorch
        case sgemmGigaflopsPerSecond = "sgemm_gflops"
        case openBLASCore = "openblas_core"
        case maxBatches = "max_batches"
        case stolenFractionDuringSwift = "steal_fraction_swift"
        case stolenFractionDuringPyTorch = "steal_fraction_pytorch"
    }
}

/// What benchmarks/pytorch_reference.py writes with `--json` (and `mnist bench --json` copies under
/// `pytorch`). Its figures keep the script's names; the comments there say what each measures.
struct PyTorchReport: Codable, Equatable {
    struct Machine: Codable, Equatable {
        var cpu: String
        var logicalCPUs: Int?
        var python: String
        var torchVersion: String
        var loadAverageAtStart: [Double]
        var loadAverageAtEnd: [Double]?

        enum CodingKeys: String, CodingKey {
            case cpu, python
            case logicalCPUs = "logical_cpus"
            case torchVersion = "torch_version"
            case loadAverageAtStart = "load_average_at_start"
            case loadAverageAtEnd = "load_average_at_end"
        }
    }

    struct Settings: Codable, Equatable {
        var threads: Int
        var epochs: Int
        var maxBatches: Int?
        var batchSize: Int
        var optimizer: String
        var tutorialTestBatch: Int
        var preloadedTestBatch: Int
        var batch1Images: Int
        var seed: UInt64

        enum CodingKeys: String, CodingKey {
            case threads, epochs, optimizer, seed
            case maxBatches = "max_batches"
            case batchSize = "batch_size"
            case tutorialTestBatch = "tutorial_test_batch"
            case preloadedTestBatch = "preloaded_test_batch"
            case batch1Images = "batch1_images"
        }
    }

    /// A training run: the tutorial's DataLoader pipeline, or the images preloaded as one tensor.
    struct Training: Codable, Equatable {
        var secondsPerEpoch: Double
        var trainSeconds: [Double]
        var testSeconds: [Double]
        var trainBatchesPerEpoch: Int
        /// In percent.
        var testAccuracy: Double
        var peakResidentMegabytes: Double
        var residentMegabytesAfterImports: Double

        enum CodingKeys: String, CodingKey {
            case secondsPerEpoch = "seconds_per_epoch"
            case trainSeconds = "train_seconds"
            case testSeconds = "test_seconds"
            case trainBatchesPerEpoch = "train_batches_per_epoch"
            case testAccuracy = "test_accuracy"
            case peakResidentMegabytes = "peak_rss_mb"
            case residentMegabytesAfterImports = "rss_after_imports_mb"
        }
    }

    struct Inference: Codable, Equatable {
        var batch1000ImagesPerSecond: Double
        var batch1ImagesPerSecond: Double
        var batch1ImagesTimed: Int
        var peakResidentMegabytes: Double
        var residentMegabytesAfterImports: Double

        enum CodingKeys: String, CodingKey {
            case batch1000ImagesPerSecond = "batch1000_images_per_s"
            case batch1ImagesPerSecond = "batch1_images_per_s"
            case batch1ImagesTimed = "batch1_images_timed"
            case peakResidentMegabytes = "peak_rss_mb"
            case residentMegabytesAfterImports = "rss_after_imports_mb"
        }
    }

    struct Model: Codable, Equatable {
        var tutorial: Training
        var preloaded: Training
        var inference: Inference
    }

    /// A 2048³ float32 product, best of five, through torch and through NumPy.
    struct Sgemm: Codable, Equatable {
        var size: Int
        var torchGigaflopsPerSecond: Double
        var numpyGigaflopsPerSecond: Double
        var peakResidentMegabytes: Double
        var residentMegabytesAfterImports: Double

        enum CodingKeys: String, CodingKey {
            case size = "n"
            case torchGigaflopsPerSecond = "torch_gflops"
            case numpyGigaflopsPerSecond = "numpy_gflops"
            case peakResidentMegabytes = "peak_rss_mb"
            case residentMegabytesAfterImports = "rss_after_imports_mb"
        }
    }

    var machine: Machine
    var settings: Settings
    var sgemm: Sgemm
    /// By model name.
    var models: [String: Model]
}

extension JSONEncoder {
    /// Sorted keys, as `mnist bench` has always written its JSON; pretty-printed for a file.
    static func bench(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        return encoder
    }
}

/// Where and why decoding stopped, e.g. `models.cnn.tutorial.seconds_per_epoch is missing`.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
        let keys = context.codingPath + (last.map { [$0] } ?? [])
        return keys.isEmpty
            ? "the top level" : keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    return switch error {
    case .keyNotFound(let key, let context): "\(path(context, key)) is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context): "\(path(context)) has the wrong type"
    case .dataCorrupted(let context): "\(path(context)): \(context.debugDescription)"
    @unknown default: "\(error)"
    }
}
