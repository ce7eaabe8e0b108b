import Testing
@testable import Autograd
import Kernels

/// The sparse inference product keeps a weight's transpose on the weight (`Tensor.transposedMatrix`): one
/// image takes the same path as a batch, and a changed weight is never read through a stale transpose.
@Suite struct TransposedWeightTests {
    /// x · Wᵀ + b summed in Double: x [rows, inputs], weight [outputs, inputs].
    func definition(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> [Double] {
        let (rows, inputs, outputs) = (x.shape[0], x.shape[1], weight.shape[0])
        return (0..<(rows * outputs)).map { index in
            let (row, output) = index.quotientAndRemainder(dividingBy: outputs)
            var sum = Double(bias?.data[output] ?? 0)
            for input in 0..<inputs {
                sum += Double(x.data[row * inputs + input]) * Double(weight.data[output * inputs + input])
            }
            return sum
        }
    }

    /// One mostly-zero image through `linear` in inference: the product's values.
    @Test func oneImageMatchesTheDefinition() {
        let values = randomTensor([1, 784], seed: 31, low: -1, high: 1).data
        let x = Tensor(shape: [1, 784], data: values.map { $0 < 0.6 ? 0 : $0 })
        let weight = randomTensor([784, 784], seed: 32), bias = randomTensor([784], seed: 33)
        #expect(SparseLinear.isWorthwhile(input: x.data, rows: 1, inputs: 784))
        let sparse = withoutGradients { x.linear(weight: weight, bias: bias) }
        #expect(sparse.shape == [1, 784])
        #expect(zip(sparse.data, definition(x, weight, bias)).allSatisfy { abs(Double($0) - $1) <= 1e-4 })
    }

    /// The kept transpose starts on a 64-byte boundary, whatever the allocator gave, and holds the elements
    /// written into it.
    @Test func theTransposeIsAlignedToACacheLine() {
        for count in [0, 1, 15, 16, 17, 784 * 784] {
            let floats = AlignedFloats(count: count) { target in
                for index in 0..<count { target[index] = Float(index) }
            }
            floats.withUnsafePointer { #expect(Int(bitPattern: $0) % 64 == 0, "count \(count)") }
            #expect(floats.elements.elementsEqual((0..<count).map(Float.init)))
        }
        let weight = randomTensor([784, 784], seed: 36)
        weight.transposedMatrix().withUnsafePointer { #expect(Int(bitPattern: $0) % 64 == 0) }
    }

    /// The transpose is kept between calls and dropped when the weight changes, in place (as optimizers
    /// write) or whole.
    @Test func aChangedWeightIsTransposedAgain() {
        let weight = randomTensor([3, 70], seed: 34)
        let first = weight.transposedMatrix()
        #expect(first.count == 210 && first.elements.count == 210)
        #expect(first.elements.elementsEqual((0..<210).map { weight.data[($0 % 3) * 70 + $0 / 3] }))
        weight.data.withUnsafeMutableBufferPointer { $0[2 * 70 + 1] = 5 }
        #expect(weight.transposedMatrix().elements.dropFirst(1 * 3 + 2).first == 5)
        weight.data = [Float](repeating: -2, count: 210)
        #expect(weight.transposedMatrix().elements.allSatisfy { $0 == -2 })

        let values = randomTensor([2, 70], seed: 35, low: -1, high: 1).data
        let x = Tensor(shape: [2, 70], data: values.map { $0 < 0.6 ? 0 : $0 })
        let before = withoutGradients { x.linear(weight: weight, bias: nil) }
        weight.data.withUnsafeMutableBufferPointer { for index in $0.indices { $0[index] *= 3 } }
        let after = withoutGradients { x.linear(weight: weight, bias: nil) }
        #expect(zip(after.data, definition(x, weight, nil)).allSatisfy { abs(Double($0) - $1) <= 1e-4 })
        #expect(zip(after.data, before.data).allSatisfy { abs($0 - 3 * $1) <= 1e-4 })
    }
}
