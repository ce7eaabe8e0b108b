import Foundation
import TestSupport
import Testing
@testable import Kernels

/// Fast kernels against their naive twins on random shapes.
@Suite struct KernelParityTests {
    /// A small deterministic generator, so this target needs nothing above Kernels.
    struct Numbers {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) * 0x1p-24 * 2 - 1
        }
        mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int((next() + 1) / 2 * Float(range.count)) % range.count
        }
    }

    @Test(arguments: 0..<12)
    func convolutionMatchesDirectDefinition(seed: Int) {
        var numbers = Numbers(state: UInt64(seed + 1))
        let kernel = numbers.int(1...5)
        let shape = Convolution2DShape(
            batch: numbers.int(1...5), inputChannels: numbers.int(1...4), height: kernel + numbers.int(0...9),
            width: kernel + numbers.int(0...9), outputChannels: numbers.int(1...6), kernelHeight: kernel,
            kernelWidth: kernel, stride: numbers.int(1...3), padding: numbers.int(0...2))
        let input = numbers.array(shape.batch * shape.inputImageSize)
        let weight = numbers.array(shape.weightCount)
        let bias = numbers.array(shape.outputChannels)
        let outputGradient = numbers.array(shape.batch * shape.outputImageSize)

        var output = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
        Convolution2D.forward(input: input, weight: weight, bias: bias, output: &output, shape: shape)
        let expected = Reference.convolution2DForward(input: input, weight: weight, bias: bias, shape: shape)
        expectClose(output, expected, relativeToLargest: 1e-5, "forward \(shape)")

        var inputGradient = [Float](repeating: .nan, count: input.count)
        var weightGradient = [Float](repeating: .nan, count: weight.count)
        var biasGradient = [Float](repeating: .nan, count: bias.count)
        Convolution2D.backward(
            input: input, weight: weight, outputGradient: outputGradient, inputGradient: &inputGradient,
            weightGradient: &weightGradient, biasGradient: &biasGradient, shape: shape)
        let reference = Reference.convolution2DBackward(
            input: input, weight: weight, outputGradient: outputGradient, shape: shape)
        expectClose(inputGradient, reference.input, relativeToLargest: 1e-5, "input gradient \(shape)")
        expectClose(weightGradient, reference.weight, relativeToLargest: 1e-5, "weight gradient \(shape)")
        expectClose(biasGradient, reference.bias, relativeToLargest: 1e-5, "bias gradient \(shape)")
    }

    /// The MNIST models' layers (LeNet-5's three convolutions, the simple CNN's), which take the direct
    /// kernel (forward and input gradient) or the whole-input im2col path, against the definition.
    @Test(arguments: [
        Convolution2DShape(
            batch: 3, inputChannels: 1, height: 28, width: 28, outputChannels: 6, kernelHeight: 5, kernelWidth: 5,
            padding: 2),
        Convolution2DShape(
            batch: 3, inputChannels: 6, height: 14, width: 14, outputChannels: 16, kernelHeight: 5, kernelWidth: 5),
        Convolution2DShape(
            batch: 3, inputChannels: 16, height: 5, width: 5, outputChannels: 120, kernelHeight: 5, kernelWidth: 5),
        Convolution2DShape(
            batch: 3, inputChannels: 1, height: 28, width: 28, outputChannels: 32, kernelHeight: 5, kernelWidth: 5),
        Convolution2DShape(
            batch: 2, inputChannels: 3, height: 11, width: 9, outputChannels: 7, kernelHeight: 3, kernelWidth: 3,
            padding: 1),
        // Direct weight gradient: a kernel row longer than one pass of taps, an odd tap count, a channel
        // count that is no multiple of four, and one image per thread or fewer.
        Convolution2DShape(
            batch: 1, inputChannels: 2, height: 12, width: 17, outputChannels: 5, kernelHeight: 7, kernelWidth: 7,
            padding: 3),
        Convolution2DShape(
            batch: 5, inputChannels: 3, height: 9, width: 8, outputChannels: 9, kernelHeight: 1, kernelWidth: 1),
        // Channels in lanes with two groups of sixteen and a short last block of positions.
        Convolution2DShape(
            batch: 2, inputChannels: 3, height: 15, width: 12, outputChannels: 32, kernelHeight: 5, kernelWidth: 5),
        // A fully connected shape with padding-free input smaller than eight columns, and one with two channels.
        Convolution2DShape(
            batch: 4, inputChannels: 2, height: 3, width: 4, outputChannels: 5, kernelHeight: 3, kernelWidth: 4),
    ])
    func convolutionMatchesDirectDefinitionOnModelLayers(shape: Convolution2DShape) {
        var numbers = Numbers(state: UInt64(shape.weightCount))
        let input = numbers.array(shape.batch * shape.inputImageSize)
        let weight = numbers.array(shape.weightCount)
        let bias = numbers.array(shape.outputChannels)
        let outputGradient = numbers.array(shape.batch * shape.outputImageSize)
        var output = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
        Convolution2D.forward(input: input, weight: weight, bias: bias, output: &output, shape: shape)
        expectClose(
            output, Reference.convolution2DForward(input: input, weight: weight, bias: bias, shape: shape),
            relativeToLargest: 1e-5, "forward \(shape)")
        var inputGradient = [Float](repeating: .nan, count: input.count)
        var weightGradient = [Float](repeating: .nan, count: weight.count)
        var biasGradient = [Float](repeating: .nan, count: bias.count)
        Convolution2D.backward(
            input: input, weight: weight, outputGradient: outputGradient, inputGradient: &inputGradient,
            weightGradient: &weightGradient, biasGradient: &biasGradient, shape: shape)
        let reference = Reference.convolution2DBackward(
            input: input, weight: weight, outputGradient: outputGradient, shape: shape)
        expectClose(inputGradient, reference.input, relativeToLargest: 1e-5, "input gradient \(shape)")
        expectClose(weightGradient, reference.weight, relativeToLargest: 1e-5, "weight gradient \(shape)")
        expectClose(biasGradient, reference.bias, relativeToLargest: 1e-5, "bias gradient \(shape)")
    }

    /// 97 rows: split by rows; 1 row (one image through a wide layer): split by columns.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], [97, 1])
    func parallelGemmMatchesNaiveProduct(transposes: (a: Bool, b: Bool), m: Int) {
        let (transposeA, transposeB) = transposes
        var numbers = Numbers(state: 7)
        let (n, k) = m == 1 ? (700, 400) : (130, 71) // large enough that parallelGemm splits the work
        let a = numbers.array(m * k), b = numbers.array(k * n)
        // Store the operands transposed when asked, and check against the plain product.
        let storedA = transposeA ? transpose(a, rows: m, columns: k) : a
        let storedB = transposeB ? transpose(b, rows: k, columns: n) : b
        var c = [Float](repeating: .nan, count: m * n)
        BLAS.parallelGemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            a: storedA, lda: transposeA ? m : k, b: storedB, ldb: transposeB ? k : n, c: &c, ldc: n)
        expectClose(c, Reference.matrixMultiply(a, b, m: m, n: n, k: k), relativeToLargest: 1e-5)
    }

    func transpose(_ matrix: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: matrix.count)
        for row in 0..<rows {
            for column in 0..<columns { result[column * rows + row] = matrix[row * columns + column] }
        }
        return result
    }

    @Test func poolingPicksWindowsAndRoutesGradients() {
        // One 4×4 plane, 2×2 windows.
        let input: [Float] = [
            1, 5, 2, 0,
            3, 4, 8, 1,
            0, 0, -1, -2,
            9, 0, -3, -4,
        ]
        let shape = Pooling2DShape(planes: 1, height: 4, width: 4, kernelSize: 2, stride: 2)
        var output = [Float](repeating: 0, count: 4)
        var indices = [Int32](repeating: 0, count: 4)
        MaxPool2D.forward(input: input, output: &output, indices: &indices, shape: shape)
        #expect(output == [5, 8, 9, -1])
        var gradient = [Float](repeating: .nan, count: 16)
        MaxPool2D.backward(outputGradient: [1, 2, 3, 4], indices: indices, inputGradient: &gradient, shape: shape)
        let expectedMaxGradient: [Float] = [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 3, 0, 0, 0]
        #expect(gradient == expectedMaxGradient)
        AvgPool2D.forward(input: input, output: &output, shape: shape)
        let expectedAverages: [Float] = [3.25, 2.75, 2.25, -2.5]
        #expect(output == expectedAverages)
        AvgPool2D.backward(outputGradient: [4, 8, 12, 16], inputGradient: &gradient, shape: shape)
        let expectedAverageGradient: [Float] = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]
        #expect(gradient == expectedAverageGradient)
    }

    @Test(arguments: [(2, 2, 28, 28), (2, 2, 7, 9), (2, 2, 2, 5), (3, 2, 10, 11), (2, 1, 5, 6), (3, 3, 9, 9)])
    func averagePoolingMatchesDefinition(kernelSize: Int, stride: Int, height: Int, width: Int) {
        var numbers = Numbers(state: UInt64(kernelSize * 1000 + height * 31 + width))
        let shape = Pooling2DShape(planes: 3, height: height, width: width, kernelSize: kernelSize, stride: stride)
        let input = numbers.array(shape.planes * shape.inputPlaneSize)
        let outputGradient = numbers.array(shape.planes * shape.outputPlaneSize)
        var output = [Float](repeating: .nan, count: outputGradient.count)
        AvgPool2D.forward(input: input, output: &output, shape: shape)
        expectClose(output, Reference.averagePool2DForward(input: input, shape: shape), relativeToLargest: 1e-6)
        var inputGradient = [Float](repeating: .nan, count: input.count)
        AvgPool2D.backward(outputGradient: outputGradient, inputGradient: &inputGradient, shape: shape)
        expectClose(
            inputGradient, Reference.averagePool2DBackward(outputGradient: outputGradient, shape: shape),
            relativeToLargest: 1e-6)
    }

    /// The fused inference pass against tanh then pooling: bit for bit against the two kernels, and close
    /// to the definition with the exact tanh. 100 planes of 28 × 28 split over threads; odd sizes drop a row.
    @Test(arguments: [(100, 28, 28), (6, 10, 10), (3, 7, 9), (2, 2, 5)])
    func tanhAveragePoolingMatchesItsTwoSteps(planes: Int, height: Int, width: Int) {
        var numbers = Numbers(state: UInt64(planes * 1000 + height * 31 + width))
        let shape = Pooling2DShape(planes: planes, height: height, width: width, kernelSize: 2, stride: 2)
        let input = numbers.array(shape.planes * shape.inputPlaneSize).map { $0 * 4 }
        var output = [Float](repeating: .nan, count: shape.planes * shape.outputPlaneSize)
        AvgPool2D.tanhForwardTwoByTwo(input: input, output: &output, shape: shape)
        var activated = [Float](repeating: .nan, count: input.count)
        Activation.tanhForward(input, &activated, count: input.count)
        var twoSteps = [Float](repeating: .nan, count: output.count)
        AvgPool2D.forward(input: activated, output: &twoSteps, shape: shape)
        #expect(output == twoSteps)
        let reference = Reference.averagePool2DForward(
            input: input.map { Float(Foundation.tanh(Double($0))) }, shape: shape)
        expectClose(output, reference, relativeToLargest: 1e-6)
    }

    /// The fused training passes against tanh then pooling, and pooling's backward then tanh's: the kept
    /// activation, the output and the input gradient bit for bit. 100 planes of 28 × 28 split over threads.
    @Test(arguments: [(100, 28, 28), (6, 10, 10), (2, 2, 4)])
    func tanhAveragePoolingTrainingPassesMatchTheirTwoSteps(planes: Int, height: Int, width: Int) {
        var numbers = Numbers(state: UInt64(planes * 1000 + height * 31 + width + 7))
        let shape = Pooling2DShape(planes: planes, height: height, width: width, kernelSize: 2, stride: 2)
        let input = numbers.array(shape.planes * shape.inputPlaneSize).map { $0 * 4 }
        var output = [Float](repeating: .nan, count: shape.planes * shape.outputPlaneSize)
        var kept = [Float](repeating: .nan, count: input.count)
        AvgPool2D.tanhForwardTwoByTwo(input: input, output: &output, shape: shape, activated: &kept)
        var activated = [Float](repeating: .nan, count: input.count)
        Activation.tanhForward(input, &activated, count: input.count)
        var twoSteps = [Float](repeating: .nan, count: output.count)
        AvgPool2D.forward(input: activated, output: &twoSteps, shape: shape)
        #expect(firstDifference(kept, activated) == nil)
        #expect(firstDifference(output, twoSteps) == nil)

        let outputGradient = numbers.array(output.count)
        var inputGradient = [Float](repeating: .nan, count: input.count)
        AvgPool2D.tanhBackwardTwoByTwo(
            outputGradient: outputGradient, activated: kept, inputGradient: &inputGradient, shape: shape)
        var spread = [Float](repeating: .nan, count: input.count)
        AvgPool2D.backward(outputGradient: outputGradient, inputGradient: &spread, shape: shape)
        var backwardTwoSteps = [Float](repeating: .nan, count: input.count)
        Activation.tanhBackward(
            output: activated, outputGradient: spread, inputGradient: &backwardTwoSteps, count: input.count)
        #expect(firstDifference(inputGradient, backwardTwoSteps) == nil)
        #expect(!inputGradient.contains { $0.isNaN })
    }

    /// The first index where two arrays' bits differ (a length mismatch counts), nil when they are equal.
    private func firstDifference(_ values: [Float], _ expected: [Float]) -> Int? {
        guard values.count == expected.count else { return min(values.count, expected.count) }
        return values.indices.first { values[$0].bitPattern != expected[$0].bitPattern }
    }

    @Test(arguments: [(2, 2, 24, 24), (2, 2, 7, 9), (3, 2, 10, 11), (2, 1, 5, 6)])
    func maxPoolingMatchesDefinition(kernelSize: Int, stride: Int, height: Int, width: Int) {
        var numbers = Numbers(state: UInt64(kernelSize * 1000 + height * 31 + width))
        let shape = Pooling2DShape(planes: 3, height: height, width: width, kernelSize: kernelSize, stride: stride)
        // Values on a coarse grid, so windows hold ties, and one NaN.
        var input = numbers.array(shape.planes * shape.inputPlaneSize).map { ($0 * 4).rounded() }
        input[5] = .nan
        var output = [Float](repeating: 0, count: shape.planes * shape.outputPlaneSize)
        var indices = [Int32](repeating: -1, count: output.count)
        MaxPool2D.forward(input: input, output: &output, indices: &indices, shape: shape)
        let reference = Reference.maxPool2DForward(input: input, shape: shape)
        #expect(indices == reference.indices)
        expectClose(output, reference.output)
    }

    @Test func crossEntropyIsStableForHugeLogits() {
        let logits: [Float] = [1e4, -1e4, 0, 0, 1e4, 1e4]
        let labels: [Int32] = [0, 2]
        var gradient = [Float](repeating: .nan, count: 6)
        let loss = SoftmaxCrossEntropy.forward(
            logits: logits, labels: labels, rows: 2, classes: 3, logitsGradient: &gradient)
        // Row 0: the label holds all the mass, loss 0. Row 1: the label shares it with one other, loss ln 2.
        #expect(abs(loss - Float(0.6931472) / 2) < 1e-6)
        let allFinite = gradient.allSatisfy { $0.isFinite }
        #expect(allFinite)
        #expect(abs(gradient[5] - (-0.25)) < 1e-6 && abs(gradient[4] - 0.25) < 1e-6)
    }
}
