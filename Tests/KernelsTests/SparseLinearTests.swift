import TestSupport
import Testing
@testable import Kernels

/// The sparse product against the definition, summed in Double.
@Suite struct SparseLinearTests {
    typealias Numbers = KernelParityTests.Numbers

    /// Rows that are 60–80% zeros, as MNIST images are; shapes with whole blocks of 64 outputs, single
    /// vectors of 8 and a scalar tail; inputs in one range of `SparseLinear.rangeInputs` and in several, the
    /// last one partial; with and without bias; rows split over threads; a single row (one image).
    @Test(arguments: [
        (100, 784, 784, true), (40, 70, 77, true), (33, 100, 10, false), (64, 200, 130, true), (1, 784, 784, true),
        (3, 100, 10, false), (70, 300, 200, false),
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

    /// The weight gradient against its definition, dW[o, j] = Σ_n dY[n, o] · x[n, j] summed in Double, each
    /// element divided by the magnitude of its terms: MNIST's sparsity, a dense input, an all-zero input, one
    /// row, more rows than a group (later groups add to what the first wrote), inputs that are not whole
    /// blocks of eight (fewer than eight too), outputs in whole blocks of 64, single vectors of eight and a
    /// scalar tail; every fifth row all zeros. Every element is written (the buffer starts as NaN), and the
    /// result is the same bit for bit on one thread and on two.
    @Test(arguments: [
        (64, 784, 784, 0.81), (1, 784, 784, 0.81), (40, 70, 77, 0.6), (3, 100, 10, 0.7), (130, 61, 73, 0.7),
        (64, 200, 130, 0.0), (17, 9, 64, 1.0), (5, 5, 200, 0.5), (200, 16, 8, 0.6),
    ])
    func weightGradientMatchesTheDefinition(rows: Int, inputs: Int, outputs: Int, zeros: Double) {
        var numbers = Numbers(state: UInt64(rows * 7919 + inputs * 31 + outputs))
        let threshold = Float(2 * zeros - 1)
        let input = (0..<(rows * inputs)).map { index in
            let value = numbers.next()
            return (index / inputs) % 5 == 4 || value < threshold ? 0 : value
        }
        let outputGradient = numbers.array(rows * outputs)
        func run(threads: Int) -> [Float] {
            var weightGradient = [Float](repeating: .nan, count: outputs * inputs)
            Parallel.withThreadCount(threads) {
                SparseLinear.weightGradient(
                    input: input, rows: rows, inputs: inputs, outputGradient: outputGradient, outputs: outputs,
                    weightGradient: &weightGradient)
            }
            return weightGradient
        }
        let weightGradient = run(threads: 2)
        #expect(weightGradient.map(\.bitPattern) == run(threads: 1).map(\.bitPattern))
        var scaled: [Double] = [], expected: [Double] = []
        for output in 0..<outputs {
            for index in 0..<inputs {
                var sum: Double = 0, magnitude: Double = 0
                for row in 0..<rows {
                    let term = Double(outputGradient[row * outputs + output]) * Double(input[row * inputs + index])
                    sum += term
                    magnitude += abs(term)
                }
                let scale = max(magnitude, 1e-6)
                scaled.append(Double(weightGradient[output * inputs + index]) / scale)
                expected.append(sum / scale)
            }
        }
        expectClose(scaled, expected, absolute: 1e-6, shapes: ([outputs, inputs], [outputs, inputs]))
    }

    /// In training the sparse products also need a whole block of 64 outputs.
    @Test func inTrainingOnlyWithWholeBlocksOfOutputs() {
        var numbers = Numbers(state: 6)
        let sparse = numbers.array(64 * 100).map { $0 < 0.5 ? 0 : $0 }
        #expect(SparseLinear.isWorthwhileInTraining(input: sparse, rows: 64, inputs: 100, outputs: 64))
        #expect(!SparseLinear.isWorthwhileInTraining(input: sparse, rows: 64, inputs: 100, outputs: 63))
        let dense = numbers.array(64 * 100)
        #expect(!SparseLinear.isWorthwhileInTraining(input: dense, rows: 64, inputs: 100, outputs: 784))
    }
}
