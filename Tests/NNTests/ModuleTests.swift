import Testing
@testable import NN

/// A model written the way the README shows, to check naming by reflection.
final class TwoLayer: Module, UnaryLayer {
    let features: Sequential
    let norm = BatchNorm1d(4)
    let head: Linear

    init(generator: inout RandomGenerator) {
        features = Sequential(Linear(3, 4, generator: &generator), ReLU())
        head = Linear(4, 2, bias: false, generator: &generator)
    }

    func callAsFunction(_ input: Tensor) -> Tensor { head(norm(features(input))) }
}

@Suite struct ModuleTests {
    @Test func parametersAndBuffersAreNamedLikePyTorchsStateDict() {
        var generator = RandomGenerator(seed: 1)
        let model = TwoLayer(generator: &generator)
        #expect(
            model.namedParameters.map(\.name) == [
                "features.0.weight", "features.0.bias", "norm.weight", "norm.bias", "head.weight",
            ])
        #expect(
            model.stateDict.map(\.name) == [
                "features.0.weight", "features.0.bias", "norm.weight", "norm.bias", "norm.running_mean",
                "norm.running_var",
                "norm.num_batches_tracked", "head.weight",
            ])
        #expect(model.parameterCount == 3 * 4 + 4 + 4 + 4 + 4 * 2)
    }

    @Test func trainAndEvalReachEveryDescendant() {
        var generator = RandomGenerator(seed: 2)
        let model = TwoLayer(generator: &generator)
        model.eval()
        #expect(
            !model.isTraining && !model.features.isTraining && !model.features.layers[1].isTraining
                && !model.norm.isTraining)
        model.train()
        #expect(model.norm.isTraining && model.features.layers[0].isTraining)
    }

    @Test func defaultInitialisationStaysWithinPyTorchsBounds() {
        var generator = RandomGenerator(seed: 3)
        let convolution = Conv2d(6, 16, kernelSize: 5, generator: &generator)
        let bound = 1 / Float(6 * 25).squareRoot()
        #expect(convolution.weight.data.allSatisfy { abs($0) <= bound })
        #expect(convolution.bias!.data.allSatisfy { abs($0) <= bound })
        // A uniform on ±b has standard deviation b/√3: check the spread is that of the whole interval.
        let weights = convolution.weight.data
        let deviation = (weights.map { $0 * $0 }.reduce(0, +) / Float(weights.count)).squareRoot()
        #expect(abs(deviation - bound / Float(3).squareRoot()) < 0.1 * bound)
    }

    @Test func layersComputeWhatTheirOperationsCompute() {
        var generator = RandomGenerator(seed: 4)
        let input = Tensor.uniform([2, 3, 8, 8], low: -1, high: 1, generator: &generator)
        let convolution = Conv2d(3, 4, kernelSize: 3, stride: 2, padding: 1, generator: &generator)
        let output = convolution(input)
        #expect(output.shape == [2, 4, 4, 4])
        #expect(
            output.data == input.conv2d(weight: convolution.weight, bias: convolution.bias, stride: 2, padding: 1).data)
        #expect(MaxPool2d(2)(input).shape == [2, 3, 4, 4])
        #expect(AvgPool2d(3, stride: 1)(input).shape == [2, 3, 6, 6])
        #expect(Flatten()(input).shape == [2, 192])
        #expect(Tanh()(input).data == input.tanh().data)
        #expect(Sigmoid()(input).data == input.sigmoid().data)
    }

    /// A pooling window or stride below 1 stops the program when the layer is made, naming both.
    @Test func poolingSizesBelowOneStopTheProgramAtInit() async {
        var result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = MaxPool2d(0)
        }
        var message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("pooling needs a kernel size and stride of at least 1, got 0 and 0"), "\(message)")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = AvgPool2d(2, stride: -1)
        }
        message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("pooling needs a kernel size and stride of at least 1, got 2 and -1"), "\(message)")
    }

    @Test func batchNormUpdatesRunningStatisticsLikePyTorch() {
        let norm = BatchNorm1d(2)
        // Channel 0: 1, 3 (mean 2, unbiased variance 2); channel 1: 4, 8 (mean 6, unbiased variance 8).
        let output = norm(Tensor(shape: [2, 2], data: [1, 4, 3, 8]))
        #expect(norm.runningMean.data == [0.2, 0.6])
        #expect(abs(norm.runningVariance.data[0] - (0.9 + 0.1 * 2)) < 1e-6)
        #expect(abs(norm.runningVariance.data[1] - (0.9 + 0.1 * 8)) < 1e-6)
        #expect(norm.batchesTracked.scalar == 1)
        // Normalised with the batch's biased variance: (1 − 2) / √(1 + ε) ≈ −1.
        #expect(abs(output.data[0] + 1) < 1e-4 && abs(output.data[3] - 1) < 1e-4)
        norm.eval()
        let evaluated = norm(Tensor(shape: [1, 2], data: [0.2, 0.6]))
        #expect(evaluated.data.allSatisfy { abs($0) < 1e-6 }) // the running mean maps to 0
    }

    @Test func dropoutIsTheIdentityInEvaluation() {
        var generator = RandomGenerator(seed: 5)
        let dropout = Dropout(probability: 0.5, generator: &generator)
        let input = Tensor.ones([100])
        #expect(dropout(input).data.contains(0))
        dropout.eval()
        #expect(dropout(input).data == input.data)
    }

    @Test func crossEntropyOfUniformLogitsIsLogOfClassCount() {
        let loss = CrossEntropyLoss()(Tensor.zeros([3, 10]), [1, 5, 9])
        #expect(abs(loss.scalar - 2.3025851) < 1e-6) // ln 10
    }
}

/// What layers declare about data-parallel splitting, and what `MultiplyAddCounter` counts.
@Suite struct LayerDeclarationTests {
    @Test func splittingDeclaredByLayers() {
        var generator = RandomGenerator(seed: 0)
        #expect(Linear(4608, 128, generator: &generator).allowsBatchSplitting)
        #expect(!Linear(784, 784, generator: &generator).allowsBatchSplitting)
        #expect(!Linear(512, 512, generator: &generator).allowsBatchSplitting)
        #expect(Linear(511, 4096, generator: &generator).allowsBatchSplitting)
        #expect(!BatchNorm2d(8).allowsBatchSplitting)
        #expect(!Dropout(generator: &generator).allowsBatchSplitting)
        #expect(Conv2d(1, 6, kernelSize: 5, generator: &generator).allowsBatchSplitting)
        // A container allows it when every descendant does.
        #expect(Sequential(Conv2d(1, 4, kernelSize: 3, generator: &generator), ReLU(), Flatten()).allowsBatchSplitting)
        #expect(
            !Sequential(Sequential(Linear(10, 10, generator: &generator), BatchNorm1d(10)), ReLU()).allowsBatchSplitting
        )
    }

    @Test func countsMultiplyAddsOfLayersWithWeights() {
        var generator = RandomGenerator(seed: 0)
        let linear = Linear(3, 4, generator: &generator)
        let convolution = Conv2d(2, 5, kernelSize: 3, stride: 2, padding: 1, generator: &generator)
        let counts = MultiplyAddCounter.counting {
            _ = linear(Tensor.zeros([2, 3])) // 2 · 3 · 4
            _ = convolution(Tensor.zeros([3, 2, 9, 7])) // 3 images · 5 channels · 5 × 4 outputs · 2 · 3 · 3
            _ = Tensor.zeros([2, 3]).relu()
        }
        #expect(counts == [24, 3 * 5 * 5 * 4 * 2 * 9])
        // Nothing is counted outside `counting`, and nested counts are their own.
        #expect(!MultiplyAddCounter.isCounting)
        let outer = MultiplyAddCounter.counting {
            let inner = MultiplyAddCounter.counting { _ = linear(Tensor.zeros([1, 3])) }
            #expect(inner == [12])
        }
        #expect(outer == [])
    }
}
