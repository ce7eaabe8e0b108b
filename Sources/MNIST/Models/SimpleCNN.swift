import NN

/// The tutorial's simple CNN: conv 1→32 5×5, ReLU, max-pool 2, linear 4608→128, ReLU — plus the final
/// 128→10 layer (`fc2`) that the tutorial forgot, without which it would output 128 "classes".
public final class SimpleCNN: Module, BuiltInModel {
    /// `cnn`, on the command line and in weights files.
    public static let modelName = "cnn"
    /// What it is, in a few words (`--help` lists it among the tutorial's models instead).
    public static let summary = "the tutorial's simple CNN"
    /// One of the tutorial's three models, which `mnist bench` compares with PyTorch.
    public static let isTutorialModel = true

    /// conv 1→32 5×5: [N, 1, 28, 28] → [N, 32, 24, 24]; ReLU and 2×2 max pooling follow: [N, 32, 12, 12].
    public let conv1: Conv2d
    /// linear 4608→128: the flattened [N, 32, 12, 12], [N, 4608] → [N, 128], followed by ReLU.
    public let fc1: Linear
    /// linear 128→10, the layer the tutorial forgot: [N, 128] → logits [N, 10].
    public let fc2: Linear

    /// A freshly initialised CNN (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 32, kernelSize: 5, generator: &generator)
        fc1 = Linear(32 * 12 * 12, 128, generator: &generator)
        fc2 = Linear(128, 10, generator: &generator)
    }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        // conv1, ReLU, max-pool 2: [N, 32, 12, 12], pooled before the ReLU (the same values and gradients; see
        // `Tensor.reluMaxPool2d`) so the convolution and the pooling run as one pass.
        let features = conv1.maxPool2d(input).relu()
        return fc2(fc1(features.flattened()).relu())
    }
}

extension SimpleCNN: LayerChain {
    /// The forward pass's layers in order (ReLU before the pooling, which gives the same values), for the ONNX
    /// exporter.
    public var layerChain: [any UnaryLayer] { [conv1, ReLU(), MaxPool2d(2), Flatten(), fc1, ReLU(), fc2] }
}

extension ModelKind {
    /// The tutorial's simple CNN, `SimpleCNN`.
    public static let cnn = ModelKind(SimpleCNN.self)
}
