import Testing
@testable import MNIST

/// Training steps split over threads (`Trainer.gradientStep`): the same gradients as one pass over the
/// whole batch, and the same numbers, bit for bit, every time for a given seed and thread count.
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

    @Test(arguments: ModelKind.allCases)
    func partsGradientsAddUpToTheWholeBatchs(kind: ModelKind) throws {
        let (images, labels) = try Self.batch(seed: 3)
        var configuration = TrainingConfiguration()
        configuration.model = kind
        let trainer = Trainer(configuration: configuration)
        let step = trainer.gradientStep(images: images, labels: labels)
        let partGradients = trainer.model.parameters.map { $0.grad }

        trainer.model.zeroGrad()
        let logits = trainer.model(images)
        let loss = logits.crossEntropy(labels: labels)
        loss.backward()
        #expect(abs(step.loss - loss.scalar) <= 1e-6 * abs(loss.scalar), "loss \(step.loss) vs \(loss.scalar)")
        #expect(step.correct == zip(logits.argmax(), labels).filter { $0.0 == Int($0.1) }.count)
        for ((name, parameter), partGradient) in zip(trainer.model.namedParameters, partGradients) {
            let whole = try #require(parameter.grad), parts = try #require(partGradient)
            let scale = max(whole.data.map(abs).max() ?? 0, Float.leastNormalMagnitude)
            let error = zip(parts.data, whole.data).map { abs($0 - $1) }.max()! / scale
            #expect(error < 1e-5, "\(kind) \(name): relative error \(error)")
        }
    }

    @Test func sameSeedSameThreadsSameWeightsBitForBit() throws {
        let slice = try Self.training.get().prefix(640)
        var configuration = TrainingConfiguration()
        configuration.seed = 11
        let runs = try (0..<2).map { _ in
            let trainer = Trainer(configuration: configuration)
            let result = try trainer.trainEpoch(on: slice)
            return (result, trainer.model.stateDict.map(\.tensor.data))
        }
        #expect(runs[0].0 == runs[1].0)
        #expect(runs[0].1 == runs[1].1)
    }
}
