import Testing

@testable import Kernels

/// The vectorised 2 × 2 max pooling against the definition: rows of 8 windows and more (with the
/// overlapping last vector), rows of fewer windows (one vector each, but for a chunk's last rows), ties on
/// every row, and NaNs placed in the vector lanes.
@Suite struct MaxPoolingTests {
    @Test(arguments: [(24, 24), (6, 40), (4, 16), (5, 17), (3, 30), (2, 2), (10, 10), (8, 8), (7, 9), (4, 15), (10, 11), (11, 10), (14, 14), (3, 3)])
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
    }
}
