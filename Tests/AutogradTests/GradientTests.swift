import Foundation
import Kernels
import TestSupport
import Testing
@testable import Autograd

/// A finite-difference check of every differentiable operation, on random shapes and inputs.
@Suite struct GradientTests {
    @Test(arguments: [[3], [2, 5], [2, 3, 4]])
    func elementwiseArithmetic(shape: [Int]) {
        let a = randomTensor(shape, seed: 1), b = randomTensor(shape, seed: 2)
        checkGradients(of: [a, b]) { $0[0] + $0[1] }
        checkGradients(of: [a, b]) { $0[0] - $0[1] }
        checkGradients(of: [a, b]) { $0[0] * $0[1] }
        checkGradients(of: [a]) { ($0[0] * 3 + 1.5) / 2 - 0.25 }
        checkGradients(of: [a]) { -$0[0] }
        checkGradients(of: [a]) { $0[0].squared() }
        checkGradients(of: [a]) { $0[0].exp() }
        checkGradients(of: [randomTensor(shape, seed: 3, low: 0.5, high: 2)]) { $0[0].log() }
        checkGradients(of: [a]) { $0[0].sum() }
        checkGradients(of: [a]) { $0[0].mean() }
    }

    /// The check itself, on tanh: the true gradient passes, and 1% more in every element, or in any one
    /// element of at least 1% of the largest, is rejected and the element named. The bound used before,
    /// 1e-2 · (|g| + max|g|), passed every one of these.
    @Test func aOnePercentErrorInTheGradientIsRejected() throws {
        let x = randomTensor([3, 7], seed: 5, low: -2, high: 2)
        x.requiresGrad = true
        let function = { (inputs: [Tensor]) in inputs[0].tanh() }
        var generator = RandomGenerator(seed: 99)
        let projection = (0..<x.count).map { _ in generator.nextUniform(low: -1, high: 1) }
        function([x]).backward(seed: projection)
        let analytic = try #require(x.grad).data
        let numeric = numericGradient(of: function, inputs: [x], inputIndex: 0, projection: projection, step: 4e-2)
        #expect(gradientFailure(analytic: analytic, numeric: numeric) == nil)

        let largest = Double(analytic.map(abs).max() ?? 0)
        func passedTheOldBound(_ gradient: [Float]) -> Bool {
            zip(gradient, numeric).allSatisfy { abs(Double($0) - $1) <= 1e-2 * (Double(abs($0)) + largest) + 1e-6 }
        }
        let everywhere = analytic.map { $0 * 1.01 }
        let failure = try #require(gradientFailure(analytic: everywhere, numeric: numeric))
        #expect(failure.contains("elements out of tolerance"), "\(failure)")
        #expect(passedTheOldBound(everywhere))
        for index in analytic.indices where Double(abs(analytic[index])) >= largest / 100 {
            var wrong = analytic
            wrong[index] *= 1.01
            let failure = gradientFailure(analytic: wrong, numeric: numeric)
            #expect(failure?.contains("1 of 21 elements out of tolerance") == true, "element \(index)")
            #expect(failure?.contains("worst at [\(index)]") == true, "element \(index): \(failure ?? "")")
            #expect(passedTheOldBound(wrong))
        }
    }

    @Test func reusedInputAccumulatesGradient() {
        // x is used three times: d/dx (x·x + x) = 2x + 1.
        let x = randomTensor([4], seed: 4)
        checkGradients(of: [x]) { $0[0] * $0[0] + $0[0] }
    }

    @Test func activations() {
        let x = randomTensor([3, 7], seed: 5, low: -2, high: 2)
        checkGradients(of: [x]) { $0[0].tanh() }
        checkGradients(of: [x]) { $0[0].sigmoid() }
        // ReLU has a kink at 0: keep inputs 0.1 away from it so ±2 × step never crosses it.
        let awayFromZero = Tensor(shape: [3, 7], data: x.data.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 })
        checkGradients(of: [awayFromZero]) { $0[0].relu() }
    }

    @Test func reshapeAndFlatten() {
        let x = randomTensor([2, 3, 2, 2], seed: 6)
        checkGradients(of: [x]) { $0[0].flattened() * $0[0].reshaped([2, 12]) }
    }

    @Test(arguments: [(1, 4, 3), (5, 7, 2), (8, 3, 6)])
    func matmulAndLinear(m: Int, k: Int, n: Int) {
        let a = randomTensor([m, k], seed: 7), b = randomTensor([k, n], seed: 8)
        checkGradients(of: [a, b]) { $0[0].matmul($0[1]) }
        let weight = randomTensor([n, k], seed: 9), bias = randomTensor([n], seed: 10)
        checkGradients(of: [a, weight, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        checkGradients(of: [a, weight]) { $0[0].linear(weight: $0[1], bias: nil) }
    }

    @Test(arguments: [(1, 1, 6, 3, 3, 1, 0), (2, 3, 7, 4, 3, 1, 1), (2, 2, 9, 3, 5, 2, 2), (3, 2, 8, 2, 2, 2, 0)])
    func convolution(
        batch: Int, inputChannels: Int, size: Int, outputChannels: Int, kernel: Int, stride: Int, padding: Int
    ) {
        let x = randomTensor([batch, inputChannels, size, size], seed: 11)
        let weight = randomTensor([outputChannels, inputChannels, kernel, kernel], seed: 12)
        let bias = randomTensor([outputChannels], seed: 13)
        checkGradients(of: [x, weight, bias]) {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: padding)
        }
        checkGradients(of: [x, weight]) { $0[0].conv2d(weight: $0[1], bias: nil, stride: stride, padding: padding) }
    }

    @Test(arguments: [(2, 2), (3, 2), (2, 1)])
    func pooling(kernel: Int, stride: Int) {
        let x = randomTensor([2, 3, 6, 6], seed: 14)
        checkGradients(of: [x]) { $0[0].avgPool2d(kernelSize: kernel, stride: stride) }
        // Max pooling's gradient is only defined away from ties: a random input has none, and the check's
        // larger step, 2 × 4e-4, is smaller than the gap between any two of its values here.
        checkGradients(of: [x], step: 4e-4) { $0[0].maxPool2d(kernelSize: kernel, stride: stride) }
    }

    /// The fused tanh and pooling against finite differences, and against the two operations bit for bit:
    /// unrecorded its values, recorded its values and its gradient (an odd width takes the two operations).
    @Test(arguments: [[2, 3, 6, 6], [1, 2, 4, 5]])
    func tanhAveragePooling(shape: [Int]) {
        let x = randomTensor(shape, seed: 16, low: -2, high: 2)
        checkGradients(of: [x]) { $0[0].tanhAvgPool2d(kernelSize: 2) }
        let unrecorded = withoutGradients { x.tanhAvgPool2d(kernelSize: 2) }
        #expect(unrecorded.gradientNode == nil)
        let fused = valueAndGradientBits(shape: shape, data: x.data, seed: 5) { $0.tanhAvgPool2d(kernelSize: 2) }
        let twoSteps = valueAndGradientBits(shape: shape, data: x.data, seed: 5) { $0.tanh().avgPool2d(kernelSize: 2) }
        #expect(unrecorded.data.map(\.bitPattern) == twoSteps.values)
        #expect(fused.values == twoSteps.values && !fused.gradient.isEmpty && fused.gradient == twoSteps.gradient)
    }

    /// ReLU then max pooling, computed as pooling then ReLU: finite differences, and the two operations in
    /// their order bit for bit, values and gradient, on windows with ties, exact zeros and no positive value,
    /// with 2 × 2 windows and with overlapping 3 × 3 ones (stride 2), whose gradients add up.
    @Test(arguments: [(2, nil), (3, 2)] as [(Int, Int?)])
    func reluMaxPooling(kernelSize: Int, stride: Int?) {
        let x = randomTensor([2, 3, 7, 8], seed: 22, low: -2, high: 2)
        checkGradients(of: [x], step: 4e-4) { $0[0].reluMaxPool2d(kernelSize: kernelSize, stride: stride) }
        // Coarse values: ties and exact zeros in many windows; the first plane's first rows all negative.
        let coarse = x.data.enumerated().map { $0.offset < 16 ? -1 - abs($0.element) : ($0.element * 2).rounded() }
        let reordered = valueAndGradientBits(shape: x.shape, data: coarse, seed: 6) {
            $0.reluMaxPool2d(kernelSize: kernelSize, stride: stride)
        }
        let twoSteps = valueAndGradientBits(shape: x.shape, data: coarse, seed: 6) {
            $0.relu().maxPool2d(kernelSize: kernelSize, stride: stride)
        }
        #expect(reordered.values == twoSteps.values)
        #expect(!reordered.gradient.isEmpty && reordered.gradient == twoSteps.gradient)
        #expect(reordered.values.contains(0) && reordered.gradient.contains(0))
    }

    /// The bits of `function`'s output on a fresh leaf of `data`, and of the leaf's gradient after a backward
    /// pass seeded with values drawn from `seed`: two functions given the same arguments get the same seed.
    private func valueAndGradientBits(
        shape: [Int], data: [Float], seed: UInt64, _ function: (Tensor) -> Tensor
    ) -> (values: [UInt32], gradient: [UInt32]) {
        let leaf = Tensor(shape: shape, data: data)
        leaf.requiresGrad = true
        let output = function(leaf)
        var generator = RandomGenerator(seed: seed)
        output.backward(seed: (0..<output.count).map { _ in generator.nextUniform(low: -1, high: 1) })
        return (output.data.map(\.bitPattern), leaf.grad?.data.map(\.bitPattern) ?? [])
    }

    /// LeNet-5's first stage: recorded, convolution then the fused tanh and pooling, with their gradients;
    /// unrecorded, one fused kernel with the same values bit for bit, on images with blank regions.
    @Test func convolutionTanhAveragePooling() {
        let values = randomTensor([3, 1, 12, 12], seed: 19, low: -1, high: 1).data
        let x = Tensor(
            shape: [3, 1, 12, 12],
            data: values.enumerated().map { $0.offset % 12 < 5 || $0.element < 0 ? 0 : $0.element })
        let weight = randomTensor([4, 1, 5, 5], seed: 20, low: -0.5, high: 0.5), bias = randomTensor([4], seed: 21)
        checkGradients(of: [weight, bias]) { x.conv2dTanhAvgPool2d(weight: $0[0], bias: $0[1], padding: 2) }
        let fused = withoutGradients { x.conv2dTanhAvgPool2d(weight: weight, bias: bias, padding: 2) }
        let steps = x.conv2d(weight: weight, bias: bias, padding: 2).tanhAvgPool2d(kernelSize: 2)
        #expect(fused.shape == [3, 4, 6, 6] && fused.shape == steps.shape)
        #expect(fused.data.map(\.bitPattern) == steps.data.map(\.bitPattern))
        #expect(fused.gradientNode == nil)
    }

    /// The simple CNN's and `FastCNN`'s first stage: `conv2dMaxPool2d` takes the fused kernel on these shapes and
    /// gives `conv2d` then `maxPool2d`'s values and the input's, weight's and bias's gradients bit for bit,
    /// recorded and not; the gradients also against finite differences, on inputs whose windows' maxima a step
    /// does not move.
    @Test(arguments: [[2, 1, 20, 20], [3, 2, 21, 19]])
    func convolutionMaxPooling(inputShape: [Int]) {
        let x = randomTensor(inputShape, seed: 25, low: -1, high: 1)
        let weight = randomTensor([7, inputShape[1], 3, 3], seed: 26, low: -0.5, high: 0.5)
        let bias = randomTensor([7], seed: 27)
        let geometry = Convolution2DShape(
            batch: inputShape[0], inputChannels: inputShape[1], height: inputShape[2], width: inputShape[3],
            outputChannels: 7, kernelHeight: 3, kernelWidth: 3)
        #expect(Convolution2D.usesFusedMaxPool(geometry))
        /// Values and the three gradients' bits after a backward pass seeded the same way.
        func bits(_ function: (Tensor, Tensor, Tensor) -> Tensor) -> [[UInt32]] {
            let (input, w, b) = (
                Tensor(shape: x.shape, data: x.data), Tensor(shape: weight.shape, data: weight.data),
                Tensor(shape: bias.shape, data: bias.data)
            )
            for leaf in [input, w, b] { leaf.requiresGrad = true }
            let output = function(input, w, b)
            var generator = RandomGenerator(seed: 28)
            output.backward(seed: (0..<output.count).map { _ in generator.nextUniform(low: -1, high: 1) })
            return [output.data.map(\.bitPattern)] + [input, w, b].map { $0.grad?.data.map(\.bitPattern) ?? [] }
        }
        let fused = bits { $0.conv2dMaxPool2d(weight: $1, bias: $2) }
        let steps = bits { $0.conv2d(weight: $1, bias: $2).maxPool2d(kernelSize: 2) }
        #expect(fused == steps)
        #expect(fused.allSatisfy { !$0.isEmpty })
        let unrecorded = withoutGradients { x.conv2dMaxPool2d(weight: weight, bias: bias) }
        #expect(unrecorded.data.map(\.bitPattern) == fused[0])
        // Finite differences need every window's maximum to stay where it is while an input moves by the step:
        // a ramp image and output channels of one-signed weights put each maximum at a window's bottom right (or,
        // with negative weights, its top left), about 0.1 above the others, where a step moves an output by 0.02
        // at most.
        let ramp = Tensor(
            shape: inputShape,
            data: x.data.enumerated().map { index, noise in
                let row = index / inputShape[3] % inputShape[2], column = index % inputShape[3]
                return 0.05 * Float(row + column) + 0.01 * noise
            })
        let signedWeight = Tensor(
            shape: weight.shape,
            data: weight.data.enumerated().map { index, value in
                (index / (weight.count / 7) % 2 == 0 ? 1 : -1) * (0.1 + abs(value) * 0.8)
            })
        checkGradients(of: [ramp, signedWeight, bias]) { $0[0].conv2dMaxPool2d(weight: $0[1], bias: $0[2]) }
    }

    /// In inference on mostly-zero inputs, `linear` sums over the nonzeros only (`SparseLinear`): the same
    /// values as the recorded product to float rounding, and nothing recorded.
    @Test func sparseLinearInInference() {
        let values = randomTensor([40, 70], seed: 22, low: -1, high: 1).data
        let x = Tensor(shape: [40, 70], data: values.map { $0 < 0.5 ? 0 : $0 })
        let weight = randomTensor([30, 70], seed: 23), bias = randomTensor([30], seed: 24)
        checkGradients(of: [weight, bias]) { x.linear(weight: $0[0], bias: $0[1]) }
        let sparse = withoutGradients { x.linear(weight: weight, bias: bias) }
        let dense = x.linear(weight: weight, bias: bias)
        #expect(sparse.shape == dense.shape)
        #expect(zip(sparse.data, dense.data).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(sparse.gradientNode == nil)
    }

    /// In training on mostly-zero inputs, `linear`'s forward product and weight gradient sum over the nonzeros
    /// only (`SparseLinear.isWorthwhileInTraining`: 73 outputs, a whole block of 64, a vector of 8 and one
    /// more): finite differences agree for the input, the weight and the bias, and the products match the
    /// definition in Double (one row all zeros).
    @Test func sparseLinearInTraining() {
        let values = randomTensor([6, 70], seed: 25, low: -1, high: 1).data
        let x = Tensor(
            shape: [6, 70], data: values.enumerated().map { $0.offset / 70 == 2 || $0.element < 0.6 ? 0 : $0.element })
        let weight = randomTensor([73, 70], seed: 26), bias = randomTensor([73], seed: 27)
        #expect(SparseLinear.isWorthwhileInTraining(input: x.data, rows: 6, inputs: 70, outputs: 73))
        checkGradients(of: [x, weight, bias]) { $0[0].linear(weight: $0[1], bias: $0[2]) }

        weight.grad = nil
        let outputGradient = randomTensor([6, 73], seed: 28, low: -1, high: 1).data
        let output = x.linear(weight: weight, bias: bias)
        #expect(output.gradientNode != nil)
        output.backward(seed: outputGradient)
        var expectedOutput: [Double] = [], expectedGradient: [Double] = []
        for row in 0..<6 {
            for column in 0..<73 {
                var sum = Double(bias.data[column])
                for index in 0..<70 {
                    sum += Double(x.data[row * 70 + index]) * Double(weight.data[column * 70 + index])
                }
                expectedOutput.append(sum)
            }
        }
        for column in 0..<73 {
            for index in 0..<70 {
                var sum: Double = 0
                for row in 0..<6 { sum += Double(outputGradient[row * 73 + column]) * Double(x.data[row * 70 + index]) }
                expectedGradient.append(sum)
            }
        }
        expectClose(output.data, expectedOutput, absolute: 1e-5)
        expectClose(weight.grad?.data ?? [], expectedGradient, absolute: 1e-5)
    }

    @Test func losses() {
        let logits = randomTensor([5, 4], seed: 15, low: -3, high: 3)
        let labels: [Int32] = [0, 3, 1, 1, 2]
        checkGradients(of: [logits]) { $0[0].crossEntropy(labels: labels) }
        for smoothing: Float in [0.1, 1] {
            checkGradients(of: [logits]) { $0[0].crossEntropy(labels: labels, labelSmoothing: smoothing) }
        }
        checkGradients(of: [logits]) { $0[0].logSoftmax() }
        checkGradients(of: [logits]) { $0[0].softmax() }
        checkGradients(of: [logits]) { $0[0].logSoftmax().nllLoss(labels: labels) }
    }

    @Test func crossEntropyMatchesLogSoftmaxThenNLL() {
        let logits = randomTensor([6, 10], seed: 16, low: -5, high: 5)
        let labels: [Int32] = [9, 0, 3, 3, 7, 1]
        let fused = logits.crossEntropy(labels: labels).scalar
        let composed = logits.logSoftmax().nllLoss(labels: labels).scalar
        #expect(abs(fused - composed) < 1e-6)
    }

    /// Label smoothing ε against its definition: (1 − ε) · NLL of the label + ε · the mean over classes of
    /// −log p, from the separately tested log-softmax; and against a value worked by hand.
    @Test func labelSmoothingMatchesItsDefinition() {
        let logits = randomTensor([6, 10], seed: 19, low: -5, high: 5)
        let labels: [Int32] = [9, 0, 3, 3, 7, 1]
        for smoothing: Float in [0, 0.1, 0.5, 1] {
            let fused = logits.crossEntropy(labels: labels, labelSmoothing: smoothing).scalar
            let logProbabilities = logits.logSoftmax()
            let composed =
                (1 - smoothing) * logProbabilities.nllLoss(labels: labels).scalar
                - smoothing * logProbabilities.mean().scalar
            #expect(abs(fused - composed) < 1e-5, "ε \(smoothing): \(fused) against \(composed)")
        }
        // p = (0.75, 0.25), label 0, ε 0.2: the target is (0.9, 0.1), so the loss is
        // −0.9 · ln 0.75 − 0.1 · ln 0.25 = 0.3975433.
        let handWorked = Tensor(shape: [1, 2], data: [logf(3), 0]).crossEntropy(labels: [0], labelSmoothing: 0.2)
        #expect(abs(handWorked.scalar - 0.3975433) < 1e-6)
        // Stable for huge logits, as without smoothing.
        let huge = Tensor(shape: [1, 3], data: [1e4, -1e4, 0]).crossEntropy(labels: [1], labelSmoothing: 0.1).scalar
        #expect(huge.isFinite && abs(huge - (0.9 * 2e4 + 0.1 * (3e4 / 3))) / huge < 1e-5)
    }

    @Test func dropoutMasksAndRescales() {
        var generator = RandomGenerator(seed: 17)
        let x = randomTensor([4, 50], seed: 18)
        let y = x.dropout(probability: 0.25, generator: &generator)
        let kept = zip(x.data, y.data).filter { $0.1 != 0 }
        #expect(kept.allSatisfy { abs($0.1 - $0.0 / 0.75) < 1e-6 })
        #expect(kept.count > 120 && kept.count < 180) // ~150 of 200 kept
        // The gradient uses the same mask: check it with a generator replayed from the same state.
        checkGradients(of: [x]) { inputs in
            var replay = RandomGenerator(seed: 17)
            return inputs[0].dropout(probability: 0.25, generator: &replay)
        }
    }

    @Test(arguments: [[6, 3], [4, 2, 3, 3]])
    func batchNormalization(shape: [Int]) {
        let x = randomTensor(shape, seed: 19, low: -2, high: 2)
        let channels = shape[1]
        let scale = randomTensor([channels], seed: 20, low: 0.5, high: 1.5), shift = randomTensor([channels], seed: 21)
        checkGradients(of: [x, scale, shift]) {
            $0[0].batchNormalized(scale: $0[1], shift: $0[2], epsilon: 1e-5).output
        }
        let mean = (0..<channels).map { Float($0) * 0.1 }, variance = (0..<channels).map { 0.5 + Float($0) }
        checkGradients(of: [x, scale, shift]) {
            $0[0].batchNormalized(scale: $0[1], shift: $0[2], mean: mean, variance: variance, epsilon: 1e-5)
        }
    }

    @Test func noGradientModeRecordsNothing() {
        let x = randomTensor([3], seed: 22)
        x.requiresGrad = true
        let y = withoutGradients { (x * x).sum() }
        #expect(y.gradientNode == nil && !y.requiresGrad)
        #expect(GradientMode.isEnabled)
    }

    @Test func backwardReleasesTheGraphAndAccumulatesAcrossCalls() {
        let x = randomTensor([3], seed: 23)
        x.requiresGrad = true
        let loss = (x * 2).sum()
        loss.backward()
        #expect(loss.gradientNode == nil)
        (x * 2).sum().backward()
        #expect(x.grad?.data == [4, 4, 4])
    }
}

/// `withoutGradients` on one thread leaves recording on for every other thread, so concurrent evaluation (a
/// server's requests) and training cannot switch it for each other.
@Suite struct GradientModeTests {
    @Test func withoutGradientsIsLocalToItsThread() {
        let entered = DispatchSemaphore(value: 0), checked = DispatchSemaphore(value: 0),
            finished = DispatchSemaphore(value: 0)
        // Shared unchecked: the semaphores order the two threads' accesses.
        nonisolated(unsafe) let seenInside = UnsafeMutablePointer<Bool>.allocate(capacity: 2)
        defer { seenInside.deallocate() }
        Thread.detachNewThread {
            withoutGradients {
                seenInside[0] = GradientMode.isEnabled
                entered.signal()
                checked.wait()
            }
            finished.signal()
        }
        entered.wait()
        seenInside[1] = GradientMode.isEnabled
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let recorded = (x * x).sum().requiresGrad
        checked.signal()
        finished.wait()
        #expect(seenInside[0] == false)
        #expect(seenInside[1] == true)
        #expect(recorded)
    }
}
