import Foundation

extension Tensor {
    /// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
    /// 1 / (1 − probability), so evaluation needs no rescaling. Masks come from `generator`.
    public func dropout(probability: Float, generator: inout RandomGenerator) -> Tensor {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
        guard probability > 0 else { return self }
        let keep = 1 - probability
        var mask = [Float](repeating: 0, count: count)
        for index in 0..<count where generator.nextUniform() >= probability { mask[index] = 1 / keep }
        return Tensor.result(shape: shape, data: zipElements(data, mask, *), operation: "dropout", inputs: [self]) { gradient in
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
        let (channels, planeSize, batch) = batchNormGeometry(scale: scale, shift: shift)
        let elementsPerChannel = batch * planeSize
        var mean = [Float](repeating: 0, count: channels)
        var variance = [Float](repeating: 0, count: channels)
        for channel in 0..<channels {
            var sum: Double = 0, sumOfSquares: Double = 0
            forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                let value = Double(data[index])
                sum += value
                sumOfSquares += value * value
            }
            let channelMean = sum / Double(elementsPerChannel)
            mean[channel] = Float(channelMean)
            variance[channel] = Float(Swift.max(sumOfSquares / Double(elementsPerChannel) - channelMean * channelMean, 0))
        }
        let inverseDeviation = variance.map { 1 / ($0 + epsilon).squareRoot() }
        var normalized = [Float](repeating: 0, count: count)
        var output = [Float](repeating: 0, count: count)
        for channel in 0..<channels {
            let (gamma, beta) = (scale.data[channel], shift.data[channel])
            forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                normalized[index] = (data[index] - mean[channel]) * inverseDeviation[channel]
                output[index] = normalized[index] * gamma + beta
            }
        }
        let gammas = scale.data
        let result = Tensor.result(shape: shape, data: output, operation: "batchNorm", inputs: [self, scale, shift]) { gradient in
            var inputGradient = [Float](repeating: 0, count: normalized.count)
            var scaleGradient = [Float](repeating: 0, count: channels)
            var shiftGradient = [Float](repeating: 0, count: channels)
            for channel in 0..<channels {
                var sumGradient: Double = 0, sumGradientNormalized: Double = 0
                forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                    sumGradient += Double(gradient[index])
                    sumGradientNormalized += Double(gradient[index] * normalized[index])
                }
                scaleGradient[channel] = Float(sumGradientNormalized)
                shiftGradient[channel] = Float(sumGradient)
                // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))
                let meanGradient = Float(sumGradient / Double(elementsPerChannel))
                let meanGradientNormalized = Float(sumGradientNormalized / Double(elementsPerChannel))
                let factor = gammas[channel] * inverseDeviation[channel]
                forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                    inputGradient[index] = factor * (gradient[index] - meanGradient - normalized[index] * meanGradientNormalized)
                }
            }
            return [inputGradient, scaleGradient, shiftGradient]
        }
        return (result, mean, variance)
    }

    /// Batch normalisation with given statistics (evaluation mode): (x − mean) / √(variance + ε) · scale + shift.
    public func batchNormalized(
        scale: Tensor, shift: Tensor, mean: [Float], variance: [Float], epsilon: Float
    ) -> Tensor {
        let (channels, planeSize, batch) = batchNormGeometry(scale: scale, shift: shift)
        var factors = [Float](repeating: 0, count: channels)
        var offsets = [Float](repeating: 0, count: channels)
        for channel in 0..<channels {
            factors[channel] = scale.data[channel] / (variance[channel] + epsilon).squareRoot()
            offsets[channel] = shift.data[channel] - mean[channel] * factors[channel]
        }
        var output = [Float](repeating: 0, count: count)
        for channel in 0..<channels {
            forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                output[index] = data[index] * factors[channel] + offsets[channel]
            }
        }
        let input = data
        return Tensor.result(shape: shape, data: output, operation: "batchNormInference", inputs: [self, scale, shift]) { gradient in
            var inputGradient = [Float](repeating: 0, count: gradient.count)
            var scaleGradient = [Float](repeating: 0, count: channels)
            var shiftGradient = [Float](repeating: 0, count: channels)
            for channel in 0..<channels {
                let inverseDeviation = 1 / (variance[channel] + epsilon).squareRoot()
                forEachChannelElement(of: channel, channels: channels, planeSize: planeSize, batch: batch) { index in
                    inputGradient[index] = gradient[index] * factors[channel]
                    scaleGradient[channel] += gradient[index] * (input[index] - mean[channel]) * inverseDeviation
                    shiftGradient[channel] += gradient[index]
                }
            }
            return [inputGradient, scaleGradient, shiftGradient]
        }
    }

    private func batchNormGeometry(scale: Tensor, shift: Tensor) -> (channels: Int, planeSize: Int, batch: Int) {
        precondition(rank == 2 || rank == 4, "batch normalisation needs [N, C] or [N, C, H, W], got \(shape)")
        let channels = shape[1]
        precondition(scale.shape == [channels] && shift.shape == [channels], "batch normalisation scale and shift must be [\(channels)]")
        return (channels, shape.dropFirst(2).reduce(1, *), shape[0])
    }
}

/// Visits the flat indices of one channel's elements across the batch, for [N, C, plane] layouts.
@inline(__always)
private func forEachChannelElement(of channel: Int, channels: Int, planeSize: Int, batch: Int, _ body: (Int) -> Void) {
    for item in 0..<batch {
        let start = (item * channels + channel) * planeSize
        for index in start..<(start + planeSize) { body(index) }
    }
}
