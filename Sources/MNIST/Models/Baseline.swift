import NN

/// The tutorial's baseline, a multilayer perceptron: flatten [N, 1, 28, 28] → 784 → ReLU → 784 → 10.
public final class Baseline: Module, BuiltInModel {
    public static let modelName = "mlp"
    public static let summary = "the tutorial's multilayer perceptron"
    public static let isTutorialModel = true

    public let layer1: Linear
    public let layer2: Linear

    public init(generator: inout RandomGenerator) {
        layer1 = Linear(784, 784, generator: &generator)
        layer2 = Linear(784, 10, generator: &generator)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layer2(layer1(input.flattened()).relu())
    }

    /// 512: its activations are only 784 values an image, so slices larger than the default cost little
    /// memory and give each product more rows (OpenBLAS packs the weights once per dense product): at batch
    /// 1000, one slice per thread.
    public override var inferenceSliceSize: Int { 512 }
}

extension Baseline: LayerChain {
    public var layerChain: [any UnaryLayer] { [Flatten(), layer1, ReLU(), layer2] }
}

extension ModelKind {
    /// The tutorial's MLP, `Baseline`.
    public static let mlp = ModelKind(Baseline.self)
}
