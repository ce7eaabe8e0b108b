import Preconditions

// Broadcasting as in NumPy and PyTorch: shapes are aligned at their trailing dimensions, and each pair of
// sizes must be equal or one of them 1 (a missing leading dimension counts as 1). A size-1 dimension is
// repeated along the other's; the pullback sums the gradient over the repeated elements, back to each
// input's own shape.

extension Tensor {
    /// The shape `shapes` broadcast to; a precondition failure naming them when they are incompatible.
    static func broadcastShape(_ shapes: [[Int]], operation: String) -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, size) in shape.enumerated() {
                let dimension = rank - shape.count + offset
                if result[dimension] == 1 {
                    result[dimension] = size
                } else {
                    checkPrecondition(
                        size == 1 || size == result[dimension],
                        "\(operation): shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) cannot be broadcast "
                            + "(dimension \(dimension - rank) is \(result[dimension]) against \(size))")
                }
            }
        }
        return result
    }

    /// For each element of `outputShape` (row-major), the index of the element of this tensor it reads when
    /// this tensor is broadcast to `outputShape`.
    func broadcastIndices(to outputShape: [Int]) -> [Int] {
        let leading = outputShape.count - rank
        var stride = 1
        var strides = [Int](repeating: 0, count: outputShape.count)
        for dimension in shape.indices.reversed() {
            // A broadcast (size-1) dimension stays at stride 0: every output position reads the same element.
            if shape[dimension] != 1 { strides[leading + dimension] = stride }
            stride *= shape[dimension]
        }
        return gatherIndices(shape: outputShape, strides: strides)
    }

    /// `gradient` (one value per broadcast element) summed back onto this tensor's elements through
    /// `indices` (from `broadcastIndices(to:)`).
    func sumBroadcastGradient(_ gradient: [Float], indices: [Int]) -> [Float] {
        var result = [Float](repeating: 0, count: count)
        for (index, value) in zip(indices, gradient) { result[index] += value }
        return result
    }

    /// An elementwise operation of two tensors broadcast to a common shape. `combine` computes an element;
    /// `derivatives` gives the partial derivatives (∂/∂left, ∂/∂right) at the elements `(left, right)`.
    static func broadcasting(
        _ left: Tensor, _ right: Tensor, operation: String, symbol: String, combine: (Float, Float) -> Float,
        derivatives: @escaping (Float, Float) -> (left: Float, right: Float)
    ) -> Tensor {
        let shape = broadcastShape([left.shape, right.shape], operation: symbol)
        let leftIndices = left.broadcastIndices(to: shape), rightIndices = right.broadcastIndices(to: shape)
        let (a, b) = (left.data, right.data)
        let output = (0..<leftIndices.count).map { combine(a[leftIndices[$0]], b[rightIndices[$0]]) }
        return result(shape: shape, data: output, operation: operation, inputs: [left, right]) { gradient in
            var leftGradient = [Float](repeating: 0, count: left.requiresGrad ? a.count : 0)
            var rightGradient = [Float](repeating: 0, count: right.requiresGrad ? b.count : 0)
            for index in gradient.indices {
                let (leftIndex, rightIndex) = (leftIndices[index], rightIndices[index])
                let partial = derivatives(a[leftIndex], b[rightIndex])
                if left.requiresGrad { leftGradient[leftIndex] += gradient[index] * partial.left }
                if right.requiresGrad { rightGradient[rightIndex] += gradient[index] * partial.right }
            }
            return [left.requiresGrad ? leftGradient : nil, right.requiresGrad ? rightGradient : nil]
        }
    }

    /// Compares two tensors broadcast to a common shape: 1 where `compare` holds, 0 elsewhere. Never
    /// recorded: the result is piecewise constant, its gradient zero.
    static func comparing(
        _ left: Tensor, _ right: Tensor, symbol: String, _ compare: (Float, Float) -> Bool
    ) -> Tensor {
        let shape = broadcastShape([left.shape, right.shape], operation: symbol)
        let leftIndices = left.broadcastIndices(to: shape), rightIndices = right.broadcastIndices(to: shape)
        let (a, b) = (left.data, right.data)
        return Tensor(
            shape: shape,
            data: (0..<leftIndices.count).map { compare(a[leftIndices[$0]], b[rightIndices[$0]]) ? 1 : 0 })
    }

    /// 1 where `left > right`, 0 elsewhere, broadcast (PyTorch's `left > right` as a float tensor).
    public static func .> (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".>", >) }
    /// 1 where `left < right`, 0 elsewhere, broadcast.
    public static func .< (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".<", <) }
    /// 1 where `left >= right`, 0 elsewhere, broadcast.
    public static func .>= (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".>=", >=) }
    /// 1 where `left <= right`, 0 elsewhere, broadcast.
    public static func .<= (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".<=", <=) }
    /// 1 where `left == right`, 0 elsewhere, broadcast.
    public static func .== (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".==", ==) }
    /// 1 where `left != right`, 0 elsewhere, broadcast.
    public static func .!= (left: Tensor, right: Tensor) -> Tensor { comparing(left, right, symbol: ".!=", !=) }

    /// 1 where the element is greater than `scalar`, 0 elsewhere; same shape.
    public static func .> (tensor: Tensor, scalar: Float) -> Tensor { tensor .> Tensor(scalar) }
    /// 1 where the element is less than `scalar`, 0 elsewhere; same shape.
    public static func .< (tensor: Tensor, scalar: Float) -> Tensor { tensor .< Tensor(scalar) }
    /// 1 where the element is at least `scalar`, 0 elsewhere; same shape.
    public static func .>= (tensor: Tensor, scalar: Float) -> Tensor { tensor .>= Tensor(scalar) }
    /// 1 where the element is at most `scalar`, 0 elsewhere; same shape.
    public static func .<= (tensor: Tensor, scalar: Float) -> Tensor { tensor .<= Tensor(scalar) }
    /// 1 where the element equals `scalar`, 0 elsewhere; same shape.
    public static func .== (tensor: Tensor, scalar: Float) -> Tensor { tensor .== Tensor(scalar) }
    /// 1 where the element differs from `scalar`, 0 elsewhere; same shape.
    public static func .!= (tensor: Tensor, scalar: Float) -> Tensor { tensor .!= Tensor(scalar) }

    /// `a` where `condition` is nonzero, `b` elsewhere (PyTorch's `torch.where`); the three broadcast to a
    /// common shape, which is the result's. The gradient goes to `a` where the condition holds and to `b`
    /// elsewhere, summed back to each one's shape; the condition gets none.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape([condition.shape, a.shape, b.shape], operation: "where")
        let conditionIndices = condition.broadcastIndices(to: shape)
        let aIndices = a.broadcastIndices(to: shape), bIndices = b.broadcastIndices(to: shape)
        let chosen = conditionIndices.map { condition.data[$0] != 0 }
        let (aData, bData) = (a.data, b.data)
        let output = chosen.indices.map { chosen[$0] ? aData[aIndices[$0]] : bData[bIndices[$0]] }
        return result(shape: shape, data: output, operation: "where", inputs: [a, b]) { gradient in
            [
                a.requiresGrad
                    ? a.sumBroadcastGradient(zip(gradient, chosen).map { $1 ? $0 : 0 }, indices: aIndices) : nil,
                b.requiresGrad
                    ? b.sumBroadcastGradient(zip(gradient, chosen).map { $1 ? 0 : $0 }, indices: bIndices) : nil,
            ]
        }
    }
}

/// For each element of an array of `shape` (row-major), Σ coordinate · stride over its coordinates: the
/// offsets at which a strided view of another array reads it.
func gatherIndices(shape: [Int], strides: [Int]) -> [Int] {
    var indices = [0]
    indices.reserveCapacity(shape.reduce(1, *))
    for (size, stride) in zip(shape, strides) {
        var next: [Int] = []
        next.reserveCapacity(indices.count * size)
        for base in indices {
            for position in 0..<size { next.append(base + position * stride) }
        }
        indices = next
    }
    return indices
}
