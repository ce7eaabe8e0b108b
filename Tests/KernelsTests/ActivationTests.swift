import Foundation
import Testing
@testable import Kernels

@Suite struct ActivationTests {
    /// The rational tanh against the exact one over a dense sweep of Float bit patterns in [0, 12] (the
    /// function is odd, and checked on negatives too); the bound measured over every Float is 4.2e-7.
    @Test func tanhApproximationStaysWithinItsBound() {
        var worst: Double = 0
        var bits: UInt32 = 0
        while Float(bitPattern: bits) <= 12 {
            let x = Float(bitPattern: bits)
            worst = max(worst, abs(Double(Activation.tanhApproximation(x)) - Foundation.tanh(Double(x))))
            worst = max(worst, abs(Double(Activation.tanhApproximation(-x)) + Foundation.tanh(Double(x))))
            bits += 1021
        }
        #expect(worst <= 4.2e-7, "largest error \(worst)")
        #expect(Activation.tanhApproximation(.infinity) == 1 && Activation.tanhApproximation(-.infinity) == -1)
        #expect(Activation.tanhApproximation(.nan).isNaN)
        #expect(Activation.tanhApproximation(1e-30) == 1e-30)
    }

    @Test func tanhKernelsMatchTheirDefinition() {
        let count = 70_001  // large enough to be split across threads
        let input = (0..<count).map { Float($0 % 997) / 50 - 10 }
        var output = [Float](repeating: .nan, count: count)
        Activation.tanhForward(input, &output, count: count)
        let forwardMatches = zip(input, output).allSatisfy { $1 == Activation.tanhApproximation($0) }
        #expect(forwardMatches)
        let outputGradient = (0..<count).map { Float($0 % 13) - 6 }
        var inputGradient = [Float](repeating: .nan, count: count)
        Activation.tanhBackward(output: output, outputGradient: outputGradient, inputGradient: &inputGradient, count: count)
        let backwardMatches = (0..<count).allSatisfy { inputGradient[$0] == outputGradient[$0] * (1 - output[$0] * output[$0]) }
        #expect(backwardMatches)
    }
}
