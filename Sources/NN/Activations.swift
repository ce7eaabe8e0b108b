/// max(x, 0), elementwise (PyTorch's `nn.ReLU`).
public final class ReLU: Module, UnaryLayer {
    /// A ReLU layer; it has no parameters.
    public override init() {}
    /// max(input, 0), elementwise: any shape → the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// tanh(x), elementwise (PyTorch's `nn.Tanh`).
public final class Tanh: Module, UnaryLayer {
    /// A Tanh layer; it has no parameters.
    public override init() {}
    /// tanh(input), elementwise: any shape → the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// 1 / (1 + e^−x), elementwise (PyTorch's `nn.Sigmoid`).
public final class Sigmoid: Module, UnaryLayer {
    /// A Sigmoid layer; it has no parameters.
    public override init() {}
    /// 1 / (1 + e^−input), elementwise: any shape → the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Flattens every dimension after the first (PyTorch's `nn.Flatten`): [N, C, H, W] → [N, C·H·W].
public final class Flatten: Module, UnaryLayer {
    /// A flattening layer; it has no parameters.
    public override init() {}
    /// input [N, d₁, d₂, …] → [N, d₁·d₂·…], in row-major order. The input needs at least two dimensions.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened() }
}
