import NN

/// LeNet-5 as the tutorial writes it (after LeCun et al., "Gradient-based learning applied to document
/// recognition", 1998): conv 1→6 5×5 pad 2, tanh, avg-pool 2; conv 6→16 5×5, tanh, avg-pool 2;
/// conv 16→120 5×5, tanh; linear 120→84, tanh; linear 84→10.
public final class LeNet5: Module, BuiltInModel {
    /// `lenet5`, on the command line and in weights files.
    public static let modelName = "lenet5"
    /// What it is, in a few words (`--help` lists it among the tutorial's models instead).
    public static let summary = "the tutorial's LeNet-5"
    /// One of the tutorial's three models, which `mnist bench` compares with PyTorch.
    public static let isTutorialModel = true

    /// conv 1→6 5×5, padding 2: [N, 1, 28, 28] → [N, 6, 28, 28]; tanh and 2×2 average pooling follow: [N, 6, 14, 14].
    public let conv1: Conv2d
    /// conv 6→16 5×5: [N, 6, 14, 14] → [N, 16, 10, 10]; tanh and 2×2 average pooling follow: [N, 16, 5, 5].
    public let conv2: Conv2d
    /// conv 16→120 5×5: [N, 16, 5, 5] → [N, 120, 1, 1], followed by tanh and flattened to [N, 120].
    public let conv3: Conv2d
    /// linear 120→84: [N, 120] → [N, 84], followed by tanh.
    public let fc1: Linear
    /// linear 84→10: [N, 84] → logits [N, 10].
    public let fc2: Linear

    /// A freshly initialised LeNet-5 (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 6, kernelSize: 5, padding: 2, generator: &generator)
        conv2 = Conv2d(6, 16, kernelSize: 5, generator: &generator)
        conv3 = Conv2d(16, 120, kernelSize: 5, generator: &generator)
        fc1 = Linear(120, 84, generator: &generator)
        fc2 = Linear(84, 10, generator: &generator)
    }

    /// 256: its fused convolution stages keep each image's work in the first-level cache whatever the slice,
    /// and larger slices spread the fixed costs of conv3's and the linear layers' products (OpenBLAS packs
    /// their weights once per call) over more images: batch-1000 inference ~3% faster than at 64, measured.
    public override var inferenceSliceSize: Int { 256 }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = conv1.tanhAvgPool2d(input) // conv1, tanh, avg-pool 2: [N, 6, 14, 14]
        x = conv2.tanhAvgPool2d(x) // conv2, tanh, avg-pool 2: [N, 16, 5, 5]
        x = conv3(x).tanh().flattened() // [N, 120]
        return fc2(fc1(x).tanh()) // [N, 10]
    }
}

extension LeNet5: LayerChain {
    /// The forward pass's layers in order, for the ONNX exporter.
    public var layerChain: [any UnaryLayer] {
        [
            conv1, Tanh(), AvgPool2d(2), conv2, Tanh(), AvgPool2d(2), conv3, Tanh(), Flatten(), fc1, Tanh(), fc2,
        ]
    }
}

extension ModelKind {
    /// The tutorial's LeNet-5, `LeNet5`.
    public static let lenet5 = ModelKind(LeNet5.self)
}
