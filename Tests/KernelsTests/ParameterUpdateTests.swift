import Testing
@testable import Kernels

/// The vectorised optimizer updates against their scalar twins: the same operations per element, so the
/// results must be identical bit for bit, on short tails and on buffers large enough to be split.
@Suite struct ParameterUpdateTests {
    /// `count` deterministic values in [−1, 1) from `state`.
    func values(_ count: Int, _ state: inout UInt64) -> [Float] {
        var result = [Float](repeating: 0, count: count)
        for index in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            result[index] = Float(state >> 40) * 0x1p-24 * 2 - 1
        }
        return result
    }

    @Test(arguments: [1, 15, 16, 17, 100, 40_003])
    func adamMatchesScalarLoop(count: Int) {
        var state = UInt64(count)
        for (weightDecay, decoupled) in [(Float(0), false), (0.01, false), (0.01, true)] {
            let parameter = values(count, &state), gradient = values(count, &state)
            let firstMoment = values(count, &state), secondMoment = values(count, &state).map { $0 * $0 }
            let (learningRate, stepSize, secondCorrection): (Float, Float, Float) = (1e-3, 3.7e-3, 0.0447)
            let expected = Reference.adamUpdate(
                parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                learningRate: learningRate, stepSize: stepSize, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                secondCorrection: secondCorrection, weightDecay: weightDecay, decoupledWeightDecay: decoupled)
            var (p, m, v) = (parameter, firstMoment, secondMoment)
            ParameterUpdate.adam(
                parameter: &p, gradient: gradient, firstMoment: &m, secondMoment: &v, count: count,
                learningRate: learningRate, stepSize: stepSize, beta1: 0.9, beta2: 0.999, epsilon: 1e-8,
                secondCorrection: secondCorrection, weightDecay: weightDecay, decoupledWeightDecay: decoupled)
            #expect(
                p == expected.parameter && m == expected.firstMoment && v == expected.secondMoment,
                "weight decay \(weightDecay), decoupled \(decoupled)")
        }
    }

    @Test(arguments: [1, 17, 40_003])
    func sgdMatchesScalarLoop(count: Int) {
        var state = UInt64(count) + 5
        let cases: [(momentum: Float, dampening: Float, nesterov: Bool, firstStep: Bool)] =
            [(0, 0, false, false), (0.9, 0, false, true), (0.9, 0.1, false, false), (0.9, 0, true, false)]
        for settings in cases {
            let parameter = values(count, &state), gradient = values(count, &state)
            let buffer = settings.momentum == 0 ? [] : values(count, &state)
            let expected = Reference.sgdUpdate(
                parameter: parameter, gradient: gradient, momentumBuffer: buffer, learningRate: 0.05,
                momentum: settings.momentum, dampening: settings.dampening, nesterov: settings.nesterov,
                weightDecay: 1e-4, firstStep: settings.firstStep)
            var (p, b) = (parameter, buffer)
            b.withUnsafeMutableBufferPointer { bufferPointer in
                ParameterUpdate.sgd(
                    parameter: &p, gradient: gradient,
                    momentumBuffer: settings.momentum == 0 ? nil : bufferPointer.baseAddress,
                    count: count,
                    learningRate: 0.05, momentum: settings.momentum, dampening: settings.dampening,
                    nesterov: settings.nesterov, weightDecay: 1e-4, firstStep: settings.firstStep)
            }
            #expect(p == expected.parameter && b == expected.momentumBuffer, "\(settings)")
        }
    }
}
