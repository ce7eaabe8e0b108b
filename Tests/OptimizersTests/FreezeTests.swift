import Foundation
import Testing
@testable import Optimizers

/// `freeze()` stops parameters from training but keeps them parameters: in `namedParameters`, in the state
/// dict and in saved files (issue 11: freezing a weight used to remove it from the state dict).
@Suite struct FreezeTests {
    func model() -> Sequential {
        var generator = RandomGenerator(seed: 41)
        return Sequential(
            Linear(6, 5, generator: &generator), BatchNorm1d(5), Linear(5, 3, generator: &generator))
    }

    @Test func frozenParametersStayInTheStateDict() throws {
        let model = model()
        let names = model.stateDict.map(\.name)
        #expect(names.contains("0.weight") && names.contains("1.weight") && names.contains("1.running_mean"))
        model.freeze()
        #expect(model.stateDict.map(\.name) == names)
        #expect(model.namedParameters.count == 6)
        #expect(model.trainableParameters.isEmpty)
        #expect(model.parameterCount == 6 * 5 + 5 + 5 + 5 + 5 * 3 + 3)
        let decoded = try SafeTensors.decode(SafeTensors.encode(model.stateDict), source: "frozen")
        #expect(decoded.tensors.map(\.name).sorted() == names.sorted())
        model.unfreeze()
        #expect(model.trainableParameters.map(\.name) == model.namedParameters.map(\.name))
    }

    /// A frozen first layer: no gradient reaches it, Adam leaves it bit for bit, and the rest trains.
    @Test func aFrozenLayerDoesNotTrainAndTheRestDoes() throws {
        let model = model()
        let first = try #require(model.layers[0] as? Linear)
        let last = try #require(model.layers[2] as? Linear)
        first.freeze()
        #expect(model.trainableParameters.map(\.name) == ["1.weight", "1.bias", "2.weight", "2.bias"])
        let (frozenBefore, trainedBefore) = (first.weight.data, last.weight.data)
        let optimizer = Adam(parameters: model.namedParameters, learningRate: 0.01)
        var generator = RandomGenerator(seed: 42)
        let input = Tensor.uniform([8, 6], low: -1, high: 1, generator: &generator)
        for _ in 0..<3 {
            optimizer.zeroGrad()
            model(input).crossEntropy(labels: [0, 1, 2, 0, 1, 2, 0, 1]).backward()
            #expect(first.weight.grad == nil && first.bias?.grad == nil)
            #expect(last.weight.grad != nil)
            optimizer.step()
        }
        #expect(first.weight.data.map(\.bitPattern) == frozenBefore.map(\.bitPattern))
        #expect(last.weight.data != trainedBefore)
        #expect(!last.weight.data.contains { !$0.isFinite })
        #expect(optimizer.state.steps == [0, 0, 3, 3, 3, 3])
    }
}
