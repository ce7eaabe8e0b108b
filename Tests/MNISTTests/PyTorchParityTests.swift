import Foundation
import Kernels
import Testing
@testable import MNIST

/// The three tutorial models and the networks beyond them (vgg, fast, plain) against PyTorch, an independent
/// oracle: fixtures written by scripts/make_fixtures.py (torch 2.15) hold a batch of 64 real MNIST images,
/// PyTorch's initial weights, logits, loss, every gradient, and the weights after optimizer steps.
///
/// Errors are measured per element against the tensor's largest magnitude, |swift − torch| ≤ tolerance ·
/// max|torch|, with a NaN or infinity in either failing (`expectClose`). Forward and gradients must agree
/// within 1e-4 (float32 sums in a different order differ by ~1e-6), weights after a step within 1e-5.
@Suite struct PyTorchParityTests {
    struct Fixture {
        let file: SafeTensorsFile
        let kind: ModelKind

        init(_ kind: ModelKind) throws {
            let url = try #require(
                Bundle.module.url(forResource: kind.rawValue, withExtension: "safetensors", subdirectory: "Fixtures"))
            file = try SafeTensors.read(from: url)
            self.kind = kind
        }

        func tensor(_ name: String) throws -> Tensor {
            try #require(file[name], "fixture \(kind.rawValue) has no tensor '\(name)'")
        }

        /// A model holding the fixture's initial weights.
        func model() throws -> any UnaryLayer {
            var generator = RandomGenerator(seed: 1)
            let model = kind.makeModel(generator: &generator)
            let initial = file.tensors.filter { $0.name.hasPrefix("init.") }.map {
                (String($0.name.dropFirst(5)), $0.tensor)
            }
            try model.loadStateDict(initial, source: "\(kind.rawValue) fixture")
            return model
        }

        var labels: [Int32] {
            get throws { try tensor("labels").data.map { Int32($0) } }
        }
    }

    /// On one thread (every kernel's sums over the whole batch in one chunk, the longest) and on four. The VGG-style
    /// network's conv2 weight gradient sums 64 × 24 × 24 products per element: in one float accumulator per
    /// element it was 1.15e-4 of the largest from PyTorch's on one thread (6.3e-5 on two), past the bound;
    /// each image's sums added in order bring it to 6.5e-6 (6.4e-6 on four threads; measured on AMD EPYC Zen
    /// 4). A float64 simulation of both orders on PyTorch's float32 factors gives 1.14e-4 and 6.1e-6, their
    /// exact sum 5e-7: the error was the accumulation's alone.
    @Test(arguments: ModelKind.allCases, [1, 4])
    func forwardLossAndGradientsMatch(kind: ModelKind, threads: Int) throws {
        try Parallel.withThreadCount(threads) { try checkForwardLossAndGradients(kind: kind) }
    }

    func checkForwardLossAndGradients(kind: ModelKind) throws {
        let fixture = try Fixture(kind)
        let model = try fixture.model()
        let logits = model(try fixture.tensor("input"))
        expectClose(logits, try fixture.tensor("logits"), relativeToLargest: 1e-4, "logits")
        // Batch normalisation's running statistics after one training-mode forward pass.
        for (name, buffer) in model.stateDict where fixture.file["after.\(name)"] != nil {
            expectClose(
                buffer, try fixture.tensor("after.\(name)"), relativeToLargest: 1e-5, "\(name) after the forward pass")
        }
        let loss = logits.crossEntropy(labels: try fixture.labels)
        #expect(
            abs(loss.scalar - (try fixture.tensor("loss")).scalar) < 1e-4 * abs(try fixture.tensor("loss").scalar),
            "loss")
        loss.backward()
        for (name, parameter) in model.namedParameters {
            let gradient = try #require(parameter.grad, "\(name) got no gradient")
            expectClose(gradient, try fixture.tensor("grad.\(name)"), relativeToLargest: 1e-4, "gradient of \(name)")
        }
    }

    /// Optimizers from the same initial weights and PyTorch's own gradients, so the check isolates the update
    /// rule (Adam's first step moves a weight by ≈ lr · sign(g), so a tiny gradient's rounding would
    /// otherwise decide its sign).
    func checkSteps(
        _ kind: ModelKind, family: String, steps: Int,
        makeOptimizer: ([(name: String, tensor: Tensor)]) -> any Optimizer
    ) throws {
        let fixture = try Fixture(kind)
        let model = try fixture.model()
        let optimizer = makeOptimizer(model.namedParameters)
        for _ in 0..<steps {
            for (name, parameter) in model.namedParameters {
                parameter.grad = try fixture.tensor("grad.\(name)").detached()
            }
            optimizer.step()
        }
        for (name, parameter) in model.namedParameters {
            expectClose(
                parameter, try fixture.tensor("\(family).step\(steps).\(name)"), relativeToLargest: 1e-5,
                "\(family) step \(steps), \(name)")
        }
    }

    @Test(arguments: ModelKind.allCases)
    func oneAdamAndOneSGDStepMatch(kind: ModelKind) throws {
        try checkSteps(kind, family: "adam", steps: 1) { Adam(parameters: $0, learningRate: 1e-3) }
        try checkSteps(kind, family: "sgd", steps: 1) { SGD(parameters: $0, learningRate: 0.01, momentum: 0.9) }
    }

    @Test func secondStepsMatchForEveryOptimizerVariant() throws {
        try checkSteps(.lenet5, family: "adam", steps: 2) { Adam(parameters: $0, learningRate: 1e-3) }
        try checkSteps(.lenet5, family: "sgd", steps: 2) { SGD(parameters: $0, learningRate: 0.01, momentum: 0.9) }
        try checkSteps(.lenet5, family: "sgdnesterov", steps: 2) {
            SGD(parameters: $0, learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4)
        }
        try checkSteps(.lenet5, family: "adamw", steps: 2) {
            AdamW(parameters: $0, learningRate: 1e-3, weightDecay: 1e-2)
        }
        try checkSteps(.lenet5, family: "adamwd", steps: 2) {
            Adam(parameters: $0, learningRate: 1e-3, weightDecay: 1e-2)
        }
    }

    @Test func stateDictNamesAreTheTutorials() throws {
        for kind in ModelKind.allCases {
            let fixture = try Fixture(kind)
            var generator = RandomGenerator(seed: 1)
            let names = kind.makeModel(generator: &generator).stateDict.map(\.name).sorted()
            let pytorchNames = fixture.file.tensors.map(\.name).filter { $0.hasPrefix("init.") }.map {
                String($0.dropFirst(5))
            }.sorted()
            #expect(names == pytorchNames, "\(kind.rawValue)")
        }
    }

    /// A file from PyTorch's `save_file(model.state_dict(), path)`, with no metadata, loads as LeNet5 with
    /// PyTorch's tensors (the same initial weights the lenet5 fixture holds).
    @Test func aPlainPyTorchStateDictLoads() throws {
        let url = try #require(
            Bundle.module.url(forResource: "lenet5-state-dict", withExtension: "safetensors", subdirectory: "Fixtures"))
        let (kind, model, metadata) = try WeightsFile.read(from: url)
        #expect(kind == .lenet5 && metadata.isEmpty)
        let fixture = try Fixture(.lenet5)
        for (name, tensor) in model.stateDict {
            #expect(tensor.data == (try fixture.tensor("init.\(name)")).data, "\(name)")
        }
    }
}
