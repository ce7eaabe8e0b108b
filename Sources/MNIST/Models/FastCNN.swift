import NN

/// Beyond the tutorial: a small convolutional network with batch normalisation, made to reach 99% test
/// accuracy in a few seconds of training on two cores (`mnist train --recipe speed`; after
/// tuomaso/train_mnist_fast). Two convolutions (without biases: batch normalisation's shift takes their
/// place), each followed by 2×2 max pooling, batch normalisation and ReLU — pooling first, so batch
/// normalisation and ReLU see a quarter of the values; then linear 800→64, ReLU, linear 64→10.
///
/// [N, 1, 28, 28] → conv 5×5 [N, 12, 24, 24] → pool [N, 12, 12, 12] → conv 3×3 [N, 32, 10, 10]
/// → pool [N, 32, 5, 5] → [N, 64] → [N, 10]
///
/// The channel counts fill the convolution kernels' register blocks: conv1's twelve output channels are two
/// blocks of six (`ConvolutionPlan.Algorithm.direct`); conv2's 32 are two vectors of sixteen with 108 taps
/// (`directChannelsInLanes`).
public final class FastCNN: Module, BuiltInModel {
    /// `fast`, on the command line and in weights files.
    public static let modelName = "fast"
    /// What it is, in a few words, for `mnist train --help`.
    public static let summary = "a small network with batch normalisation, for --recipe speed"

    /// conv 1→12 5×5 without bias: [N, 1, 28, 28] → [N, 12, 24, 24]; after its 2×2 max pooling [N, 12, 12, 12],
    /// batch normalisation of its 12 channels (`bn1`), then ReLU.
    public let conv1: Conv2d, bn1: BatchNorm2d
    /// conv 12→32 3×3 without bias: [N, 12, 12, 12] → [N, 32, 10, 10]; after its 2×2 max pooling [N, 32, 5, 5],
    /// batch normalisation of its 32 channels (`bn2`), then ReLU.
    public let conv2: Conv2d, bn2: BatchNorm2d
    /// linear 800→64: the flattened [N, 32, 5, 5], [N, 800] → [N, 64], followed by ReLU.
    public let fc1: Linear
    /// linear 64→10: [N, 64] → logits [N, 10].
    public let fc2: Linear

    /// A freshly initialised network (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 12, kernelSize: 5, bias: false, generator: &generator)
        bn1 = BatchNorm2d(12)
        conv2 = Conv2d(12, 32, kernelSize: 3, bias: false, generator: &generator)
        bn2 = BatchNorm2d(32)
        fc1 = Linear(32 * 5 * 5, 64, generator: &generator)
        fc2 = Linear(64, 10, generator: &generator)
    }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = bn1(conv1.maxPool2d(input)).relu() // conv1, max-pool 2, batch norm, ReLU: [N, 12, 12, 12]
        x = bn2(conv2.maxPool2d(x)).relu() // conv2, max-pool 2, batch norm, ReLU: [N, 32, 5, 5]
        return fc2(fc1(x.flattened()).relu()) // [N, 10]
    }
}

extension FastCNN: LayerChain {
    /// The forward pass's layers in order (each pooling before its batch normalisation), for the ONNX exporter.
    public var layerChain: [any UnaryLayer] {
        [conv1, MaxPool2d(2), bn1, ReLU(), conv2, MaxPool2d(2), bn2, ReLU(), Flatten(), fc1, ReLU(), fc2]
    }
}

extension ModelKind {
    /// Not the tutorial's: `FastCNN`, for `--recipe speed`.
    public static let fast = ModelKind(FastCNN.self)
}
