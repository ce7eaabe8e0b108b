import CVectorKernels
import Hardware
import Testing
@testable import Kernels

/// The AVX-512 inner loops (`CVectorKernels`) against the Swift loops they stand in for, bit for bit, on a CPU
/// with AVX-512 (elsewhere there is nothing to run them on: the Swift loops are then what runs, and the plan
/// tests check those against the naive definition).
@Suite(.enabled(if: vector_kernels_available() && CPUFeatures.detected.level >= .avx512, "needs a CPU with AVX-512"))
struct VectorKernelTests {
    typealias Numbers = KernelParityTests.Numbers

    /// Every shape the direct kernels accept in the plan tests' list and twelve random ones, each also as the
    /// transposed convolution that computes its input gradient (padding K − 1 − p, the output gradient as input,
    /// blank spans skipped where it has one channel).
    static let shapes: [Convolution2DShape] = {
        let accepted = (ConvolutionPlanTests.shapes + (0..<12).map(ConvolutionPlanTests.randomShape)).filter {
            ConvolutionPlan.directProblem($0) == nil
        }
        return accepted.flatMap { shape in
            [
                shape,
                Convolution2DShape(
                    batch: shape.batch, inputChannels: shape.outputChannels, height: shape.outputHeight,
                    width: shape.outputWidth, outputChannels: shape.inputChannels, kernelHeight: shape.kernelHeight,
                    kernelWidth: shape.kernelWidth, padding: shape.kernelHeight - 1 - shape.padding),
            ]
        }
    }()

    /// How many of two equally long lists of bit patterns differ (all of them when the lengths differ): a
    /// count rather than the lists in a failure's message.
    static func differences(_ first: [UInt32], _ second: [UInt32]) -> Int {
        guard first.count == second.count else { return max(first.count, second.count) }
        return zip(first, second).filter { $0 != $1 }.count
    }

    @Test(arguments: shapes)
    func directForwardIsTheSameBitForBit(shape: Convolution2DShape) {
        var numbers = Numbers(state: UInt64(shape.weightCount &* 17 &+ shape.inputImageSize))
        // Blank margins and zeros, as in MNIST, so the one-channel skipping makes blocks with different rows.
        let input = FusedConvolutionTests().sparseImages(shape, numbers: &numbers)
        let weight = numbers.array(shape.weightCount), bias = numbers.array(shape.outputChannels)
        func run(wideVectors: Bool, bias: [Float]?) -> [UInt32] {
            var output = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
            output.withUnsafeMutableBufferPointer { output in
                Convolution2D.directForward(
                    input: input, weight: weight, bias: bias, output: output.baseAddress!, shape: shape,
                    wideVectors: wideVectors)
            }
            return output.map(\.bitPattern)
        }
        for bias in [bias, nil] {
            let swift = run(wideVectors: false, bias: bias), wide = run(wideVectors: true, bias: bias)
            #expect(!swift.contains(Float.nan.bitPattern), "every output written, \(shape)")
            #expect(
                Self.differences(wide, swift) == 0, "AVX-512 against Swift, bias \(bias != nil), \(shape)")
        }
    }

    /// The direct weight gradient's channel pairs in 16 lanes against the Swift kernel's 8-lane blocks of four
    /// channels by two taps, on the shapes above: one output channel (a pair of one, repeated), odd and even
    /// counts (three pairs at a time and the pairs left over), tap counts that split into blocks of six and
    /// shorter, batches split over threads; gradients with zeros, −0, and a NaN in the first image's last
    /// channel (which reaches every sum of that channel in both kernels alike) where there are two or more.
    @Test(arguments: shapes)
    func directWeightGradientIsTheSameBitForBit(shape: Convolution2DShape) {
        var numbers = Numbers(state: UInt64(shape.weightCount &* 29 &+ shape.outputImageSize))
        let input = FusedConvolutionTests().sparseImages(shape, numbers: &numbers)
        var outputGradient = numbers.array(shape.batch * shape.outputImageSize).map { value in
            abs(value) < 0.05 ? (value < 0 ? -0.0 : 0) : value
        }
        if shape.outputChannels > 1 { outputGradient[(shape.outputChannels - 1) * shape.outputPlaneSize] = .nan }
        func run(wideVectors: Bool) -> (weight: [UInt32], bias: [UInt32]) {
            var weightGradient = [Float](repeating: .infinity, count: shape.weightCount)
            var biasGradient = [Float](repeating: .infinity, count: shape.outputChannels)
            Convolution2D.directWeightGradient(
                input: input, outputGradient: outputGradient, weightGradient: &weightGradient,
                biasGradient: &biasGradient, shape: shape, wideVectors: wideVectors)
            return (weightGradient.map(\.bitPattern), biasGradient.map(\.bitPattern))
        }
        let swift = run(wideVectors: false), wide = run(wideVectors: true)
        for values in [swift.weight, swift.bias] {
            #expect(!values.contains(Float.infinity.bitPattern), "every gradient written, \(shape)")
        }
        #expect(swift.weight.contains { !Float(bitPattern: $0).isNaN }, "finite sums to compare, \(shape)")
        #expect(Self.differences(wide.weight, swift.weight) == 0, "weight gradient, AVX-512 against Swift, \(shape)")
        #expect(Self.differences(wide.bias, swift.bias) == 0, "bias gradient, AVX-512 against Swift, \(shape)")
    }

    /// The channels-in-lanes shapes of the plan tests' list, and LeNet-5's conv2 on nine images (split over
    /// threads), 144 taps (whole blocks of twelve) and 75 (a short last block), 48 channels (three groups: a
    /// pair and one alone), a plane of 1 × 1 (a block of one position repeated), 64 channels (two pairs) on
    /// rows of 13 (blocks of 7 and 6 positions) and of 24 (two whole blocks of twelve).
    static let channelsInLanesShapes: [Convolution2DShape] =
        ConvolutionPlanTests.shapes.filter {
            ConvolutionPlan.problem(running: .directChannelsInLanes, on: $0) == nil
        } + [
            ConvolutionPlanTests.shape(9, 6, 14, 14, 16, 5), ConvolutionPlanTests.shape(2, 16, 9, 11, 32, 3),
            ConvolutionPlanTests.shape(3, 3, 8, 8, 48, 5), ConvolutionPlanTests.shape(2, 4, 3, 3, 16, 3),
            ConvolutionPlanTests.shape(3, 8, 15, 15, 64, 3), ConvolutionPlanTests.shape(2, 4, 26, 26, 32, 3),
        ]

    @Test(arguments: channelsInLanesShapes)
    func channelsInLanesKernelsAreTheSameBitForBit(shape: Convolution2DShape) {
        var numbers = Numbers(state: UInt64(shape.weightCount &* 13 &+ shape.batch))
        let input = FusedConvolutionTests().sparseImages(shape, numbers: &numbers)
        let weight = numbers.array(shape.weightCount), bias = numbers.array(shape.outputChannels)
        let outputGradient = numbers.array(shape.batch * shape.outputImageSize)
        func run(wideVectors: Bool) -> (output: [UInt32], weight: [UInt32], bias: [UInt32]) {
            var output = [Float](repeating: .nan, count: shape.batch * shape.outputImageSize)
            var weightGradient = [Float](repeating: .nan, count: shape.weightCount)
            var biasGradient = [Float](repeating: .nan, count: shape.outputChannels)
            Convolution2D.directForwardChannelsInLanes(
                input: input, weight: weight, bias: bias, output: &output, shape: shape, wideVectors: wideVectors)
            Convolution2D.directWeightGradientChannelsInLanes(
                input: input, outputGradient: outputGradient, weightGradient: &weightGradient,
                biasGradient: &biasGradient, shape: shape, wideVectors: wideVectors)
            return (output.map(\.bitPattern), weightGradient.map(\.bitPattern), biasGradient.map(\.bitPattern))
        }
        let swift = run(wideVectors: false), wide = run(wideVectors: true)
        for values in [swift.output, swift.weight, swift.bias] {
            #expect(!values.contains(Float.nan.bitPattern), "every value written, \(shape)")
        }
        #expect(Self.differences(wide.output, swift.output) == 0, "forward, AVX-512 against Swift, \(shape)")
        #expect(Self.differences(wide.weight, swift.weight) == 0, "weight gradient, AVX-512 against Swift, \(shape)")
        #expect(Self.differences(wide.bias, swift.bias) == 0, "bias gradient, AVX-512 against Swift, \(shape)")
    }

    /// The fused tanh and 2 × 2 average pooling in 16 lanes against the Swift loops, in inference and keeping
    /// the tanh for training: LeNet-5's two planes, rows of 32 (two whole vectors), 17 and 9 (a short second or
    /// first vector), odd heights and widths (a row and a column in no window), a row of one window; inputs
    /// with NaN, ±∞, ±0, values past the clamp at ±9 and tiny ones.
    @Test(arguments: [(70, 28, 28), (9, 10, 10), (3, 4, 32), (2, 5, 17), (3, 7, 9), (2, 3, 2)])
    func tanhAveragePoolingIsTheSameBitForBit(planes: Int, height: Int, width: Int) {
        var numbers = Numbers(state: UInt64(planes * 1000 + height * 31 + width))
        let shape = Pooling2DShape(planes: planes, height: height, width: width, kernelSize: 2, stride: 2)
        let subnormal = -Float.leastNormalMagnitude / 1024
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 9, -9, 12, -30, 1e-30, subnormal]
        let input = numbers.array(planes * shape.inputPlaneSize).enumerated().map { index, value in
            index % 7 == 3 ? specials[index / 7 % specials.count] : value * 8
        }
        func run(wideVectors: Bool, keeping: Bool) -> (output: [UInt32], activated: [UInt32]) {
            var output = [Float](repeating: .infinity, count: planes * shape.outputPlaneSize)
            var activated = [Float](repeating: .infinity, count: input.count)
            if keeping {
                AvgPool2D.tanhForwardTwoByTwo(
                    input: input, output: &output, shape: shape, activated: &activated, wideVectors: wideVectors)
            } else {
                AvgPool2D.tanhForwardTwoByTwo(input: input, output: &output, shape: shape, wideVectors: wideVectors)
            }
            return (output.map(\.bitPattern), activated.map(\.bitPattern))
        }
        for keeping in [false, true] {
            let swift = run(wideVectors: false, keeping: keeping), wide = run(wideVectors: true, keeping: keeping)
            #expect(!swift.output.contains(Float.infinity.bitPattern), "every output written, \(shape)")
            #expect(Self.differences(wide.output, swift.output) == 0, "output, keeping \(keeping), \(shape)")
            #expect(Self.differences(wide.activated, swift.activated) == 0, "tanh, keeping \(keeping), \(shape)")
        }
    }

    /// The output gradient's transposition to channels-last, alone: one and two groups of sixteen channels, one
    /// position, a whole block of sixteen, a short last block, a plane of 10 × 10; every element in its place.
    @Test(arguments: [(16, 1), (16, 16), (32, 21), (32, 100)])
    func theTransposeMakesTheGradientChannelsLast(channels: Int, positions: Int) {
        var numbers = Numbers(state: UInt64(channels * 1000 + positions))
        let planes = numbers.array(channels * positions)
        var rows = [Float](repeating: .nan, count: channels * positions)
        vector_transpose_channels_last(planes, channels, positions, &rows)
        let misplaced = (0..<channels).flatMap { channel in
            (0..<positions).filter { position in
                rows[position * channels + channel].bitPattern != planes[channel * positions + position].bitPattern
            }
        }
        #expect(misplaced.isEmpty, "\(misplaced.count) elements misplaced, \(channels) channels × \(positions)")
    }

    /// The kernel alone: one and two blocks, rows skipped, against sums written out here in the same order.
    @Test func theBlockKernelSumsTheChosenKernelRowsInOrder() {
        var numbers = Numbers(state: 7)
        let (kernel, tapsPerKernelRow, runStride) = (5, 10, 40)
        let values = numbers.array(400), weights = numbers.array(kernel * tapsPerKernelRow * 6)
        let tapOffsets = (0..<(kernel * tapsPerKernelRow)).map { $0 * 7 % 300 }
        let rows: UInt64 = 0b10110
        for blocks in [1, 2] {
            var runs = [Float](repeating: .nan, count: 6 * runStride)
            vector_direct_forward_six_channels(
                values, tapOffsets, weights, rows, tapsPerKernelRow, Int32(blocks), &runs, runStride)
            for channel in 0..<6 {
                for position in 0..<runStride {
                    var expected: Float = 0
                    for row in 0..<kernel where rows >> row & 1 == 1 {
                        for tap in (row * tapsPerKernelRow)..<((row + 1) * tapsPerKernelRow) {
                            // One fused multiply-add per tap, as the kernel does.
                            expected.addProduct(values[tapOffsets[tap] + position], weights[tap * 6 + channel])
                        }
                    }
                    let written = position < 16 * blocks
                    #expect(
                        written
                            ? runs[channel * runStride + position].bitPattern == expected.bitPattern
                            : runs[channel * runStride + position].isNaN,
                        "blocks \(blocks), channel \(channel), position \(position)")
                }
            }
        }
    }

    /// The sparse product's AVX-512 listing of nonzero inputs and its blocks of 128 outputs against the Swift
    /// loops: outputs in whole blocks of 128 only, with a block of 64, vectors of 8 and a scalar tail after them,
    /// and fewer than 128 (no wide block); one row and more rows than a group; inputs in one range and several;
    /// MNIST-like zeros; with and without bias.
    @Test(arguments: [
        (100, 784, 784), (1, 784, 784), (70, 300, 256), (65, 200, 200), (3, 100, 331), (40, 70, 127),
    ])
    func sparseForwardIsTheSameBitForBit(rows: Int, inputs: Int, outputs: Int) {
        var numbers = Numbers(state: UInt64(rows * 977 + inputs * 13 + outputs))
        let input = (0..<(rows * inputs)).map { _ in
            let value = numbers.next()
            // Some zeros negative: not listed by either (−0 == 0), as in the Swift loop.
            return value < 0.62 ? (value < 0.1 ? -0.0 : 0) : value
        }
        let transposed = numbers.array(inputs * outputs), bias = numbers.array(outputs)
        func run(wideVectors: Bool, bias: [Float]?) -> [UInt32] {
            var output = [Float](repeating: .nan, count: rows * outputs)
            SparseLinear.forward(
                input: input, rows: rows, inputs: inputs, transposedWeight: transposed, bias: bias, outputs: outputs,
                output: &output, wideVectors: wideVectors)
            return output.map(\.bitPattern)
        }
        for bias in [bias, nil] {
            let swift = run(wideVectors: false, bias: bias), wide = run(wideVectors: true, bias: bias)
            #expect(!swift.contains(Float.nan.bitPattern), "every output written, \(rows) × \(inputs) → \(outputs)")
            #expect(
                Self.differences(wide, swift) == 0,
                "AVX-512 against Swift, bias \(bias != nil), \(rows) × \(inputs) → \(outputs)")
        }
    }
}
