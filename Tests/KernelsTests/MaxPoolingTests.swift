import Testing

@testable import Kernels

/// The vectorised 2 × 2 max pooling against the definition: rows of 8 windows and more (with the
/// overlapping last vector), rows of fewer windows (one vector each, but for a chunk's last rows), ties on
/// every row, and NaNs placed in the vector lanes; the backward pass bit for bit against the definition's
/// scatter, with −0 and NaN among the gradients and odd sizes leaving a column or row outside every window.
@Suite struct MaxPoolingTests {
    @Test(arguments: [
        (24, 24), (6, 40), (4, 16), (5, 17), (3, 30), (2, 2), (10, 10), (8, 8), (7, 9), (4, 15), (10, 11), (11, 10),
        (14, 14), (3, 3), (17, 33), (24, 17),
    ])
    func twoByTwoMatchesTheDefinition(height: Int, width: Int) {
        var numbers = KernelParityTests.Numbers(state: UInt64(height * 131 + width))
        let shape = Pooling2DShape(planes: 5, height: height, width: width, kernelSize: 2, stride: 2)
        // Values on a coarse grid, so windows hold ties; NaNs in some windows' every corner.
        var input = numbers.array(shape.planes * shape.inputPlaneSize).map { ($0 * 3).rounded() }
        for index in stride(from: 3, to: input.count, by: 37) { input[index] = .nan }
        var output = [Float](repeating: 0, count: shape.planes * shape.outputPlaneSize)
        var indices = [Int32](repeating: -1, count: output.count)
        MaxPool2D.forward(input: input, output: &output, indices: &indices, shape: shape)
        let reference = Reference.maxPool2DForward(input: input, shape: shape)
        #expect(indices == reference.indices)
        for (index, (value, expected)) in zip(output, reference.output).enumerated() {
            #expect(value == expected || value.isNaN && expected.isNaN, "output \(index)")
        }
        var outputGradient = numbers.array(output.count)
        for index in stride(from: 1, to: outputGradient.count, by: 5) { outputGradient[index] = -0.0 }
        for index in stride(from: 2, to: outputGradient.count, by: 11) { outputGradient[index] = .nan }
        var inputGradient = [Float](repeating: .nan, count: input.count)
        MaxPool2D.backward(
            outputGradient: outputGradient, indices: indices, inputGradient: &inputGradient, shape: shape)
        let expected = Reference.maxPool2DBackward(outputGradient: outputGradient, indices: indices, shape: shape)
        #expect(inputGradient.map(\.bitPattern) == expected.map(\.bitPattern))
    }
}
