#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

extension Convolution2D {
    /// Whether `forwardTanhAveragePool` takes this shape with the planner's plan: where
    /// `ConvolutionPlan.fusedTanhAveragePool(for:plan:)` names a fused kernel (the rules are there).
    public static func usesFusedTanhAveragePool(_ shape: Convolution2DShape, plan: ConvolutionPlan? = nil) -> Bool {
        ConvolutionPlan.fusedTanhAveragePool(for: shape, plan: plan ?? ConvolutionPlan(shape: shape)) != nil
    }

    /// output[N, Cout, OH / 2, OW / 2] = mean of each 2 × 2 window (stride 2) of tanh(weight ⊛ input + bias),
    /// for inference: bit for bit `forward` with the same plan, then `Activation.tanhForward`, then
    /// `AvgPool2D.forward`, in one pass whose convolution outputs are never written out. Only where
    /// `usesFusedTanhAveragePool` (with that plan, default the planner's); elsewhere a precondition failure.
    /// input: [N, Cin, H, W], weight: [Cout, Cin, K, K], bias: [Cout] or nil, output: [N, Cout, OH / 2, OW / 2].
    public static func forwardTanhAveragePool(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape, plan: ConvolutionPlan? = nil
    ) {
        let plan = plan ?? ConvolutionPlan(shape: shape)
        switch ConvolutionPlan.fusedTanhAveragePool(for: shape, plan: plan) {
        case .oneChannel:
            oneChannelForwardTanhAveragePool(input: input, weight: weight, bias: bias, output: output, shape: shape)
        case .channelsInLanes:
            channelsInLanesForwardTanhAveragePool(
                input: input, weight: weight, bias: bias, output: output, shape: shape)
        case nil:
            fatalError("forwardTanhAveragePool has no fused kernel for \(shape) with the plan (\(plan))")
        }
    }

    /// The row stride of `forwardTanhAveragePool`'s padded image: the padded width, or more, so the last
    /// block's eight columns plus K − 1 stay inside the row.
    static func fusedRowStride(_ shape: Convolution2DShape) -> Int {
        max(shape.width + 2 * shape.padding, (shape.outputWidth + 7) / 8 * 8 + shape.kernelWidth - 1)
    }

    /// `forwardTanhAveragePool` for `ConvolutionPlan.FusedTanhAveragePool.oneChannel` shapes.
    /// input: [N, 1, H, W], weight: [Cout, 1, K, K], bias: [Cout] or nil, output: [N, Cout, OH / 2, OW / 2].
    ///
    /// Each image is copied into a zero-padded plane (`fusedRowStride`). A block is two convolution rows by
    /// eight columns by six output channels: twelve fused multiply-add accumulators, per tap two row loads
    /// and six weight broadcasts, the taps summed in `directForward`'s order. Bias added, the image's blocks
    /// go through tanh in one loop, then pooling gives four outputs per channel and block. A block whose
    /// input window holds only zeros — half of an MNIST image's, whose digits leave most of it blank — takes
    /// the value of a window of zeros (tanh of the bias, pooled), computed once; other blocks skip the kernel
    /// rows that read only zeros. Adding 0 · w changes no sum for a finite w, so the outputs are the same as
    /// with every tap.
    static func oneChannelForwardTanhAveragePool(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        let kernel = shape.kernelHeight, padding = shape.padding, outputChannels = shape.outputChannels
        let (height, width, outputWidth) = (shape.height, shape.width, shape.outputWidth)
        let rowStride = fusedRowStride(shape), paddedHeight = height + 2 * padding
        let (pooledHeight, pooledWidth) = (shape.outputHeight / 2, outputWidth / 2)
        let pooledPlane = pooledHeight * pooledWidth
        let columnBlocks = (outputWidth + 7) / 8
        let taps = kernel * kernel
        let blockChannels = 6
        let channelBlocks = (outputChannels + blockChannels - 1) / blockChannels
        // [channelBlocks, taps, 6]: a short last block repeats its last channel's weights; its extra results
        // are dropped.
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: channelBlocks * taps * blockChannels)
        defer { packed.deallocate() }
        for block in 0..<channelBlocks {
            for tap in 0..<taps {
                for offset in 0..<blockChannels {
                    packed[(block * taps + tap) * blockChannels + offset] =
                        weight[min(block * blockChannels + offset, outputChannels - 1) * taps + tap]
                }
            }
        }
        // Per packed channel (a short last block repeating its last channel): the bias, 0 without one.
        let blockBias = UnsafeMutablePointer<Float>.allocate(capacity: channelBlocks * blockChannels)
        defer { blockBias.deallocate() }
        for index in 0..<(channelBlocks * blockChannels) {
            blockBias[index] = bias?[min(index, outputChannels - 1)] ?? 0
        }
        // What the unfused path gives a window of zeros: tanh(0 + bias), pooled in `AvgPool2D.forward`'s order.
        let blankOutputs: [Float] = (0..<outputChannels).map { channel in
            let activated = Activation.tanhApproximation(0 + (bias?[channel] ?? 0))
            return (((activated + activated) + activated) + activated) * 0.25
        }
        // A block's window in a padded row: its eight columns and the K − 1 after them.
        let windowBits = (0..<columnBlocks).map { block in ((UInt64(1) << (8 + kernel - 1)) - 1) << (block * 8) }

        #if arch(x86_64)
        let evenThenOdd = unsafeBitCast(SIMD8<Int32>(0, 2, 4, 6, 1, 3, 5, 7), to: SIMD4<Int64>.self)
        #endif
        // A block's pooled outputs: four, or the two of a last block over 28 columns, as whole vectors.
        @inline(__always) func store(_ values: SIMD4<Float>, _ target: UnsafeMutablePointer<Float>, count: Int) {
            if count == 4 {
                UnsafeMutableRawPointer(target).storeBytes(of: values, as: SIMD4<Float>.self)
            } else if count == 2 {
                UnsafeMutableRawPointer(target).storeBytes(of: values.lowHalf, as: SIMD2<Float>.self)
            } else {
                for index in 0..<count { target[index] = values[index] }
            }
        }
        let blocksPerImage = pooledHeight * columnBlocks
        // One block's convolution outputs: [channelBlocks, 6 channels, 2 rows, 8 columns].
        let blockValues = channelBlocks * blockChannels * 2 * 8

        Parallel.forEachChunk(of: shape.batch) { images in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * rowStride)
            padded.initialize(repeating: 0, count: paddedHeight * rowStride)
            // Bit c of padded row r: element (r, c) is nonzero.
            let rowBits = UnsafeMutablePointer<UInt64>.allocate(capacity: paddedHeight)
            rowBits.initialize(repeating: 0, count: paddedHeight)
            // The convolution outputs + bias of an image's non-blank blocks, then their tanh: all of an
            // image's tanh in one loop, whose independent iterations overlap in the pipeline (a block's
            // twelve alone would mostly wait on one another's latency).
            let activated = UnsafeMutablePointer<Float>.allocate(capacity: blocksPerImage * blockValues)
            let computedBlocks = UnsafeMutablePointer<Int>.allocate(capacity: blocksPerImage)
            defer {
                padded.deallocate()
                rowBits.deallocate()
                activated.deallocate()
                computedBlocks.deallocate()
            }
            for image in images {
                let source = input + image * shape.inputImageSize
                copyRows(
                    source, to: padded + (padding * rowStride + padding), rows: height, width: width,
                    targetStride: rowStride)
                for row in 0..<height {
                    rowBits[padding &+ row] = nonzeroBits(source + row &* width, count: width, shift: padding)
                }
                let imageOutput = output + image * outputChannels * pooledPlane
                var computedCount = 0
                // Convolution rows 2i and 2i + 1 read padded rows 2i ..< 2i + K + 1: their nonzero columns.
                var rowsUsed: UInt64 = 0
                for block in 0..<blocksPerImage {
                    let pooledRow = block / columnBlocks, columnBlock = block % columnBlocks
                    let firstRow = 2 &* pooledRow, column = columnBlock &* 8, window = windowBits[columnBlock]
                    if columnBlock == 0 {
                        rowsUsed = 0
                        for row in firstRow..<(firstRow &+ kernel &+ 1) { rowsUsed |= rowBits[row] }
                    }
                    if rowsUsed & window == 0 {
                        let outputOffset = pooledRow &* pooledWidth &+ column / 2,
                            pooledColumns = min(4, (outputWidth &- column) / 2)
                        for channel in 0..<outputChannels {
                            store(
                                SIMD4(repeating: blankOutputs[channel]),
                                imageOutput + (channel &* pooledPlane &+ outputOffset), count: pooledColumns)
                        }
                        continue
                    }
                    let values = UnsafeMutableRawPointer(activated + computedCount &* blockValues)
                    computedBlocks[computedCount] = block
                    computedCount &+= 1
                    for channelBlock in 0..<channelBlocks {
                        let blockWeights = UnsafePointer(packed + channelBlock &* taps &* blockChannels)
                        // sumNa: channel N at convolution row 2i; sumNb: at row 2i + 1. The tap's twelve fused
                        // multiply-adds are written out as in `directForward`: the same block behind a shared
                        // accumulator struct measured 7% slower there (CNN inference, LeNet5 training).
                        var sum0a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1a = SIMD8<Float>(),
                            sum1b = SIMD8<Float>()
                        var sum2a = SIMD8<Float>(), sum2b = SIMD8<Float>(), sum3a = SIMD8<Float>(),
                            sum3b = SIMD8<Float>()
                        var sum4a = SIMD8<Float>(), sum4b = SIMD8<Float>(), sum5a = SIMD8<Float>(),
                            sum5b = SIMD8<Float>()
                        for kernelRow in 0..<kernel {
                            let row = firstRow &+ kernelRow
                            if (rowBits[row] | rowBits[row &+ 1]) & window == 0 { continue }
                            let rowA = UnsafeRawPointer(padded + (row &* rowStride &+ column)),
                                rowB = rowA + rowStride &* 4
                            for kernelX in 0..<kernel {
                                let valuesA = rowA.loadUnaligned(fromByteOffset: kernelX &* 4, as: SIMD8<Float>.self)
                                let valuesB = rowB.loadUnaligned(fromByteOffset: kernelX &* 4, as: SIMD8<Float>.self)
                                let tapWeights = blockWeights + (kernelRow &* kernel &+ kernelX) &* blockChannels
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
                        let target = values + channelBlock &* blockChannels &* 64
                        let channelBias = blockBias + channelBlock &* blockChannels
                        target.storeBytes(
                            of: sum0a + SIMD8(repeating: channelBias[0]), toByteOffset: 0, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum0b + SIMD8(repeating: channelBias[0]), toByteOffset: 32, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum1a + SIMD8(repeating: channelBias[1]), toByteOffset: 64, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum1b + SIMD8(repeating: channelBias[1]), toByteOffset: 96, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum2a + SIMD8(repeating: channelBias[2]), toByteOffset: 128, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum2b + SIMD8(repeating: channelBias[2]), toByteOffset: 160, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum3a + SIMD8(repeating: channelBias[3]), toByteOffset: 192, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum3b + SIMD8(repeating: channelBias[3]), toByteOffset: 224, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum4a + SIMD8(repeating: channelBias[4]), toByteOffset: 256, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum4b + SIMD8(repeating: channelBias[4]), toByteOffset: 288, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum5a + SIMD8(repeating: channelBias[5]), toByteOffset: 320, as: SIMD8<Float>.self)
                        target.storeBytes(
                            of: sum5b + SIMD8(repeating: channelBias[5]), toByteOffset: 352, as: SIMD8<Float>.self)
                    }
                }
                let vectors = UnsafeMutableRawPointer(activated)
                for index in 0..<(computedCount &* blockValues / 8) {
                    let row = vectors.load(fromByteOffset: index &* 32, as: SIMD8<Float>.self)
                    vectors.storeBytes(
                        of: Activation.tanhApproximation(row), toByteOffset: index &* 32, as: SIMD8<Float>.self)
                }
                // Each output's window summed as AvgPool2D.forward sums it: ((top[2x] + top[2x + 1]) +
                // bottom[2x]) + bottom[2x + 1], times 1/4.
                for computed in 0..<computedCount {
                    let block = computedBlocks[computed]
                    let pooledRow = block / columnBlocks, column = block % columnBlocks &* 8
                    let outputOffset = pooledRow &* pooledWidth &+ column / 2,
                        pooledColumns = min(4, (outputWidth &- column) / 2)
                    let values = UnsafeRawPointer(activated + computed &* blockValues)
                    for channel in 0..<outputChannels {
                        let top = values.load(fromByteOffset: channel &* 64, as: SIMD8<Float>.self)
                        let bottom = values.load(fromByteOffset: channel &* 64 &+ 32, as: SIMD8<Float>.self)
                        #if arch(x86_64)
                        // Even columns to the low half, odd ones to the high half (SIMD8's evenHalf and oddHalf
                        // compile to lane-by-lane moves here).
                        let (sortedTop, sortedBottom) = (
                            _mm256_permutevar8x32_ps(top, evenThenOdd), _mm256_permutevar8x32_ps(bottom, evenThenOdd)
                        )
                        let pooled =
                            (((sortedTop.lowHalf + sortedTop.highHalf) + sortedBottom.lowHalf) + sortedBottom.highHalf)
                            * 0.25
                        #else
                        let pooled = (((top.evenHalf + top.oddHalf) + bottom.evenHalf) + bottom.oddHalf) * 0.25
                        #endif
                        store(pooled, imageOutput + (channel &* pooledPlane &+ outputOffset), count: pooledColumns)
                    }
                }
            }
        }
    }
    /// `forwardTanhAveragePool` for `ConvolutionPlan.FusedTanhAveragePool.channelsInLanes` shapes, as
    /// `directForwardChannelsInLanes` computes it but by pooling windows: per group of sixteen output channels
    /// (the vector lanes), the four positions of a 2 × 2 window at a time, eight fused multiply-add
    /// accumulators, per tap four broadcast inputs and two vectors of packed weights, the taps summed in that
    /// kernel's order. Bias added, the image's sums go through tanh in one loop; a window's mean is then four
    /// vector additions across sixteen channels at once, with no transposing of sums into output planes.
    /// input: [N, Cin, H, W], weight: [Cout, Cin, K, K], bias: [Cout] or nil, output: [N, Cout, OH / 2, OW / 2].
    static func channelsInLanesForwardTanhAveragePool(
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, shape: Convolution2DShape
    ) {
        let kernel = shape.kernelHeight, outputChannels = shape.outputChannels, width = shape.width
        let taps = shape.patchSize
        let channelGroups = outputChannels / 16
        let (pooledHeight, pooledWidth) = (shape.outputHeight / 2, shape.outputWidth / 2)
        let windows = pooledHeight * pooledWidth
        // Where tap (c, ky, kx) starts in an input image.
        let tapOffsets = UnsafeMutablePointer<Int>.allocate(capacity: taps)
        // [channelGroups, taps, 16]
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels * taps)
        let laneBias = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels)
        defer {
            tapOffsets.deallocate()
            packed.deallocate()
            laneBias.deallocate()
        }
        for tap in 0..<taps {
            tapOffsets[tap] =
                (tap / (kernel * kernel)) * shape.height * width + (tap / kernel % kernel) * width + tap % kernel
        }
        for channel in 0..<outputChannels {
            for tap in 0..<taps {
                packed[(channel / 16 * taps + tap) * 16 + channel % 16] = weight[channel * taps + tap]
            }
            laneBias[channel] = bias?[channel] ?? 0
        }

        Parallel.forEachChunk(of: shape.batch) { images in
            // [channelGroups, windows, 4 positions, 16 channels]: an image's sums + bias, then their tanh.
            let activated = UnsafeMutablePointer<Float>.allocate(capacity: channelGroups * windows * 64)
            defer { activated.deallocate() }
            let values = UnsafeMutableRawPointer(activated)
            for image in images {
                let source = input + image * shape.inputImageSize
                for group in 0..<channelGroups {
                    let groupWeights = UnsafeRawPointer(packed + group * taps * 16)
                    let biasA = UnsafeRawPointer(laneBias + group * 16).loadUnaligned(as: SIMD8<Float>.self)
                    let biasB = UnsafeRawPointer(laneBias + group * 16 + 8).loadUnaligned(as: SIMD8<Float>.self)
                    for window in 0..<windows {
                        // The window's top-left position; the others are one column right, one row down, both.
                        let topLeft = 2 &* (window / pooledWidth) &* width &+ 2 &* (window % pooledWidth)
                        var sum0a = SIMD8<Float>(), sum0b = SIMD8<Float>(), sum1a = SIMD8<Float>(),
                            sum1b = SIMD8<Float>()
                        var sum2a = SIMD8<Float>(), sum2b = SIMD8<Float>(), sum3a = SIMD8<Float>(),
                            sum3b = SIMD8<Float>()
                        for tap in 0..<taps {
                            let tapInput = source + (tapOffsets[tap] &+ topLeft)
                            let weightsA = groupWeights.loadUnaligned(fromByteOffset: tap &* 64, as: SIMD8<Float>.self)
                            let weightsB = groupWeights.loadUnaligned(
                                fromByteOffset: tap &* 64 &+ 32, as: SIMD8<Float>.self)
                            var value = SIMD8<Float>(repeating: tapInput[0])
                            sum0a.addProduct(value, weightsA)
                            sum0b.addProduct(value, weightsB)
                            value = SIMD8(repeating: tapInput[1])
                            sum1a.addProduct(value, weightsA)
                            sum1b.addProduct(value, weightsB)
                            value = SIMD8(repeating: tapInput[width])
                            sum2a.addProduct(value, weightsA)
                            sum2b.addProduct(value, weightsB)
                            value = SIMD8(repeating: tapInput[width &+ 1])
                            sum3a.addProduct(value, weightsA)
                            sum3b.addProduct(value, weightsB)
                        }
                        let target = (group &* windows &+ window) &* 256
                        values.storeBytes(of: sum0a + biasA, toByteOffset: target, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum0b + biasB, toByteOffset: target &+ 32, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum1a + biasA, toByteOffset: target &+ 64, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum1b + biasB, toByteOffset: target &+ 96, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum2a + biasA, toByteOffset: target &+ 128, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum2b + biasB, toByteOffset: target &+ 160, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum3a + biasA, toByteOffset: target &+ 192, as: SIMD8<Float>.self)
                        values.storeBytes(of: sum3b + biasB, toByteOffset: target &+ 224, as: SIMD8<Float>.self)
                    }
                }
                for index in 0..<(channelGroups &* windows &* 8) {
                    let vector = values.load(fromByteOffset: index &* 32, as: SIMD8<Float>.self)
                    values.storeBytes(
                        of: Activation.tanhApproximation(vector), toByteOffset: index &* 32, as: SIMD8<Float>.self)
                }
                // ((top-left + top-right) + bottom-left) + bottom-right, times 1/4: AvgPool2D.forward's order.
                let imageOutput = output + image * outputChannels * windows
                for group in 0..<channelGroups {
                    for window in 0..<windows {
                        let start = (group &* windows &+ window) &* 256
                        for half in 0..<2 {
                            let lanes = start &+ half &* 32
                            let topLeft = values.load(fromByteOffset: lanes, as: SIMD8<Float>.self)
                            let topRight = values.load(fromByteOffset: lanes &+ 64, as: SIMD8<Float>.self)
                            let bottomLeft = values.load(fromByteOffset: lanes &+ 128, as: SIMD8<Float>.self)
                            let bottomRight = values.load(fromByteOffset: lanes &+ 192, as: SIMD8<Float>.self)
                            let pooled = (((topLeft + topRight) + bottomLeft) + bottomRight) * 0.25
                            let target = imageOutput + ((group &* 16 &+ half &* 8) &* windows &+ window)
                            for lane in 0..<8 { target[lane &* windows] = pooled[lane] }
                        }
                    }
                }
            }
        }
    }
}
