import Foundation
import TestSupport
import Testing
@testable import Autograd

/// Finite-difference checks of the PyTorch-style tensor operations (broadcasting arithmetic, `where`,
/// reductions along a dimension, permuting, joining and narrowing, indexing and slicing, `sqrt`/`pow`,
/// softmax along any dimension), on small random inputs with broadcast shapes and negative dimensions; and
/// their values on cases small enough to write out.
@Suite struct OperationGradientTests {
    /// Shape pairs that broadcast: a bias [C, 1, 1] on [N, C, H, W], both sides expanded, a rank-0 tensor,
    /// and equal shapes (the direct loop).
    static let broadcastPairs: [([Int], [Int])] = [
        ([2, 3, 2, 2], [3, 1, 1]), ([3, 1], [4]), ([2, 1, 4], [3, 1]), ([4], []), ([2, 3], [2, 3]),
        ([1, 3], [2, 1, 1]),
    ]

    @Test(arguments: broadcastPairs)
    func broadcastArithmetic(leftShape: [Int], rightShape: [Int]) {
        let a = randomTensor(leftShape, seed: 31), b = randomTensor(rightShape, seed: 32)
        let positive = randomTensor(rightShape, seed: 33, low: 0.5, high: 2)
        checkGradients(of: [a, b]) { $0[0] + $0[1] }
        checkGradients(of: [a, b]) { $0[0] - $0[1] }
        checkGradients(of: [a, b]) { $0[0] * $0[1] }
        checkGradients(of: [a, positive]) { $0[0] / $0[1] }
        // The other way round: the smaller shape on the left.
        checkGradients(of: [b, a]) { $0[0] - $0[1] }
        checkGradients(of: [positive, a]) { $0[1] / $0[0] + $0[0] * $0[1] }
    }

    @Test func scalarOnTheLeft() {
        let x = randomTensor([2, 3], seed: 34), positive = randomTensor([2, 3], seed: 35, low: 0.5, high: 2)
        checkGradients(of: [x]) { 1.5 + $0[0] }
        checkGradients(of: [x]) { 2 - $0[0] }
        checkGradients(of: [positive]) { 3 / $0[0] }
        #expect((2 - x).data == x.data.map { 2 - $0 })
        #expect((3 / positive).data == positive.data.map { 3 / $0 })
    }

    /// The example: a per-channel bias [C, 1, 1] added to [N, C, H, W].
    @Test func biasBroadcastOverImages() {
        let x = Tensor(shape: [2, 2, 1, 2], data: [1, 2, 3, 4, 5, 6, 7, 8])
        let bias = Tensor(shape: [2, 1, 1], data: [10, 20], requiresGrad: true)
        let y = x + bias
        #expect(y.shape == [2, 2, 1, 2])
        #expect(y.data == [11, 12, 23, 24, 15, 16, 27, 28])
        y.sum().backward()
        // Each channel's bias is used by N · H · W = 4 elements.
        #expect(bias.grad?.data == [4, 4])
    }

    /// Incompatible shapes stop the program with both shapes in the message.
    @Test func incompatibleShapesStopTheProgramNamingBoth() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("+: shapes [2, 3] and [4] cannot be broadcast"), "\(message)")
    }

    @Test func comparisonsAreZeroOrOneWithoutGradient() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = Tensor(shape: [3], data: [2, 2, 7])
        #expect((a .> b).data == [0, 0, 0, 1, 1, 0])
        #expect((a .< b).data == [1, 0, 1, 0, 0, 1])
        #expect((a .>= b).data == [0, 1, 0, 1, 1, 0])
        #expect((a .<= b).data == [1, 1, 1, 0, 0, 1])
        #expect((a .== b).data == [0, 1, 0, 0, 0, 0])
        #expect((a .!= b).data == [1, 0, 1, 1, 1, 1])
        #expect((a .> 3).data == [0, 0, 0, 1, 1, 1])
        #expect((a .<= 2).shape == [2, 3])
        let mask = a .> b
        #expect(!mask.requiresGrad && mask.gradientNode == nil)
    }

    @Test func whereChoosesAndRoutesTheGradient() {
        let condition = Tensor(shape: [2, 3], data: [1, 0, 1, 0, 0, 1])
        let a = randomTensor([2, 3], seed: 36), b = randomTensor([3], seed: 37)
        checkGradients(of: [a, b]) { Tensor.where(condition, $0[0], $0[1]) }
        checkGradients(of: [b, a]) { Tensor.where(condition, $0[0], $0[1]) }
        let chosen = Tensor.where(condition, a, b)
        #expect(chosen.data == [a.data[0], b.data[1], a.data[2], b.data[0], b.data[1], a.data[5]])
        // A leaky ReLU from a comparison, inputs kept 0.1 away from its kink.
        let x = Tensor(shape: [3, 4], data: randomTensor([3, 4], seed: 38).data.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 })
        checkGradients(of: [x]) { Tensor.where($0[0] .> 0, $0[0], $0[0] * 0.1) }
    }

    @Test(arguments: [-3, -2, -1, 0, 1, 2], [false, true])
    func reductions(dim: Int, keepDim: Bool) {
        let x = randomTensor([2, 3, 4], seed: 39)
        checkGradients(of: [x]) { $0[0].sum(dim: dim, keepDim: keepDim) }
        checkGradients(of: [x]) { $0[0].mean(dim: dim, keepDim: keepDim) }
        // Random inputs have no ties; 2 × 4e-4 is less than the gap between any two of these values.
        checkGradients(of: [x], step: 4e-4) { $0[0].max(dim: dim, keepDim: keepDim).values }
        var expectedShape = [2, 3, 4]
        if keepDim { expectedShape[(dim + 3) % 3] = 1 } else { expectedShape.remove(at: (dim + 3) % 3) }
        #expect(x.sum(dim: dim, keepDim: keepDim).shape == expectedShape)
        #expect(x.max(dim: dim, keepDim: keepDim).values.shape == expectedShape)
    }

    @Test func reductionValues() {
        let x = Tensor(shape: [2, 3], data: [1, 5, 5, 7, 2, 3], requiresGrad: true)
        #expect(x.sum(dim: 0).data == [8, 7, 8])
        #expect(x.sum(dim: -1, keepDim: true).shape == [2, 1])
        #expect(x.sum(dim: -1).data == [11, 12])
        expectClose(x.mean(dim: 1).data, [11.0 / 3, 4], relative: 1e-7)
        let (values, indices) = x.max(dim: 1)
        #expect(values.data == [5, 7] && indices == [1, 0])
        // The tie in row 0 (5 at 1 and 2): the gradient goes to the first, as in PyTorch.
        values.sum().backward()
        #expect(x.grad?.data == [0, 1, 0, 1, 0, 0])
        let withNaN = Tensor(shape: [3], data: [1, .nan, 2])
        #expect(withNaN.max(dim: 0).values.scalar.isNaN && withNaN.max(dim: 0).indices == [1])
    }

    @Test func permuteAndTranspose() {
        let x = randomTensor([2, 3, 4], seed: 40)
        checkGradients(of: [x]) { $0[0].permute(2, 0, 1) }
        checkGradients(of: [x]) { $0[0].permute([-1, -3, -2]) * $0[0].transpose(0, 2).transpose(1, 2) }
        checkGradients(of: [x]) { $0[0].transpose(0, -1) }
        #expect(x.permute(2, 0, 1).shape == [4, 2, 3])
        let matrix = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(matrix.transpose(0, 1).data == [1, 4, 2, 5, 3, 6])
        #expect(matrix.transpose(-1, -2).shape == [3, 2])
    }

    @Test func reshapeInfersOneDimension() {
        let x = randomTensor([2, 3, 4], seed: 41)
        #expect(x.reshaped([-1, 4]).shape == [6, 4])
        #expect(x.reshaped([2, -1]).shape == [2, 12])
        #expect(x.reshaped([-1]).data == x.data)
        checkGradients(of: [x]) { $0[0].reshaped([4, -1]) * $0[0].reshaped([4, 6]) }
    }

    @Test func catAndStack() {
        let a = randomTensor([2, 3], seed: 42), b = randomTensor([2, 5], seed: 43), c = randomTensor([1, 3], seed: 44)
        checkGradients(of: [a, b]) { Tensor.cat($0, dim: 1) }
        checkGradients(of: [a, b]) { Tensor.cat([$0[1], $0[0], $0[1]], dim: -1) }
        checkGradients(of: [a, c]) { Tensor.cat($0, dim: 0) }
        let d = randomTensor([2, 3], seed: 45)
        for dim in [-3, -2, -1, 0, 1, 2] { checkGradients(of: [a, d]) { Tensor.stack($0, dim: dim) } }
        let joined = Tensor.cat(
            [Tensor(shape: [2, 1], data: [1, 2]), Tensor(shape: [2, 2], data: [3, 4, 5, 6])], dim: 1)
        #expect(joined.shape == [2, 3] && joined.data == [1, 3, 4, 2, 5, 6])
        let stacked = Tensor.stack([Tensor(shape: [2], data: [1, 2]), Tensor(shape: [2], data: [3, 4])], dim: 1)
        #expect(stacked.shape == [2, 2] && stacked.data == [1, 3, 2, 4])
        // Only the inputs that need a gradient get one.
        let constant = Tensor(shape: [2, 3], data: a.data)
        let parameter = Tensor(shape: [2, 5], data: b.data, requiresGrad: true)
        Tensor.cat([constant, parameter], dim: 1).sum().backward()
        #expect(constant.grad == nil && parameter.grad?.data == [Float](repeating: 1, count: 10))
    }

    @Test func narrow() {
        let x = randomTensor([3, 4, 5], seed: 46)
        checkGradients(of: [x]) { $0[0].narrow(dim: 1, start: 1, length: 2) }
        checkGradients(of: [x]) { $0[0].narrow(dim: -1, 2..<5) }
        checkGradients(of: [x]) { $0[0].narrow(dim: -3, start: 0, length: 1) }
        let matrix = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(matrix.narrow(dim: 1, 1..<3).data == [2, 3, 5, 6])
        #expect(matrix.narrow(dim: 0, start: 1, length: 1).data == [4, 5, 6])
        #expect(matrix.narrow(dim: 1, start: 3, length: 0).shape == [2, 0])
    }

    @Test func indexingAndSlicing() {
        let x = randomTensor([3, 4, 5], seed: 50)
        checkGradients(of: [x]) { $0[0][1] }
        checkGradients(of: [x]) { $0[0][-1] }
        checkGradients(of: [x]) { $0[0][1..<3] }
        checkGradients(of: [x]) { $0[0][.all, 2..<4] }
        checkGradients(of: [x]) { $0[0][.all, .all, 3] }
        checkGradients(of: [x]) { $0[0][-2, 1...3, ..<2] }
        checkGradients(of: [x]) { $0[0][0, 1, 2] }
        for dim in -3..<3 { checkGradients(of: [x]) { $0[0].select(dim: dim, index: -1) } }
        // Elements read more than once get the sum of their gradients.
        checkGradients(of: [x]) { $0[0][1] * $0[0][2] + $0[0][1] }
        let matrix = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(matrix[1].shape == [3] && matrix[1].data == [4, 5, 6])
        #expect(matrix[.all, 1].shape == [2] && matrix[.all, 1].data == [2, 5])
        #expect(matrix[0..<1].shape == [1, 3] && matrix[0..<1].data == [1, 2, 3])
        #expect(matrix[-1, -1].shape == [] && matrix[-1, -1].scalar == 6)
        #expect(matrix[.all, 1...].data == [2, 3, 5, 6] && matrix[.all, ..<1].data == [1, 4])
        #expect(matrix[...0, 2].data == [3])
        #expect(matrix[.all, 3...].shape == [2, 0])
        #expect(matrix.select(dim: 1, index: 0).data == [1, 4])
        // A copy, as every operation returns, even when every element is picked.
        let whole = matrix[.all]
        #expect(whole !== matrix && whole.shape == [2, 3] && whole.data == matrix.data)
    }

    /// An index or range outside its dimension, or too many positions, stop the program with a message
    /// naming the index, the dimension and the shape.
    @Test func outOfRangeIndicesStopTheProgramNamingIndexAndShape() async {
        func message(of result: ExitTest.Result?) -> String {
            String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        }
        var result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4])[3]
        }
        #expect(
            message(of: result).contains(
                "Tensor subscript: index 3 is out of range for dimension 0 of size 3 (shape [3, 4])"),
            "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4])[.all, 2..<6]
        }
        #expect(
            message(of: result).contains(
                "Tensor subscript: range 2..<6 is out of dimension 1 of size 4 (shape [3, 4])"),
            "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4])[0, 0, 0]
        }
        #expect(
            message(of: result).contains("Tensor subscript: 3 positions for shape [3, 4], which has 2 dimensions"),
            "\(message(of: result))")
        result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([3, 4]).select(dim: 1, index: -5)
        }
        #expect(
            message(of: result).contains("select: index -5 is out of range for dimension 1 of size 4 (shape [3, 4])"),
            "\(message(of: result))")
    }

    @Test func powersAndRoots() {
        let x = randomTensor([2, 5], seed: 47), positive = randomTensor([2, 5], seed: 48, low: 0.5, high: 2)
        checkGradients(of: [positive]) { $0[0].sqrt() }
        checkGradients(of: [x]) { $0[0].pow(3) }
        checkGradients(of: [x]) { $0[0].pow(2) - $0[0].squared() * 0.5 }
        checkGradients(of: [positive]) { $0[0].pow(0.5) }
        checkGradients(of: [positive]) { $0[0].pow(-2) }
        #expect(positive.sqrt().data == positive.data.map { $0.squareRoot() })
        // x⁰ = 1 with gradient 0 everywhere, 0 included (not NaN).
        let withZero = Tensor(shape: [3], data: [0, 1, -2], requiresGrad: true)
        let constant = withZero.pow(0)
        constant.sum().backward()
        #expect(constant.data == [1, 1, 1] && withZero.grad?.data == [0, 0, 0])
    }

    @Test(arguments: [-3, -2, -1, 0, 1, 2])
    func softmaxAlongAnyDimension(dim: Int) {
        let x = randomTensor([2, 3, 4], seed: 49, low: -3, high: 3)
        checkGradients(of: [x]) { $0[0].logSoftmax(dim: dim) }
        checkGradients(of: [x]) { $0[0].softmax(dim: dim) }
        let sums = x.softmax(dim: dim).sum(dim: dim).data
        #expect(sums.allSatisfy { abs($0 - 1) <= 1e-6 }, "\(sums)")
    }

    /// Logits of ±1e4 along a dimension that is not the last: finite, as the last-dimension form is.
    @Test func softmaxIsStable() {
        let x = Tensor(shape: [2, 2], data: [1e4, -1e4, -1e4, 1e4])
        let logProbabilities = x.logSoftmax(dim: 0).data
        #expect(logProbabilities.allSatisfy { $0.isFinite })
        #expect(logProbabilities == [0, -2e4, -2e4, 0])
        #expect(x.softmax(dim: 0).data == [1, 0, 0, 1])
    }
}
