import TestSupport
import Testing
@testable import Kernels

/// The batch-normalisation kernels against their naive twins in Double, on the VGG-style network's shapes
/// ([64, 32, 26·26], [64, 256] as [64, 256, 1]) and odd ones, split over threads and not.
@Suite struct BatchNormalizationTests {
    typealias Numbers = KernelParityTests.Numbers

    /// Inputs whose mean (offset) is large next to their spread: a one-pass E[x²] − E[x]² in Float would
    /// lose the variance; two passes keep it.
    @Test(arguments: [(64, 32, 676, Float(0)), (64, 256, 1, 0), (3, 5, 7, 0), (16, 8, 100, 50)])
    func matchesTheDefinition(batch: Int, channels: Int, plane: Int, offset: Float) {
        var numbers = Numbers(state: UInt64(batch * 1000 + channels * 10 + plane))
        let count = batch * channels * plane
        let input = numbers.array(count).map { $0 + offset }
        let scale = numbers.array(channels).map { 1 + $0 / 2 }
        let shift = numbers.array(channels)
        let reference = Reference.batchNormalizationForward(
            input: input, batch: batch, channels: channels, plane: plane, scale: scale, shift: shift, epsilon: 1e-5)

        var mean = [Float](repeating: .nan, count: channels), variance = mean
        BatchNormalization.statistics(
            input: input, batch: batch, channels: channels, plane: plane, mean: &mean, variance: &variance)
        expectClose(mean, reference.mean, relativeToLargest: 1e-6, "mean")
        expectClose(variance, reference.variance, relativeToLargest: 1e-5, "variance")

        let inverseDeviation = variance.map { 1 / ($0 + 1e-5).squareRoot() }
        var normalized = [Float](repeating: .nan, count: count), output = normalized
        BatchNormalization.normalize(
            input: input, batch: batch, channels: channels, plane: plane, mean: mean,
            inverseDeviation: inverseDeviation,
            scale: scale, shift: shift, normalized: &normalized, output: &output)
        expectClose(normalized, reference.normalized, relativeToLargest: 1e-5, "normalized")
        expectClose(output, reference.output, relativeToLargest: 1e-5, "output")

        let outputGradient = numbers.array(count)
        let expected = Reference.batchNormalizationBackward(
            outputGradient: outputGradient, normalized: normalized, batch: batch, channels: channels, plane: plane,
            scale: scale, inverseDeviation: inverseDeviation)
        var inputGradient = [Float](repeating: .nan, count: count)
        var scaleGradient = [Float](repeating: .nan, count: channels), shiftGradient = scaleGradient
        BatchNormalization.backward(
            outputGradient: outputGradient, normalized: normalized, batch: batch, channels: channels, plane: plane,
            scale: scale, inverseDeviation: inverseDeviation, inputGradient: &inputGradient,
            scaleGradient: &scaleGradient, shiftGradient: &shiftGradient)
        expectClose(inputGradient, expected.input, relativeToLargest: 1e-5, "input gradient")
        expectClose(scaleGradient, expected.scale, relativeToLargest: 1e-5, "scale gradient")
        expectClose(shiftGradient, expected.shift, relativeToLargest: 1e-5, "shift gradient")
    }

    @Test(arguments: [(64, 32, 676), (64, 256, 1), (3, 5, 7)])
    func theAffineFormIsPerChannel(batch: Int, channels: Int, plane: Int) {
        var numbers = Numbers(state: UInt64(channels))
        let input = numbers.array(batch * channels * plane)
        let (factors, offsets) = (numbers.array(channels), numbers.array(channels))
        var output = [Float](repeating: .nan, count: input.count)
        BatchNormalization.affine(
            input: input, batch: batch, channels: channels, plane: plane, factors: factors, offsets: offsets,
            output: &output)
        let expected = input.indices.map { index in
            let channel = index / plane % channels
            return input[index] * factors[channel] + offsets[channel]
        }
        #expect(output == expected)
    }
}
