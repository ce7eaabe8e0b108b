/// A fully connected layer's product for inference on inputs that are mostly zeros, as MNIST's images are
/// (81% of their pixels): each row's nonzero inputs scale rows of the transposed weights into its outputs,
/// so the work follows the nonzeros instead of every input. Adding 0 · w changes no sum for a finite w, so
/// the result is the product's, up to the order the terms are summed in (which BLAS does not fix either).
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

    /// output[N, outputs] = input[N, inputs] · weightᵀ + bias, summing only over each row's nonzero inputs.
    /// transposedWeight: [inputs, outputs], PyTorch's [outputs, inputs] weight transposed (kept by the caller
    /// between calls, so that one image does not pay for a transpose); bias: [outputs] or nil. Parallel over
    /// the rows.
    ///
    /// For a group of `groupRows` rows, the nonzero inputs' positions and values are listed; then, 64
    /// outputs at a time (eight vectors held in registers), each row accumulates value × transposed row over
    /// its list: one broadcast and eight loads feed eight fused multiply-adds, and the block's columns stay
    /// in cache across the group's rows. Outputs past the last whole 64 go eight, then one, at a time.
    public static func forward(
        input: UnsafePointer<Float>, rows: Int, inputs: Int, transposedWeight transposed: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outputs: Int, output: UnsafeMutablePointer<Float>
    ) {
        let wholeBlocks = outputs / 64, wholeVectors = outputs / 8
        Parallel.forEachChunk(of: rows) { chunk in
            // A group's nonzero inputs, row after row: where each starts in the transposed weights, its value.
            let positions = UnsafeMutablePointer<Int>.allocate(capacity: groupRows * inputs)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: groupRows * inputs)
            let rowStarts = UnsafeMutablePointer<Int>.allocate(capacity: groupRows + 1)
            defer {
                positions.deallocate()
                values.deallocate()
                rowStarts.deallocate()
            }
            for group in stride(from: chunk.lowerBound, to: chunk.upperBound, by: groupRows) {
                let groupEnd = min(group + groupRows, chunk.upperBound)
                var count = 0
                for row in group..<groupEnd {
                    rowStarts[row &- group] = count
                    let source = input + row * inputs
                    for index in 0..<inputs where source[index] != 0 {
                        positions[count] = index &* outputs
                        values[count] = source[index]
                        count &+= 1
                    }
                }
                rowStarts[groupEnd &- group] = count
                func start(_ vector: Int) -> SIMD8<Float> {
                    bias.map { UnsafeRawPointer($0).loadUnaligned(fromByteOffset: vector &* 32, as: SIMD8<Float>.self) }
                        ?? SIMD8()
                }
                // Block by block of outputs, so a block's columns of the transposed weights (inputs × 256
                // bytes) stay in cache for every row of the group.
                for block in 0..<wholeBlocks {
                    let first = block &* 8
                    let columns = UnsafeRawPointer(transposed + first &* 8)
                    for row in group..<groupEnd {
                        var sum0 = start(first), sum1 = start(first &+ 1), sum2 = start(first &+ 2),
                            sum3 = start(first &+ 3)
                        var sum4 = start(first &+ 4), sum5 = start(first &+ 5), sum6 = start(first &+ 6),
                            sum7 = start(first &+ 7)
                        for entry in rowStarts[row &- group]..<rowStarts[row &- group &+ 1] {
                            let value = SIMD8<Float>(repeating: values[entry])
                            let weights = columns + positions[entry] &* 4
                            sum0.addProduct(value, weights.loadUnaligned(as: SIMD8<Float>.self))
                            sum1.addProduct(value, weights.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                            sum2.addProduct(value, weights.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                            sum3.addProduct(value, weights.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                            sum4.addProduct(value, weights.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self))
                            sum5.addProduct(value, weights.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self))
                            sum6.addProduct(value, weights.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self))
                            sum7.addProduct(value, weights.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self))
                        }
                        let target = UnsafeMutableRawPointer(output + row * outputs + first &* 8)
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
                for row in group..<groupEnd {
                    let (entries, rowOutput) = (
                        rowStarts[row &- group]..<rowStarts[row &- group &+ 1], output + row * outputs
                    )
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
}
