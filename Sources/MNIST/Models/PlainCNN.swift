import NN

/// Beyond the tutorial: five unpadded 5×5 convolutions without pooling, after the M5 network of An et al.
/// 2020 ("An Ensemble of Simple Convolutional Neural Network Models for MNIST Digit Recognition",
/// ansh941/MnistSimpleCNN) at half its width. Each convolution (without biases: batch normalisation's shift
/// takes their place) is followed by batch normalisation and ReLU; then linear 5120→10 without bias and
/// batch normalisation on the logits, as An et al. do. The flattening is PyTorch's NCHW order (An et al.
/// permute to NHWC first; the weights differ only in the order of `fc`'s columns).
///
/// [N, 1, 28, 28] → [N, 16, 24, 24] → [N, 32, 20, 20] → [N, 48, 16, 16] → [N, 64, 12, 12]
/// → [N, 80, 8, 8] → [N, 5120] → [N, 10]
public final class PlainCNN: Module, BuiltInModel {
    /// `plain`, on the command line and in weights files.
    public static let modelName = "plain"
    /// What it is, in a few words, for `mnist train --help`.
    public static let summary = "five 5×5 convolutions without pooling, after An et al.'s M5 at half its width"

    /// conv 1→16 5×5 without bias: [N, 1, 28, 28] → [N, 16, 24, 24]; batch normalisation of its 16 channels
    /// (`bn1`) and ReLU follow.
    public let conv1: Conv2d, bn1: BatchNorm2d
    /// conv 16→32 5×5 without bias: [N, 16, 24, 24] → [N, 32, 20, 20]; batch normalisation of its 32 channels
    /// (`bn2`) and ReLU follow.
    public let conv2: Conv2d, bn2: BatchNorm2d
    /// conv 32→48 5×5 without bias: [N, 32, 20, 20] → [N, 48, 16, 16]; batch normalisation of its 48 channels
    /// (`bn3`) and ReLU follow.
    public let conv3: Conv2d, bn3: BatchNorm2d
    /// conv 48→64 5×5 without bias: [N, 48, 16, 16] → [N, 64, 12, 12]; batch normalisation of its 64 channels
    /// (`bn4`) and ReLU follow.
    public let conv4: Conv2d, bn4: BatchNorm2d
    /// conv 64→80 5×5 without bias: [N, 64, 12, 12] → [N, 80, 8, 8]; batch normalisation of its 80 channels
    /// (`bn5`) and ReLU follow.
    public let conv5: Conv2d, bn5: BatchNorm2d
    /// linear 5120→10 without bias: the flattened [N, 80, 8, 8], [N, 5120] → [N, 10]; then batch normalisation
    /// of the 10 logits (`bn6`).
    public let fc: Linear, bn6: BatchNorm1d

    /// A freshly initialised network (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 16, kernelSize: 5, bias: false, generator: &generator)
        bn1 = BatchNorm2d(16)
        conv2 = Conv2d(16, 32, kernelSize: 5, bias: false, generator: &generator)
        bn2 = BatchNorm2d(32)
        conv3 = Conv2d(32, 48, kernelSize: 5, bias: false, generator: &generator)
        bn3 = BatchNorm2d(48)
        conv4 = Conv2d(48, 64, kernelSize: 5, bias: false, generator: &generator)
        bn4 = BatchNorm2d(64)
        conv5 = Conv2d(64, 80, kernelSize: 5, bias: false, generator: &generator)
        bn5 = BatchNorm2d(80)
        fc = Linear(80 * 8 * 8, 10, bias: false, generator: &generator)
        bn6 = BatchNorm1d(10)
    }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = bn1(conv1(input)).relu() // [N, 16, 24, 24]
        x = bn2(conv2(x)).relu() // [N, 32, 20, 20]
        x = bn3(conv3(x)).relu() // [N, 48, 16, 16]
        x = bn4(conv4(x)).relu() // [N, 64, 12, 12]
        x = bn5(conv5(x)).relu() // [N, 80, 8, 8]
        return bn6(fc(x.flattened())) // [N, 10]
    }
}

extension PlainCNN: LayerChain {
    /// The forward pass's layers in order, for the ONNX exporter.
    public var layerChain: [any UnaryLayer] {
        [
            conv1, bn1, ReLU(), conv2, bn2, ReLU(), conv3, bn3, ReLU(), conv4, bn4, ReLU(), conv5, bn5, ReLU(),
            Flatten(), fc, bn6,
        ]
    }
}

extension ModelKind {
    /// Not the tutorial's: `PlainCNN`.
    public static let plain = ModelKind(PlainCNN.self)
}
