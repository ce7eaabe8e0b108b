import Foundation
import TestSupport
import Testing
@testable import Kernels

/// The fused convolution + tanh + 2 × 2 average pooling of LeNet-5's first two stages in inference against
/// the three kernels they replace, bit for bit.
@Suite struct FusedConvolutionTests {
    typealias Numbers = KernelParityTests.Numbers

    /// Convolution, tanh, then pooling, as training runs them.
    func threeSteps(input: [Float], weight: [Float], bias: [Float]?, shape: Convolution2DShape) -> [Float] {
        var convolved = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
        if let bias {
            Convolution2D.forward(input: input, weight: weight, bias: bias, output: &convolved, shape: shape)
        } else {
            Convolution2D.forward(input: input, weight: weight, bias: nil, output: &convolved, shape: shape)
        }
        var activated = [Float](repeating: .nan, count: convolved.count)
        Activation.tanhForward(convolved, &activated, count: convolved.count)
        let pooling = Pooling2DShape(
            planes: shape.batch * shape.outputChannels, height: shape.outputHeight,
            width: shape.outputWidth, kernelSize: 2, stride: 2)
        var pooled = [Float](repeating: .nan, count: pooling.planes * pooling.outputPlaneSize)
        AvgPool2D.forward(input: activated, output: &pooled, shape: pooling)
        return pooled
    }

    func fused(input: [Float], weight: [Float], bias: [Float]?, shape: Convolution2DShape) -> [Float] {
        var output = [Float](repeating: .nan, count: shape.batch * shape.outputChannels * shape.outputPlaneSize / 4)
        if let bias {
            Convolution2D.forwardTanhAveragePool(
                input: input, weight: weight, bias: bias, output: &output, shape: shape)
        } else {
            Convolution2D.forwardTanhAveragePool(input: input, weight: weight, bias: nil, output: &output, shape: shape)
        }
        return output
    }

    /// Images like MNIST's: a blank margin and a blank-or-ink interior (most pixels exactly 0), so blank
    /// windows, skipped kernel rows and computed blocks all occur.
    func sparseImages(_ shape: Convolution2DShape, numbers: inout Numbers) -> [Float] {
        (0..<(shape.batch * shape.inputImageSize)).map { index in
            let row = index / shape.width % shape.height, column = index % shape.width
            let margin = row < shape.height / 5 || row >= shape.height - shape.height / 5 || column < shape.width / 4
            let value = numbers.next()
            return margin || value < 0.2 ? 0 : value
        }
    }

    /// LeNet-5's conv1 on 9 images (split over threads), then one-channel shapes with a short last column
    /// block, a second block of channels with 2 of its 6 used, no padding, and no bias; then LeNet-5's conv2
    /// (output channels in the vector lanes), one with two groups of 16 channels, and one without bias.
    @Test(arguments: [
        (9, 1, 28, 28, 6, 5, 2, true), (3, 1, 12, 12, 8, 3, 1, true), (2, 1, 10, 14, 7, 3, 0, true),
        (2, 1, 16, 16, 6, 5, 2, false),
        (9, 6, 14, 14, 16, 5, 0, true), (3, 8, 12, 10, 32, 3, 0, true), (2, 6, 14, 14, 16, 5, 0, false),
    ])
    func fusedPassMatchesItsThreeSteps(
        batch: Int, inputChannels: Int, height: Int, width: Int, outputChannels: Int, kernel: Int, padding: Int,
        hasBias: Bool
    ) {
        var numbers = Numbers(state: UInt64(batch * 7919 + height * 31 + outputChannels))
        let shape = Convolution2DShape(
            batch: batch, inputChannels: inputChannels, height: height, width: width, outputChannels: outputChannels,
            kernelHeight: kernel, kernelWidth: kernel, padding: padding)
        #expect(Convolution2D.usesFusedTanhAveragePool(shape))
        let input = sparseImages(shape, numbers: &numbers)
        let weight = numbers.array(shape.weightCount).map { $0 * 2 }
        let bias = hasBias ? numbers.array(outputChannels) : nil
        let expected = threeSteps(input: input, weight: weight, bias: bias, shape: shape)
        let output = fused(input: input, weight: weight, bias: bias, shape: shape)
        #expect(output.map(\.bitPattern) == expected.map(\.bitPattern), "\(shape)")
        // And close to the definition, every tap and the exact tanh (the direct kernel skips zero rows too).
        let convolved = Reference.convolution2DForward(input: input, weight: weight, bias: bias, shape: shape)
        let pooling = Pooling2DShape(
            planes: batch * outputChannels, height: shape.outputHeight, width: shape.outputWidth, kernelSize: 2,
            stride: 2)
        let reference = Reference.averagePool2DForward(
            input: convolved.map { Float(Foundation.tanh(Double($0))) }, shape: pooling)
        expectClose(output, reference, absolute: 2e-6, "\(shape)")
    }

    /// A blank image (every window takes the precomputed value), a full one (no window is blank) and one
    /// with a NaN, which reaches the outputs whose windows see it as it does through the three steps.
    @Test func blankFullAndNaNImages() {
        var numbers = Numbers(state: 99)
        let shape = Convolution2DShape(
            batch: 3, inputChannels: 1, height: 28, width: 28, outputChannels: 6,
            kernelHeight: 5, kernelWidth: 5, padding: 2)
        var input = [Float](repeating: 0, count: shape.inputImageSize) + numbers.array(2 * shape.inputImageSize)
        input[2 * shape.inputImageSize + 300] = .nan
        let weight = numbers.array(shape.weightCount), bias = numbers.array(6)
        let expected = threeSteps(input: input, weight: weight, bias: bias, shape: shape)
        let output = fused(input: input, weight: weight, bias: bias, shape: shape)
        #expect(output.count == expected.count)
        let same = zip(output, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        #expect(same)
        #expect(output.contains { $0.isNaN } && output.filter(\.isNaN).count == expected.filter(\.isNaN).count)
    }

    @Test func shapesItDoesNotTake() {
        let conv2 = Convolution2DShape(
            batch: 1, inputChannels: 6, height: 14, width: 14, outputChannels: 16, kernelHeight: 5, kernelWidth: 5)
        #expect(Convolution2D.usesFusedTanhAveragePool(conv2))
        var oddOutput = conv2
        oddOutput.height = 15
        #expect(!Convolution2D.usesFusedTanhAveragePool(oddOutput))
        func shape(channels: Int = 1, size: Int = 28, stride: Int = 1, padding: Int = 2) -> Convolution2DShape {
            Convolution2DShape(
                batch: 1, inputChannels: channels, height: size, width: size, outputChannels: 6,
                kernelHeight: 5, kernelWidth: 5, stride: stride, padding: padding)
        }
        #expect(Convolution2D.usesFusedTanhAveragePool(shape()))
        #expect(!Convolution2D.usesFusedTanhAveragePool(shape(channels: 2))) // padded, not 16 output channels
        #expect(!Convolution2D.usesFusedTanhAveragePool(shape(stride: 2)))
        #expect(!Convolution2D.usesFusedTanhAveragePool(shape(size: 27))) // odd output
        #expect(!Convolution2D.usesFusedTanhAveragePool(shape(padding: 5))) // padding not below the kernel
        #expect(!Convolution2D.usesFusedTanhAveragePool(shape(size: 64))) // rows wider than 64
    }
}
