import Testing
import MNIST

/// The README's library example, verbatim but for the data (a slice) and the epoch count, so the README
/// cannot drift from the API.
final class ReadmeLeNet5: Module, UnaryLayer {
    let conv1, conv2, conv3: Conv2d
    let fc1, fc2: Linear

    init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 6, kernelSize: 5, padding: 2, generator: &generator)
        conv2 = Conv2d(6, 16, kernelSize: 5, generator: &generator)
        conv3 = Conv2d(16, 120, kernelSize: 5, generator: &generator)
        fc1 = Linear(120, 84, generator: &generator)
        fc2 = Linear(84, 10, generator: &generator)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var x = conv1(x).tanh().avgPool2d(kernelSize: 2)
        x = conv2(x).tanh().avgPool2d(kernelSize: 2)
        x = conv3(x).tanh().flattened()
        return fc2(fc1(x).tanh())
    }
}

@Suite struct ReadmeExampleTests {
    @Test func theReadmeTrainingLoopRunsAndLearns() throws {
        var generator = RandomGenerator(seed: 1)
        let model = ReadmeLeNet5(generator: &generator)
        #expect(model.stateDict.map(\.name) == LeNet5(generator: &generator).stateDict.map(\.name))
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.001)
        let directory = try #require(MNISTDataset.defaultDirectory())
        let trainLoader = DataLoader(
            dataset: try MNISTDataset.load(directory: directory, split: .train).prefix(3200),
            batchSize: 64, shuffle: true)
        let testSet = try MNISTDataset.load(directory: directory, split: .test).prefix(500)
        let before = evaluate(model: model, on: testSet).accuracy
        for _ in 1...1 {
            model.train()
            for (images, labels) in trainLoader.epoch(generator: &generator) {
                let loss = model(images).crossEntropy(labels: labels)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
            }
        }
        let after = evaluate(model: model, on: testSet).accuracy
        // 50 steps take an untrained net from chance (~10%) to well above it.
        #expect(before < 0.3 && after > 0.6, "accuracy \(before) → \(after)")
    }
}
