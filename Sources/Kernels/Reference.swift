/// Naive, obviously-correct twins of the fast kernels, for tests: every fast kernel is checked against
/// its twin on random shapes.
public enum Reference {
    /// C[m×n] = A[m×k] · B[k×n], row-major, triple loop with Double accumulation.
    public static func matrixMultiply(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for row in 0..<m {
            for column in 0..<n {
                var sum: Double = 0
                for inner in 0..<k { sum += Double(a[row * k + inner]) * Double(b[inner * n + column]) }
                c[row * n + column] = Float(sum)
            }
        }
        return c
    }

    /// Direct convolution, straight from the definition: [N, Cin, H, W] ⊛ [Cout, Cin, KH, KW] + bias.
    public static func convolution2DForward(
        input: [Float], weight: [Float], bias: [Float]?, shape s: Convolution2DShape
    ) -> [Float] {
        var output = [Float](repeating: 0, count: s.batch * s.outputImageSize)
        for image in 0..<s.batch {
            for outputChannel in 0..<s.outputChannels {
                for outputY in 0..<s.outputHeight {
                    for outputX in 0..<s.outputWidth {
                        var sum = Double(bias?[outputChannel] ?? 0)
                        for inputChannel in 0..<s.inputChannels {
                            for kernelY in 0..<s.kernelHeight {
                                for kernelX in 0..<s.kernelWidth {
                                    let inputY = outputY * s.stride - s.padding + kernelY
                                    let inputX = outputX * s.stride - s.padding + kernelX
                                    guard inputY >= 0, inputY < s.height, inputX >= 0, inputX < s.width else {
                                        continue
                                    }
                                    let inputValue = input[
                                        ((image * s.inputChannels + inputChannel) * s.height + inputY) * s.width
                                            + inputX]
                                    let weightValue = weight[
                                        ((outputChannel * s.inputChannels + inputChannel) * s.kernelHeight + kernelY)
                                            * s.kernelWidth + kernelX]
                                    sum += Double(inputValue) * Double(weightValue)
                                }
                            }
                        }
                        output[
                            ((image * s.outputChannels + outputChannel) * s.outputHeight + outputY) * s.outputWidth
                                + outputX] = Float(sum)
                    }
                }
            }
        }
        return output
    }

    /// Gradients of the direct convolution: (input, weight, bias) gradients for outputGradient.
    public static func convolution2DBackward(
        input: [Float], weight: [Float], outputGradient: [Float], shape s: Convolution2DShape
    ) -> (input: [Float], weight: [Float], bias: [Float]) {
        var inputGradient = [Double](repeating: 0, count: input.count)
        var weightGradient = [Double](repeating: 0, count: weight.count)
        var biasGradient = [Double](repeating: 0, count: s.outputChannels)
        for image in 0..<s.batch {
            for outputChannel in 0..<s.outputChannels {
                for outputY in 0..<s.outputHeight {
                    for outputX in 0..<s.outputWidth {
                        let gradient = Double(
                            outputGradient[
                                ((image * s.outputChannels + outputChannel) * s.outputHeight + outputY) * s.outputWidth
                                    + outputX])
                        biasGradient[outputChannel] += gradient
                        for inputChannel in 0..<s.inputChannels {
                            for kernelY in 0..<s.kernelHeight {
                                for kernelX in 0..<s.kernelWidth {
                                    let inputY = outputY * s.stride - s.padding + kernelY
                                    let inputX = outputX * s.stride - s.padding + kernelX
                                    guard inputY >= 0, inputY < s.height, inputX >= 0, inputX < s.width else {
                                        continue
                                    }
                                    let inputIndex =
                                        ((image * s.inputChannels + inputChannel) * s.height + inputY) * s.width
                                        + inputX
                                    let weightIndex =
                                        ((outputChannel * s.inputChannels + inputChannel) * s.kernelHeight + kernelY)
                                        * s.kernelWidth + kernelX
                                    inputGradient[inputIndex] += gradient * Double(weight[weightIndex])
                                    weightGradient[weightIndex] += gradient * Double(input[inputIndex])
                                }
                            }
                        }
                    }
                }
            }
        }
        return (inputGradient.map(Float.init), weightGradient.map(Float.init), biasGradient.map(Float.init))
    }

    /// Max pooling from the definition: each window's maximum and its index in the plane (the first on
    /// ties; NaN wins, as in PyTorch).
    public static func maxPool2DForward(input: [Float], shape s: Pooling2DShape) -> (output: [Float], indices: [Int32])
    {
        var output = [Float](repeating: 0, count: s.planes * s.outputPlaneSize)
        var indices = [Int32](repeating: 0, count: output.count)
        for plane in 0..<s.planes {
            for outputY in 0..<s.outputHeight {
                for outputX in 0..<s.outputWidth {
                    var bestIndex = -1
                    for kernelY in 0..<s.kernelSize {
                        for kernelX in 0..<s.kernelSize {
                            let index = (outputY * s.stride + kernelY) * s.width + outputX * s.stride + kernelX
                            let value = input[plane * s.inputPlaneSize + index]
                            if bestIndex < 0 || value.isNaN
                                || value > input[plane * s.inputPlaneSize + bestIndex]
                                    && !input[plane * s.inputPlaneSize + bestIndex].isNaN
                            {
                                bestIndex = index
                            }
                        }
                    }
                    output[plane * s.outputPlaneSize + outputY * s.outputWidth + outputX] =
                        input[plane * s.inputPlaneSize + bestIndex]
                    indices[plane * s.outputPlaneSize + outputY * s.outputWidth + outputX] = Int32(bestIndex)
                }
            }
        }
        return (output, indices)
    }

    /// Max pooling's backward pass from the definition: every input element starts at 0 and each window's
    /// gradient is added to the element its index names.
    public static func maxPool2DBackward(outputGradient: [Float], indices: [Int32], shape s: Pooling2DShape) -> [Float]
    {
        var inputGradient = [Float](repeating: 0, count: s.planes * s.inputPlaneSize)
        for plane in 0..<s.planes {
            for position in 0..<s.outputPlaneSize {
                let window = plane * s.outputPlaneSize + position
                inputGradient[plane * s.inputPlaneSize + Int(indices[window])] += outputGradient[window]
            }
        }
        return inputGradient
    }

    /// Average pooling from the definition: output[P, OH, OW] = mean of each window of input[P, H, W].
    public static func averagePool2DForward(input: [Float], shape s: Pooling2DShape) -> [Float] {
        var output = [Float](repeating: 0, count: s.planes * s.outputPlaneSize)
        for plane in 0..<s.planes {
            for outputY in 0..<s.outputHeight {
                for outputX in 0..<s.outputWidth {
                    var sum: Double = 0
                    for kernelY in 0..<s.kernelSize {
                        for kernelX in 0..<s.kernelSize {
                            sum += Double(
                                input[
                                    plane * s.inputPlaneSize + (outputY * s.stride + kernelY) * s.width + outputX
                                        * s.stride + kernelX])
                        }
                    }
                    output[plane * s.outputPlaneSize + outputY * s.outputWidth + outputX] = Float(
                        sum / Double(s.kernelSize * s.kernelSize))
                }
            }
        }
        return output
    }

    /// The gradient of average pooling: each output gradient shared evenly by its window's inputs.
    public static func averagePool2DBackward(outputGradient: [Float], shape s: Pooling2DShape) -> [Float] {
        var inputGradient = [Double](repeating: 0, count: s.planes * s.inputPlaneSize)
        for plane in 0..<s.planes {
            for outputY in 0..<s.outputHeight {
                for outputX in 0..<s.outputWidth {
                    let share =
                        Double(outputGradient[plane * s.outputPlaneSize + outputY * s.outputWidth + outputX])
                        / Double(s.kernelSize * s.kernelSize)
                    for kernelY in 0..<s.kernelSize {
                        for kernelX in 0..<s.kernelSize {
                            inputGradient[
                                plane * s.inputPlaneSize + (outputY * s.stride + kernelY) * s.width + outputX * s.stride
                                    + kernelX] += share
                        }
                    }
                }
            }
        }
        return inputGradient.map(Float.init)
    }

    /// One Adam step, element by element (the loop `ParameterUpdate.adam` vectorises); returns the new
    /// (parameter, firstMoment, secondMoment).
    public static func adamUpdate(
        parameter: [Float], gradient: [Float], firstMoment: [Float], secondMoment: [Float], learningRate: Float,
        stepSize: Float, beta1: Float, beta2: Float, epsilon: Float, secondCorrection: Float, weightDecay: Float,
        decoupledWeightDecay: Bool
    ) -> (parameter: [Float], firstMoment: [Float], secondMoment: [Float]) {
        var (p, m, v) = (parameter, firstMoment, secondMoment)
        for element in 0..<p.count {
            var g = gradient[element]
            if decoupledWeightDecay {
                p[element] *= 1 - learningRate * weightDecay
            } else if weightDecay != 0 {
                g += weightDecay * p[element]
            }
            m[element] += (g - m[element]) * (1 - beta1)
            v[element] = v[element] * beta2 + (1 - beta2) * g * g
            let denominator = v[element].squareRoot() / secondCorrection + epsilon
            p[element] -= stepSize * m[element] / denominator
        }
        return (p, m, v)
    }

    /// One SGD step, element by element (the loop `ParameterUpdate.sgd` vectorises); returns the new
    /// (parameter, momentumBuffer); pass an empty momentumBuffer when momentum is 0.
    public static func sgdUpdate(
        parameter: [Float], gradient: [Float], momentumBuffer: [Float], learningRate: Float, momentum: Float,
        dampening: Float, nesterov: Bool, weightDecay: Float, firstStep: Bool
    ) -> (parameter: [Float], momentumBuffer: [Float]) {
        var (p, buffer) = (parameter, momentumBuffer)
        for element in 0..<p.count {
            var g = gradient[element] + weightDecay * p[element]
            if momentum != 0 {
                buffer[element] = firstStep ? g : momentum * buffer[element] + (1 - dampening) * g
                g = nesterov ? g + momentum * buffer[element] : buffer[element]
            }
            p[element] -= learningRate * g
        }
        return (p, buffer)
    }

    /// The flat indices of one channel's elements in [batch, channels, plane].
    static func channelIndices(_ channel: Int, batch: Int, channels: Int, plane: Int) -> [Int] {
        var indices: [Int] = []
        for item in 0..<batch {
            let start = (item * channels + channel) * plane
            indices.append(contentsOf: start..<(start + plane))
        }
        return indices
    }

    /// Batch normalisation in training mode, in Double, element by element (`BatchNormalization.statistics`
    /// and `.normalize`): input [batch, channels, plane] → (output, normalized, mean, biased variance).
    public static func batchNormalizationForward(
        input: [Float], batch: Int, channels: Int, plane: Int, scale: [Float], shift: [Float], epsilon: Float
    ) -> (output: [Float], normalized: [Float], mean: [Float], variance: [Float]) {
        var output = [Float](repeating: 0, count: input.count), normalized = output
        var mean = [Float](repeating: 0, count: channels), variance = mean
        let count = Double(batch * plane)
        for channel in 0..<channels {
            let indices = channelIndices(channel, batch: batch, channels: channels, plane: plane)
            var sum: Double = 0
            for index in indices { sum += Double(input[index]) }
            let channelMean = sum / count
            var squares: Double = 0
            for index in indices {
                let deviation = Double(input[index]) - channelMean
                squares += deviation * deviation
            }
            let channelVariance = squares / count
            mean[channel] = Float(channelMean)
            variance[channel] = Float(channelVariance)
            let inverseDeviation = 1 / (channelVariance + Double(epsilon)).squareRoot()
            for index in indices {
                let value = (Double(input[index]) - channelMean) * inverseDeviation
                normalized[index] = Float(value)
                output[index] = Float(value * Double(scale[channel]) + Double(shift[channel]))
            }
        }
        return (output, normalized, mean, variance)
    }

    /// The training-mode backward pass in Double (`BatchNormalization.backward`): → (input, scale, shift)
    /// gradients.
    public static func batchNormalizationBackward(
        outputGradient: [Float], normalized: [Float], batch: Int, channels: Int, plane: Int, scale: [Float],
        inverseDeviation: [Float]
    ) -> (input: [Float], scale: [Float], shift: [Float]) {
        var inputGradient = [Float](repeating: 0, count: outputGradient.count)
        var scaleGradient = [Float](repeating: 0, count: channels), shiftGradient = scaleGradient
        let count = Double(batch * plane)
        for channel in 0..<channels {
            let indices = channelIndices(channel, batch: batch, channels: channels, plane: plane)
            var sumGradient: Double = 0, sumGradientNormalized: Double = 0
            for index in indices {
                sumGradient += Double(outputGradient[index])
                sumGradientNormalized += Double(outputGradient[index]) * Double(normalized[index])
            }
            scaleGradient[channel] = Float(sumGradientNormalized)
            shiftGradient[channel] = Float(sumGradient)
            let factor = Double(scale[channel]) * Double(inverseDeviation[channel])
            let (meanGradient, meanGradientNormalized) = (sumGradient / count, sumGradientNormalized / count)
            for index in indices {
                let centred =
                    Double(outputGradient[index]) - meanGradient - Double(normalized[index]) * meanGradientNormalized
                inputGradient[index] = Float(factor * centred)
            }
        }
        return (inputGradient, scaleGradient, shiftGradient)
    }
}
