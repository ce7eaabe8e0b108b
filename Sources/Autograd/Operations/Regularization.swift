import Foundation
import Kernels
import Preconditions

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
    /// 1 / (1 − probability), so evaluation needs no rescaling. Masks come from `generator`.
    public func dropout(probability: Float, generator: inout RandomGenerator) -> Tensor {
        checkPrecondition(
            probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
        guard probability > 0 else { return self }
        let keep = 1 - probability
        var mask = [Float](repeating: 0, count: count)
        for index in 0..<count where generator.nextUniform() >= probability { mask[index] = 1 / keep }
        return Tensor.result(shape: shape, data: zipElements(data, mask, *), operation: "dropout", inputs: [self]) {
            gradient in
            [zipElements(gradient, mask, *)]
        }
    }

    /// Batch normalisation with batch statistics (training mode) over every dimension but the channel
    /// dimension 1: input [N, C] or [N, C, H, W], scale and shift [C]. Returns the output and the batch mean
    /// and biased variance per channel (the caller updates running statistics, with the unbiased variance,
    /// as PyTorch does).
    public func batchNormalized(
        scale: Tensor, shift: Tensor, epsilon: Float
    ) -> (output: Tensor, mean: [Float], variance: [Float]) {
        let (channels, plane, batch) = batchNormGeometry(scale: scale, shift: shift)
        var mean = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        BatchNormalization.statistics(
            input: data, batch: batch, channels: channels, plane: plane, mean: &mean, variance: &variance)
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var normalized: [Float] = []
        let output = makeBuffer(count: count) { output in
            normalized = makeBuffer(count: count) { normalized in
                BatchNormalization.normalize(
                    input: data, batch: batch, channels: channels, plane: plane, mean: mean,
                    inverseDeviation: inverseDeviation, scale: scale.data, shift: shift.data, normalized: normalized,
                    output: output)
            }
        }
        let gammas = scale.data
        let result = Tensor.result(shape: shape, data: output, operation: "batchNorm", inputs: [self, scale, shift]) {
            [normalized] gradient in
            var scaleGradient = [Float](repeating: 0, count: channels)
            var shiftGradient = [Float](repeating: 0, count: channels)
            let inputGradient = makeBuffer(count: normalized.count) { inputGradient in
                BatchNormalization.backward(
                    outputGradient: gradient, normalized: normalized, batch: batch, channels: channels, plane: plane,
                    scale: gammas, inverseDeviation: inverseDeviation, inputGradient: inputGradient,
                    scaleGradient: &scaleGradient, shiftGradient: &shiftGradient)
            }
            return [inputGradient, scaleGradient, shiftGradient]
        }
        return (result, mean, variance)
    }

    /// Batch normalisation with given statistics (evaluation mode): (x − mean) / √(variance + ε) · scale + shift.
    public func batchNormalized(
        scale: Tensor, shift: Tensor, mean: [Float], variance: [Float], epsilon: Float
    ) -> Tensor {
        let (channels, plane, batch) = batchNormGeometry(scale: scale, shift: shift)
        var factors = [Float](repeating: 0, count: channels)
        var offsets = [Float](repeating: 0, count: channels)
        for channel in 0..<channels {
            factors[channel] = scale.data[channel] / (variance[channel] + epsilon).squareRoot()
            offsets[channel] = shift.data[channel] - mean[channel] * factors[channel]
        }
        var output = [Float](repeating: 0, count: count)
        BatchNormalization.affine(
            input: data, batch: batch, channels: channels, plane: plane, factors: factors, offsets: offsets,
            output: &output)
        let input = data
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        return Tensor.result(shape: shape, data: output, operation: "batchNormInference", inputs: [self, scale, shift])
        { gradient in
            var inputGradient = [Float](repeating: 0, count: gradient.count)
            var scaleGradient = [Float](repeating: 0, count: channels)
            var shiftGradient = [Float](repeating: 0, count: channels)
            for item in 0..<batch {
                for channel in 0..<channels {
                    let start = (item * channels + channel) * plane
                    for index in start..<(start + plane) {
                        inputGradient[index] = gradient[index] * factors[channel]
                        scaleGradient[channel] +=
                            gradient[index] * (input[index] - mean[channel]) * inverseDeviation[channel]
                        shiftGradient[channel] += gradient[index]
                    }
                }
            }
            return [inputGradient, scaleGradient, shiftGradient]
        }
    }

    private func batchNormGeometry(scale: Tensor, shift: Tensor) -> (channels: Int, planeSize: Int, batch: Int) {
        checkPrecondition(rank == 2 || rank == 4, "batch normalisation needs [N, C] or [N, C, H, W], got \(shape)")
        let channels = shape[1]
        checkPrecondition(
            scale.shape == [channels] && shift.shape == [channels],
            "batch normalisation scale and shift must be [\(channels)]")
        return (channels, shape.dropFirst(2).reduce(1, *), shape[0])
    }
}
