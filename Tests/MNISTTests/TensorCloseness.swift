import MNIST
import TestSupport
import Testing

/// `TestSupport.expectClose` on tensors: the same shape, and every element within `relativeToLargest` ×
/// the largest magnitude in `expected`.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, relativeToLargest: Double, _ comment: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    TestSupport.expectClose(
        actual.data, expected.data, relativeToLargest: relativeToLargest, shapes: (actual.shape, expected.shape),
        comment, sourceLocation: sourceLocation)
}
