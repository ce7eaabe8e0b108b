import Foundation
import Kernels
import TestSupport
import Testing
import Training

/// The engine's training API on a model of the user's own, on slices of the bundled MNIST: the loss falls,
/// callbacks are told in order, early stopping stops, a checkpoint restores the run bit for bit.
@Suite struct LearnerTests {
    static let training = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .train)
    }
    static let test = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test)
    }

    /// A model that is none of the built-in ones: flatten, 784 → 32, ReLU, 32 → 10.
    final class TinyModel: Module, UnaryLayer {
        let hidden: Linear
        let output: Linear

        init(generator: inout RandomGenerator) {
            hidden = Linear(784, 32, generator: &generator)
            output = Linear(32, 10, generator: &generator)
        }

        func callAsFunction(_ input: Tensor) -> Tensor {
            output(hidden(input.flattened()).relu())
        }
    }

    static func learner(seed: UInt64, callbacks: [any TrainingCallback] = []) -> Learner {
        var generator = RandomGenerator(seed: seed)
        let model = TinyModel(generator: &generator)
        return Learner(
            model: model, optimizer: Adam(parameters: model.namedParameters, learningRate: 0.01),
            callbacks: callbacks, generator: generator)
    }

    static func loader(images: Int, batchSize: Int = 32) throws -> DataLoader {
        DataLoader(dataset: try training.get().prefix(images), batchSize: batchSize, shuffle: true)
    }

    @Test func aModelOfItsOwnLearns() throws {
        let learner = Self.learner(seed: 5)
        let validation = DataLoader(dataset: try Self.test.get().prefix(1000), batchSize: 250)
        let before = learner.validate(on: validation)
        // 40 batches of 32 over two epochs of 640 images.
        let history = try learner.fit(training: try Self.loader(images: 640), validation: validation, epochs: 2)
        let after = learner.validate(on: validation)
        #expect(history.count == 2)
        #expect(history.map(\.epoch) == [1, 2])
        #expect(history[1].trainingLoss < history[0].trainingLoss)
        // From chance (loss ≈ ln 10 ≈ 2.3) to well below it on images it never trained on.
        #expect(before.loss > 2, "untrained loss \(before.loss)")
        #expect(after.loss < 0.7 * before.loss, "loss \(before.loss) → \(after.loss)")
        #expect(after.accuracy > 0.7, "accuracy \(after.accuracy)")
        #expect(history[1].validationLoss == after.loss && history[1].validationAccuracy == after.accuracy)
        // validate leaves the model in the mode it found it in.
        #expect(learner.model.isTraining)
    }

    /// Writes down what it is told.
    final class Recorder: TrainingCallback {
        var events: [String] = []
        let stopAfterEpoch: Int?

        init(stopAfterEpoch: Int? = nil) {
            self.stopAfterEpoch = stopAfterEpoch
        }

        func trainingWillBegin(_ learner: Learner) { events.append("begin") }
        func epochWillBegin(_ epoch: Int, learner: Learner) { events.append("epoch \(epoch)") }
        func batchDidEnd(_ progress: EpochProgress, learner: Learner) {
            events.append("batch \(progress.batchesDone)/\(progress.batchCount)")
        }
        func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) {
            events.append("end of epoch \(metrics.epoch) (\(learner.history.count) in history)")
            if metrics.epoch == stopAfterEpoch { learner.stop() }
        }
        func trainingDidEnd(_ learner: Learner) { events.append("end") }
    }

    @Test func callbacksAreToldInOrder() throws {
        let first = Recorder()
        let second = Recorder()
        let learner = Self.learner(seed: 1, callbacks: [first, second])
        try learner.fit(training: try Self.loader(images: 80), epochs: 2) // batches of 32, 32 and 16
        let expected = [
            "begin",
            "epoch 1", "batch 1/3", "batch 2/3", "batch 3/3", "end of epoch 1 (1 in history)",
            "epoch 2", "batch 1/3", "batch 2/3", "batch 3/3", "end of epoch 2 (2 in history)",
            "end",
        ]
        #expect(first.events == expected)
        #expect(second.events == expected)
    }

    @Test func aCallbackStopsTheRun() throws {
        let recorder = Recorder(stopAfterEpoch: 1)
        let learner = Self.learner(seed: 1, callbacks: [recorder])
        try learner.fit(training: try Self.loader(images: 64), epochs: 5)
        #expect(learner.completedEpochs == 1)
        #expect(recorder.events.last == "end")
        // Fitting again continues: the stop applied to one run only.
        learner.callbacks = []
        try learner.fit(training: try Self.loader(images: 64), epochs: 3)
        #expect(learner.completedEpochs == 3)
    }

    /// A training loader that gives no batch (no images, or fewer than a batch with `dropLast`) is refused with
    /// its sizes named, before any epoch: its mean loss would be 0 / 0, a NaN in the metrics.
    @Test func aTrainingLoaderWithoutBatchesIsRefused() throws {
        let learner = Self.learner(seed: 2)
        let empty = DataLoader(dataset: try Self.training.get().prefix(0), batchSize: 32)
        #expect(throws: LearnerError.noBatches(images: 0, batchSize: 32, dropLast: false)) {
            try learner.fit(training: empty, epochs: 1)
        }
        let tooFew = DataLoader(dataset: try Self.training.get().prefix(20), batchSize: 32, dropLast: true)
        #expect(throws: LearnerError.noBatches(images: 20, batchSize: 32, dropLast: true)) {
            try learner.trainEpoch(on: tooFew, epoch: 0)
        }
        #expect(learner.completedEpochs == 0)
        #expect(
            "\(LearnerError.noBatches(images: 20, batchSize: 32, dropLast: true))"
                == "the training loader gives no batch: 20 images in batches of 32, without a last partial batch")
    }

    @Test func earlyStoppingStopsWhenTheMetricStopsImproving() throws {
        // An improvement of more than 10 in the training loss is never seen: the first epoch sets the best,
        // the next two do not improve on it, and patience 2 stops the run after the third.
        let stopping = EarlyStopping(metric: .trainingLoss, patience: 2, minimumImprovement: 10)
        let learner = Self.learner(seed: 2, callbacks: [stopping])
        try learner.fit(training: try Self.loader(images: 64), epochs: 10)
        #expect(learner.completedEpochs == 3)
        #expect(stopping.epochsWithoutImprovement == 2)
        #expect(stopping.best == learner.history[0].trainingLoss)

        // Without a minimum, a falling training loss keeps improving: all epochs run.
        let patient = EarlyStopping(metric: .trainingLoss, patience: 1)
        let improving = Self.learner(seed: 2, callbacks: [patient])
        try improving.fit(training: try Self.loader(images: 320), epochs: 3)
        #expect(improving.completedEpochs == 3)
        #expect(patient.epochsWithoutImprovement == 0)

        // Watching validation without a validation loader is an error, not a silent run.
        let blind = Self.learner(seed: 2, callbacks: [EarlyStopping(metric: .validationLoss)])
        #expect(throws: LearnerError.missingMetric("validationLoss")) {
            try blind.fit(training: try Self.loader(images: 64), epochs: 2)
        }
    }

    @Test func aCheckpointRestoresTheRunBitForBit() throws {
        try withTemporaryDirectory(prefix: "learner") { directory in
            let checkpoint = directory.appendingPathComponent("run.checkpoint.safetensors")
            let metrics = directory.appendingPathComponent("run.metrics.jsonl")
            let loader = try Self.loader(images: 96)

            let straight = Self.learner(seed: 3)
            try straight.fit(training: loader, epochs: 2)

            let interrupted = Self.learner(
                seed: 3,
                callbacks: [ModelCheckpoint(url: checkpoint, metadata: ["note": "kept"]), MetricsLogger(url: metrics)])
            try interrupted.fit(training: loader, epochs: 1)
            // Another model's weights (seed 4) until the checkpoint is restored into it.
            let resumed = Self.learner(seed: 4)
            let metadata = try resumed.restoreCheckpoint(from: checkpoint)
            #expect(metadata["note"] == "kept")
            #expect(resumed.history == interrupted.history)
            #expect(resumed.generator == interrupted.generator)
            #expect(resumed.model.stateDict.map(\.tensor.data) == interrupted.model.stateDict.map(\.tensor.data))
            try resumed.fit(training: loader, epochs: 2)
            #expect(resumed.model.stateDict.map(\.tensor.data) == straight.model.stateDict.map(\.tensor.data))
            #expect(
                resumed.optimizer.state.namedTensors.map(\.tensor.data)
                    == straight.optimizer.state.namedTensors.map(\.tensor.data))
            #expect(resumed.history.map(\.trainingLoss) == straight.history.map(\.trainingLoss))

            // The metrics file: one JSON line per epoch.
            let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1)
            let decoded = try JSONDecoder().decode(EpochMetrics.self, from: Data(lines[0].utf8))
            #expect(decoded == interrupted.history[0])

            // A file that is not a learner's checkpoint is refused, naming the file.
            try SafeTensors.write(resumed.model.stateDict, to: directory.appendingPathComponent("weights.safetensors"))
            #expect {
                try resumed.restoreCheckpoint(from: directory.appendingPathComponent("weights.safetensors"))
            } throws: { error in
                "\(error)".hasPrefix("weights.safetensors: not a learner checkpoint")
            }
        }
    }

    /// Splitting is the model's to declare: a model of its own with batch normalisation runs its batch whole
    /// (bit for bit a plain backward pass on four threads); without it, the batch splits into four parts.
    /// A learner with `sharpnessRadius` ρ takes SAM's step, checked against the same step done by hand on a twin
    /// model: the gradients g at the weights w, then g′ at w + ρ·g/‖g‖ (‖g‖ over every parameter), then SGD's
    /// w − lr·g′ from w itself. The batch-norm statistics keep the first pass's update only (one batch tracked).
    @Test func sharpnessAwareStepsTakeTheGradientsUphill() throws {
        final class Normalized: Module, UnaryLayer {
            let hidden: Linear
            let normalization = BatchNorm1d(32)
            let output: Linear
            init(generator: inout RandomGenerator) {
                hidden = Linear(784, 32, generator: &generator)
                output = Linear(32, 10, generator: &generator)
            }
            func callAsFunction(_ input: Tensor) -> Tensor { output(normalization(hidden(input.flattened())).relu()) }
        }
        let (radius, rate): (Float, Float) = (0.5, 0.1)
        var generator = RandomGenerator(seed: 13)
        let model = Normalized(generator: &generator)
        generator = RandomGenerator(seed: 13)
        let twin = Normalized(generator: &generator)
        let loader = DataLoader(dataset: try Self.training.get().prefix(64), batchSize: 64)
        let batch = try #require(loader.epoch(generator: &generator).first)

        let learner = Learner(model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: rate))
        learner.sharpnessRadius = radius
        _ = try learner.trainEpoch(on: loader, epoch: 0)

        // By hand, on the twin.
        func gradients() -> [[Float]] {
            twin.zeroGrad()
            twin(batch.images).crossEntropy(labels: batch.labels).backward()
            return twin.parameters.map { $0.grad!.data }
        }
        let weights = twin.parameters.map(\.data)
        let atWeights = gradients()
        let statistics = twin.namedBuffers.map(\.tensor.data)
        let norm = atWeights.joined().reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        for (parameter, gradient) in zip(twin.parameters, atWeights) {
            parameter.data = zip(parameter.data, gradient).map { $0 + Float(Double(radius) / norm) * $1 }
        }
        let uphill = gradients()
        for (parameter, (weight, gradient)) in zip(twin.parameters, zip(weights, uphill)) {
            parameter.data = zip(weight, gradient).map { $0 - rate * $1 }
        }

        // The step differs from plain SGD's: the gradients moved.
        let moved = zip(atWeights.joined(), uphill.joined()).map { abs($0 - $1) }.max() ?? 0
        #expect(moved > 1e-3, "the gradients at w + ρ·g/‖g‖ moved by \(moved) at most")
        for ((name, parameter), expected) in zip(model.namedParameters, twin.parameters) {
            expectClose(parameter.data, expected.data, absolute: 1e-6, relative: 1e-5, name)
        }
        #expect(model.normalization.batchesTracked.scalar == 1)
        #expect(model.namedBuffers.map(\.tensor.data) == statistics)
    }

    /// With `sharpnessStartEpoch` 1, the first epoch takes plain steps (the weights of a learner without SAM,
    /// bit for bit) and the second SAM's (weights apart from that learner's).
    @Test func lateSharpnessAwareStepsBeginAtTheirEpoch() throws {
        let loader = DataLoader(dataset: try Self.training.get().prefix(128), batchSize: 64)
        func learner(radius: Float) -> Learner {
            var generator = RandomGenerator(seed: 21)
            let model = TinyModel(generator: &generator)
            let learner = Learner(model: model, optimizer: SGD(parameters: model.namedParameters, learningRate: 0.1))
            learner.sharpnessRadius = radius
            learner.sharpnessStartEpoch = 1
            return learner
        }
        let (late, plain) = (learner(radius: 0.5), learner(radius: 0))
        _ = try late.trainEpoch(on: loader, epoch: 0)
        _ = try plain.trainEpoch(on: loader, epoch: 0)
        #expect(late.model.parameters.map(\.data) == plain.model.parameters.map(\.data))
        _ = try late.trainEpoch(on: loader, epoch: 1)
        _ = try plain.trainEpoch(on: loader, epoch: 1)
        let apart =
            zip(late.model.parameters, plain.model.parameters).map { late, plain in
                zip(late.data, plain.data).map { abs($0 - $1) }.max() ?? 0
            }.max() ?? 0
        #expect(apart > 1e-4, "SAM's epoch moved the weights by \(apart) at most from plain steps'")
    }

    @Test func splittingIsDeclaredByTheLayers() throws {
        final class Normalized: Module, UnaryLayer {
            let linear: Linear
            let normalization = BatchNorm1d(10)
            init(generator: inout RandomGenerator) { linear = Linear(784, 10, generator: &generator) }
            func callAsFunction(_ input: Tensor) -> Tensor { normalization(linear(input.flattened())) }
        }
        var generator = RandomGenerator(seed: 9)
        let normalized = Normalized(generator: &generator)
        #expect(!normalized.allowsBatchSplitting)
        #expect(TinyModel(generator: &generator).allowsBatchSplitting)

        let batch = try #require(try Self.loader(images: 64, batchSize: 64).epoch(generator: &generator).first)
        let learner = Learner(
            model: normalized, optimizer: SGD(parameters: normalized.namedParameters, learningRate: 0.1))
        Parallel.withThreadCount(4) { _ = learner.gradientStep(images: batch.images, labels: batch.labels) }
        let stepped = normalized.parameters.map { $0.grad?.data }
        // One update of the running statistics: the batch ran once, whole.
        #expect(normalized.normalization.batchesTracked.scalar == 1)
        let whole: [[Float]?] = Parallel.withThreadCount(4) {
            normalized.zeroGrad()
            normalized(batch.images).crossEntropy(labels: batch.labels).backward()
            return normalized.parameters.map { $0.grad?.data }
        }
        #expect(stepped == whole)
    }
}
