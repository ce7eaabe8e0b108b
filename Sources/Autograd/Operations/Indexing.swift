import Preconditions

// Indexing and slicing as in PyTorch: `x[i]` selects along dimension 0 and drops it, `x[a..<b]` keeps the
// dimension with the range's elements, `x[.all, 2..<5]` and `x[i, .all, j]` index several dimensions at
// once. Each result is a copy with a pullback that puts the gradient back where the elements came from.

/// What one position of a tensor subscript picks along its dimension.
public enum TensorIndexComponent: Sendable, Equatable {
    /// One element (negative counts from the end, as in PyTorch): the dimension is dropped.
    case index(Int)
    /// The elements `lowerBound..<upperBound`, which must lie within `0..<size`: the dimension is kept,
    /// with `upperBound − lowerBound` elements.
    case range(lowerBound: Int, upperBound: Int)
}

/// A position of a tensor subscript: an `Int` (one element, the dimension dropped), a range of `Int`
/// (`2..<5`, `2...4`, `2...`, `..<5`, `...4`: the dimension kept), or `.all` (PyTorch's `:`).
///
/// Unlike PyTorch's slices, ranges are not clamped: a range that leaves the dimension stops the program
/// with a message, as an array's subscript does.
public protocol TensorIndex {
    /// What this position picks along a dimension of `size` elements.
    func component(forDimensionOfSize size: Int) -> TensorIndexComponent
}

/// Every element of a dimension (PyTorch's `:`), written `.all`: `x[.all, 2..<5]`.
public struct TensorIndexAll: TensorIndex, Sendable {
    /// The whole-dimension position; usually written `.all`.
    public init() {}

    /// The whole dimension: `0..<size`.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: 0, upperBound: size)
    }
}

extension TensorIndex where Self == TensorIndexAll {
    /// Every element of the dimension (PyTorch's `:`).
    public static var all: TensorIndexAll { TensorIndexAll() }
}

extension Int: TensorIndex {
    /// This one element, the dimension dropped; a negative index counts from the end.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent { .index(self) }
}

extension Range: TensorIndex where Bound == Int {
    /// The elements `lowerBound..<upperBound`, the dimension kept.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: lowerBound, upperBound: upperBound)
    }
}

extension ClosedRange: TensorIndex where Bound == Int {
    /// The elements `lowerBound...upperBound`, the dimension kept.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: lowerBound, upperBound: upperBound + 1)
    }
}

extension PartialRangeFrom: TensorIndex where Bound == Int {
    /// The elements from `lowerBound` to the end of the dimension, the dimension kept.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: lowerBound, upperBound: size)
    }
}

extension PartialRangeUpTo: TensorIndex where Bound == Int {
    /// The elements `0..<upperBound`, the dimension kept.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: 0, upperBound: upperBound)
    }
}

extension PartialRangeThrough: TensorIndex where Bound == Int {
    /// The elements `0...upperBound`, the dimension kept.
    public func component(forDimensionOfSize size: Int) -> TensorIndexComponent {
        .range(lowerBound: 0, upperBound: upperBound + 1)
    }
}

extension Tensor {
    /// The elements at `index` along `dim`, that dimension dropped (PyTorch's `select`): [4, 5, 6] with
    /// dim 1, index 2 → [4, 6]. Negative `dim` and `index` count from the end. Copies; the gradient goes
    /// back to those elements and the rest get 0. An index outside the dimension stops the program with a
    /// message naming the index, the dimension and the shape.
    public func select(dim: Int, index: Int) -> Tensor {
        let dimension = normalizedDimension(dim, operation: "select")
        let size = shape[dimension]
        checkPrecondition(
            index >= -size && index < size,
            "select: index \(index) is out of range for dimension \(dim) of size \(size) (shape \(shape))")
        let position = index < 0 ? index + size : index
        let (outer, _, inner) = splitAround(dimension)
        let input = data
        var output: [Float] = []
        output.reserveCapacity(outer * inner)
        for outerIndex in 0..<outer {
            let from = (outerIndex * size + position) * inner
            output.append(contentsOf: input[from..<(from + inner)])
        }
        var newShape = shape
        newShape.remove(at: dimension)
        return Tensor.result(shape: newShape, data: output, operation: "select", inputs: [self]) { gradient in
            var inputGradient = [Float](repeating: 0, count: input.count)
            for outerIndex in 0..<outer {
                let from = (outerIndex * size + position) * inner
                for offset in 0..<inner { inputGradient[from + offset] = gradient[outerIndex * inner + offset] }
            }
            return [inputGradient]
        }
    }

    /// Indexing as in PyTorch, one position per leading dimension (the dimensions after the last position
    /// are taken whole): an `Int` selects one element and drops its dimension (`select(dim:index:)`), a
    /// range keeps the dimension with the range's elements (`narrow(dim:_:)`), `.all` keeps it whole.
    ///
    /// For x of shape [4, 5, 6]: `x[1]` is [5, 6], `x[1..<3]` is [2, 5, 6], `x[.all, 2..<5]` is [4, 3, 6],
    /// `x[-1, .all, 0]` is [5], `x[0, 1, 2]` is a scalar. The gradient goes back to the elements read. More
    /// positions than dimensions, or an index or range outside its dimension, stop the program with a
    /// message naming the position, the dimension and the shape.
    public subscript(_ indices: any TensorIndex...) -> Tensor {
        checkPrecondition(
            indices.count <= rank,
            "Tensor subscript: \(indices.count) positions for shape \(shape), which has \(rank) dimensions")
        var result = self
        // The dimension of `result` that position `offset` applies to: selecting drops one.
        var dimension = 0
        for (offset, index) in indices.enumerated() {
            let size = result.shape[dimension]
            switch index.component(forDimensionOfSize: size) {
            case .index(let position):
                checkPrecondition(
                    position >= -size && position < size,
                    "Tensor subscript: index \(position) is out of range for dimension \(offset) of size \(size) "
                        + "(shape \(shape))")
                result = result.select(dim: dimension, index: position)
            case .range(let lowerBound, let upperBound):
                checkPrecondition(
                    lowerBound >= 0 && lowerBound <= upperBound && upperBound <= size,
                    "Tensor subscript: range \(lowerBound)..<\(upperBound) is out of dimension \(offset) of size "
                        + "\(size) (shape \(shape))")
                if lowerBound != 0 || upperBound != size {
                    result = result.narrow(dim: dimension, start: lowerBound, length: upperBound - lowerBound)
                }
                dimension += 1
            }
        }
        // A copy even when nothing was picked out (`x[.all]`), as every other operation returns.
        return result === self ? reshaped(shape) : result
    }
}
