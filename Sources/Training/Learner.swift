import Foundation
import Kernels
@_exported import Datasets
@_exported import Optimizers

/// Trains any model, like PyTorch Lightning's `Trainer` or Keras's `fit`: a model (any `UnaryLayer`), an
/// optimizer, a loss (cross-entropy unless told), an optional learning-rate schedule stepped every batch,
/// and callbacks told when training, each epoch and each batch begin and end.
///
///     let learner = Learner(model: model, optimizer: Adam(parameters: model.namedParameters))
///     learner.callbacks = [ProgressLogger(), EarlyStopping(patience: 2)]
///     try learner.fit(training: trainLoader, validation: testLoader, epochs: 10)
///
/// Each batch's gradients come from `gradientStep`: data-parallel over the threads when the model allows
/// it (`Module.allowsBatchSplitting`), with results that depend on the thread count but never on timing.
public final class Learner {
    /// The loss of a batch: logits [N, classes] and labels → a scalar to minimise, the batch's mean.
    public typealias Loss = (_ logits: Tensor, _ labels: [Int32]) -> Tensor

    /// The model trained: any layer from a batch of images to logits [N, classes].
    public let model: any UnaryLayer
    /// Updates the model's parameters after each batch; `gradientStep` sets the gradients of its `parameters`.
    public let optimizer: any Optimizer
    /// The loss minimised: cross-entropy unless told.
    public var loss: Loss
    /// Sets the optimizer's learning rate before each batch, from the batch's number counted over the whole
    /// run (epoch · batches per epoch + batch, from 0); nil leaves the rate as it is.
    public var schedule: (any LearningRateSchedule)?
    /// Told of training's progress, in this order; each may stop the run (`stop()`).
    public var callbacks: [any TrainingCallback]
    /// Draws each epoch's shuffle (and transforms, when the loader augments); save its `state` to resume.
    public var generator: RandomGenerator
    /// ρ of sharpness-aware minimisation (SAM, Foret et al. 2021): when above 0, each step's gradients are
    /// taken a distance ρ uphill of the weights (see `sharpnessAwareGradients`), at twice the cost of a step.
    /// 0, the default, trains on the gradients at the weights.
    public var sharpnessRadius: Float = 0
    /// The first epoch, counted from 0 as `trainEpoch`'s `epoch`, whose steps are sharpness-aware when
    /// `sharpnessRadius` is above 0; the epochs before it train on the gradients at the weights. 0, the default,
    /// takes SAM's steps throughout; a later epoch keeps SAM to the end of the run, at a step's cost before it
    /// (late-phase SAM: Zhou et al. 2024 found that SAM's last epochs give most of its gain).
    public var sharpnessStartEpoch = 0
    /// The epochs `fit` has completed, with their results.
    public var history: [EpochMetrics] = []
    /// Set by `stop()`: `fit` ends after the epoch in progress.
    public private(set) var isStopping = false
    /// `model.allowsBatchSplitting`, asked once: it walks the model's children by reflection, which at every
    /// step took 0.6% of `FastCNN`'s training time on the one thread that runs between the kernels.
    private let splitsBatches: Bool

    /// A learner of `model` with `optimizer` (built on `model`'s parameters), minimising `loss`, shuffling
    /// with `generator`.
    public init(
        model: any UnaryLayer, optimizer: any Optimizer, loss: @escaping Loss = { $0.crossEntropy(labels: $1) },
        schedule: (any LearningRateSchedule)? = nil, callbacks: [any TrainingCallback] = [],
        generator: RandomGenerator = RandomGenerator(seed: 0)
    ) {
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.callbacks = callbacks
        self.generator = generator
        splitsBatches = model.allowsBatchSplitting
    }

    /// The epochs completed so far.
    public var completedEpochs: Int { history.count }

    /// Ends `fit` after the epoch in progress (Keras's `model.stop_training = True`); callbacks call it.
    public func stop() { isStopping = true }

    /// Trains until `epochs` epochs are complete (counting those already in `history`, so a restored
    /// learner continues) or a callback stops it: each epoch a pass over `training`, then the loss and
    /// accuracy on `validation` if given. Returns the history.
    @discardableResult
    public func fit(training: DataLoader, validation: DataLoader? = nil, epochs: Int) throws -> [EpochMetrics] {
        isStopping = false
        for callback in callbacks { try callback.trainingWillBegin(self) }
        while completedEpochs < epochs && !isStopping {
            let epoch = completedEpochs + 1
            for callback in callbacks { try callback.epochWillBegin(epoch, learner: self) }
            let start = ContinuousClock.now
            let trained = try trainEpoch(on: training, epoch: completedEpochs)
            let validated = validation.map { validate(on: $0) }
            let metrics = EpochMetrics(
                epoch: epoch, trainingLoss: trained.loss, trainingAccuracy: trained.accuracy,
                validationLoss: validated?.loss, validationAccuracy: validated?.accuracy,
                learningRate: optimizer.learningRate, seconds: (ContinuousClock.now - start).seconds)
            history.append(metrics)
            for callback in callbacks { try callback.epochDidEnd(metrics, learner: self) }
        }
        for callback in callbacks { try callback.trainingDidEnd(self) }
        return history
    }

    /// One pass over `loader` in training mode, batch after batch: the schedule's rate, `gradientStep`,
    /// the optimizer's step. `epoch` counts the epochs before this one (the schedule's batches are counted
    /// from there). Returns the mean loss and the accuracy on the images as the model saw them; tells
    /// `progress`, then each callback, where the pass stands after each batch. Throws
    /// `LearnerError.noBatches` for a loader that gives no batch, `.nonFiniteLoss` when a batch's loss is not finite.
    public func trainEpoch(
        on loader: DataLoader, epoch: Int, progress: (EpochProgress) -> Void = { _ in }
    ) throws -> (loss: Double, accuracy: Double) {
        guard loader.batchCount > 0 else {
            throw LearnerError.noBatches(
                images: loader.dataset.imageCount, batchSize: loader.batchSize, dropLast: loader.dropLast)
        }
        let start = ContinuousClock.now
        var imagesDone = 0
        model.train()
        var totalLoss: Double = 0
        var correct = 0
        for (index, batch) in loader.epoch(generator: &generator).enumerated() {
            if let schedule {
                optimizer.learningRate = schedule.learningRate(at: epoch * loader.batchCount + index)
            }
            let step = gradientStep(images: batch.images, labels: batch.labels)
            guard step.loss.isFinite else {
                throw LearnerError.nonFiniteLoss(epoch: epoch + 1, batch: index + 1, loss: step.loss)
            }
            if sharpnessRadius > 0 && epoch >= sharpnessStartEpoch {
                sharpnessAwareGradients(images: batch.images, labels: batch.labels)
            }
            optimizer.step()
            totalLoss += Double(step.loss) * Double(batch.labels.count)
            correct += step.correct
            imagesDone += batch.labels.count
            let state = EpochProgress(
                batchesDone: index + 1, batchCount: loader.batchCount, imagesDone: imagesDone,
                elapsed: .now - start, runningLoss: totalLoss / Double(imagesDone))
            progress(state)
            for callback in callbacks { try callback.batchDidEnd(state, learner: self) }
        }
        return (totalLoss / Double(imagesDone), Double(correct) / Double(imagesDone))
    }

    /// Sets every parameter's `grad` to the gradient of the batch's loss, and returns that loss and how many
    /// images the model got right.
    ///
    /// When the model allows it (`Module.allowsBatchSplitting`, asked when the learner is made), the batch is split into
    /// `Parallel.threadCount` parts, each part's forward and backward pass runs on its own thread and tape,
    /// its loss seeded with partSize / batchSize so the parts' gradients add up to the whole batch's mean,
    /// and the parts' gradients are summed in part order. Otherwise the batch runs whole, its kernels
    /// splitting the work. Either way the result depends on the thread count (the order of the sums) but
    /// never on timing.
    public func gradientStep(images: Tensor, labels: [Int32]) -> (loss: Float, correct: Int) {
        let parameters = optimizer.parameters.map(\.tensor)
        let batchSize = labels.count
        let parts = splitsBatches ? Parallel.chunks(of: batchSize) : [0..<batchSize]
        var results = [(loss: Float, correct: Int, gradients: [[Float]?])](repeating: (0, 0, []), count: parts.count)
        func run(_ range: Range<Int>) -> (loss: Float, correct: Int, gradients: [[Float]?]) {
            let partImages = range == 0..<batchSize ? images : images.slice(range)
            let partLabels = Array(labels[range])
            let logits = model(partImages)
            let loss = self.loss(logits, partLabels)
            let share = Float(range.count) / Float(batchSize)
            let gradients = loss.gradients(withRespectTo: parameters, seed: [share])
            let correct = zip(logits.argmax(), partLabels).filter { $0.0 == Int($0.1) }.count
            return (loss.scalar * share, correct, gradients)
        }
        if parts.count == 1 {
            results[0] = run(0..<batchSize)
        } else {
            results.withUnsafeMutableBufferPointer { results in
                Parallel.forEachPart(of: batchSize) { part, range in results[part] = run(range) }
            }
        }
        var loss: Float = 0
        for (index, parameter) in parameters.enumerated() {
            let partGradients = results.compactMap { $0.gradients[index] }
            guard var sum = partGradients.first else {
                parameter.grad = nil
                continue
            }
            // Element by element, part 0 + part 1 + …: the same sums however the elements are split. A batch
            // run whole has nothing to add, and its gradient is used as it is (not copied for a mutable access).
            if partGradients.count > 1 {
                sum.withUnsafeMutableBufferPointer { buffer in
                    let (target, count) = (buffer.baseAddress!, buffer.count)
                    let add = { (elements: Range<Int>) in
                        for gradient in partGradients.dropFirst() {
                            gradient.withUnsafeBufferPointer { source in
                                for element in elements { target[element] += source[element] }
                            }
                        }
                    }
                    if count >= 1 << 15 { Parallel.forEachChunk(of: count, add) } else { add(0..<count) }
                }
            }
            parameter.grad = Tensor(shape: parameter.shape, data: sum)
        }
        for result in results { loss += result.loss }
        return (loss, results.reduce(0) { $0 + $1.correct })
    }

    /// Replaces the gradients `gradientStep` left with those of the same batch at the weights moved a distance
    /// `sharpnessRadius` (ρ) along them, w + ρ·g/‖g‖ (‖g‖ over every parameter with a gradient), then puts
    /// the weights back as they were, bit for bit: SAM's step, which the optimizer then applies to w (as
    /// davda54/sam, a PyTorch implementation, does). The batch-norm statistics keep the first pass's update
    /// only, as davda54/sam's `disable_running_stats` does for the second pass.
    func sharpnessAwareGradients(images: Tensor, labels: [Int32]) {
        let parameters = optimizer.parameters.map(\.tensor).filter { $0.grad != nil }
        var squaredNorm: Double = 0
        for parameter in parameters {
            for value in parameter.grad!.data { squaredNorm += Double(value) * Double(value) }
        }
        guard squaredNorm > 0 else { return }
        let scale = Float(Double(sharpnessRadius) / squaredNorm.squareRoot())
        let weights = parameters.map(\.data)
        for parameter in parameters {
            let gradient = parameter.grad!.data
            parameter.data.withUnsafeMutableBufferPointer { values in
                for index in values.indices { values[index] += scale * gradient[index] }
            }
        }
        let buffers = model.namedBuffers.map { ($0.tensor, $0.tensor.data) }
        _ = gradientStep(images: images, labels: labels)
        for (buffer, values) in buffers { buffer.data = values }
        for (parameter, values) in zip(parameters, weights) { parameter.data = values }
    }

    /// The mean loss and the accuracy on every batch of `loader`, in evaluation mode with nothing recorded
    /// (PyTorch's `model.eval()` + `torch.no_grad()`); the model's mode is restored after.
    public func validate(on loader: DataLoader) -> (loss: Double, accuracy: Double) {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var validationGenerator = RandomGenerator(seed: 0) // only drawn from by a shuffling loader
        var (totalLoss, correct, images) = (0.0, 0, 0)
        withoutGradients {
            for batch in loader.epoch(generator: &validationGenerator) {
                let logits = model(batch.images)
                totalLoss += Double(loss(logits, batch.labels).scalar) * Double(batch.labels.count)
                correct += zip(logits.argmax(), batch.labels).filter { $0.0 == Int($0.1) }.count
                images += batch.labels.count
            }
        }
        return (totalLoss / Double(max(images, 1)), Double(correct) / Double(max(images, 1)))
    }
}

/// What one epoch of `Learner.fit` gave; `MetricsLogger` writes one JSON line of it per epoch.
public struct EpochMetrics: Codable, Equatable, Sendable {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// The mean loss over the epoch's training images, as the model saw them while it trained.
    public var trainingLoss: Double
    /// The fraction of the epoch's training images classified right (0…1), as the model saw them while it trained.
    public var trainingAccuracy: Double
    /// On the validation loader, when `fit` was given one.
    public var validationLoss: Double?
    /// The fraction of the validation images classified right (0…1), when `fit` was given a validation loader.
    public var validationAccuracy: Double?
    /// The optimizer's rate after the epoch's last batch.
    public var learningRate: Float
    /// The epoch's wall time, training and validation.
    public var seconds: Double

    /// The metrics of epoch `epoch`; the validation's are nil when there was no validation loader.
    public init(
        epoch: Int, trainingLoss: Double, trainingAccuracy: Double, validationLoss: Double? = nil,
        validationAccuracy: Double? = nil, learningRate: Float, seconds: Double
    ) {
        self.epoch = epoch
        self.trainingLoss = trainingLoss
        self.trainingAccuracy = trainingAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
    }
}

/// Why training, early stopping or restoring a checkpoint could not go on.
public enum LearnerError: Error, CustomStringConvertible, Equatable {
    /// The loss of batch `batch` (from 1) of epoch `epoch` (from 1) was infinite or NaN: training cannot go on.
    case nonFiniteLoss(epoch: Int, batch: Int, loss: Float)
    /// `EarlyStopping` watches a metric that the epoch did not measure (validation without a validation loader).
    case missingMetric(String)
    /// A checkpoint file that cannot be restored.
    case badCheckpoint(file: String, problem: String)
    /// The training loader gives no batch: `images` images (none, or fewer than `batchSize` with `dropLast`).
    case noBatches(images: Int, batchSize: Int, dropLast: Bool)

    /// What went wrong, for a person: where the loss stopped being finite, the metric missing, the checkpoint's
    /// problem, or the training loader's sizes.
    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let batch, let loss):
            "training stopped: the loss became \(loss) in epoch \(epoch), batch \(batch) (try a lower learning rate)"
        case .missingMetric(let name): "no \(name) to watch: pass a validation loader to fit"
        case .badCheckpoint(let file, let problem): "\(file): \(problem)"
        case .noBatches(let images, let batchSize, let dropLast):
            "the training loader gives no batch: \(images) images in batches of \(batchSize)"
                + (dropLast ? ", without a last partial batch" : "")
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
