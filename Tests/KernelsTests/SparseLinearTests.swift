import TestSupport
import Testing
@testable import Kernels

/// The sparse product against the definition, summed in Double.
@Suite struct SparseLinearTests {
    typealias Numbers = KernelParityTests.Numbers

    /// Rows that are 60–80% zeros, as MNIST images are; shapes with whole blocks of 64 outputs, single
    /// vectors of 8 and a scalar tail; with and without bias; rows split over threads; a single row (one
    /// image).
    @Test(arguments: [
        (100, 784, 784, true), (40, 70, 77, true), (33, 100, 10, false), (64, 200, 130, true), (1, 784, 784, true),
        (3, 100, 10, false),
    ])
    func matchesTheDefinition(rows: Int, inputs: Int, outputs: Int, hasBias: Bool) {
        var numbers = Numbers(state: UInt64(rows * 131 + inputs + outputs))
        let input = (0..<(rows * inputs)).map { _ in
            let value = numbers.next()
            return value < (rows < 16 ? 0.8 : 0.6) ? 0 : value
        }
        let weight = numbers.array(outputs * inputs)
        let bias = hasBias ? numbers.array(outputs) : nil
        #expect(SparseLinear.isWorthwhile(input: input, rows: rows, inputs: inputs))
        var transposed = [Float](repeating: .nan, count: inputs * outputs)
        for column in 0..<outputs {
            for index in 0..<inputs { transposed[index * outputs + column] = weight[column * inputs + index] }
        }
        var output = [Float](repeating: .nan, count: rows * outputs)
        if let bias {
            SparseLinear.forward(
                input: input, rows: rows, inputs: inputs, transposedWeight: transposed, bias: bias, outputs: outputs,
                output: &output)
        } else {
            SparseLinear.forward(
                input: input, rows: rows, inputs: inputs, transposedWeight: transposed, bias: nil, outputs: outputs,
                output: &output)
        }
        // Each output against its sum in Double, both divided by the magnitude of its terms (Σ|term|): within
        // 1e-6 of it.
        var scaled: [Double] = [], expected: [Double] = []
        for row in 0..<rows {
            for column in 0..<outputs {
                var sum = Double(bias?[column] ?? 0), magnitude = abs(sum)
                for index in 0..<inputs {
                    let term = Double(input[row * inputs + index]) * Double(weight[column * inputs + index])
                    sum += term
                    magnitude += abs(term)
                }
                let scale = max(magnitude, 1e-6)
                scaled.append(Double(output[row * outputs + column]) / scale)
                expected.append(sum / scale)
            }
        }
        expectClose(scaled, expected, absolute: 1e-6, shapes: ([rows, outputs], [rows, outputs]))
    }

    @Test func densePathWhereItIsFaster() {
        var numbers = Numbers(state: 5)
        let dense = numbers.array(64 * 100)
        #expect(!SparseLinear.isWorthwhile(input: dense, rows: 64, inputs: 100))
        let sparse = dense.map { $0 < 0.5 ? 0 : $0 }
        #expect(SparseLinear.isWorthwhile(input: sparse, rows: 64, inputs: 100))
        #expect(SparseLinear.isWorthwhile(input: sparse, rows: 1, inputs: 100))
        #expect(!SparseLinear.isWorthwhile(input: sparse, rows: 64, inputs: 63))
    }
}
