import Kernels
import TestSupport
import Testing
@testable import MNIST

/// Training steps split over threads (`Trainer.gradientStep`) against one thread: the same gradients as one
/// pass over the whole batch, and the same numbers, bit for bit, every time for a given seed and thread
/// count. The thread counts are set per test (`Parallel.withThreadCount`), so each case really splits
/// whatever the machine's core count, and tests running beside these keep theirs.
@Suite struct DataParallelTests {
    static let training = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .train)
    }

    /// A batch of 64 real images, as the tutorial's loader makes them.
    static func batch(seed: UInt64) throws -> DataLoader.Batch {
        var generator = RandomGenerator(seed: seed)
        let loader = DataLoader(dataset: try training.get().prefix(640), batchSize: 64, shuffle: true)
        return try #require(loader.epoch(generator: &generator).first { _ in true })
    }

    /// Every parameter's gradient, after `gradientStep` or a backward pass.
    static func gradients(of trainer: Trainer) throws -> [[Float]] {
        try trainer.model.parameters.map { try #require($0.grad).data }
    }

    @Test(arguments: ModelKind.allCases)
    func partsGradientsAddUpToTheWholeBatchs(kind: ModelKind) throws {
        let (images, labels) = try Self.batch(seed: 3)
        var configuration = TrainingConfiguration()
        configuration.model = kind
        let trainer = Trainer(configuration: configuration)
        let parameters = trainer.model.parameters

        // One thread: one part, the whole batch, bit for bit a plain backward pass over it.
        let (whole, wholeLoss, wholeCorrect) = try Parallel.withThreadCount(1) {
            trainer.model.zeroGrad()
            let logits = trainer.model(images)
            let loss = logits.crossEntropy(labels: labels)
            loss.backward()
            let correct = zip(logits.argmax(), labels).filter { $0.0 == Int($0.1) }.count
            return (try Self.gradients(of: trainer), loss.scalar, correct)
        }
        let single = Parallel.withThreadCount(1) { trainer.gradientStep(images: images, labels: labels) }
        #expect(single.loss == wholeLoss && single.correct == wholeCorrect)
        #expect(try Self.gradients(of: trainer) == whole, "\(kind): one thread is not the plain backward pass")

        // Four threads.
        let split = Parallel.withThreadCount(4) { trainer.gradientStep(images: images, labels: labels) }
        let splitGradients = try Self.gradients(of: trainer)
        #expect(abs(split.loss - wholeLoss) <= 1e-6 * abs(wholeLoss), "loss \(split.loss) vs \(wholeLoss)")
        #expect(split.correct == wholeCorrect)
        // Within 1e-5 of one thread. Measured: 4.1e-7 of the largest element at most (the VGG-style network;
        // 1.3e-4 before the convolution kernels added each image's sums in order instead of summing a chunk's
        // 64 × 24 × 24 products in one accumulator).
        for (index, (name, parameter)) in trainer.model.namedParameters.enumerated() {
            expectClose(
                splitGradients[index], whole[index], relativeToLargest: 1e-5,
                shapes: (parameter.shape, parameter.shape), "\(kind) \(name)")
        }
        let ranges = Parallel.withThreadCount(4) { Parallel.chunks(of: labels.count) }
        #expect(ranges == [0..<16, 16..<32, 32..<48, 48..<64])
        guard trainer.model.allowsBatchSplitting else {
            // The MLP and the networks with batch normalisation keep the batch whole (their kernels split the
            // work): the step is bit for bit one backward pass over the whole batch on four threads.
            let whole = try Parallel.withThreadCount(4) {
                trainer.model.zeroGrad()
                trainer.model(images).crossEntropy(labels: labels).backward()
                return try Self.gradients(of: trainer)
            }
            #expect(splitGradients == whole, "\(kind): the four-thread step is not one pass over the whole batch")
            return
        }
        // The convolutional models split the batch into four parts of 16 images: the step is bit for bit
        // those four parts' passes, run one after another here with unsplit kernels and summed in part order.
        var sums: [[Float]]?
        var loss: Float = 0
        try Parallel.withThreadCount(1) {
            for range in ranges {
                let partLabels = Array(labels[range])
                let partLoss = trainer.model(images.slice(range)).crossEntropy(labels: partLabels)
                let share = Float(range.count) / Float(labels.count)
                let part = try partLoss.gradients(withRespectTo: parameters, seed: [share]).map { try #require($0) }
                loss += partLoss.scalar * share
                sums = sums.map { zip($0, part).map { zip($0, $1).map { $0 + $1 } } } ?? part
            }
        }
        #expect(split.loss == loss)
        #expect(splitGradients == sums, "\(kind): the four-thread step is not the sum of its four parts")
    }

    /// An epoch of LeNet5 on four threads twice with the same seed: the same weights and results bit for bit,
    /// however the parts' threads were scheduled; on one thread: the same to float rounding.
    @Test func sameSeedSameThreadsSameWeightsBitForBit() throws {
        let slice = try Self.training.get().prefix(640)
        var configuration = TrainingConfiguration()
        configuration.seed = 11
        func run(threads: Int) throws -> (loss: Double, accuracy: Double, weights: [(name: String, data: [Float])]) {
            try Parallel.withThreadCount(threads) {
                let trainer = Trainer(configuration: configuration)
                let result = try trainer.trainEpoch(on: slice)
                return (result.loss, result.accuracy, trainer.model.stateDict.map { ($0.name, $0.tensor.data) })
            }
        }
        let runs = try [run(threads: 4), run(threads: 4)]
        #expect(runs[0].loss == runs[1].loss && runs[0].accuracy == runs[1].accuracy)
        #expect(runs[0].weights.map(\.data) == runs[1].weights.map(\.data))
        // One thread: the same training to float rounding. Measured after these ten Adam steps: 5.4e-6 of
        // the largest weight at most (fc1.weight), the mean loss equal to 7 digits.
        let single = try run(threads: 1)
        for (one, four) in zip(single.weights, runs[0].weights) {
            expectClose(one.data, four.data, relativeToLargest: 5e-5, four.name)
        }
        #expect(abs(single.loss - runs[0].loss) <= 1e-6 * runs[0].loss)
    }
}
