import Testing

@testable import Kernels

/// The fused convolution + 2 × 2 max pooling (`Convolution2D.forwardMaxPool`, the first stage of `FastCNN` and
/// of the simple CNN) against the convolution then the pooling, bit for bit: values and indices.
@Suite struct FusedMaxPoolingTests {
    typealias Numbers = KernelParityTests.Numbers

    /// `forward`, then `MaxPool2D.forward`: the values and the indices.
    func twoSteps(input: [Float], weight: [Float], bias: [Float]?, shape: Convolution2DShape) -> ([Float], [Int32]) {
        var convolved = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
        convolved.withUnsafeMutableBufferPointer { output in
            Convolution2D.forward(input: input, weight: weight, bias: bias, output: output.baseAddress!, shape: shape)
        }
        let pooling = Pooling2DShape(
            planes: shape.batch * shape.outputChannels, height: shape.outputHeight, width: shape.outputWidth,
            kernelSize: 2, stride: 2)
        var pooled = [Float](repeating: .nan, count: pooling.planes * pooling.outputPlaneSize)
        var indices = [Int32](repeating: -1, count: pooled.count)
        MaxPool2D.forward(input: convolved, output: &pooled, indices: &indices, shape: pooling)
        return (pooled, indices)
    }

    /// The direct kernel: FastCNN's and the simple CNN's conv1 (9 images split over threads), LeNet-5's padded
    /// conv1, an odd convolution output (the last row and column outside every window), a second block of
    /// channels with 1 of its 6 used, several input channels, no bias. Channels in the lanes: FastCNN's conv2
    /// (5 × 5 pooled planes, rows of fewer than 8 windows), LeNet-5's conv2, an odd output with two groups of 16
    /// channels, no bias. NaN, −0 and blank rows in the images.
    @Test(arguments: [
        (9, 1, 28, 28, 12, 5, 0, true), (3, 1, 28, 28, 32, 5, 0, true), (2, 1, 28, 28, 6, 5, 2, true),
        (2, 1, 29, 31, 7, 5, 0, true), (2, 3, 20, 20, 4, 3, 1, true), (2, 1, 24, 24, 6, 3, 0, false),
        (5, 12, 12, 12, 32, 3, 0, true), (3, 6, 14, 14, 16, 5, 0, true), (2, 8, 13, 11, 32, 3, 0, true),
        (2, 12, 12, 12, 16, 3, 0, false),
    ])
    func fusedPassMatchesItsTwoSteps(
        batch: Int, inputChannels: Int, height: Int, width: Int, outputChannels: Int, kernel: Int, padding: Int,
        hasBias: Bool
    ) {
        var numbers = Numbers(state: UInt64(batch * 7919 + height * 31 + outputChannels))
        let shape = Convolution2DShape(
            batch: batch, inputChannels: inputChannels, height: height, width: width, outputChannels: outputChannels,
            kernelHeight: kernel, kernelWidth: kernel, padding: padding)
        #expect(Convolution2D.usesFusedMaxPool(shape), "\(shape)")
        var input = numbers.array(batch * shape.inputImageSize).enumerated().map { index, value in
            index / width % height < 4 || value < 0.1 ? 0 : value
        }
        input[shape.inputImageSize / 2] = .nan
        input[shape.inputImageSize / 2 + 3 * width] = -0.0
        let weight = numbers.array(shape.weightCount)
        let bias = hasBias ? numbers.array(outputChannels) : nil
        let (expected, expectedIndices) = twoSteps(input: input, weight: weight, bias: bias, shape: shape)
        var output = [Float](repeating: .nan, count: expected.count)
        var indices = [Int32](repeating: -1, count: expected.count)
        output.withUnsafeMutableBufferPointer { output in
            indices.withUnsafeMutableBufferPointer { indices in
                Convolution2D.forwardMaxPool(
                    input: input, weight: weight, bias: bias, output: output.baseAddress!,
                    indices: indices.baseAddress!, shape: shape)
            }
        }
        #expect(output.map(\.bitPattern) == expected.map(\.bitPattern), "\(shape)")
        #expect(indices == expectedIndices, "\(shape)")
        #expect(output.contains { $0.isNaN })
    }

    @Test func shapesItDoesNotTake() {
        func shape(channels: Int = 1, size: Int = 28, outputChannels: Int = 12, stride: Int = 1) -> Convolution2DShape {
            Convolution2DShape(
                batch: 1, inputChannels: channels, height: size, width: size, outputChannels: outputChannels,
                kernelHeight: 5, kernelWidth: 5, stride: stride)
        }
        #expect(Convolution2D.usesFusedMaxPool(shape()))
        #expect(!Convolution2D.usesFusedMaxPool(shape(size: 14))) // 10 × 10 → 5 × 5: rows of fewer than 8 windows
        #expect(Convolution2D.usesFusedMaxPool(shape(channels: 12, size: 12, outputChannels: 32))) // channels in lanes
        #expect(!Convolution2D.usesFusedMaxPool(shape(channels: 12, size: 5, outputChannels: 32))) // fully connected
        #expect(!Convolution2D.usesFusedMaxPool(shape(stride: 2)))
    }
}
