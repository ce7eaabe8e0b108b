import CVectorKernels

#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// A fully connected layer's products on inputs that are mostly zeros, as MNIST's images are (81% of their
/// pixels): the forward product, where each row's nonzero inputs scale rows of the transposed weights into
/// its outputs, and the weight gradient, where each nonzero input scales its row's output gradient into its
/// column of the gradient; so the work follows the nonzeros instead of every input. Adding 0 · w changes no
/// sum for a finite w, so the results are the dense products', up to the order the terms are summed in
/// (which BLAS does not fix either).
public enum SparseLinear {
    /// Rows whose nonzero lists are built and used together (their lists stay in cache beside a block of
    /// the weights).
    static let groupRows = 64

    /// Whether `forward` beats a dense product on `input` [rows, inputs], given the transposed weights: at
    /// most 40% of the inputs nonzero (measured on MNIST: the dense product wins above about half), judged
    /// on the first 16 rows at most so that a dense input costs little to turn down. Either answer gives the
    /// same product; a wrong guess only costs time.
    public static func isWorthwhile(input: UnsafePointer<Float>, rows: Int, inputs: Int) -> Bool {
        guard rows >= 1, inputs >= 64 else { return false }
        let sampled = min(rows, 16) * inputs
        var nonzero = 0
        for index in 0..<sampled where input[index] != 0 { nonzero &+= 1 }
        return nonzero * 5 <= sampled * 2
    }

    /// Whether `forward` and `weightGradient` beat dense products in training on `input` [rows, inputs] for a
    /// layer of `outputs`: as `isWorthwhile`, with at least one whole block of 64 outputs (the kernels' fast
    /// path). Narrower layers' products are small, and training pays for transposing the weights at every
    /// step, since they change at every step.
    public static func isWorthwhileInTraining(input: UnsafePointer<Float>, rows: Int, inputs: Int, outputs: Int) -> Bool
    {
        outputs >= 64 && isWorthwhile(input: input, rows: rows, inputs: inputs)
    }

    /// Inputs whose block of the transposed weights is used by a whole group of rows before the next: 96 inputs ×
    /// 64 outputs × 4 bytes, 24 KB, fits a 32 KB first-level cache (measured on a Zen 3 with 500 and 1,000 MNIST
    /// images: 80–128 equally good, 15–20% faster than one block over all the inputs, whose 200 KB sit in the
    /// second-level cache).
    static let rangeInputs = 96

    /// output[N, outputs] = input[N, inputs] · weightᵀ + bias, summing only over each row's nonzero inputs.
    /// transposedWeight: [inputs, outputs], PyTorch's [outputs, inputs] weight transposed (kept by the caller
    /// between calls, so that one image does not pay for a transpose); bias: [outputs] or nil. Parallel over
    /// the rows.
    ///
    /// For a group of `groupRows` rows, the nonzero inputs' positions and values are listed, each row's list
    /// cut where a range of `rangeInputs` inputs ends. Then, range by range and 64 outputs at a time (eight
    /// vectors held in registers), each row accumulates value × transposed row over its entries in the range,
    /// starting from the sums the range before stored: one broadcast and eight loads feed eight fused
    /// multiply-adds, and the range's block of the weights stays in the first-level cache across the group's
    /// rows. Each output still sums bias and terms in the order of the inputs. Outputs past the last whole 64
    /// go eight, then one, at a time, over all of a row's entries. With `wideVectors` (default:
    /// `VectorKernels.enabled`, on CPUs with AVX-512), the lists are made 16 inputs at a time
    /// (`vector_sparse_list`) and blocks of 128 outputs go first, in eight 16-lane vectors
    /// (`vector_sparse_forward_blocks`: the same fused multiply-adds in the same order, so the same bits).
    public static func forward(
        input: UnsafePointer<Float>, rows: Int, inputs: Int, transposedWeight transposed: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outputs: Int, output: UnsafeMutablePointer<Float>,
        wideVectors: Bool = VectorKernels.enabled
    ) {
        let wholeBlocks = outputs / 64, wholeVectors = outputs / 8
        let wideBlocks = wideVectors ? outputs / 128 : 0
        let ranges = (inputs + rangeInputs - 1) / rangeInputs
        Parallel.forEachChunk(of: rows) { chunk in
            // A group's nonzero inputs, row after row: where each starts in the transposed weights, its value
            // (room for the 16 elements `vector_sparse_list` may write past the last).
            let positions = UnsafeMutablePointer<Int>.allocate(capacity: groupRows * inputs + 16)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: groupRows * inputs + 16)
            // Row r of the group: its entries of range k are rangeStarts[r · (ranges + 1) + k] ..< [… + k + 1].
            let rangeStarts = UnsafeMutablePointer<Int>.allocate(capacity: groupRows * (ranges + 1))
            defer {
                positions.deallocate()
                values.deallocate()
                rangeStarts.deallocate()
            }
            for group in stride(from: chunk.lowerBound, to: chunk.upperBound, by: groupRows) {
                let groupEnd = min(group + groupRows, chunk.upperBound)
                var count = 0
                for row in group..<groupEnd {
                    let starts = rangeStarts + (row &- group) &* (ranges &+ 1)
                    let source = input + row * inputs
                    for range in 0..<ranges {
                        starts[range] = count
                        let first = range &* rangeInputs, end = min(first &+ rangeInputs, inputs)
                        if wideVectors {
                            count &+= vector_sparse_list(
                                source + first, end &- first, first, outputs, values + count, positions + count)
                            continue
                        }
                        for index in first..<end where source[index] != 0 {
                            positions[count] = index &* outputs
                            values[count] = source[index]
                            count &+= 1
                        }
                    }
                    starts[ranges] = count
                }
                func start(_ vector: Int) -> SIMD8<Float> {
                    bias.map { UnsafeRawPointer($0).loadUnaligned(fromByteOffset: vector &* 32, as: SIMD8<Float>.self) }
                        ?? SIMD8()
                }
                if wideBlocks > 0 {
                    vector_sparse_forward_blocks(
                        values, positions, rangeStarts, groupEnd &- group, ranges, transposed, bias, outputs,
                        wideBlocks, output + group * outputs)
                }
                for range in 0..<ranges {
                    for block in (wideBlocks &* 2)..<wholeBlocks {
                        let first = block &* 8
                        let columns = UnsafeRawPointer(transposed + first &* 8)
                        for row in group..<groupEnd {
                            let starts = rangeStarts + (row &- group) &* (ranges &+ 1)
                            let target = UnsafeMutableRawPointer(output + row * outputs + first &* 8)
                            // The first range starts from the bias, the others from the sums stored before.
                            func sums(_ offset: Int) -> SIMD8<Float> {
                                range == 0
                                    ? start(first &+ offset / 32)
                                    : UnsafeRawPointer(target).loadUnaligned(
                                        fromByteOffset: offset, as: SIMD8<Float>.self)
                            }
                            var sum0 = sums(0), sum1 = sums(32), sum2 = sums(64), sum3 = sums(96)
                            var sum4 = sums(128), sum5 = sums(160), sum6 = sums(192), sum7 = sums(224)
                            for entry in starts[range]..<starts[range &+ 1] {
                                let value = SIMD8<Float>(repeating: values[entry])
                                let weights = columns + positions[entry] &* 4
                                sum0.addProduct(value, weights.loadUnaligned(as: SIMD8<Float>.self))
                                sum1.addProduct(value, weights.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                                sum2.addProduct(value, weights.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                                sum3.addProduct(value, weights.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                                sum4.addProduct(
                                    value, weights.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self))
                                sum5.addProduct(
                                    value, weights.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self))
                                sum6.addProduct(
                                    value, weights.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self))
                                sum7.addProduct(
                                    value, weights.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self))
                            }
                            target.storeBytes(of: sum0, toByteOffset: 0, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum1, toByteOffset: 32, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum2, toByteOffset: 64, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum3, toByteOffset: 96, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum4, toByteOffset: 128, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum5, toByteOffset: 160, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum6, toByteOffset: 192, as: SIMD8<Float>.self)
                            target.storeBytes(of: sum7, toByteOffset: 224, as: SIMD8<Float>.self)
                        }
                    }
                }
                for row in group..<groupEnd {
                    let starts = rangeStarts + (row &- group) &* (ranges &+ 1)
                    let (entries, rowOutput) = (starts[0]..<starts[ranges], output + row * outputs)
                    for vector in (wholeBlocks &* 8)..<wholeVectors {
                        var sum = start(vector)
                        let columns = UnsafeRawPointer(transposed + vector &* 8)
                        for entry in entries {
                            sum.addProduct(
                                SIMD8(repeating: values[entry]),
                                (columns + positions[entry] &* 4).loadUnaligned(as: SIMD8<Float>.self))
                        }
                        UnsafeMutableRawPointer(rowOutput + vector &* 8).storeBytes(of: sum, as: SIMD8<Float>.self)
                    }
                    for column in (wholeVectors &* 8)..<outputs {
                        var sum = bias?[column] ?? 0
                        for entry in entries {
                            sum = sum.addingProduct(values[entry], transposed[positions[entry] &+ column])
                        }
                        rowOutput[column] = sum
                    }
                }
            }
        }
    }

    /// weightGradient[outputs, inputs] = outputGradientᵀ · input, the weight gradient of the product
    /// (dW = dYᵀ · X), summing only over each input's nonzero values. input: [rows, inputs]; outputGradient:
    /// [rows, outputs]; weightGradient: [outputs, inputs], overwritten. Parallel over the inputs; each element
    /// sums its terms in row order, so the result does not depend on the thread count.
    ///
    /// For a group of `groupRows` rows, the nonzero inputs are listed column by column (which rows, what
    /// values). Then, eight inputs and 64 outputs at a time, each input accumulates value × its rows' output
    /// gradients in eight vectors (one broadcast and eight loads feed eight fused multiply-adds, the output
    /// gradients' block staying in cache across the inputs); the 8 × 64 block is transposed in registers,
    /// 8 × 8 at a time, into eight inputs' contiguous elements of 64 rows of the gradient. Outputs past the
    /// last whole 64 go eight at a time, then one; later groups of rows add to what the first wrote.
    public static func weightGradient(
        input: UnsafePointer<Float>, rows: Int, inputs: Int, outputGradient: UnsafePointer<Float>, outputs: Int,
        weightGradient: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0 else {
            weightGradient.update(repeating: 0, count: outputs * inputs)
            return
        }
        let wholeBlocks = outputs / 64, wholeVectors = outputs / 8
        // Split over blocks of eight inputs, so that every chunk's blocks but the last are whole.
        Parallel.forEachChunk(of: (inputs + 7) / 8) { inputBlocks in
            let firstInput = inputBlocks.lowerBound * 8, endInput = min(inputBlocks.upperBound * 8, inputs)
            let width = endInput - firstInput
            // For each of the chunk's inputs, up to `groupRows` entries: the row's output gradient, the value.
            let entryRows = UnsafeMutablePointer<Int>.allocate(capacity: width * groupRows)
            let entryValues = UnsafeMutablePointer<Float>.allocate(capacity: width * groupRows)
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: width)
            // Eight inputs' sums for one block of 64 outputs, row by row (a row per input), zero past the last
            // input.
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: 8 * 64)
            defer {
                entryRows.deallocate()
                entryValues.deallocate()
                counts.deallocate()
                tile.deallocate()
            }
            for group in stride(from: 0, to: rows, by: groupRows) {
                let groupEnd = min(group + groupRows, rows)
                let accumulate = group > 0
                counts.update(repeating: 0, count: width)
                for row in group..<groupEnd {
                    let source = input + row * inputs + firstInput
                    for index in 0..<width where source[index] != 0 {
                        let slot = index &* groupRows &+ counts[index]
                        entryRows[slot] = row &* outputs
                        entryValues[slot] = source[index]
                        counts[index] &+= 1
                    }
                }
                // 64 outputs at a time, their output gradients (64 rows × 256 bytes) staying in the first-level
                // cache across the chunk's inputs: eight vectors of sums per input.
                for outputBlock in 0..<wholeBlocks {
                    let columns = UnsafeRawPointer(outputGradient + outputBlock &* 64)
                    for block in stride(from: 0, to: width, by: 8) {
                        let blockWidth = min(8, width &- block)
                        for lane in 0..<8 {
                            var sum0 = SIMD8<Float>(), sum1 = SIMD8<Float>(), sum2 = SIMD8<Float>(),
                                sum3 = SIMD8<Float>()
                            var sum4 = SIMD8<Float>(), sum5 = SIMD8<Float>(), sum6 = SIMD8<Float>(),
                                sum7 = SIMD8<Float>()
                            if lane < blockWidth {
                                let entries = (block &+ lane) &* groupRows
                                for entry in entries..<(entries &+ counts[block &+ lane]) {
                                    let value = SIMD8<Float>(repeating: entryValues[entry])
                                    let gradients = columns + entryRows[entry] &* 4
                                    sum0.addProduct(value, gradients.loadUnaligned(as: SIMD8<Float>.self))
                                    sum1.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                                    sum2.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                                    sum3.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                                    sum4.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self))
                                    sum5.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self))
                                    sum6.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self))
                                    sum7.addProduct(
                                        value, gradients.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self))
                                }
                            }
                            let row = UnsafeMutableRawPointer(tile + lane &* 64)
                            row.storeBytes(of: sum0, toByteOffset: 0, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum1, toByteOffset: 32, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum2, toByteOffset: 64, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum3, toByteOffset: 96, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum4, toByteOffset: 128, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum5, toByteOffset: 160, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum6, toByteOffset: 192, as: SIMD8<Float>.self)
                            row.storeBytes(of: sum7, toByteOffset: 224, as: SIMD8<Float>.self)
                        }
                        let target = weightGradient + (outputBlock &* 64 &* inputs &+ firstInput &+ block)
                        for vector in 0..<8 {
                            storeTransposed(
                                tile + vector &* 8, rowStride: 64, width: blockWidth,
                                to: target + vector &* 8 &* inputs, stride: inputs, accumulate: accumulate)
                        }
                    }
                }
                // Eight outputs at a time, then one.
                for vector in (wholeBlocks &* 8)..<wholeVectors {
                    let columns = UnsafeRawPointer(outputGradient + vector &* 8)
                    for block in stride(from: 0, to: width, by: 8) {
                        let blockWidth = min(8, width &- block)
                        for lane in 0..<8 {
                            var sum = SIMD8<Float>()
                            if lane < blockWidth {
                                let entries = (block &+ lane) &* groupRows
                                for entry in entries..<(entries &+ counts[block &+ lane]) {
                                    sum.addProduct(
                                        SIMD8(repeating: entryValues[entry]),
                                        (columns + entryRows[entry] &* 4).loadUnaligned(as: SIMD8<Float>.self))
                                }
                            }
                            UnsafeMutableRawPointer(tile + lane &* 8).storeBytes(of: sum, as: SIMD8<Float>.self)
                        }
                        storeTransposed(
                            tile, rowStride: 8, width: blockWidth,
                            to: weightGradient + (vector &* 8 &* inputs &+ firstInput &+ block), stride: inputs,
                            accumulate: accumulate)
                    }
                }
                for column in (wholeVectors &* 8)..<outputs {
                    for index in 0..<width {
                        var sum: Float = 0
                        let entries = index &* groupRows
                        for entry in entries..<(entries &+ counts[index]) {
                            sum = sum.addingProduct(entryValues[entry], outputGradient[entryRows[entry] &+ column])
                        }
                        let element = weightGradient + (column &* inputs &+ firstInput &+ index)
                        element.pointee = accumulate ? element.pointee + sum : sum
                    }
                }
            }
        }
    }

    /// Writes the transpose of an 8 × 8 block: the block's rows are eight vectors `rowStride` floats apart
    /// from `block`; its column c goes to `target + c · stride`, `width` (≤ 8) elements of it (the first
    /// `width` rows'), added to what is there when `accumulate`.
    @inline(__always)
    static func storeTransposed(
        _ block: UnsafePointer<Float>, rowStride: Int, width: Int, to target: UnsafeMutablePointer<Float>,
        stride: Int, accumulate: Bool
    ) {
        func row(_ index: Int) -> SIMD8<Float> {
            UnsafeRawPointer(block + index &* rowStride).loadUnaligned(as: SIMD8<Float>.self)
        }
        let columns = transposed(row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        func store(_ column: SIMD8<Float>, _ index: Int) {
            let destination = target + index &* stride
            if width == 8 {
                let raw = UnsafeMutableRawPointer(destination)
                let value = accumulate ? raw.loadUnaligned(as: SIMD8<Float>.self) + column : column
                raw.storeBytes(of: value, as: SIMD8<Float>.self)
            } else {
                for lane in 0..<width {
                    destination[lane] = accumulate ? destination[lane] + column[lane] : column[lane]
                }
            }
        }
        store(columns.0, 0)
        store(columns.1, 1)
        store(columns.2, 2)
        store(columns.3, 3)
        store(columns.4, 4)
        store(columns.5, 5)
        store(columns.6, 6)
        store(columns.7, 7)
    }

    /// The transpose of the 8 × 8 matrix whose rows are r0 … r7: its columns, in order.
    @inline(__always)
    static func transposed(
        _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>, _ r4: SIMD8<Float>,
        _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
    ) -> (
        SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>
    ) {
        #if arch(x86_64)
        // Interleave pairs of rows (lanes 0 1 4 5 and 2 3 6 7 of each 128-bit half), then pairs of pairs as
        // doubles, which leaves column c's first four elements in half c / 4 of one vector and its last four in
        // the same half of another; the halves are then put together.
        let (a0, a1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1))
        let (a2, a3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3))
        let (a4, a5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5))
        let (a6, a7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7))
        func low(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
            _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(x), _mm256_castps_pd(y)))
        }
        func high(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
            _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(x), _mm256_castps_pd(y)))
        }
        // bN: elements of rows 0–3 (b0…b3) or 4–7 (b4…b7); column N mod 4 in the low half, N mod 4 + 4 in the high.
        let (b0, b1, b2, b3) = (low(a0, a2), high(a0, a2), low(a1, a3), high(a1, a3))
        let (b4, b5, b6, b7) = (low(a4, a6), high(a4, a6), low(a5, a7), high(a5, a7))
        return (
            SIMD8(lowHalf: b0.lowHalf, highHalf: b4.lowHalf), SIMD8(lowHalf: b1.lowHalf, highHalf: b5.lowHalf),
            SIMD8(lowHalf: b2.lowHalf, highHalf: b6.lowHalf), SIMD8(lowHalf: b3.lowHalf, highHalf: b7.lowHalf),
            SIMD8(lowHalf: b0.highHalf, highHalf: b4.highHalf), SIMD8(lowHalf: b1.highHalf, highHalf: b5.highHalf),
            SIMD8(lowHalf: b2.highHalf, highHalf: b6.highHalf), SIMD8(lowHalf: b3.highHalf, highHalf: b7.highHalf)
        )
        #else
        let rows = [r0, r1, r2, r3, r4, r5, r6, r7]
        func column(_ index: Int) -> SIMD8<Float> { SIMD8((0..<8).map { rows[$0][index] }) }
        return (column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7))
        #endif
    }
}
