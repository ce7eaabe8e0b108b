import Foundation
import Kernels

/// The optimizers the `mnist` tool offers.
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    /// Adam (PyTorch's `torch.optim.Adam`), its weight decay added to the gradient.
    case adam
    /// AdamW (PyTorch's `torch.optim.AdamW`), its weight decay decoupled from the gradient.
    case adamw
    /// SGD with `momentum` (PyTorch's `torch.optim.SGD`).
    case sgd
}

/// How the learning rate moves over a run, stepped after every batch.
public enum ScheduleKind: String, CaseIterable, Codable, Sendable {
    /// The configured rate throughout, as the tutorial trains.
    case constant
    /// From the configured rate down to 0 along half a cosine (PyTorch's `CosineAnnealingLR`).
    case cosine
    /// Up to the configured rate over the first 30% of the run, then down to nearly 0 (PyTorch's
    /// `OneCycleLR`, learning rate only).
    case onecycle

    /// The schedule for a run of `totalSteps` batches from the rate `base`; nil for `constant`, which
    /// leaves the optimizer's rate as it is.
    public func makeSchedule(base: Float, totalSteps: Int) -> (any LearningRateSchedule)? {
        switch self {
        case .constant: nil
        case .cosine: CosineSchedule(baseLearningRate: base, totalSteps: totalSteps)
        case .onecycle: OneCycleSchedule(maximumLearningRate: base, totalSteps: max(totalSteps, 2))
        }
    }

    /// The rate for the batch numbered `step` (from 0) of a run of `totalSteps` batches.
    public func learningRate(base: Float, step: Int, totalSteps: Int) -> Float {
        makeSchedule(base: base, totalSteps: totalSteps)?.learningRate(at: step) ?? base
    }
}

/// Everything that defines a training run. The defaults are the tutorial's recipe: LeNet5, Adam with
/// learning rate 0.001, batches of 64 shuffled every epoch, 10 epochs, ToTensor scaling only.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// The model to train (`--model`); LeNet-5, the tutorial's, by default.
    public var model: ModelKind = .lenet5
    /// Passes over the training set (`--epochs`); 10 by default.
    public var epochs = 10
    /// Images per batch (`--batch-size`); 64 by default.
    public var batchSize = 64
    /// The learning rate (`--lr`): the rate throughout, or where `cosine` starts and `onecycle` peaks; 0.001 by
    /// default.
    public var learningRate: Float = 0.001
    /// The optimizer (`--optimizer`); Adam by default.
    public var optimizer: OptimizerKind = .adam
    /// SGD's momentum (ignored by Adam and AdamW).
    public var momentum: Float = 0.9
    /// Weight decay (`--weight-decay`): added to the gradient (L2) by Adam and SGD, decoupled by AdamW; 0, the
    /// default, decays nothing, AdamW included.
    public var weightDecay: Float = 0
    /// Label smoothing ε of the cross-entropy loss, in 0…1 (PyTorch's `label_smoothing`; 0 trains on the
    /// labels alone, as the tutorial does).
    public var labelSmoothing: Float = 0
    /// ρ of sharpness-aware minimisation (`Learner.sharpnessRadius`); 0, the default, trains without it.
    public var sharpnessRadius: Float = 0
    /// How many of the run's last epochs take sharpness-aware steps (`Learner.sharpnessStartEpoch`), from 1 to
    /// `epochs`; nil, the default, every epoch. Needs `sharpnessRadius` above 0.
    public var sharpnessEpochs: Int?
    /// Seeds the initial weights, the shuffling and the augmentation.
    public var seed: UInt64 = 0
    /// Normalise pixels with MNIST's mean and standard deviation (0.1307, 0.3081) after scaling to 0…1.
    public var normalize = false
    /// Rotate, scale and shift every training image at random each epoch (`RandomAffine.mnist`).
    public var augment = false
    /// Distort every training image elastically at random each epoch (`ElasticDistortion.mnist`), after
    /// `augment`'s transform when both are on.
    public var elastic = false
    /// Shear every training and test digit upright before anything else (`InputPreprocessing.deskew`); the
    /// weights file says so in its metadata, and the commands that read it deskew their images too.
    public var deskew = false
    /// Stretch or squeeze every training and test digit horizontally so its ink is this many pixels wide, after
    /// deskewing (`InputPreprocessing.inkWidth`); nil leaves widths as written. Kept in the weights file's
    /// metadata as `deskew` is.
    public var inkWidth: Int?
    /// How the learning rate moves over the run.
    public var schedule: ScheduleKind = .constant
    /// The named recipe these settings started from (before options overrode some of them); nil for
    /// checkpoints written before recipes existed.
    public var recipe: Recipe?

    /// The tutorial's recipe: every setting at its default.
    public init() {}

    /// What is done to every image before the model sees it (`deskew`, `inkWidth`).
    public var preprocessing: InputPreprocessing { InputPreprocessing(deskew: deskew, inkWidth: inkWidth) }

    /// Decodes a configuration, taking the defaults for settings added after it was written (`augment`,
    /// `elastic`, `deskew`, `inkWidth`, `schedule`, `recipe`, `labelSmoothing`, `sharpnessRadius`, `sharpnessEpochs`), so older
    /// checkpoints still resume.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(ModelKind.self, forKey: .model)
        epochs = try container.decode(Int.self, forKey: .epochs)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        optimizer = try container.decode(OptimizerKind.self, forKey: .optimizer)
        momentum = try container.decode(Float.self, forKey: .momentum)
        weightDecay = try container.decode(Float.self, forKey: .weightDecay)
        labelSmoothing = try container.decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? 0
        sharpnessRadius = try container.decodeIfPresent(Float.self, forKey: .sharpnessRadius) ?? 0
        sharpnessEpochs = try container.decodeIfPresent(Int.self, forKey: .sharpnessEpochs)
        seed = try container.decode(UInt64.self, forKey: .seed)
        normalize = try container.decode(Bool.self, forKey: .normalize)
        augment = try container.decodeIfPresent(Bool.self, forKey: .augment) ?? false
        elastic = try container.decodeIfPresent(Bool.self, forKey: .elastic) ?? false
        deskew = try container.decodeIfPresent(Bool.self, forKey: .deskew) ?? false
        inkWidth = try container.decodeIfPresent(Int.self, forKey: .inkWidth)
        schedule = try container.decodeIfPresent(ScheduleKind.self, forKey: .schedule) ?? .constant
        recipe = try container.decodeIfPresent(Recipe.self, forKey: .recipe)
    }
}

/// What one epoch gave: written as one JSON line per epoch to the metrics file.
public struct EpochRecord: Codable, Equatable, Sendable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// The run's epochs in all: N of `Epoch [k/N]`.
    public var epochs: Int
    /// Accuracy on the test set after the epoch, from 0 to 1.
    public var testAccuracy: Double
    /// The mean training loss over the epoch's images.
    public var trainingLoss: Double
    /// Accuracy on the training images as the model saw them during the epoch (augmented, if configured), 0 to 1.
    public var trainingAccuracy: Double
    /// The epoch's wall time: the training pass and the test pass.
    public var seconds: Double
    /// The learning rate of the epoch's last batch (the configured rate throughout under `constant`).
    public var learningRate: Float
    /// The part of `seconds` the test pass took (nil in metrics written before it was recorded).
    public var testSeconds: Double? = nil

    /// The line the tutorial prints, `Epoch [k/N]: Accuracy: xx.xx%`, followed by the mean training loss and
    /// the epoch's wall time.
    public var summary: String {
        "Epoch [\(epoch)/\(epochs)]: Accuracy: \(formatPercent(testAccuracy))  "
            + String(format: "(training loss %.4f, %.2f s)", trainingLoss, seconds)
    }
}

/// Why training stopped before the run was done.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss became NaN or infinite in batch `batch` of epoch `epoch` (both from 1).
    case nonFiniteLoss(epoch: Int, batch: Int, loss: Float)

    /// Where the loss went wrong, what to try, and that the last checkpoint is unchanged.
    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let batch, let loss):
            "training stopped: the loss became \(loss) in epoch \(epoch), batch \(batch) (try a lower learning rate); "
                + "the checkpoint written after the last complete epoch is unchanged"
        }
    }
}

/// Trains one model on MNIST as the tutorial does: for each epoch, a shuffled pass over the training set
/// with cross-entropy and the optimizer, then accuracy on the test set. The recipe's thin layer over the
/// engine's `Learner`, which runs the training passes.
public final class Trainer {
    /// The run's settings.
    public let configuration: TrainingConfiguration
    /// The engine's learner: the model, the optimizer and the generator, and the training passes.
    public let learner: Learner
    /// Epochs completed so far, with their results.
    public internal(set) var history: [EpochRecord] = []

    /// A trainer for a new run: the model initialised from `configuration.seed`, its optimizer, no epochs yet.
    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
        var generator = RandomGenerator(seed: configuration.seed)
        let model = configuration.model.makeModel(generator: &generator)
        let parameters = model.namedParameters
        let optimizer: any Optimizer
        switch configuration.optimizer {
        case .adam:
            optimizer = Adam(
                parameters: parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay
            )
        case .adamw:
            optimizer = AdamW(
                parameters: parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay
            )
        case .sgd:
            optimizer = SGD(
                parameters: parameters, learningRate: configuration.learningRate,
                momentum: configuration.momentum, weightDecay: configuration.weightDecay)
        }
        let labelSmoothing = configuration.labelSmoothing
        learner = Learner(
            model: model, optimizer: optimizer,
            loss: { $0.crossEntropy(labels: $1, labelSmoothing: labelSmoothing) }, generator: generator)
        learner.sharpnessRadius = configuration.sharpnessRadius
        learner.sharpnessStartEpoch = configuration.sharpnessEpochs.map { configuration.epochs - $0 } ?? 0
    }

    /// The model being trained (the learner's).
    public var model: any UnaryLayer { learner.model }
    /// The optimizer (the learner's).
    public var optimizer: any Optimizer { learner.optimizer }
    /// Draws the initial weights, then each epoch's shuffle (and transforms, when augmenting); saved in
    /// checkpoints so a resumed run repeats what an uninterrupted one would have drawn.
    public internal(set) var generator: RandomGenerator {
        get { learner.generator }
        set { learner.generator = newValue }
    }

    /// How many epochs have been completed (`history.count`).
    public var completedEpochs: Int { history.count }

    var normalization: DataLoader.Normalization? { configuration.normalize ? .mnist : nil }

    /// `dataset` as this run's model sees it: preprocessed as the configuration says (`deskew`, `inkWidth`),
    /// as it is otherwise. Training and test sets go through it once, before the first epoch.
    public func prepared(_ dataset: MNISTDataset) -> MNISTDataset {
        configuration.preprocessing.apply(to: dataset)
    }

    /// One shuffled (and, if configured, augmented) pass over `trainingSet`: returns the mean loss and the
    /// training accuracy on the images as the model saw them. `progress(batchesDone, batchCount)` is called
    /// after each batch.
    public func trainEpoch(
        on trainingSet: MNISTDataset, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> (loss: Double, accuracy: Double) {
        try trainEpoch(on: trainingSet) { (state: EpochProgress) in progress(state.batchesDone, state.batchCount) }
    }

    /// `trainEpoch(on:progress:)`, with `progress` told after each batch where the pass stands: batches and
    /// images done, time so far and the running loss.
    public func trainEpoch(
        on trainingSet: MNISTDataset, progress: (EpochProgress) -> Void
    ) throws -> (loss: Double, accuracy: Double) {
        let loader = DataLoader(
            dataset: trainingSet, batchSize: configuration.batchSize, shuffle: true, normalization: normalization,
            augmentation: configuration.augment ? .mnist : nil, elasticDistortion: configuration.elastic ? .mnist : nil)
        learner.schedule = configuration.schedule.makeSchedule(
            base: configuration.learningRate, totalSteps: configuration.epochs * loader.batchCount)
        do {
            return try learner.trainEpoch(on: loader, epoch: completedEpochs, progress: progress)
        } catch LearnerError.nonFiniteLoss(let epoch, let batch, let loss) {
            throw TrainingError.nonFiniteLoss(epoch: epoch, batch: batch, loss: loss)
        }
    }

    /// Sets every parameter's `grad` to the gradient of the batch's mean cross-entropy, and returns that
    /// loss and how many images the model got right (`Learner.gradientStep`: data-parallel for the models
    /// whose layers allow it).
    func gradientStep(images: Tensor, labels: [Int32]) -> (loss: Float, correct: Int) {
        learner.gradientStep(images: images, labels: labels)
    }

    /// Trains one epoch, evaluates on `testSet`, and records the result.
    public func runEpoch(
        trainingSet: MNISTDataset, testSet: MNISTDataset, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> EpochRecord {
        try runEpoch(trainingSet: trainingSet, testSet: testSet) { (state: EpochProgress) in
            progress(state.batchesDone, state.batchCount)
        }
    }

    /// `runEpoch(trainingSet:testSet:progress:)`, with `progress` told where the training pass stands
    /// after each batch (`trainEpoch(on:progress:)`).
    public func runEpoch(
        trainingSet: MNISTDataset, testSet: MNISTDataset, progress: (EpochProgress) -> Void
    ) throws -> EpochRecord {
        let start = Date()
        let (loss, trainingAccuracy) = try trainEpoch(on: trainingSet, progress: progress)
        let testStart = Date()
        let evaluation = evaluate(model: model, on: testSet, normalization: normalization)
        let record = EpochRecord(
            epoch: completedEpochs + 1, epochs: configuration.epochs, testAccuracy: evaluation.accuracy,
            trainingLoss: loss, trainingAccuracy: trainingAccuracy, seconds: Date().timeIntervalSince(start),
            learningRate: optimizer.learningRate, testSeconds: Date().timeIntervalSince(testStart))
        history.append(record)
        return record
    }
}

/// The confusion matrix of the model's predictions against the labels of every image of `dataset`, predicted in
/// evaluation mode with nothing recorded (PyTorch's `model.eval()` + `torch.no_grad()`), in batches of
/// `batchSize`, each batch split over the threads (`predictions(of:for:)`).
public func evaluate(
    model: any UnaryLayer, on dataset: MNISTDataset, normalization: DataLoader.Normalization? = nil,
    batchSize: Int = 1000
) -> Evaluation {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    return DataLoader(dataset: dataset, batchSize: batchSize, normalization: normalization).epoch().reduce(Evaluation())
    { evaluation, batch in
        evaluation.adding(labels: batch.labels, predictions: predictions(of: model, for: batch.images))
    }
}

/// The class `model` gives each image of `images` [N, …], nothing recorded: the batch is split into one
/// part per thread, and each part runs the whole model on its own thread in slices of at most
/// `sliceSize` images (the model's `inferenceSliceSize` when nil). Whole-model parts spare a hand-over
/// between threads at every layer; slices keep the activations small (a 1000-image batch of the CNN's first
/// layer alone is 74 MB), so they stay in cache and in memory the allocator already holds.
public func predictions(of model: any UnaryLayer, for images: Tensor, sliceSize: Int? = nil) -> [Int] {
    inferenceInParts(of: model, for: images, sliceSize: sliceSize) { $0.argmax() }
}

/// The softmax of `model`'s logits for each image of `images` [N, …]: [N × classes] row-major, nothing
/// recorded, the batch split over the threads and run in slices as `predictions(of:for:sliceSize:)` runs it.
/// The model runs in the mode it is in (`classProbabilities(model:on:…)` sets evaluation mode first).
public func classProbabilities(of model: any UnaryLayer, for images: Tensor, sliceSize: Int? = nil) -> [Float] {
    inferenceInParts(of: model, for: images, sliceSize: sliceSize) { $0.softmax().data }
}

/// `model` on `images` [N, …], nothing recorded, in parts and slices as `predictions(of:for:sliceSize:)`
/// describes, `rows` turning each slice's output [n, …] into its n rows' results, concatenated in image order.
private func inferenceInParts<Element>(
    of model: any UnaryLayer, for images: Tensor, sliceSize: Int?, rows: (Tensor) -> [Element]
) -> [Element] {
    let sliceSize = sliceSize ?? model.inferenceSliceSize
    let batchSize = images.shape[0]
    let parts = Parallel.chunks(of: batchSize)
    func run(_ range: Range<Int>) -> [Element] {
        withoutGradients {
            stride(from: range.lowerBound, to: range.upperBound, by: sliceSize).flatMap { start in
                let slice = start..<min(start + sliceSize, range.upperBound)
                return rows(model(slice == 0..<batchSize ? images : images.slice(slice)))
            }
        }
    }
    // One image: one part, on this thread, so its kernels may still split their work.
    guard parts.count > 1 else { return run(0..<batchSize) }
    var results = [[Element]](repeating: [], count: parts.count)
    results.withUnsafeMutableBufferPointer { results in
        Parallel.forEachPart(of: batchSize) { part, range in results[part] = run(range) }
    }
    return results.flatMap { $0 }
}
