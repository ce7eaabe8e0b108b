import Preconditions

// Reductions along one dimension. A tensor is seen as [outer, size, inner] around the reduced dimension
// (outer: the product of the sizes before it, inner: after it), so element (o, k, i) is at
// (o · size + k) · inner + i.

extension Tensor {
    /// `dimension` counted from the end when negative (−1 is the last), checked against the rank.
    func normalizedDimension(_ dimension: Int, operation: String, rank: Int? = nil) -> Int {
        let rank = rank ?? self.rank
        checkPrecondition(
            dimension >= -rank && dimension < rank, "\(operation): dimension \(dimension) out of range for \(shape)")
        return dimension < 0 ? dimension + rank : dimension
    }

    /// The [outer, size, inner] view around `dimension` (normalised).
    func splitAround(_ dimension: Int) -> (outer: Int, size: Int, inner: Int) {
        (shape.prefix(dimension).reduce(1, *), shape[dimension], shape.dropFirst(dimension + 1).reduce(1, *))
    }

    /// The shape after reducing `dimension`: removed, or kept with size 1.
    private func reducedShape(_ dimension: Int, keepDim: Bool) -> [Int] {
        var result = shape
        if keepDim { result[dimension] = 1 } else { result.remove(at: dimension) }
        return result
    }

    /// The sum along `dim` (negative counts from the end): [2, 3, 4] → [2, 4] for dim 1, [2, 1, 4] with
    /// `keepDim`. Accumulates in Double. The gradient is the output's, repeated along `dim`.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor {
        let dimension = normalizedDimension(dim, operation: "sum")
        let (outer, size, inner) = splitAround(dimension)
        let input = data
        var output = [Float](repeating: 0, count: outer * inner)
        for outerIndex in 0..<outer {
            for innerIndex in 0..<inner {
                var total = 0.0
                for position in 0..<size { total += Double(input[(outerIndex * size + position) * inner + innerIndex]) }
                output[outerIndex * inner + innerIndex] = Float(total)
            }
        }
        return Tensor.result(
            shape: reducedShape(dimension, keepDim: keepDim), data: output, operation: "sumAlongDimension",
            inputs: [self]
        ) { gradient in
            var inputGradient = [Float](repeating: 0, count: input.count)
            for outerIndex in 0..<outer {
                for position in 0..<size {
                    for innerIndex in 0..<inner {
                        inputGradient[(outerIndex * size + position) * inner + innerIndex] =
                            gradient[outerIndex * inner + innerIndex]
                    }
                }
            }
            return [inputGradient]
        }
    }

    /// The mean along `dim` (negative counts from the end), shaped as `sum(dim:keepDim:)`.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor {
        let dimension = normalizedDimension(dim, operation: "mean")
        return sum(dim: dimension, keepDim: keepDim) / Float(Swift.max(shape[dimension], 1))
    }

    /// The largest elements along `dim` (negative counts from the end), shaped as `sum(dim:keepDim:)`, and
    /// their positions along `dim`, one per value in the values' row-major order (PyTorch's
    /// `max(dim, keepdim)`): [2, 3, 4] → values [2, 4] and 8 indices in 0..<3 for dim 1. Ties go to the
    /// first position, which alone gets the gradient, as in PyTorch; a NaN is the maximum.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: [Int]) {
        let dimension = normalizedDimension(dim, operation: "max")
        let (outer, size, inner) = splitAround(dimension)
        checkPrecondition(size > 0, "max: dimension \(dim) of \(shape) is empty")
        let input = data
        var values = [Float](repeating: 0, count: outer * inner)
        var indices = [Int](repeating: 0, count: outer * inner)
        for outerIndex in 0..<outer {
            for innerIndex in 0..<inner {
                var best = 0
                var bestValue = input[outerIndex * size * inner + innerIndex]
                for position in 1..<size where !bestValue.isNaN {
                    let value = input[(outerIndex * size + position) * inner + innerIndex]
                    if value > bestValue || value.isNaN { (best, bestValue) = (position, value) }
                }
                values[outerIndex * inner + innerIndex] = bestValue
                indices[outerIndex * inner + innerIndex] = best
            }
        }
        let output = Tensor.result(
            shape: reducedShape(dimension, keepDim: keepDim), data: values, operation: "maxAlongDimension",
            inputs: [self]
        ) { gradient in
            var inputGradient = [Float](repeating: 0, count: input.count)
            for outerIndex in 0..<outer {
                for innerIndex in 0..<inner {
                    let reduced = outerIndex * inner + innerIndex
                    inputGradient[(outerIndex * size + indices[reduced]) * inner + innerIndex] = gradient[reduced]
                }
            }
            return [inputGradient]
        }
        return (output, indices)
    }
}
