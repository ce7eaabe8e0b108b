import CVectorKernels

#if arch(x86_64)
import _Builtin_intrinsics.intel
import Preconditions
#endif

/// The geometry of a 2-D convolution: input [batch, inputChannels, height, width] (NCHW), weight
/// [outputChannels, inputChannels, kernelHeight, kernelWidth] (OIHW, PyTorch's layout), zero padding on
/// every side, the same stride both ways.
public struct Convolution2DShape: Equatable, Sendable {
    public var batch: Int
    public var inputChannels: Int
    public var height: Int
    public var width: Int
    public var outputChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var padding: Int

    public init(
        batch: Int, inputChannels: Int, height: Int, width: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0
    ) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.height = height
        self.width = width
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    public var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Elements of one input image.
    public var inputImageSize: Int { inputChannels * height * width }
    /// Elements of one output image.
    public var outputImageSize: Int { outputChannels * outputPlaneSize }
    /// Output positions per channel.
    public var outputPlaneSize: Int { outputHeight * outputWidth }
    /// Inputs one output element sees: inputChannels · kernelHeight · kernelWidth.
    public var patchSize: Int { inputChannels * kernelHeight * kernelWidth }
    public var weightCount: Int { outputChannels * patchSize }
}

/// 2-D convolution kernels: im2col + BLAS, direct register-blocked SIMD kernels, and one product over the batch
/// for fully connected shapes. `ConvolutionPlan` chooses which runs each phase (`ConvolutionPlan(shape:cpu:)`,
/// the planner, unless a plan is given). `Reference.convolution2DForward/Backward` is the naive twin the tests
/// compare every algorithm against.
public enum Convolution2D {
    /// output[N, Cout, OH, OW] = weight ⊛ input + bias, by `plan.forward` (default: the planner's).
    /// input: [N, Cin, H, W], weight: [Cout, Cin, KH, KW], bias: [Cout] or nil, output: [N, Cout, OH, OW].
    /// A plan that cannot run `shape` (`ConvolutionPlan.isValid(for:)`) stops the program with the reason.
    public static func forward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape, plan: ConvolutionPlan? = nil
    ) {
        let plan = plan ?? ConvolutionPlan(shape: shape)
        plan.require(validFor: shape)
        switch plan.forward {
        case .direct: directForward(input: input, weight: weight, bias: bias, output: output, shape: shape)
        case .directChannelsInLanes:
            directForwardChannelsInLanes(input: input, weight: weight, bias: bias, output: output, shape: shape)
        case .fullyConnected:
            fullyConnectedForward(input: input, weight: weight, bias: bias, output: output, shape: shape)
        case .imageToColumns:
            imageToColumnsForward(input: input, weight: weight, bias: bias, output: output, shape: shape)
        }
    }

    /// Whether `forwardMaxPool` runs `shape` with `plan` (default: the planner's): the plan's forward pass is the
    /// direct kernel (`ConvolutionPlan.Algorithm.direct`), whose blocks of outputs the pooling takes while they
    /// are in L1, with pooled rows of at least 8 windows (one vector of windows at a time); or the direct kernel
    /// with channels in the lanes, whose image the pooling takes from an L1 scratch, any size of at least 2 × 2.
    public static func usesFusedMaxPool(_ shape: Convolution2DShape, plan: ConvolutionPlan? = nil) -> Bool {
        let plan = plan ?? ConvolutionPlan(shape: shape)
        guard plan.isValid(for: shape), shape.outputHeight >= 2, shape.outputWidth >= 2 else { return false }
        switch plan.forward {
        case .direct: return shape.outputWidth / 2 >= 8
        case .directChannelsInLanes: return true
        case .fullyConnected, .imageToColumns: return false
        }
    }

    /// `forward` then `MaxPool2D.forward` with 2 × 2 windows and stride 2, bit for bit, in one pass whose
    /// convolution outputs are never written out: each image's block of six channels is pooled from the direct
    /// kernel's runs, bias added; with channels in the lanes, each image's output is pooled from a scratch the
    /// size of one image. output: [N, Cout, OH / 2, OW / 2]; indices: the same shape, each window's
    /// maximum's index in its [OH, OW] convolution plane (for `MaxPool2D.backward`). Only where
    /// `usesFusedMaxPool`; elsewhere a precondition failure.
    public static func forwardMaxPool(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>, shape: Convolution2DShape,
        plan: ConvolutionPlan? = nil
    ) {
        checkPrecondition(
            usesFusedMaxPool(shape, plan: plan), "forwardMaxPool has no fused kernel for \(shape) with the plan")
        if (plan ?? ConvolutionPlan(shape: shape)).forward == .direct {
            directForward(
                input: input, weight: weight, bias: bias, output: output, shape: shape, pooledIndices: indices)
        } else {
            directForwardChannelsInLanes(
                input: input, weight: weight, bias: bias, output: output, shape: shape, pooledIndices: indices)
        }
    }

    /// Gradients of `forward`, by `plan.weightGradient` and `plan.inputGradient` (default: the planner's).
    /// outputGradient: [N, Cout, OH, OW]; weightGradient: [Cout, Cin, KH, KW] and biasGradient: [Cout] are
    /// overwritten; inputGradient: [N, Cin, H, W] is overwritten when given (pass nil when the input needs no
    /// gradient, as for a network's first layer: that saves a third of the work). A plan that cannot run
    /// `shape` stops the program with the reason.
    public static func backward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, shape: Convolution2DShape, plan: ConvolutionPlan? = nil
    ) {
        let plan = plan ?? ConvolutionPlan(shape: shape)
        plan.require(validFor: shape)
        // im2col's weight gradient builds each image's columns anyway: the columns input gradient reuses its loop.
        let inputGradientInWeightLoop = plan.weightGradient == .imageToColumns && plan.inputGradient == .columns
        switch plan.weightGradient {
        case .direct:
            directWeightGradient(
                input: input, outputGradient: outputGradient, weightGradient: weightGradient,
                biasGradient: biasGradient, shape: shape)
        case .directChannelsInLanes:
            directWeightGradientChannelsInLanes(
                input: input, outputGradient: outputGradient, weightGradient: weightGradient,
                biasGradient: biasGradient, shape: shape)
        case .fullyConnected:
            fullyConnectedWeightGradient(
                input: input, outputGradient: outputGradient, weightGradient: weightGradient,
                biasGradient: biasGradient, shape: shape)
        case .imageToColumns:
            imageToColumnsWeightGradient(
                input: input, weight: weight, outputGradient: outputGradient, weightGradient: weightGradient,
                biasGradient: biasGradient, inputGradient: inputGradientInWeightLoop ? inputGradient : nil, shape: shape
            )
        }
        guard let inputGradient, !inputGradientInWeightLoop else { return }
        runInputGradient(
            plan.inputGradient, weight: weight, outputGradient: outputGradient, inputGradient: inputGradient,
            shape: shape)
    }

    /// The input gradient alone, by `plan.inputGradient` (default: the planner's): the same values `backward`
    /// writes. outputGradient: [N, Cout, OH, OW]; inputGradient: [N, Cin, H, W] is overwritten. A plan that
    /// cannot run `shape` stops the program with the reason.
    public static func inputGradient(
        weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        shape: Convolution2DShape, plan: ConvolutionPlan? = nil
    ) {
        let plan = plan ?? ConvolutionPlan(shape: shape)
        plan.require(validFor: shape)
        runInputGradient(
            plan.inputGradient, weight: weight, outputGradient: outputGradient, inputGradient: inputGradient,
            shape: shape)
    }

    static func runInputGradient(
        _ algorithm: ConvolutionPlan.InputGradientAlgorithm, weight: UnsafePointer<Float>,
        outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        switch algorithm {
        case .directTransposed:
            directTransposedInputGradient(
                weight: weight, outputGradient: outputGradient, inputGradient: inputGradient, shape: shape)
        case .columns:
            columnsInputGradient(
                weight: weight, outputGradient: outputGradient, inputGradient: inputGradient, shape: shape)
        case .fullyConnected:
            fullyConnectedInputGradient(
                weight: weight, outputGradient: outputGradient, inputGradient: inputGradient, shape: shape)
        }
    }

    /// `forward` by im2col: each image's columns, then [Cout × P] = W[Cout × CKK] · columns[CKK × P] through
    /// BLAS (bias first, then beta 1), parallel over the batch.
    static func imageToColumnsForward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        let plane = shape.outputPlaneSize
        Parallel.forEachChunk(of: shape.batch) { images in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: shape.patchSize * plane)
            defer { columns.deallocate() }
            for image in images {
                let imageOutput = output + image * shape.outputImageSize
                if let bias {
                    for channel in 0..<shape.outputChannels {
                        (imageOutput + channel * plane).update(repeating: bias[channel], count: plane)
                    }
                }
                imageToColumns(input + image * shape.inputImageSize, columns, shape)
                // [Cout × P] = [Cout × CKK] · [CKK × P]
                BLAS.gemm(
                    m: shape.outputChannels, n: plane, k: shape.patchSize,
                    a: weight, lda: shape.patchSize, b: columns, ldb: plane,
                    beta: bias == nil ? 0 : 1, c: imageOutput, ldc: plane)
            }
        }
    }

    /// The weight and bias gradients by im2col: dW[Cout × CKK] += dY[Cout × P] · colᵀ[P × CKK] per image, one
    /// partial sum per chunk of the batch, added in chunk order (deterministic). When `inputGradient` is
    /// given, each image's input gradient too (`columnsInputGradient`'s products, on the same columns buffer).
    static func imageToColumnsWeightGradient(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
        inputGradient: UnsafeMutablePointer<Float>?, shape: Convolution2DShape
    ) {
        let plane = shape.outputPlaneSize
        let chunks = Parallel.chunks(of: shape.batch)
        // One partial weight and bias gradient per chunk, summed in chunk order afterwards (deterministic).
        let partialStride = shape.weightCount + shape.outputChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunks.count) * partialStride)
        partials.initialize(repeating: 0, count: max(1, chunks.count) * partialStride)
        defer { partials.deallocate() }

        Parallel.forEachIndexedChunk(of: shape.batch) { chunkIndex, images in
            let partialWeight = partials + chunkIndex * partialStride
            let partialBias = partialWeight + shape.weightCount
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: shape.patchSize * plane)
            defer { columns.deallocate() }
            for image in images {
                let imageGradient = outputGradient + image * shape.outputImageSize
                imageToColumns(input + image * shape.inputImageSize, columns, shape)
                // dW[Cout × CKK] += dY[Cout × P] · colᵀ[P × CKK]
                BLAS.gemm(
                    transposeB: true, m: shape.outputChannels, n: shape.patchSize, k: plane,
                    a: imageGradient, lda: plane, b: columns, ldb: plane,
                    beta: 1, c: partialWeight, ldc: shape.patchSize)
                for channel in 0..<shape.outputChannels {
                    var sum: Float = 0
                    let row = imageGradient + channel * plane
                    for position in 0..<plane { sum += row[position] }
                    partialBias[channel] += sum
                }
                if let inputGradient {
                    columnsImageInputGradient(
                        weight: weight, imageGradient: imageGradient, columns: columns,
                        inputGradient: inputGradient + image * shape.inputImageSize, shape: shape)
                }
            }
        }
        weightGradient.update(from: partials, count: shape.weightCount)
        biasGradient?.update(from: partials + shape.weightCount, count: shape.outputChannels)
        for chunk in 1..<max(1, chunks.count) {
            let partial = partials + chunk * partialStride
            for index in 0..<shape.weightCount { weightGradient[index] += partial[index] }
            if let biasGradient {
                for channel in 0..<shape.outputChannels {
                    biasGradient[channel] += partial[shape.weightCount + channel]
                }
            }
        }
    }

    /// The input gradient through BLAS and col2im, parallel over the batch (`columnsImageInputGradient`).
    static func columnsInputGradient(
        weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        shape: Convolution2DShape
    ) {
        Parallel.forEachChunk(of: shape.batch) { images in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: shape.patchSize * shape.outputPlaneSize)
            defer { columns.deallocate() }
            for image in images {
                columnsImageInputGradient(
                    weight: weight, imageGradient: outputGradient + image * shape.outputImageSize, columns: columns,
                    inputGradient: inputGradient + image * shape.inputImageSize, shape: shape)
            }
        }
    }

    /// One image's input gradient: dcol[CKK × P] = Wᵀ[CKK × Cout] · dY[Cout × P], then scattered back to the
    /// image (`columnsToImage`). `columns` is scratch of CKK · P values.
    @inline(__always)
    static func columnsImageInputGradient(
        weight: UnsafePointer<Float>, imageGradient: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        let plane = shape.outputPlaneSize
        BLAS.gemm(
            transposeA: true, m: shape.patchSize, n: plane, k: shape.outputChannels,
            a: weight, lda: shape.patchSize, b: imageGradient, ldb: plane,
            c: columns, ldc: plane)
        columnsToImage(columns, inputGradient, shape)
    }

    /// The input gradient as the full correlation of outputGradient with the flipped, transposed kernel: a
    /// stride-1 convolution of dY [N, Cout, OH, OW] with padding K − 1 − p, whose output is [N, Cin, H, W],
    /// run by `directForward` without columns.
    static func directTransposedInputGradient(
        weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        shape: Convolution2DShape
    ) {
        let flipped = UnsafeMutablePointer<Float>.allocate(capacity: shape.weightCount)
        defer { flipped.deallocate() }
        let (kernelHeight, kernelWidth) = (shape.kernelHeight, shape.kernelWidth)
        for outputChannel in 0..<shape.outputChannels {
            for inputChannel in 0..<shape.inputChannels {
                for kernelY in 0..<kernelHeight {
                    for kernelX in 0..<kernelWidth {
                        flipped[
                            ((inputChannel * shape.outputChannels + outputChannel) * kernelHeight + kernelHeight - 1
                                - kernelY) * kernelWidth + kernelWidth - 1 - kernelX] =
                            weight[
                                ((outputChannel * shape.inputChannels + inputChannel) * kernelHeight + kernelY)
                                    * kernelWidth + kernelX]
                    }
                }
            }
        }
        let transposed = Convolution2DShape(
            batch: shape.batch, inputChannels: shape.outputChannels, height: shape.outputHeight,
            width: shape.outputWidth, outputChannels: shape.inputChannels, kernelHeight: kernelHeight,
            kernelWidth: kernelWidth, stride: 1, padding: kernelHeight - 1 - shape.padding)
        directForward(input: outputGradient, weight: flipped, bias: nil, output: inputGradient, shape: transposed)
    }

    /// `forward` for a fully connected shape: each image is exactly one patch in im2col order, so
    /// [N × Cout] = X[N × CKK] · Wᵀ[CKK × Cout] + bias, one product over the batch with no columns to build.
    static func fullyConnectedForward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        if let bias {
            for image in 0..<shape.batch {
                (output + image * shape.outputChannels).update(from: bias, count: shape.outputChannels)
            }
        }
        BLAS.parallelGemm(
            transposeB: true, m: shape.batch, n: shape.outputChannels, k: shape.patchSize,
            a: input, lda: shape.patchSize, b: weight, ldb: shape.patchSize,
            beta: bias == nil ? 0 : 1, c: output, ldc: shape.outputChannels)
    }

    /// The weight and bias gradients of a fully connected shape: input [N × CKK], dY [N × Cout].
    static func fullyConnectedWeightGradient(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, shape: Convolution2DShape
    ) {
        let (batch, outputs, patch) = (shape.batch, shape.outputChannels, shape.patchSize)
        // dW[Cout × CKK] = dYᵀ[Cout × N] · X[N × CKK]
        BLAS.parallelGemm(
            transposeA: true, m: outputs, n: patch, k: batch, a: outputGradient, lda: outputs,
            b: input, ldb: patch, c: weightGradient, ldc: patch)
        if let biasGradient {
            biasGradient.update(repeating: 0, count: outputs)
            for image in 0..<batch {
                for channel in 0..<outputs { biasGradient[channel] += outputGradient[image * outputs + channel] }
            }
        }
    }

    /// The input gradient of a fully connected shape: dX[N × CKK] = dY[N × Cout] · W[Cout × CKK].
    static func fullyConnectedInputGradient(
        weight: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        shape: Convolution2DShape
    ) {
        let (batch, outputs, patch) = (shape.batch, shape.outputChannels, shape.patchSize)
        BLAS.parallelGemm(
            m: batch, n: patch, k: outputs, a: outputGradient, lda: outputs, b: weight, ldb: patch,
            c: inputGradient, ldc: patch)
    }

    /// The row stride of the direct kernels' padded images: W + p, not W + 2p. Each row holds p zeros and
    /// then its W values, and the p zeros that start the next row (or the bottom padding) serve as its
    /// right padding: a read past column W + p − 1 lands in them. Output row y's OW = W + 2p − K + 1 ≤ W + p
    /// positions (p < K) then fit in one row, and fewer padding columns are computed and dropped.
    @inlinable
    static func paddedWidth(_ shape: Convolution2DShape) -> Int { shape.width + shape.padding }

    /// `directWeightGradient` with output channels in the vector lanes (`ConvolutionPlan.Algorithm.directChannelsInLanes`):
    /// six taps by sixteen channels of dW accumulate over every valid output position of an image, each
    /// position's sixteen gradients (transposed to channels-last first) loaded once for six broadcast inputs;
    /// the images' sums are added in order. No lanes are spent on the K − 1 columns per row that runs over
    /// the padded width would carry. Chunks' partial sums are added in chunk order.
    ///
    /// With `wideVectors` (default: `VectorKernels.enabled`, on CPUs with AVX-512), blocks of up to twelve taps
    /// by two 16-lane vectors of channels (`vector_channels_in_lanes_weight_gradient`; a group left alone by
    /// itself), one broadcast input per two multiply-adds: each sum the same fused multiply-adds in the same
    /// order, so the same gradients bit for bit.
    static func directWeightGradientChannelsInLanes(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, shape: Convolution2DShape, wideVectors: Bool = VectorKernels.enabled
    ) {
        let kernel = shape.kernelHeight, outputChannels = shape.outputChannels
        let (width, outputHeight, outputWidth, positions) = (
            shape.width, shape.outputHeight, shape.outputWidth, shape.outputPlaneSize
        )
        let taps = shape.patchSize
        let blockTaps = 6 // the 8-lane path's blocks of taps
        let tapOffsets = (0..<taps).map { tap in
            (tap / (kernel * kernel)) * shape.height * width + (tap / kernel % kernel) * width + tap % kernel
        }
        let chunks = Parallel.chunks(of: shape.batch)
        let partialStride = shape.weightCount + outputChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunks.count) * partialStride)
        defer { partials.deallocate() }

        Parallel.forEachIndexedChunk(of: shape.batch) { chunkIndex, images in
            let partialWeight = partials + chunkIndex * partialStride
            let partialBias = partialWeight + shape.weightCount
            // [image, position, channel]
            let gradients = UnsafeMutablePointer<Float>.allocate(capacity: images.count * positions * outputChannels)
            // With `wideVectors`: the chunk's sums, [taps, channels].
            let chunkSums = UnsafeMutablePointer<Float>.allocate(capacity: wideVectors ? taps * outputChannels : 0)
            defer {
                gradients.deallocate()
                chunkSums.deallocate()
            }
            for (index, image) in images.enumerated() {
                let source = outputGradient + image * shape.outputImageSize
                let target = gradients + index * positions * outputChannels
                if wideVectors {
                    vector_transpose_channels_last(source, outputChannels, positions, target)
                    continue
                }
                for channel in 0..<outputChannels {
                    for position in 0..<positions {
                        target[position &* outputChannels &+ channel] = source[channel &* positions &+ position]
                    }
                }
            }
            if wideVectors {
                for (index, image) in images.enumerated() {
                    vector_channels_in_lanes_weight_gradient(
                        input + image * shape.inputImageSize, tapOffsets, taps, width, outputHeight, outputWidth,
                        gradients + index * positions * outputChannels, outputChannels, index > 0, chunkSums)
                }
                for channel in 0..<outputChannels {
                    for tap in 0..<taps {
                        partialWeight[channel * taps + tap] = chunkSums[tap * outputChannels + channel]
                    }
                }
            }
            for group in 0..<(outputChannels / 16) {
                var biasA = SIMD8<Float>(), biasB = SIMD8<Float>()
                for index in 0..<images.count {
                    var imageA = SIMD8<Float>(), imageB = SIMD8<Float>()
                    for position in 0..<positions {
                        let rowStart = UnsafeRawPointer(
                            gradients + (index * positions + position) * outputChannels + group * 16)
                        imageA += rowStart.loadUnaligned(as: SIMD8<Float>.self)
                        imageB += rowStart.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    }
                    biasA += imageA
                    biasB += imageB
                }
                for lane in 0..<8 {
                    partialBias[group * 16 + lane] = biasA[lane]
                    partialBias[group * 16 + 8 + lane] = biasB[lane]
                }
                if wideVectors { continue }
                for firstTap in stride(from: 0, to: taps, by: blockTaps) {
                    // A short last block repeats its last tap (its sums are not stored).
                    let offsets = (0..<blockTaps).map { tapOffsets[min(firstTap + $0, taps - 1)] }
                    let (offset0, offset1, offset2) = (offsets[0], offsets[1], offsets[2])
                    let (offset3, offset4, offset5) = (offsets[3], offsets[4], offsets[5])
                    for (index, image) in images.enumerated() {
                        // One image's sums (OH·OW products each) are added to the chunk's afterwards: one
                        // accumulator over the whole chunk (36,864 products for VGG's conv2 on one thread)
                        // lost a digit against PyTorch.
                        var sum0a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1a = SIMD8<Float>()
                        var sum1b = SIMD8<Float>(), sum2a = SIMD8<Float>(), sum2b = SIMD8<Float>()
                        var sum3a = SIMD8<Float>(), sum3b = SIMD8<Float>(), sum4a = SIMD8<Float>()
                        var sum4b = SIMD8<Float>(), sum5a = SIMD8<Float>(), sum5b = SIMD8<Float>()
                        let source = input + image * shape.inputImageSize
                        let imageGradients = UnsafeRawPointer(
                            gradients + index * positions * outputChannels + group * 16)
                        for outputY in 0..<outputHeight {
                            for outputX in 0..<outputWidth {
                                let inputs = source + (outputY &* width &+ outputX)
                                let gradientOffset = (outputY &* outputWidth &+ outputX) &* outputChannels &* 4
                                let gradientA = imageGradients.loadUnaligned(
                                    fromByteOffset: gradientOffset, as: SIMD8<Float>.self)
                                let gradientB = imageGradients.loadUnaligned(
                                    fromByteOffset: gradientOffset &+ 32, as: SIMD8<Float>.self)
                                var value = SIMD8<Float>(repeating: inputs[offset0])
                                sum0a.addProduct(value, gradientA)
                                sum0b.addProduct(value, gradientB)
                                value = SIMD8(repeating: inputs[offset1])
                                sum1a.addProduct(value, gradientA)
                                sum1b.addProduct(value, gradientB)
                                value = SIMD8(repeating: inputs[offset2])
                                sum2a.addProduct(value, gradientA)
                                sum2b.addProduct(value, gradientB)
                                value = SIMD8(repeating: inputs[offset3])
                                sum3a.addProduct(value, gradientA)
                                sum3b.addProduct(value, gradientB)
                                value = SIMD8(repeating: inputs[offset4])
                                sum4a.addProduct(value, gradientA)
                                sum4b.addProduct(value, gradientB)
                                value = SIMD8(repeating: inputs[offset5])
                                sum5a.addProduct(value, gradientA)
                                sum5b.addProduct(value, gradientB)
                            }
                        }
                        // Tap firstTap + offset's sums; the repeats of a short last block are left out (they
                        // would be added twice).
                        func store(_ offset: Int, _ sumA: SIMD8<Float>, _ sumB: SIMD8<Float>) {
                            guard firstTap + offset < taps else { return }
                            for lane in 0..<8 {
                                let first = (group * 16 + lane) * taps + firstTap + offset
                                let second = first + 8 * taps
                                if index == 0 {
                                    (partialWeight[first], partialWeight[second]) = (sumA[lane], sumB[lane])
                                } else {
                                    partialWeight[first] += sumA[lane]
                                    partialWeight[second] += sumB[lane]
                                }
                            }
                        }
                        store(0, sum0a, sum0b)
                        store(1, sum1a, sum1b)
                        store(2, sum2a, sum2b)
                        store(3, sum3a, sum3b)
                        store(4, sum4a, sum4b)
                        store(5, sum5a, sum5b)
                    }
                }
            }
        }
        weightGradient.update(from: partials, count: shape.weightCount)
        biasGradient?.update(from: partials + shape.weightCount, count: outputChannels)
        for chunk in 1..<max(1, chunks.count) {
            let partial = partials + chunk * partialStride
            for index in 0..<shape.weightCount { weightGradient[index] += partial[index] }
            if let biasGradient {
                for channel in 0..<outputChannels { biasGradient[channel] += partial[shape.weightCount + channel] }
            }
        }
    }

    /// Direct convolution with output channels in the vector lanes (`ConvolutionPlan.Algorithm.directChannelsInLanes`:
    /// stride 1, square kernel, no padding, a multiple of 16 output channels): six output positions by sixteen
    /// channels at a time, twelve fused multiply-add accumulators; per tap, six broadcast inputs and two
    /// vectors of packed weights. Only valid output positions are computed (`directForward` computes and
    /// drops K − 1 columns per row: 40% of the work for a 5 × 5 kernel on a 10-wide output).
    /// input: [N, Cin, H, W], weight: [Cout, Cin, K, K], bias: [Cout] or nil, output: [N, Cout, OH, OW].
    ///
    /// With `wideVectors` (default: `VectorKernels.enabled`, on CPUs with AVX-512), each sum the same fused
    /// multiply-adds in the same order, so the same output bit for bit, in 16-lane vectors: pairs of channel
    /// groups by blocks of up to twelve positions of an output row (`vector_channels_in_lanes_forward_rows`: 24
    /// accumulators, one broadcast input per two multiply-adds, no table of position offsets), and a group
    /// left alone by blocks of sixteen positions (`vector_channels_in_lanes_forward`). Either transposes its
    /// sums in registers and stores each channel's positions at once, where the 8-lane path writes them out
    /// element by element (a quarter of that kernel's time on LeNet-5's conv2).
    ///
    /// With `pooledIndices` (`forwardMaxPool`), `output` is [N, Cout, OH / 2, OW / 2]: each image's output goes
    /// to a scratch, then through 2 × 2 max pooling (`MaxPool2D.forwardTwoByTwoPlane`), channel by channel.
    static func directForwardChannelsInLanes(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape,
        pooledIndices: UnsafeMutablePointer<Int32>? = nil,
        wideVectors: Bool = VectorKernels.enabled
    ) {
        let kernel = shape.kernelHeight, outputChannels = shape.outputChannels
        let (width, outputWidth, positions) = (shape.width, shape.outputWidth, shape.outputPlaneSize)
        let taps = shape.patchSize
        let channelGroups = outputChannels / 16
        let blockPositions = wideVectors ? 16 : 6
        let positionBlocks = (positions + blockPositions - 1) / blockPositions
        // Where tap (c, ky, kx) and output position (y, x) start in an (unpadded) input image; a short last
        // block repeats its last position and drops the repeats.
        let tapOffsets = (0..<taps).map { tap in
            (tap / (kernel * kernel)) * shape.height * width + (tap / kernel % kernel) * width + tap % kernel
        }
        let positionOffsets = (0..<(positionBlocks * blockPositions)).map { position in
            let valid = min(position, positions - 1)
            return valid / outputWidth * width + valid % outputWidth
        }
        // [channel blocks, taps, block width]: blocks of 16 channels, or with `wideVectors` of 32 (the
        // 16 left over of an odd number of groups a block of their own), as the kernels read them.
        let packWidth = wideVectors ? 32 : 16
        let pairedGroups = wideVectors ? channelGroups / 2 * 2 : 0
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels * taps)
        // Each channel's bias, 0 without one.
        let laneBias = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels)
        defer {
            packed.deallocate()
            laneBias.deallocate()
        }
        for channel in 0..<outputChannels {
            let blockStart = channel / packWidth * packWidth
            let blockWidth = min(packWidth, outputChannels - blockStart)
            for tap in 0..<taps {
                packed[blockStart * taps + tap * blockWidth + channel % packWidth] = weight[channel * taps + tap]
            }
            laneBias[channel] = bias?[channel] ?? 0
        }

        let pooling = Pooling2DShape(
            planes: 1, height: shape.outputHeight, width: outputWidth, kernelSize: 2, stride: 2)
        let pooledImageSize = outputChannels * pooling.outputPlaneSize
        // With `pooledIndices`: one image's convolution output, and room for a narrow row's vector to read on.
        let scratchCount = pooledIndices == nil ? 0 : shape.outputImageSize + outputWidth + 16
        Parallel.forEachChunk(of: shape.batch) { images in
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: wideVectors ? 0 : blockPositions * 16)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            scratch.initialize(repeating: 0, count: scratchCount)
            defer {
                sums.deallocate()
                scratch.deallocate()
            }
            for image in images {
                let source = input + image * shape.inputImageSize
                let convolved = pooledIndices == nil ? output + image * shape.outputImageSize : scratch
                // With `wideVectors`, groups in pairs along the output rows; a last group left alone below.
                for group in stride(from: 0, to: pairedGroups, by: 2) {
                    vector_channels_in_lanes_forward_rows(
                        source, tapOffsets, taps, packed + group * taps * 16, laneBias + group * 16, width,
                        shape.outputHeight, outputWidth, convolved + group * 16 * positions, positions)
                }
                for group in pairedGroups..<channelGroups {
                    let groupWeights = UnsafeRawPointer(packed + group * taps * 16)
                    for block in 0..<positionBlocks {
                        let first = block * blockPositions
                        if wideVectors {
                            positionOffsets.withUnsafeBufferPointer { positionOffsets in
                                vector_channels_in_lanes_forward(
                                    source, tapOffsets, taps, packed + group * taps * 16,
                                    positionOffsets.baseAddress! + first, laneBias + group * 16,
                                    min(blockPositions, positions - first), convolved + group * 16 * positions + first,
                                    positions)
                            }
                            continue
                        } else {
                            let (position0, position1, position2) = (
                                positionOffsets[first], positionOffsets[first + 1], positionOffsets[first + 2]
                            )
                            let (position3, position4, position5) = (
                                positionOffsets[first + 3], positionOffsets[first + 4], positionOffsets[first + 5]
                            )
                            var sum0a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1a = SIMD8<Float>(),
                                sum1b = SIMD8<Float>()
                            var sum2a = SIMD8<Float>(), sum2b = SIMD8<Float>(), sum3a = SIMD8<Float>(),
                                sum3b = SIMD8<Float>()
                            var sum4a = SIMD8<Float>(), sum4b = SIMD8<Float>(), sum5a = SIMD8<Float>(),
                                sum5b = SIMD8<Float>()
                            tapOffsets.withUnsafeBufferPointer { tapOffsets in
                                for tap in 0..<taps {
                                    let tapInput = source + tapOffsets[tap]
                                    let weightsA = groupWeights.loadUnaligned(
                                        fromByteOffset: tap &* 64, as: SIMD8<Float>.self)
                                    let weightsB = groupWeights.loadUnaligned(
                                        fromByteOffset: tap &* 64 &+ 32, as: SIMD8<Float>.self)
                                    var value = SIMD8<Float>(repeating: tapInput[position0])
                                    sum0a.addProduct(value, weightsA)
                                    sum0b.addProduct(value, weightsB)
                                    value = SIMD8(repeating: tapInput[position1])
                                    sum1a.addProduct(value, weightsA)
                                    sum1b.addProduct(value, weightsB)
                                    value = SIMD8(repeating: tapInput[position2])
                                    sum2a.addProduct(value, weightsA)
                                    sum2b.addProduct(value, weightsB)
                                    value = SIMD8(repeating: tapInput[position3])
                                    sum3a.addProduct(value, weightsA)
                                    sum3b.addProduct(value, weightsB)
                                    value = SIMD8(repeating: tapInput[position4])
                                    sum4a.addProduct(value, weightsA)
                                    sum4b.addProduct(value, weightsB)
                                    value = SIMD8(repeating: tapInput[position5])
                                    sum5a.addProduct(value, weightsA)
                                    sum5b.addProduct(value, weightsB)
                                }
                            }
                            // [6 positions, 16 channels], then transposed into the output planes.
                            // One by one: an array of the twelve would be allocated for every block.
                            let target = UnsafeMutableRawPointer(sums)
                            target.storeBytes(of: sum0a, toByteOffset: 0, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum0b, toByteOffset: 32, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum1a, toByteOffset: 64, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum1b, toByteOffset: 96, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum2a, toByteOffset: 128, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum2b, toByteOffset: 160, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum3a, toByteOffset: 192, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum3b, toByteOffset: 224, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum4a, toByteOffset: 256, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum4b, toByteOffset: 288, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum5a, toByteOffset: 320, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum5b, toByteOffset: 352, as: SIMD8<Float>.self)
                        }
                        for channel in 0..<16 {
                            let outputChannel = group * 16 + channel
                            let plane = convolved + outputChannel * positions
                            for offset in 0..<min(blockPositions, positions - first) {
                                plane[first + offset] = sums[offset * 16 + channel] + laneBias[outputChannel]
                            }
                        }
                    }
                }
                guard let pooledIndices else { continue }
                // The image's planes pooled in channel order: a narrow row's extra lanes land on the next
                // channel's windows, written after them, or the row is scalar at the image's end.
                let pooled = image * pooledImageSize
                for channel in 0..<outputChannels {
                    let target = pooled + channel * pooling.outputPlaneSize
                    MaxPool2D.forwardTwoByTwoPlane(
                        source: scratch + channel * positions, readableEnd: scratch + scratchCount,
                        output: output + target, indices: pooledIndices + target,
                        writableEnd: output + pooled + pooledImageSize, shape: pooling)
                }
            }
        }
    }

    /// Direct stride-1 convolution, sixteen output positions of six output channels at a time.
    /// input: [N, Cin, H, W], weight: [Cout, Cin, K, K], bias: [Cout] or nil, output: [N, Cout, OH, OW].
    ///
    /// Each image is copied into a zero-padded [Cin, H + 2p, W + p] plane (plus slack; `paddedWidth`), so every output
    /// row y is a run of the padded width starting at y · paddedWidth and every kernel tap (c, ky, kx) is the
    /// same run shifted by c · paddedPlane + ky · paddedWidth + kx: two unaligned 8-lane loads serve six
    /// output channels, twelve fused multiply-add accumulators in AVX2's sixteen registers. The six
    /// channels' weights are packed tap by tap, so each tap's six broadcasts read one contiguous run.
    /// Columns x ≥ OW of each run are computed and dropped when the rows are copied out. Kernel rows that
    /// see only padding for a whole block are skipped: with the input gradient's padding of K − 1, that is
    /// a third of the taps. A one-channel input (a network's first layer) also skips the kernel rows whose
    /// inputs are all zero for the block: 38% of the taps of a 5 × 5 kernel with padding 2 on MNIST's digits,
    /// which leave most of the image blank. Adding 0 · w changes no sum for a finite w, so the output is the same.
    ///
    /// With `wideVectors` (default: `VectorKernels.enabled`, on CPUs with AVX-512), each block's taps run in
    /// `vector_direct_forward_six_channels`'s 16-lane vectors instead, two blocks at once where both run the
    /// same kernel rows: the same fused multiply-adds in the same order, so the same output bit for bit.
    ///
    /// With `pooledIndices` (`forwardMaxPool`), `output` is [N, Cout, OH / 2, OW / 2]: each channel's runs,
    /// bias added, go through 2 × 2 max pooling (`MaxPool2D.poolEightWindows`) instead of being copied out.
    static func directForward(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape,
        pooledIndices: UnsafeMutablePointer<Int32>? = nil,
        wideVectors: Bool = VectorKernels.enabled
    ) {
        let kernel = shape.kernelHeight, padding = shape.padding
        let (inputChannels, outputChannels) = (shape.inputChannels, shape.outputChannels)
        let (outputHeight, outputWidth) = (shape.outputHeight, shape.outputWidth)
        let paddedWidth = paddedWidth(shape), paddedHeight = shape.height + 2 * padding
        let paddedPlane = paddedWidth * paddedHeight
        // Output positions computed per channel, rounded up to blocks of 16.
        let positionBlocks = (outputHeight * paddedWidth + 15) / 16
        let runLength = positionBlocks * 16
        // The last block of the last tap reads up to Cin · paddedPlane + K + 14: slack past the planes.
        let paddedCount = inputChannels * paddedPlane + kernel + 16
        let taps = inputChannels * kernel * kernel
        let blockChannels = 6
        let channelBlocks = (outputChannels + blockChannels - 1) / blockChannels

        // Taps in (ky, c, kx) order, so the taps of kernel rows kyLow...kyHigh are one contiguous range:
        // where each tap's run starts in the padded image.
        let tapOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        let tapsPerKernelRow = inputChannels * kernel
        // [channelBlocks, taps, 6]: a short last block repeats its last channel's weights; its extra
        // results are dropped.
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: channelBlocks * taps * blockChannels)
        defer {
            tapOffsets.deallocate()
            packed.deallocate()
        }
        for channel in 0..<inputChannels {
            for kernelY in 0..<kernel {
                for kernelX in 0..<kernel {
                    let tap = (kernelY * inputChannels + channel) * kernel + kernelX
                    tapOffsets[tap] = channel * paddedPlane + kernelY * paddedWidth + kernelX
                    for block in 0..<channelBlocks {
                        for offset in 0..<blockChannels {
                            let outputChannel = min(block * blockChannels + offset, outputChannels - 1)
                            packed[(block * taps + tap) * blockChannels + offset] =
                                weight[
                                    ((outputChannel * inputChannels + channel) * kernel + kernelY) * kernel + kernelX]
                        }
                    }
                }
            }
        }
        // The taps each position block needs, as a mask of kernel rows: those that reach a padded row holding
        // input for at least one of the block's output rows (the others multiply only padding zeros). Output
        // row r reads padded rows r + ky, which hold input for padding ≤ r + ky < padding + H.
        let blockKernelRows: [UInt64] = (0..<positionBlocks).map { positionBlock in
            let firstRow = positionBlock * 16 / paddedWidth, lastRow = (positionBlock * 16 + 15) / paddedWidth
            let lowestKernelRow = max(0, padding - lastRow),
                highestKernelRow = min(kernel - 1, padding + shape.height - 1 - firstRow)
            guard highestKernelRow >= lowestKernelRow else { return 0 }
            return UInt64.max >> (63 - highestKernelRow) & UInt64.max << lowestKernelRow
        }

        // A block's taps of kernel row ky read padded elements [s + ky · paddedWidth, + 16 + K − 1) for its
        // first position s: a span that starts in padded row s / paddedWidth + ky at column s % paddedWidth
        // and may run into the next row. For each block: that row, and the span's column bits in both rows.
        let spanLength = 16 + kernel - 1
        let skipsZeroSpans = inputChannels == 1 && paddedWidth <= 64 && spanLength <= paddedWidth
        let spans: [(row: Int, first: UInt64, second: UInt64)] = (0..<positionBlocks).map { positionBlock in
            let start = positionBlock * 16, column = start % paddedWidth
            let firstEnd = min(paddedWidth, column + spanLength), secondEnd = column + spanLength - firstEnd
            return (
                start / paddedWidth, (UInt64(1) << firstEnd &- 1) & ~(UInt64(1) << column &- 1),
                UInt64(1) << secondEnd &- 1
            )
        }

        Parallel.forEachChunk(of: shape.batch) { images in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedCount)
            padded.initialize(repeating: 0, count: paddedCount)
            let runs = UnsafeMutablePointer<Float>.allocate(capacity: blockChannels * runLength)
            // Bit c of row r: padded element (r, c) is nonzero; rows past the image (and one of slack) stay 0.
            let rowBits = UnsafeMutablePointer<UInt64>.allocate(capacity: paddedHeight + 2)
            rowBits.initialize(repeating: 0, count: paddedHeight + 2)
            defer {
                padded.deallocate()
                runs.deallocate()
                rowBits.deallocate()
            }
            /// The kernel rows a position block runs: `blockKernelRows`, less those whose span of a one-channel
            /// input is all zeros for this image.
            func kernelRows(of positionBlock: Int) -> UInt64 {
                guard skipsZeroSpans else { return blockKernelRows[positionBlock] }
                var rows = blockKernelRows[positionBlock], remaining = rows
                let span = spans[positionBlock]
                while remaining != 0 {
                    let kernelRow = remaining.trailingZeroBitCount
                    remaining &= remaining &- 1
                    let row = span.row &+ kernelRow
                    if rowBits[row] & span.first == 0 && rowBits[row &+ 1] & span.second == 0 {
                        rows &= ~(UInt64(1) << kernelRow)
                    }
                }
                return rows
            }
            for image in images {
                let source = input + image * shape.inputImageSize
                for channel in 0..<inputChannels {
                    copyRows(
                        source + channel * shape.height * shape.width,
                        to: padded + channel * paddedPlane + padding * paddedWidth + padding,
                        rows: shape.height, width: shape.width, targetStride: paddedWidth)
                }
                if skipsZeroSpans {
                    for row in 0..<shape.height {
                        rowBits[padding &+ row] = nonzeroBits(
                            source + row &* shape.width, count: shape.width, shift: padding)
                    }
                }
                for block in 0..<channelBlocks {
                    let blockWeights = UnsafePointer(packed + block * taps * blockChannels)
                    var positionBlock = 0
                    while positionBlock < positionBlocks {
                        var rows = kernelRows(of: positionBlock)
                        if wideVectors {
                            // Two blocks at once where they run the same kernel rows: twelve accumulators.
                            let blocks =
                                positionBlock + 1 < positionBlocks && kernelRows(of: positionBlock + 1) == rows ? 2 : 1
                            vector_direct_forward_six_channels(
                                padded + positionBlock &* 16, tapOffsets, blockWeights, rows, tapsPerKernelRow,
                                Int32(blocks), runs + positionBlock &* 16, runLength)
                            positionBlock += blocks
                            continue
                        }
                        let start = UnsafeRawPointer(padded + positionBlock &* 16)
                        var sum0a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1a = SIMD8<Float>(),
                            sum1b = SIMD8<Float>()
                        var sum2a = SIMD8<Float>(), sum2b = SIMD8<Float>(), sum3a = SIMD8<Float>(),
                            sum3b = SIMD8<Float>()
                        var sum4a = SIMD8<Float>(), sum4b = SIMD8<Float>(), sum5a = SIMD8<Float>(),
                            sum5b = SIMD8<Float>()
                        while rows != 0 {
                            let kernelRow = rows.trailingZeroBitCount
                            rows &= rows &- 1
                            for tap in (kernelRow &* tapsPerKernelRow)..<((kernelRow &+ 1) &* tapsPerKernelRow) {
                                let byteOffset = tapOffsets[tap] &* 4
                                let valuesA = start.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float>.self)
                                let valuesB = start.loadUnaligned(
                                    fromByteOffset: byteOffset &+ 32, as: SIMD8<Float>.self)
                                let tapWeights = blockWeights + tap &* blockChannels
                                var weight = SIMD8<Float>(repeating: tapWeights[0])
                                sum0a.addProduct(valuesA, weight)
                                sum0b.addProduct(valuesB, weight)
                                weight = SIMD8(repeating: tapWeights[1])
                                sum1a.addProduct(valuesA, weight)
                                sum1b.addProduct(valuesB, weight)
                                weight = SIMD8(repeating: tapWeights[2])
                                sum2a.addProduct(valuesA, weight)
                                sum2b.addProduct(valuesB, weight)
                                weight = SIMD8(repeating: tapWeights[3])
                                sum3a.addProduct(valuesA, weight)
                                sum3b.addProduct(valuesB, weight)
                                weight = SIMD8(repeating: tapWeights[4])
                                sum4a.addProduct(valuesA, weight)
                                sum4b.addProduct(valuesB, weight)
                                weight = SIMD8(repeating: tapWeights[5])
                                sum5a.addProduct(valuesA, weight)
                                sum5b.addProduct(valuesB, weight)
                            }
                        }
                        let target = UnsafeMutableRawPointer(runs + positionBlock &* 16)
                        let stride = runLength * 4
                        target.storeBytes(of: sum0a, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum0b, toByteOffset: 32, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum1a, toByteOffset: stride, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum1b, toByteOffset: stride + 32, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum2a, toByteOffset: 2 * stride, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum2b, toByteOffset: 2 * stride + 32, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum3a, toByteOffset: 3 * stride, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum3b, toByteOffset: 3 * stride + 32, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum4a, toByteOffset: 4 * stride, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum4b, toByteOffset: 4 * stride + 32, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum5a, toByteOffset: 5 * stride, as: SIMD8<Float>.self)
                        target.storeBytes(of: sum5b, toByteOffset: 5 * stride + 32, as: SIMD8<Float>.self)
                        positionBlock += 1
                    }
                    for offset in 0..<min(blockChannels, outputChannels - block * blockChannels) {
                        let channel = block * blockChannels + offset
                        let channelBias = bias?[channel] ?? 0
                        if let pooledIndices {
                            // 2 × 2 max pooling of the channel's runs plus bias, eight windows at a time (the
                            // row's last vector overlapping the one before).
                            let (pooledHeight, pooledWidth) = (outputHeight / 2, outputWidth / 2)
                            let pooled = (image * outputChannels + channel) * pooledHeight * pooledWidth
                            let biasLanes = SIMD16<Float>(repeating: channelBias)
                            for pooledY in 0..<pooledHeight {
                                let topRow = runs + offset * runLength + 2 * pooledY * paddedWidth
                                var pooledX = 0
                                while pooledX < pooledWidth {
                                    let first = min(pooledX, pooledWidth - 8)
                                    let window = pooled + pooledY * pooledWidth + first
                                    MaxPool2D.poolEightWindows(
                                        top: UnsafeRawPointer(topRow + 2 * first).loadUnaligned(as: SIMD16<Float>.self)
                                            + biasLanes,
                                        bottom: UnsafeRawPointer(topRow + paddedWidth + 2 * first).loadUnaligned(
                                            as: SIMD16<Float>.self) + biasLanes,
                                        topLeftIndex: 2 * pooledY * outputWidth + 2 * first, width: outputWidth,
                                        output: output + window, indices: pooledIndices + window)
                                    pooledX = first + 8
                                }
                            }
                            continue
                        }
                        copyRows(
                            runs + offset * runLength, sourceStride: paddedWidth,
                            to: output + image * shape.outputImageSize + channel * shape.outputPlaneSize,
                            targetStride: outputWidth, rows: outputHeight, width: outputWidth, adding: channelBias)
                    }
                }
            }
        }
    }

    /// The weight and bias gradients of a stride-1 convolution, computed directly (no columns):
    /// dW[co, ci, ky, kx] = Σ_n Σ_y Σ_x dY[n, co, y, x] · X̃[n, ci, y + ky, x + kx], with X̃ the zero-padded
    /// input; db[co] = Σ dY[n, co]. input: [N, Cin, H, W], outputGradient: [N, Cout, OH, OW];
    /// weightGradient: [Cout, Cin, K, K] and biasGradient: [Cout] are overwritten.
    ///
    /// Each output-gradient row is padded to whole 8-lane vectors with zeros, so the lanes past OW add
    /// nothing whatever the input holds there. Four output channels by two taps (eight accumulators) are
    /// summed over every row and vector of an image, six loads feeding eight fused multiply-adds, and the
    /// images' sums added in order (fewer digits lost than in one accumulator over the chunk) into running
    /// totals kept in memory. One image at a time is copied into the padded scratch planes and all its taps
    /// run while it is in L1. (Copying a whole chunk first and running each tap pair over all of its images
    /// streamed 2 MB of scratch through the caches for every pair: the simple convolution's weight gradient
    /// in `FastCNN` took 13.5% of its training samples on an Intel Xeon, its copies and fills 5% of that.)
    /// The chunks' partial sums are added in chunk order.
    ///
    /// With `wideVectors` (default: `VectorKernels.enabled`, on CPUs with AVX-512), each image's taps run in
    /// `vector_direct_weight_gradient`'s 16-lane vectors instead: two channels' 8-lane sums side by side, three
    /// pairs by up to six taps at a time, so 6 channels by 25 taps take 75 fused multiply-adds a vector where the
    /// 8-lane blocks of four channels by two taps take 208 (two blocks of channels, the second half empty, by
    /// 13 pairs). Each 8-lane sum is the same fused multiply-adds in the same order, so the same gradients bit
    /// for bit.
    static func directWeightGradient(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?, shape: Convolution2DShape, wideVectors: Bool = VectorKernels.enabled
    ) {
        let kernel = shape.kernelHeight, padding = shape.padding
        let (inputChannels, outputChannels) = (shape.inputChannels, shape.outputChannels)
        let (outputHeight, outputWidth) = (shape.outputHeight, shape.outputWidth)
        let paddedWidth = paddedWidth(shape), paddedHeight = shape.height + 2 * padding
        let paddedPlane = paddedWidth * paddedHeight
        // Output-gradient rows are stored with the padded input's width (zeros past OW), so position p of
        // the flat run reads input p + tap offset, as in `directForward`; whole vectors per plane.
        let vectors = (outputHeight * paddedWidth + 7) / 8
        let gradientPlane = vectors * 8
        let paddedImage = inputChannels * paddedPlane
        let taps = shape.patchSize
        // Where tap (ci, ky, kx) starts in a padded image, in im2col (and weight) order.
        let tapOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        for channel in 0..<inputChannels {
            for kernelY in 0..<kernel {
                for kernelX in 0..<kernel {
                    tapOffsets[(channel * kernel + kernelY) * kernel + kernelX] =
                        channel * paddedPlane + kernelY * paddedWidth + kernelX
                }
            }
        }
        let chunks = Parallel.chunks(of: shape.batch)
        let partialStride = shape.weightCount + outputChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunks.count) * partialStride)
        defer {
            tapOffsets.deallocate()
            partials.deallocate()
        }
        let channelGroups = (outputChannels + 3) / 4, tapPairs = (taps + 1) / 2
        // `vector_direct_weight_gradient`'s running totals: per channel pair and tap, 16 lanes.
        let channelPairs = (outputChannels + 1) / 2
        let pairTotalCount = wideVectors ? channelPairs * taps * 16 : 0

        Parallel.forEachIndexedChunk(of: shape.batch) { chunkIndex, images in
            let partialWeight = partials + chunkIndex * partialStride
            let partialBias = partialWeight + shape.weightCount
            // One image's padded input and output gradients. The last vector at the last tap reads up to
            // K + 8 past the last plane. Padding and the columns past OW are zeroed once and never written.
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedImage + kernel + 8)
            let gradients = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels * gradientPlane)
            // The running totals, eight lanes each: per output channel for the bias; per channel group and tap
            // pair, the group's four channels at the pair's first tap, then at its second.
            let biasTotals = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: outputChannels)
            let weightTotals = UnsafeMutablePointer<SIMD8<Float>>.allocate(
                capacity: wideVectors ? 0 : channelGroups * tapPairs * 8)
            let pairTotals = UnsafeMutablePointer<Float>.allocate(capacity: pairTotalCount)
            // On 64-byte boundaries, so no 16-lane load of a pair's vector spans two cache lines.
            let paired = UnsafeMutableRawPointer.allocate(
                byteCount: wideVectors ? channelPairs * gradientPlane * 8 : 0, alignment: 64
            ).bindMemory(to: Float.self, capacity: wideVectors ? channelPairs * gradientPlane * 2 : 0)
            defer {
                padded.deallocate()
                gradients.deallocate()
                biasTotals.deallocate()
                weightTotals.deallocate()
                pairTotals.deallocate()
                paired.deallocate()
            }
            padded.initialize(repeating: 0, count: paddedImage + kernel + 8)
            gradients.initialize(repeating: 0, count: outputChannels * gradientPlane)
            biasTotals.initialize(repeating: SIMD8(), count: outputChannels)
            if wideVectors {
                pairTotals.initialize(repeating: 0, count: pairTotalCount)
            } else {
                weightTotals.initialize(repeating: SIMD8(), count: channelGroups * tapPairs * 8)
            }
            for image in images {
                let source = input + image * shape.inputImageSize
                for channel in 0..<inputChannels {
                    copyRows(
                        source + channel * shape.height * shape.width,
                        to: padded + channel * paddedPlane + padding * paddedWidth + padding,
                        rows: shape.height, width: shape.width, targetStride: paddedWidth)
                }
                let gradientSource = outputGradient + image * shape.outputImageSize
                for channel in 0..<outputChannels {
                    copyRows(
                        gradientSource + channel * shape.outputPlaneSize, to: gradients + channel * gradientPlane,
                        rows: outputHeight, width: outputWidth, targetStride: paddedWidth)
                }
                for outputChannel in 0..<(biasGradient == nil ? 0 : outputChannels) {
                    // Planes are whole vectors (zero past OW), so they sum in 8 lanes, reduced at the end.
                    let plane = UnsafeRawPointer(gradients + outputChannel * gradientPlane)
                    var imageSum = SIMD8<Float>()
                    for vector in 0..<(gradientPlane / 8) {
                        imageSum += plane.loadUnaligned(fromByteOffset: vector &* 32, as: SIMD8<Float>.self)
                    }
                    biasTotals[outputChannel] += imageSum
                }
                if wideVectors {
                    vector_direct_weight_gradient(
                        gradients, gradientPlane, outputChannels, vectors, padded, tapOffsets, taps, paired, pairTotals)
                    continue
                }
                let inputImage = UnsafeRawPointer(padded)
                for group in 0..<channelGroups {
                    // A short last group repeats its last channel; the repeats write the same sums again.
                    let firstChannel = group * 4
                    let plane0 = UnsafeRawPointer(gradients + firstChannel * gradientPlane)
                    let plane1 = UnsafeRawPointer(gradients + min(firstChannel + 1, outputChannels - 1) * gradientPlane)
                    let plane2 = UnsafeRawPointer(gradients + min(firstChannel + 2, outputChannels - 1) * gradientPlane)
                    let plane3 = UnsafeRawPointer(gradients + min(firstChannel + 3, outputChannels - 1) * gradientPlane)
                    for pair in 0..<tapPairs {
                        let firstTap = pair * 2, secondTap = min(firstTap + 1, taps - 1)
                        // Offsets read from the table, so the compiler cannot merge the two taps' overlapping
                        // loads into shuffles.
                        let firstOffset = tapOffsets[firstTap] &* 4, secondOffset = tapOffsets[secondTap] &* 4
                        var sum0a = SIMD8<Float>(), sum1a = SIMD8<Float>(), sum2a = SIMD8<Float>()
                        var sum3a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1b = SIMD8<Float>()
                        var sum2b = SIMD8<Float>(), sum3b = SIMD8<Float>()
                        for vector in 0..<vectors {
                            let gradientOffset = vector &* 32
                            let valuesA = inputImage.loadUnaligned(
                                fromByteOffset: firstOffset &+ gradientOffset, as: SIMD8<Float>.self)
                            let valuesB = inputImage.loadUnaligned(
                                fromByteOffset: secondOffset &+ gradientOffset, as: SIMD8<Float>.self)
                            var gradient = plane0.loadUnaligned(fromByteOffset: gradientOffset, as: SIMD8<Float>.self)
                            sum0a.addProduct(gradient, valuesA)
                            sum0b.addProduct(gradient, valuesB)
                            gradient = plane1.loadUnaligned(fromByteOffset: gradientOffset, as: SIMD8<Float>.self)
                            sum1a.addProduct(gradient, valuesA)
                            sum1b.addProduct(gradient, valuesB)
                            gradient = plane2.loadUnaligned(fromByteOffset: gradientOffset, as: SIMD8<Float>.self)
                            sum2a.addProduct(gradient, valuesA)
                            sum2b.addProduct(gradient, valuesB)
                            gradient = plane3.loadUnaligned(fromByteOffset: gradientOffset, as: SIMD8<Float>.self)
                            sum3a.addProduct(gradient, valuesA)
                            sum3b.addProduct(gradient, valuesB)
                        }
                        let totals = weightTotals + (group * tapPairs + pair) * 8
                        totals[0] += sum0a
                        totals[1] += sum1a
                        totals[2] += sum2a
                        totals[3] += sum3a
                        totals[4] += sum0b
                        totals[5] += sum1b
                        totals[6] += sum2b
                        totals[7] += sum3b
                    }
                }
            }
            for outputChannel in 0..<outputChannels { partialBias[outputChannel] = biasTotals[outputChannel].sum() }
            let patch = shape.patchSize
            if wideVectors {
                for channel in 0..<outputChannels {
                    for tap in 0..<taps {
                        let lanes = pairTotals + ((channel / 2 * taps + tap) * 16 + channel % 2 * 8)
                        partialWeight[channel * patch + tap] =
                            UnsafeRawPointer(lanes).loadUnaligned(as: SIMD8<Float>.self).sum()
                    }
                }
            } else {
                for group in 0..<channelGroups {
                    for pair in 0..<tapPairs {
                        let firstTap = pair * 2, secondTap = min(firstTap + 1, taps - 1)
                        let totals = weightTotals + (group * tapPairs + pair) * 8
                        for offset in 0..<4 {
                            let channel = min(group * 4 + offset, outputChannels - 1)
                            partialWeight[channel * patch + firstTap] = totals[offset].sum()
                            partialWeight[channel * patch + secondTap] = totals[4 + offset].sum()
                        }
                    }
                }
            }
        }
        weightGradient.update(from: partials, count: shape.weightCount)
        biasGradient?.update(from: partials + shape.weightCount, count: outputChannels)
        for chunk in 1..<max(1, chunks.count) {
            let partial = partials + chunk * partialStride
            for index in 0..<shape.weightCount { weightGradient[index] += partial[index] }
            if let biasGradient {
                for channel in 0..<outputChannels { biasGradient[channel] += partial[shape.weightCount + channel] }
            }
        }
    }

    /// Copies `rows` dense rows of `width` values into rows `targetStride` apart: the rows here are 5 to 28
    /// values, where a `memmove` call per row costs more than the copy (the compiler turned the plain loop into
    /// `memmove` calls: 3.5% of `FastCNN`'s training samples on an Intel Xeon).
    @inline(__always)
    static func copyRows(
        _ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, rows: Int, width: Int, targetStride: Int
    ) {
        copyRows(source, sourceStride: width, to: target, targetStride: targetStride, rows: rows, width: width)
    }

    /// Copies `rows` rows of `width` values from rows `sourceStride` apart to rows `targetStride` apart, adding
    /// `bias` to each value when one is given (the direct kernel's runs into its output; without one the values
    /// are copied as they are, −0 included). Rows of 8 or more go in 8-lane vectors, the last one overlapping
    /// the one before (the compiler's own loops called `memmove` per row, or took 4 lanes and a scalar tail).
    @inline(__always)
    static func copyRows(
        _ source: UnsafePointer<Float>, sourceStride: Int, to target: UnsafeMutablePointer<Float>, targetStride: Int,
        rows: Int, width: Int, adding bias: Float? = nil
    ) {
        let biasLanes = SIMD8<Float>(repeating: bias ?? 0)
        for row in 0..<rows {
            let (from, to) = (source + row &* sourceStride, target + row &* targetStride)
            guard width >= 8 else {
                for column in 0..<width { to[column] = bias.map { from[column] + $0 } ?? from[column] }
                continue
            }
            var column = 0
            while column < width {
                let first = min(column, width &- 8)
                let lanes = UnsafeRawPointer(from + first).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(to + first).storeBytes(
                    of: bias == nil ? lanes : lanes + biasLanes, as: SIMD8<Float>.self)
                column = first &+ 8
            }
        }
    }

    /// Bit `shift + i` set where values[i] is nonzero (NaN included), for i < count ≤ 64 − shift: which
    /// columns of a padded row hold input, so the direct kernels can skip taps that read only zeros.
    @inline(__always)
    static func nonzeroBits(_ values: UnsafePointer<Float>, count: Int, shift: Int) -> UInt64 {
        var bits: UInt64 = 0
        var column = 0
        #if arch(x86_64)
        // Eight at a time: |x| as an integer is positive exactly when x is nonzero, so 0 − |x| has its sign
        // bit set exactly then, and movemask gathers the eight sign bits.
        while column &+ 8 <= count {
            let lanes = UnsafeRawPointer(values + column).loadUnaligned(as: SIMD8<UInt32>.self)
            let negated = SIMD8<UInt32>() &- (lanes & 0x7fff_ffff)
            let laneBits = UInt64(truncatingIfNeeded: _mm256_movemask_ps(unsafeBitCast(negated, to: SIMD8<Float>.self)))
            bits |= laneBits &<< UInt64(truncatingIfNeeded: shift &+ column)
            column &+= 8
        }
        #endif
        while column < count {
            bits |= (values[column] != 0 ? 1 : 0) &<< UInt64(truncatingIfNeeded: shift &+ column)
            column &+= 1
        }
        return bits
    }

    /// Unfolds one image [Cin, H, W] into columns [Cin·KH·KW × OH·OW]: column p holds the patch output
    /// position p sees (zeros where it overlaps the padding). Each column row is copied in runs: the
    /// padding before and after, and the span in between straight from one input row.
    @inlinable
    static func imageToColumns(
        _ image: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ shape: Convolution2DShape
    ) {
        let outputHeight = shape.outputHeight, outputWidth = shape.outputWidth, stride = shape.stride
        let plane = outputHeight * outputWidth
        for channel in 0..<shape.inputChannels {
            let channelInput = image + channel * shape.height * shape.width
            for kernelY in 0..<shape.kernelHeight {
                for kernelX in 0..<shape.kernelWidth {
                    let row = (channel * shape.kernelHeight + kernelY) * shape.kernelWidth + kernelX
                    let columnRow = columns + row * plane
                    let inputOffset = kernelX - shape.padding
                    let (firstX, endX) = validOutputColumns(inputOffset: inputOffset, shape)
                    for outputY in 0..<outputHeight {
                        let inputY = outputY * stride - shape.padding + kernelY
                        let target = columnRow + outputY * outputWidth
                        guard inputY >= 0 && inputY < shape.height else {
                            target.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let source = channelInput + inputY * shape.width + inputOffset
                        for outputX in 0..<firstX { target[outputX] = 0 }
                        if stride == 1 {
                            for outputX in firstX..<endX { target[outputX] = source[outputX] }
                        } else {
                            for outputX in firstX..<endX { target[outputX] = source[outputX * stride] }
                        }
                        for outputX in endX..<outputWidth { target[outputX] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of `imageToColumns`: overwrites image [Cin, H, W] with the sum of every column entry
    /// that was read from each pixel.
    @inlinable
    static func columnsToImage(
        _ columns: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, _ shape: Convolution2DShape
    ) {
        let outputHeight = shape.outputHeight, outputWidth = shape.outputWidth, stride = shape.stride
        let plane = outputHeight * outputWidth
        image.update(repeating: 0, count: shape.inputImageSize)
        for channel in 0..<shape.inputChannels {
            let channelImage = image + channel * shape.height * shape.width
            for kernelY in 0..<shape.kernelHeight {
                for kernelX in 0..<shape.kernelWidth {
                    let row = (channel * shape.kernelHeight + kernelY) * shape.kernelWidth + kernelX
                    let columnRow = columns + row * plane
                    let inputOffset = kernelX - shape.padding
                    let (firstX, endX) = validOutputColumns(inputOffset: inputOffset, shape)
                    for outputY in 0..<outputHeight {
                        let inputY = outputY * stride - shape.padding + kernelY
                        guard inputY >= 0 && inputY < shape.height else { continue }
                        let target = channelImage + inputY * shape.width + inputOffset
                        let source = columnRow + outputY * outputWidth
                        if stride == 1 {
                            for outputX in firstX..<endX { target[outputX] += source[outputX] }
                        } else {
                            for outputX in firstX..<endX { target[outputX * stride] += source[outputX] }
                        }
                    }
                }
            }
        }
    }

    /// The output columns x whose input column x · stride + inputOffset lies inside the image:
    /// firstX..<endX, empty (firstX == endX) when none does.
    @inlinable
    static func validOutputColumns(inputOffset: Int, _ shape: Convolution2DShape) -> (Int, Int) {
        let stride = shape.stride, outputWidth = shape.outputWidth
        // Smallest x with x · stride + inputOffset ≥ 0, and one past the largest with it < width.
        let firstX = min(outputWidth, inputOffset >= 0 ? 0 : (-inputOffset + stride - 1) / stride)
        let lastInput = shape.width - 1 - inputOffset
        let endX = lastInput < 0 ? 0 : min(outputWidth, lastInput / stride + 1)
        return (firstX, max(firstX, endX))
    }
}
