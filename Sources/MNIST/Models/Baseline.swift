import NN

/// The tutorial's baseline, a multilayer perceptron: flatten [N, 1, 28, 28] → 784 → ReLU → 784 → 10.
public final class Baseline: Module, BuiltInModel {
    /// `mlp`, on the command line and in weights files.
    public static let modelName = "mlp"
    /// What it is, in a few words (`--help` lists it among the tutorial's models instead).
    public static let summary = "the tutorial's multilayer perceptron"
    /// One of the tutorial's three models, which `mnist bench` compares with PyTorch.
    public static let isTutorialModel = true

    /// linear 784→784: the flattened image [N, 784] → [N, 784], followed by ReLU.
    public let layer1: Linear
    /// linear 784→10: [N, 784] → logits [N, 10].
    public let layer2: Linear

    /// A freshly initialised MLP (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        layer1 = Linear(784, 784, generator: &generator)
        layer2 = Linear(784, 10, generator: &generator)
    }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        layer2(layer1(input.flattened()).relu())
    }

    /// 512: its activations are only 784 values an image, so slices larger than the default cost little
    /// memory and give each product more rows (OpenBLAS packs the weights once per dense product): at batch
    /// 1000, one slice per thread.
    public override var inferenceSliceSize: Int { 512 }
}

extension Baseline: LayerChain {
    /// Flatten, `layer1`, ReLU, `layer2`: the forward pass, for the ONNX exporter.
    public var layerChain: [any UnaryLayer] { [Flatten(), layer1, ReLU(), layer2] }
}

extension ModelKind {
    /// The tutorial's MLP, `Baseline`.
    public static let mlp = ModelKind(Baseline.self)
}
