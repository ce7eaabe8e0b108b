import Foundation

/// An input the tools refuse before doing any work: a recipe out of range, data the models cannot take, a
/// checkpoint that cannot continue. The message names the problem, the file where there is one, and what
/// was expected and found.
public struct InputError: Error, CustomStringConvertible, Equatable, LocalizedError {
    /// What is wrong, naming the file where there is one, with what was expected and found.
    public let message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
    /// The message, for `localizedDescription`.
    public var errorDescription: String? { message }
}

/// The ranges the command line and a checkpoint's recipe are held to. The upper bounds are far above any
/// useful run and keep every product computed from them (epochs × batches per epoch for a schedule,
/// threads × parts) well inside `Int`.
public enum InputLimits {
    /// Epochs of a run: 1 to 100,000 (the tutorial trains 10; 100,000 epochs of MNIST would take months).
    public static let epochs = 1...100_000
    /// Images per batch: 1 to 1,000,000 (more than any MNIST-format set holds; a last partial batch is fine).
    public static let batchSize = 1...1_000_000
    /// Threads for the kernels: 1 to 1,024.
    public static let threads = 1...1_024
    /// The image size every model of this package takes: 28×28 (rows × columns).
    public static let imageRows = 28
    /// The columns of that 28×28 image (see `imageRows`), and the widest `--ink-width`.
    public static let imageColumns = 28
}

extension TrainingConfiguration {
    /// Throws `InputError` unless this recipe can be trained: the one check for the command line's options
    /// and for a checkpoint's recipe. Messages use the command line's option names.
    public func validate() throws {
        func outside(_ option: String, _ range: ClosedRange<Int>, _ value: Int) -> InputError {
            InputError("\(option) must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
        guard InputLimits.epochs.contains(epochs) else { throw outside("--epochs", InputLimits.epochs, epochs) }
        guard InputLimits.batchSize.contains(batchSize) else {
            throw outside("--batch-size", InputLimits.batchSize, batchSize)
        }
        guard learningRate.isFinite && learningRate > 0 else {
            throw InputError("--lr must be a positive finite number, found \(learningRate)")
        }
        guard momentum.isFinite && momentum >= 0 else {
            throw InputError("--momentum must be a finite number of at least 0, found \(momentum)")
        }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw InputError("--weight-decay must be a finite number of at least 0, found \(weightDecay)")
        }
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw InputError("--label-smoothing must be between 0 and 1, found \(labelSmoothing)")
        }
        guard sharpnessRadius.isFinite && sharpnessRadius >= 0 else {
            throw InputError("--sharpness-radius must be a finite number of at least 0, found \(sharpnessRadius)")
        }
        if let sharpnessEpochs {
            guard (1...epochs).contains(sharpnessEpochs) else {
                throw outside("--sharpness-epochs", 1...epochs, sharpnessEpochs)
            }
            guard sharpnessRadius > 0 else {
                throw InputError(
                    "--sharpness-epochs \(sharpnessEpochs) needs --sharpness-radius above 0, found \(sharpnessRadius)")
            }
        }
        if let inkWidth, !(1...InputLimits.imageColumns).contains(inkWidth) {
            throw outside("--ink-width", 1...InputLimits.imageColumns, inkWidth)
        }
    }
}

extension MNISTDataset {
    /// Loads `split` from `directory` (see `load(directory:split:)`) and checks that the models can take it:
    /// 28×28 images, and at least one image unless `allowEmpty`.
    /// - Throws: `InputError` naming the images file, with the size expected and found.
    public static func loadForModels(directory: URL, split: Split, allowEmpty: Bool = false) throws -> MNISTDataset {
        let dataset = try load(directory: directory, split: split)
        let imagesPath =
            (try? MNISTFile.images(split).location(in: directory).path)
            ?? directory.appendingPathComponent(MNISTFile.images(split).name).path
        guard dataset.rows == InputLimits.imageRows && dataset.columns == InputLimits.imageColumns else {
            throw InputError(
                "expected \(InputLimits.imageRows)×\(InputLimits.imageColumns) images, found \(dataset.rows)×\(dataset.columns) "
                    + "(rows × columns) in \(imagesPath)")
        }
        guard allowEmpty || dataset.imageCount > 0 else {
            throw InputError(
                "\(imagesPath) holds no images (its header counts 0): the \(split == .train ? "training" : "test") set must not be empty"
            )
        }
        return dataset
    }
}

/// Throws `InputError` naming the first tensor of `tensors` holding a NaN or an infinity, and where:
/// a model with one computes NaN for every image, and would report it as a digit.
public func requireFiniteTensors(_ tensors: [(name: String, tensor: Tensor)], source: String) throws {
    for (name, tensor) in tensors {
        if let index = tensor.data.firstIndex(where: { !$0.isFinite }) {
            let value = tensor.data[index]
            let what = value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "-infinity")
            throw InputError(
                "\(source): \(name) holds \(what) at element \(index) (of \(tensor.data.count)): weights must be finite numbers"
            )
        }
    }
}
