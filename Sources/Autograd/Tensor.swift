import Kernels
import Preconditions
import Synchronization

/// A Float32 tensor of any rank, stored row-major (NCHW for images), that can record the operations
/// applied to it so `backward()` can compute gradients.
///
/// Tensors are reference types, like PyTorch's: a parameter is one object that the model reads and the
/// optimizer updates in place. Operations return new tensors; when gradients are being recorded (see
/// `GradientMode`) and an input requires a gradient, the result keeps a `GradientNode` with the inputs
/// and the pullback that maps the result's gradient to theirs.
public final class Tensor {
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`. Any change, in place or whole,
    /// drops what was derived from the old values (`transposedMatrix`).
    public var data: [Float] {
        get { storage }
        set {
            storage = newValue
            derived.withLock { $0 = nil }
        }
        // In place: an observer (`didSet`) would have other modules (an optimizer updating a parameter through
        // `data.withUnsafeMutableBufferPointer`) mutate a copy of the whole buffer and assign it back, a
        // 2.4 MB copy per access for the MLP's first layer.
        _modify {
            defer { derived.withLock { $0 = nil } }
            yield &storage
        }
    }
    private var storage: [Float]
    /// Whether gradients flow to this tensor. Parameters set it (and `Module.freeze()` clears it); results
    /// of recorded operations inherit it.
    public var requiresGrad: Bool
    /// Whether this tensor is a module's parameter (PyTorch's `nn.Parameter`): learned, saved in the state
    /// dict, handed to optimizers. A frozen parameter stays one; it only stops requiring a gradient.
    public var isParameter = false
    /// The accumulated gradient of a leaf tensor that requires one, after `backward()`; same shape.
    public var grad: Tensor?
    /// How this tensor was computed, when that was recorded; nil for leaves and unrecorded results.
    public internal(set) var gradientNode: GradientNode?
    /// The transpose of a matrix, kept for inference kernels that read a weight by columns
    /// (`transposedMatrix`) until `data` changes. Behind a lock: threads classify parts of a batch with one
    /// model.
    private let derived = Mutex<AlignedFloats?>(nil)

    /// A tensor with `shape` holding `data` (row-major). The element count must match the shape.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        checkPrecondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        checkPrecondition(
            data.count == shape.reduce(1, *),
            "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(data.count)")
        self.shape = shape
        self.storage = data
        self.requiresGrad = requiresGrad
    }

    /// A tensor of `shape` with every element `value`.
    public convenience init(shape: [Int], repeating value: Float, requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A scalar (rank-0) tensor.
    public convenience init(_ scalar: Float) {
        self.init(shape: [], data: [scalar])
    }

    /// A tensor of `shape` filled with 0 (PyTorch's `torch.zeros`).
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with 1 (PyTorch's `torch.ones`).
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 1, requiresGrad: requiresGrad)
    }

    /// Uniform samples in [low, high) from `generator`.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count { values[index] = generator.nextUniform(low: low, high: high) }
        return Tensor(shape: shape, data: values)
    }

    /// Normal samples with `mean` and `standardDeviation` from `generator`.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for index in 0..<count { values[index] = mean + standardDeviation * generator.nextNormal() }
        return Tensor(shape: shape, data: values)
    }

    /// The number of elements.
    public var count: Int { data.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The value of a one-element tensor (a loss, say).
    public var scalar: Float {
        checkPrecondition(data.count == 1, "scalar needs a one-element tensor, shape is \(shape)")
        return data[0]
    }

    /// A matrix [rows, columns] transposed to [columns, rows], computed once and kept until `data` next
    /// changes: the sparse inference product (`SparseLinear`) reads weights by columns, and one image must
    /// not pay for transposing them again. Aligned to 64 bytes, as the product loads whole cache lines of it.
    func transposedMatrix() -> AlignedFloats {
        checkPrecondition(rank == 2, "transposedMatrix needs a matrix, shape is \(shape)")
        return derived.withLock { cached in
            if let cached { return cached }
            let transposed = AlignedFloats(count: count) { target in
                BLAS.transpose(data, rows: shape[0], columns: shape[1], into: target)
            }
            cached = transposed
            return transposed
        }
    }

    /// A copy that shares no storage or history with this tensor (PyTorch's `detach().clone()`).
    public func detached() -> Tensor {
        Tensor(shape: shape, data: data)
    }

    /// The index of the largest element along the last dimension, for each row: `[N, C]` → N indices.
    /// Ties go to the first index, as in PyTorch.
    public func argmax() -> [Int] {
        checkPrecondition(rank >= 1, "argmax needs at least one dimension")
        let columns = shape[rank - 1]
        checkPrecondition(columns > 0, "argmax of an empty dimension")
        let rows = count / columns
        return data.withUnsafeBufferPointer { values in
            (0..<rows).map { row in
                var best = 0
                var bestValue = values[row * columns]
                for column in 1..<columns where values[row * columns + column] > bestValue {
                    best = column
                    bestValue = values[row * columns + column]
                }
                return best
            }
        }
    }

    /// Items `range` of the first dimension, as a new tensor (no gradient history): a batch slice.
    public func slice(_ range: Range<Int>) -> Tensor {
        checkPrecondition(
            rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "slice \(range) out of \(shape)")
        let itemSize = shape.dropFirst().reduce(1, *)
        return Tensor(
            shape: [range.count] + shape.dropFirst(),
            data: Array(data[(range.lowerBound * itemSize)..<(range.upperBound * itemSize)]))
    }

    /// Sets the gradient to nil (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        grad = nil
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first eight elements at most, `…` standing for the rest:
    /// `Tensor(shape: [2], data: [0.5, 1.0])`.
    public var description: String {
        let preview = data.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), data: [\(preview)\(data.count > 8 ? ", …" : "")])"
    }
}
