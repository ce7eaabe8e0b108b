import Testing
@testable import Optimizers

@Suite struct OptimizerTests {
    /// One parameter [2] with gradient [g0, g1].
    func parameter(_ values: [Float], gradient: [Float]) -> (name: String, tensor: Tensor) {
        let tensor = Tensor(shape: [values.count], data: values, requiresGrad: true)
        tensor.grad = Tensor(shape: [gradient.count], data: gradient)
        return ("p", tensor)
    }

    @Test func adamFirstStepMovesEachWeightByTheLearningRate() {
        // After one step m̂ = g and v̂ = g², so the update is lr · g / (|g| + ε) ≈ ±lr.
        let p = parameter([1, -1], gradient: [0.5, -3])
        let adam = Adam(parameters: [p], learningRate: 0.1)
        adam.step()
        #expect(abs(p.tensor.data[0] - 0.9) < 1e-6 && abs(p.tensor.data[1] + 0.9) < 1e-6)
        #expect(adam.state.steps == [1])
    }

    @Test func parametersWithoutGradientsAreSkipped() {
        let p = parameter([1, 2], gradient: [1, 1])
        p.tensor.grad = nil
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        sgd.step()
        #expect(p.tensor.data == [1, 2] && sgd.state.steps == [0])
    }

    @Test func sgdMomentumFollowsPyTorch() {
        // PyTorch: buf₁ = g, buf₂ = 0.9·buf₁ + g; p ← p − lr·buf.
        let p = parameter([0, 0], gradient: [1, 2])
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9)
        sgd.step()
        sgd.step()
        #expect(abs(p.tensor.data[0] - -(0.1 + 0.19)) < 1e-6 && abs(p.tensor.data[1] - -(0.2 + 0.38)) < 1e-6)
    }

    @Test func stateRoundTripsAndRejectsMismatches() throws {
        let p = parameter([1, 2], gradient: [0.3, -0.7])
        let adam = Adam(parameters: [p], learningRate: 0.01)
        adam.step()
        let saved = Dictionary(uniqueKeysWithValues: adam.state.namedTensors.map { ($0.name, $0.tensor) })
        #expect(Set(saved.keys) == ["p.step", "p.exp_avg", "p.exp_avg_sq"])
        let restored = Adam(parameters: [p], learningRate: 0.01)
        try restored.state.load(saved)
        #expect(
            restored.state.steps == [1] && restored.state.slot("exp_avg", 0).data == adam.state.slot("exp_avg", 0).data)

        var wrongShape = saved
        wrongShape["p.exp_avg"] = Tensor.zeros([3])
        #expect(throws: OptimizerStateError.shapeMismatch("p.exp_avg", expected: [2], found: [3])) {
            try restored.state.load(wrongShape)
        }
        var missing = saved
        missing["p.exp_avg_sq"] = nil
        #expect(throws: OptimizerStateError.missing("p.exp_avg_sq")) { try restored.state.load(missing) }
        #expect(restored.state.steps == [1]) // a failed load changes nothing
    }

    /// A step count that is not a whole number an `Int` holds (from a damaged checkpoint) is refused, not
    /// converted: `Int(Float)` stops the program on infinity, NaN and values past `Int.max`.
    @Test func malformedStepCountsAreRefused() throws {
        let p = parameter([1, 2], gradient: [0.3, -0.7])
        let adam = Adam(parameters: [p], learningRate: 0.01)
        adam.step()
        let saved = Dictionary(uniqueKeysWithValues: adam.state.namedTensors.map { ($0.name, $0.tensor) })
        for step: Float in [.infinity, -.infinity, .nan, 1e30, 0x1p63, -1, 2.5] {
            var damaged = saved
            damaged["p.step"] = Tensor(step)
            #expect(throws: OptimizerStateError.missing("p.step"), "step \(step)") { try adam.state.load(damaged) }
        }
        var largest = saved
        largest["p.step"] = Tensor(0x1p62)
        try adam.state.load(largest)
        #expect(adam.state.steps == [1 << 62])
    }

    /// What PyTorch's optimizers and `OneCycleLR` refuse stops the program here too, with PyTorch's message.
    @Test func settingsPyTorchRefusesStopTheProgram() async {
        func message(of result: ExitTest.Result?) -> String {
            String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        }
        var result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam(parameters: [], learningRate: -0.1)
        }
        #expect(message(of: result).contains("Invalid learning rate: -0.1"), "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = AdamW(parameters: [], beta2: 1)
        }
        #expect(message(of: result).contains("Invalid beta parameter at index 1: 1.0"), "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam(parameters: [], weightDecay: -0.01)
        }
        #expect(message(of: result).contains("Invalid weight_decay value: -0.01"), "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = SGD(parameters: [], learningRate: 0.1, momentum: -0.9)
        }
        #expect(message(of: result).contains("Invalid momentum value: -0.9"), "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = OneCycleSchedule(maximumLearningRate: 0.1, totalSteps: 10, warmupFraction: 1.5)
        }
        #expect(
            message(of: result).contains("warmupFraction must be between 0 and 1, got 1.5"), "\(message(of: result))")
        // The bounds themselves are accepted, as PyTorch accepts them.
        _ = Adam(parameters: [], learningRate: 0, beta1: 0, beta2: 0, epsilon: 0, weightDecay: 0)
        _ = OneCycleSchedule(maximumLearningRate: 0.1, totalSteps: 10, warmupFraction: 0)
        _ = OneCycleSchedule(maximumLearningRate: 0.1, totalSteps: 10, warmupFraction: 1)
    }

    /// Reference values printed by PyTorch 2.15's StepLR, CosineAnnealingLR and OneCycleLR
    /// (cycle_momentum=False) with lr 0.1, stepping once per step.
    @Test func schedulesMatchPyTorch() {
        let step = StepSchedule(baseLearningRate: 0.1, stepSize: 3, gamma: 0.5)
        expectClose((0..<8).map(step.learningRate(at:)), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025])
        let cosine = CosineSchedule(baseLearningRate: 0.1, totalSteps: 6, minimumLearningRate: 0.01)
        expectClose(
            (0..<7).map(cosine.learningRate(at:)),
            [0.1, 0.09397114317, 0.0775, 0.055, 0.0325, 0.01602885683, 0.01])
        let oneCycle = OneCycleSchedule(maximumLearningRate: 0.1, totalSteps: 10)
        expectClose(
            (0..<10).map(oneCycle.learningRate(at:)),
            [
                0.004, 0.052, 0.1, 0.09504846320, 0.08117456539, 0.06112620219, 0.03887419781, 0.01882583461,
                0.004951936799, 4e-7,
            ])
    }

    func expectClose(_ values: [Float], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(values.count == expected.count, sourceLocation: sourceLocation)
        for (value, reference) in zip(values, expected) {
            #expect(
                abs(Double(value) - reference) <= 1e-6 * max(1, abs(reference)) + 1e-9, "\(value) vs \(reference)",
                sourceLocation: sourceLocation)
        }
    }
}
