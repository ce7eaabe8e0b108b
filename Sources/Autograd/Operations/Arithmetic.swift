import Foundation
import Kernels
import Preconditions

// Elementwise arithmetic, and with scalars. Tensors of different shapes broadcast as in PyTorch
// (Broadcasting.swift); equal shapes take a direct loop without index arrays.

extension Tensor {
    /// `left + right`, elementwise, broadcast: [2, 3, 4] + [3, 1] → [2, 3, 4].
    public static func + (left: Tensor, right: Tensor) -> Tensor {
        guard left.shape == right.shape else {
            return broadcasting(left, right, operation: "add", symbol: "+", combine: +) { _, _ in (1, 1) }
        }
        return result(
            shape: left.shape, data: zipElements(left.data, right.data, +), operation: "add",
            inputs: [left, right]
        ) { gradient in [gradient, gradient] }
    }

    /// `left − right`, elementwise, broadcast.
    public static func - (left: Tensor, right: Tensor) -> Tensor {
        guard left.shape == right.shape else {
            return broadcasting(left, right, operation: "subtract", symbol: "-", combine: -) { _, _ in (1, -1) }
        }
        return result(
            shape: left.shape, data: zipElements(left.data, right.data, -), operation: "subtract",
            inputs: [left, right]
        ) { gradient in [gradient, mapElements(gradient, -)] }
    }

    /// `left × right`, elementwise, broadcast.
    public static func * (left: Tensor, right: Tensor) -> Tensor {
        guard left.shape == right.shape else {
            return broadcasting(left, right, operation: "multiply", symbol: "*", combine: *) { a, b in (b, a) }
        }
        let (a, b) = (left.data, right.data)
        return result(
            shape: left.shape, data: zipElements(a, b, *), operation: "multiply",
            inputs: [left, right]
        ) { gradient in
            [
                left.requiresGrad ? zipElements(gradient, b, *) : nil,
                right.requiresGrad ? zipElements(gradient, a, *) : nil,
            ]
        }
    }

    /// `left ÷ right`, elementwise, broadcast.
    public static func / (left: Tensor, right: Tensor) -> Tensor {
        guard left.shape == right.shape else {
            return broadcasting(left, right, operation: "divide", symbol: "/", combine: /) { a, b in
                (1 / b, -a / (b * b))
            }
        }
        let (a, b) = (left.data, right.data)
        return result(
            shape: left.shape, data: zipElements(a, b, /), operation: "divide", inputs: [left, right]
        ) { gradient in
            [
                left.requiresGrad ? zipElements(gradient, b, /) : nil,
                right.requiresGrad ? (0..<a.count).map { -gradient[$0] * a[$0] / (b[$0] * b[$0]) } : nil,
            ]
        }
    }

    /// `tensor + scalar`, elementwise.
    public static func + (tensor: Tensor, scalar: Float) -> Tensor {
        result(
            shape: tensor.shape, data: mapElements(tensor.data) { $0 + scalar }, operation: "addScalar",
            inputs: [tensor]
        ) { gradient in [gradient] }
    }

    /// `tensor × scalar`, elementwise.
    public static func * (tensor: Tensor, scalar: Float) -> Tensor {
        result(
            shape: tensor.shape, data: mapElements(tensor.data) { $0 * scalar }, operation: "multiplyScalar",
            inputs: [tensor]
        ) { gradient in [mapElements(gradient) { $0 * scalar }] }
    }

    /// `scalar × tensor`, elementwise.
    public static func * (scalar: Float, tensor: Tensor) -> Tensor { tensor * scalar }
    /// `tensor − scalar`, elementwise.
    public static func - (tensor: Tensor, scalar: Float) -> Tensor { tensor + (-scalar) }
    /// `tensor ÷ scalar`, elementwise, computed as `tensor × (1 / scalar)`.
    public static func / (tensor: Tensor, scalar: Float) -> Tensor { tensor * (1 / scalar) }
    /// `−tensor`, elementwise.
    public static prefix func - (tensor: Tensor) -> Tensor { tensor * -1 }
    /// `scalar + tensor`, elementwise.
    public static func + (scalar: Float, tensor: Tensor) -> Tensor { tensor + scalar }
    /// `scalar − tensor`, elementwise.
    public static func - (scalar: Float, tensor: Tensor) -> Tensor { tensor * -1 + scalar }

    /// `scalar ÷ x`, elementwise.
    public static func / (scalar: Float, tensor: Tensor) -> Tensor {
        let input = tensor.data
        return result(
            shape: tensor.shape, data: mapElements(input) { scalar / $0 }, operation: "divideScalar", inputs: [tensor]
        ) { gradient in [zipElements(gradient, input) { -$0 * scalar / ($1 * $1) }] }
    }

    /// e^x, elementwise.
    public func exp() -> Tensor {
        let output = mapElements(data, expf)
        return Tensor.result(shape: shape, data: output, operation: "exp", inputs: [self]) { gradient in
            [zipElements(gradient, output, *)]
        }
    }

    /// Natural logarithm, elementwise.
    public func log() -> Tensor {
        let input = data
        return Tensor.result(shape: shape, data: mapElements(input, logf), operation: "log", inputs: [self]) {
            gradient in
            [zipElements(gradient, input, /)]
        }
    }

    /// √x, elementwise; NaN for x < 0, as in PyTorch.
    public func sqrt() -> Tensor {
        let output = mapElements(data) { $0.squareRoot() }
        return Tensor.result(shape: shape, data: output, operation: "sqrt", inputs: [self]) { gradient in
            [zipElements(gradient, output) { $0 / (2 * $1) }]
        }
    }

    /// x^exponent, elementwise (PyTorch's `pow` with a scalar exponent).
    public func pow(_ exponent: Float) -> Tensor {
        let input = data
        return Tensor.result(
            shape: shape, data: mapElements(input) { powf($0, exponent) }, operation: "pow", inputs: [self]
        ) { gradient in
            // x⁰ is 1 everywhere, 0⁰ included: its gradient is 0, not 0 · 0⁻¹ = NaN (as in PyTorch).
            guard exponent != 0 else { return [[Float](repeating: 0, count: input.count)] }
            return [zipElements(gradient, input) { $0 * exponent * powf($1, exponent - 1) }]
        }
    }

    /// x², elementwise.
    public func squared() -> Tensor {
        let input = data
        return Tensor.result(shape: shape, data: mapElements(input) { $0 * $0 }, operation: "square", inputs: [self]) {
            gradient in
            [zipElements(gradient, input) { 2 * $0 * $1 }]
        }
    }

    /// The sum of all elements, as a scalar tensor. Accumulates in Double.
    public func sum() -> Tensor {
        let count = self.count
        let total = data.reduce(0.0) { $0 + Double($1) }
        return Tensor.result(shape: [], data: [Float(total)], operation: "sum", inputs: [self]) { gradient in
            [[Float](repeating: gradient[0], count: count)]
        }
    }

    /// The mean of all elements, as a scalar tensor.
    public func mean() -> Tensor {
        sum() / Float(Swift.max(count, 1))
    }

    /// The same elements in a new shape with the same element count (PyTorch's `reshape`/`view`). One
    /// dimension may be −1: it takes the size that makes the counts agree ([2, 3, 4] → [-1, 4] is [6, 4]).
    public func reshaped(_ requestedShape: [Int]) -> Tensor {
        var newShape = requestedShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        checkPrecondition(inferred.count <= 1, "reshape \(shape) to \(requestedShape): at most one dimension may be -1")
        if let dimension = inferred.first {
            let known = newShape.enumerated().reduce(1) { $1.offset == dimension ? $0 : $0 * $1.element }
            checkPrecondition(
                known > 0 && count % known == 0, "cannot reshape \(shape) (\(count) elements) to \(requestedShape)")
            newShape[dimension] = count / known
        }
        checkPrecondition(
            newShape.allSatisfy { $0 >= 0 } && newShape.reduce(1, *) == count,
            "cannot reshape \(shape) (\(count) elements) to \(requestedShape)")
        return Tensor.result(shape: newShape, data: data, operation: "reshape", inputs: [self]) { gradient in [gradient]
        }
    }

    /// Keeps the first `startDimension` dimensions and flattens the rest into one:
    /// [N, C, H, W] → [N, C·H·W] for the default of 1 (PyTorch's `flatten(1)`; NCHW order).
    public func flattened(startDimension: Int = 1) -> Tensor {
        checkPrecondition(
            startDimension >= 0 && startDimension < Swift.max(rank, 1), "flatten from \(startDimension) of \(shape)")
        return reshaped(Array(shape.prefix(startDimension)) + [shape.dropFirst(startDimension).reduce(1, *)])
    }

    /// Matrix product of [m, k] and [k, n] → [m, n], through BLAS.
    public func matmul(_ other: Tensor) -> Tensor {
        checkPrecondition(
            rank == 2 && other.rank == 2 && shape[1] == other.shape[0],
            "matmul needs [m, k] · [k, n], got \(shape) · \(other.shape)")
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        let (a, b) = (data, other.data)
        let output = makeBuffer(count: m * n) { c in
            BLAS.parallelGemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
        }
        return Tensor.result(shape: [m, n], data: output, operation: "matmul", inputs: [self, other]) {
            [requiresGrad] gradient in
            // dA[m×k] = dC[m×n] · Bᵀ, dB[k×n] = Aᵀ · dC
            let gradientA: [Float]? =
                requiresGrad
                ? makeBuffer(count: m * k) { target in
                    BLAS.parallelGemm(
                        transposeB: true, m: m, n: k, k: n, a: gradient, lda: n, b: b, ldb: n, c: target, ldc: k)
                } : nil
            let gradientB: [Float]? =
                other.requiresGrad
                ? makeBuffer(count: k * n) { target in
                    BLAS.parallelGemm(
                        transposeA: true, m: k, n: n, k: m, a: a, lda: k, b: gradient, ldb: n, c: target, ldc: n)
                } : nil
            return [gradientA, gradientB]
        }
    }
}
