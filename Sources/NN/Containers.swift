/// Layers applied in order (PyTorch's `nn.Sequential`); children are named `0`, `1`, … as in PyTorch.
public final class Sequential: Module, UnaryLayer {
    /// The layers, applied first to last.
    public let layers: [any UnaryLayer]

    /// A container applying `layers` in order, first to last.
    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
    }

    /// A container applying `layers` in the order written:
    /// `Sequential(Flatten(), Linear(784, 10, generator: &generator))`.
    public convenience init(_ layers: any UnaryLayer...) {
        self.init(layers)
    }

    /// The layers named by position, `0`, `1`, …, as in PyTorch's state dict (`0.weight`).
    public override var namedChildren: [(name: String, module: Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    /// `input` through every layer in turn: the first layer's input shape → the last layer's output shape.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }
}
