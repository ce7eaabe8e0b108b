import Preconditions

/// Max pooling (PyTorch's `nn.MaxPool2d`, no padding): [N, C, H, W] → [N, C, (H − k) / s + 1, (W − k) / s + 1].
public final class MaxPool2d: Module, UnaryLayer {
    /// The height and width of each window.
    public let kernelSize: Int
    /// The step between windows, in both directions.
    public let stride: Int

    /// `stride` defaults to `kernelSize`, as in PyTorch; both must be at least 1.
    public init(_ kernelSize: Int, stride: Int? = nil) {
        checkPoolingSizes(kernelSize: kernelSize, stride: stride ?? kernelSize)
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    /// input [N, C, H, W] → [N, C, (H − kernelSize) / stride + 1, (W − kernelSize) / stride + 1], each window's
    /// maximum. A window larger than the input, or a kernel size or stride below 1, stops the program.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride)
    }
}

/// Average pooling (PyTorch's `nn.AvgPool2d`, no padding): [N, C, H, W] → [N, C, (H − k) / s + 1, (W − k) / s + 1].
public final class AvgPool2d: Module, UnaryLayer {
    /// The height and width of each window.
    public let kernelSize: Int
    /// The step between windows, in both directions.
    public let stride: Int

    /// `stride` defaults to `kernelSize`, as in PyTorch; both must be at least 1.
    public init(_ kernelSize: Int, stride: Int? = nil) {
        checkPoolingSizes(kernelSize: kernelSize, stride: stride ?? kernelSize)
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    /// input [N, C, H, W] → [N, C, (H − kernelSize) / stride + 1, (W − kernelSize) / stride + 1], each window's mean.
    /// A window larger than the input, or a kernel size or stride below 1, stops the program.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride)
    }
}

/// Stops the program unless a pooling layer's window and stride are at least 1, when the layer is made (as
/// `Conv2d` checks its sizes) rather than at its first call.
private func checkPoolingSizes(kernelSize: Int, stride: Int) {
    checkPrecondition(
        kernelSize >= 1 && stride >= 1,
        "pooling needs a kernel size and stride of at least 1, got \(kernelSize) and \(stride)")
}
