/// max(x, 0), elementwise (PyTorch's `nn.ReLU`).
public final class ReLU: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.relu() }
}

/// tanh(x), elementwise (PyTorch's `nn.Tanh`).
public final class Tanh: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.tanh() }
}

/// 1 / (1 + e^−x), elementwise (PyTorch's `nn.Sigmoid`).
public final class Sigmoid: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Flattens every dimension after the first (PyTorch's `nn.Flatten`): [N, C, H, W] → [N, C·H·W].
public final class Flatten: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattened() }
}
