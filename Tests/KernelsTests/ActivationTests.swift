import Foundation
import TestSupport
import Testing
@testable import Kernels

@Suite struct ActivationTests {
    /// The rational tanh against the exact one over a dense sweep of Float bit patterns in [0, 12] (the
    /// function is odd, and checked on negatives too): the largest error over every Float in [0, 9] is
    /// 3.08e-7 (measured once, exhaustively; past 9 the result is ±1, within 3e-8). Outputs stay in [−1, 1].
    @Test func tanhApproximationStaysWithinItsBound() {
        var inputs: [Float] = []
        var bits: UInt32 = 0
        while Float(bitPattern: bits) <= 12 {
            inputs += [Float(bitPattern: bits), -Float(bitPattern: bits)]
            bits += 1021
        }
        let approximations = inputs.map(Activation.tanhApproximation)
        expectClose(approximations, inputs.map { Foundation.tanh(Double($0)) }, absolute: 3.1e-7)
        #expect(approximations.allSatisfy { abs($0) <= 1 })
        #expect(Activation.tanhApproximation(.infinity) == 1 && Activation.tanhApproximation(-.infinity) == -1)
        #expect(Activation.tanhApproximation(.nan).isNaN)
        // A subnormal (the literal -1e-40 would underflow): tanh(x) = x there.
        let subnormal = -Float.leastNormalMagnitude / 1024
        #expect(Activation.tanhApproximation(1e-30) == 1e-30 && Activation.tanhApproximation(subnormal) == subnormal)
        #expect(Activation.tanhApproximation(-0.0).sign == .minus)
    }

    /// The eight-lane tanh gives the scalar function's bits lane for lane: over a sweep of Float bit patterns
    /// of both signs (tiny, ordinary, past the clamp), and on ±0, ±∞, NaN, a denormal and the clamps.
    @Test func vectorTanhMatchesScalarBitForBit() {
        var values: [Float] = [
            0, -0.0, .infinity, -.infinity, .nan, 1e-30, -1e-38, .leastNonzeroMagnitude,
            -Float.leastNormalMagnitude / 4096, 7.93, -7.93, 9, -9, Float(9).nextUp, .greatestFiniteMagnitude,
        ]
        var bits: UInt32 = 0
        while Float(bitPattern: bits) <= 20 {
            values.append(Float(bitPattern: bits))
            values.append(-Float(bitPattern: bits))
            bits += 4093
        }
        while values.count % 8 != 0 { values.append(1) }
        var mismatches = 0
        for start in stride(from: 0, to: values.count, by: 8) {
            let lanes = Activation.tanhApproximation(SIMD8<Float>(values[start..<(start + 8)]))
            for lane in 0..<8 {
                let scalar = Activation.tanhApproximation(values[start + lane])
                if lanes[lane].bitPattern != scalar.bitPattern && !(lanes[lane].isNaN && scalar.isNaN) {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(values.count) values differ")
    }

    @Test func tanhKernelsMatchTheirDefinition() {
        let count = 70_001 // large enough to be split across threads
        let input = (0..<count).map { Float($0 % 997) / 50 - 10 }
        var output = [Float](repeating: .nan, count: count)
        Activation.tanhForward(input, &output, count: count)
        let forwardMatches = zip(input, output).allSatisfy { $1 == Activation.tanhApproximation($0) }
        #expect(forwardMatches)
        let outputGradient = (0..<count).map { Float($0 % 13) - 6 }
        var inputGradient = [Float](repeating: .nan, count: count)
        Activation.tanhBackward(
            output: output, outputGradient: outputGradient, inputGradient: &inputGradient, count: count)
        let backwardMatches = (0..<count).allSatisfy {
            inputGradient[$0] == outputGradient[$0] * (1 - output[$0] * output[$0])
        }
        #expect(backwardMatches)
    }
}
