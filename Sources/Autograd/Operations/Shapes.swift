import Preconditions

// Operations that move elements without changing them: permuting dimensions, joining tensors and taking
// a part of one. Each pullback moves the gradient back the same way.

extension Tensor {
    /// The dimensions reordered: result dimension d is this tensor's dimension `dimensions[d]` (negative
    /// counts from the end), PyTorch's `permute`: [2, 3, 4].permute(2, 0, 1) → [4, 2, 3]. Copies.
    public func permute(_ dimensions: [Int]) -> Tensor {
        let order = dimensions.map { normalizedDimension($0, operation: "permute") }
        checkPrecondition(
            order.count == rank && Set(order).count == rank,
            "permute: \(dimensions) is not a permutation of the \(rank) dimensions of \(shape)")
        var strides = [Int](repeating: 1, count: rank)
        for dimension in stride(from: rank - 2, through: 0, by: -1) {
            strides[dimension] = strides[dimension + 1] * shape[dimension + 1]
        }
        // Output element i reads input element sources[i].
        let sources = gatherIndices(shape: order.map { shape[$0] }, strides: order.map { strides[$0] })
        let input = data
        return Tensor.result(
            shape: order.map { shape[$0] }, data: sources.map { input[$0] }, operation: "permute", inputs: [self]
        ) { gradient in
            var inputGradient = [Float](repeating: 0, count: input.count)
            for (index, source) in sources.enumerated() { inputGradient[source] = gradient[index] }
            return [inputGradient]
        }
    }

    /// `permute` with the dimensions listed: `x.permute(0, 2, 1)`.
    public func permute(_ dimensions: Int...) -> Tensor { permute(dimensions) }

    /// Dimensions `first` and `second` swapped (negative counts from the end), PyTorch's `transpose`:
    /// [2, 3, 4].transpose(0, -1) → [4, 3, 2].
    public func transpose(_ first: Int, _ second: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(
            normalizedDimension(first, operation: "transpose"), normalizedDimension(second, operation: "transpose"))
        return permute(order)
    }

    /// `tensors` joined along `dim` (negative counts from the end), PyTorch's `torch.cat`: their shapes
    /// must agree except along `dim`; [2, 3] and [2, 5] along 1 → [2, 8].
    public static func cat(_ tensors: [Tensor], dim: Int) -> Tensor {
        checkPrecondition(!tensors.isEmpty, "cat needs at least one tensor")
        let first = tensors[0]
        let dimension = first.normalizedDimension(dim, operation: "cat")
        for tensor in tensors {
            var expected = first.shape, actual = tensor.shape
            if actual.count == expected.count { (expected[dimension], actual[dimension]) = (0, 0) }
            checkPrecondition(
                actual == expected,
                "cat along \(dim): shapes \(tensors.map { "\($0.shape)" }.joined(separator: ", ")) differ elsewhere")
        }
        let (outer, _, inner) = first.splitAround(dimension)
        // Each tensor contributes one block of size · inner elements to every outer row.
        let blocks = tensors.map { $0.shape[dimension] * inner }
        let rowLength = blocks.reduce(0, +)
        var output: [Float] = []
        output.reserveCapacity(outer * rowLength)
        for outerIndex in 0..<outer {
            for (tensor, block) in zip(tensors, blocks) {
                output.append(contentsOf: tensor.data[(outerIndex * block)..<((outerIndex + 1) * block)])
            }
        }
        var shape = first.shape
        shape[dimension] = tensors.map { $0.shape[dimension] }.reduce(0, +)
        return result(shape: shape, data: output, operation: "cat", inputs: tensors) { gradient in
            var offset = 0
            return zip(tensors, blocks).map { tensor, block in
                defer { offset += block }
                guard tensor.requiresGrad else { return nil }
                var inputGradient: [Float] = []
                inputGradient.reserveCapacity(outer * block)
                for outerIndex in 0..<outer {
                    let start = outerIndex * rowLength + offset
                    inputGradient.append(contentsOf: gradient[start..<(start + block)])
                }
                return inputGradient
            }
        }
    }

    /// `tensors`, all of one shape, stacked along a new dimension `dim` (negative counts from the end of
    /// the result's dimensions), PyTorch's `torch.stack`: three [2, 4] along 1 → [2, 3, 4].
    public static func stack(_ tensors: [Tensor], dim: Int) -> Tensor {
        checkPrecondition(!tensors.isEmpty, "stack needs at least one tensor")
        let shape = tensors[0].shape
        checkPrecondition(
            tensors.allSatisfy { $0.shape == shape },
            "stack: shapes \(tensors.map { "\($0.shape)" }.joined(separator: ", ")) differ")
        let dimension = tensors[0].normalizedDimension(dim, operation: "stack", rank: shape.count + 1)
        var expanded = shape
        expanded.insert(1, at: dimension)
        return cat(tensors.map { $0.reshaped(expanded) }, dim: dimension)
    }

    /// Elements `start..<start + length` along `dim` (negative counts from the end), PyTorch's `narrow`:
    /// [4, 6].narrow(dim: 1, start: 2, length: 3) → [4, 3]. Copies; the gradient goes back to those
    /// elements and the rest get 0.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        let dimension = normalizedDimension(dim, operation: "narrow")
        checkPrecondition(
            start >= 0 && length >= 0 && start + length <= shape[dimension],
            "narrow: \(start)..<\(start + length) out of dimension \(dim) of \(shape)")
        let (outer, size, inner) = splitAround(dimension)
        let input = data
        var output: [Float] = []
        output.reserveCapacity(outer * length * inner)
        for outerIndex in 0..<outer {
            let from = (outerIndex * size + start) * inner
            output.append(contentsOf: input[from..<(from + length * inner)])
        }
        var newShape = shape
        newShape[dimension] = length
        return Tensor.result(shape: newShape, data: output, operation: "narrow", inputs: [self]) { gradient in
            var inputGradient = [Float](repeating: 0, count: input.count)
            for outerIndex in 0..<outer {
                let from = (outerIndex * size + start) * inner, part = outerIndex * length * inner
                for offset in 0..<(length * inner) { inputGradient[from + offset] = gradient[part + offset] }
            }
            return [inputGradient]
        }
    }

    /// `narrow` over a range: `x.narrow(dim: 1, 2..<5)`.
    public func narrow(dim: Int, _ range: Range<Int>) -> Tensor {
        narrow(dim: dim, start: range.lowerBound, length: range.count)
    }
}
