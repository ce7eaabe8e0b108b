/// Max pooling (PyTorch's `nn.MaxPool2d`, no padding): [N, C, H, W] → [N, C, (H − k) / s + 1, (W − k) / s + 1].
public final class MaxPool2d: Module, UnaryLayer {
    public let kernelSize: Int
    public let stride: Int

    /// `stride` defaults to `kernelSize`, as in PyTorch.
    public init(_ kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.maxPool2d(kernelSize: kernelSize, stride: stride)
    }
}

/// Average pooling (PyTorch's `nn.AvgPool2d`, no padding): [N, C, H, W] → [N, C, (H − k) / s + 1, (W − k) / s + 1].
public final class AvgPool2d: Module, UnaryLayer {
    public let kernelSize: Int
    public let stride: Int

    /// `stride` defaults to `kernelSize`, as in PyTorch.
    public init(_ kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.avgPool2d(kernelSize: kernelSize, stride: stride)
    }
}
