import NN

/// Beyond the tutorial: a small VGG-style network with batch normalisation, for the best accuracy this
/// package reaches (with `mnist train --augment --schedule cosine`; see the README). Two blocks of two
/// 3×3 convolutions (without biases: batch normalisation's shift takes their place), each followed by
/// batch normalisation and ReLU, then 2×2 max pooling; then linear 1024→256, batch normalisation, ReLU,
/// linear 256→10.
///
/// [N, 1, 28, 28] → [N, 32, 26, 26] → [N, 32, 24, 24] → pool [N, 32, 12, 12] → [N, 64, 10, 10]
/// → [N, 64, 8, 8] → pool [N, 64, 4, 4] → [N, 256] → [N, 10]
public final class VGGStyleCNN: Module, BuiltInModel {
    /// `vgg`, on the command line and in weights files.
    public static let modelName = "vgg"
    /// What it is, in a few words, for `mnist train --help`.
    public static let summary = "a VGG-style network with batch normalisation"

    /// conv 1→32 3×3 without bias: [N, 1, 28, 28] → [N, 32, 26, 26]; batch normalisation of its 32 channels
    /// (`bn1`) and ReLU follow.
    public let conv1: Conv2d, bn1: BatchNorm2d
    /// conv 32→32 3×3 without bias: [N, 32, 26, 26] → [N, 32, 24, 24]; batch normalisation of its 32 channels
    /// (`bn2`), ReLU and 2×2 max pooling follow: [N, 32, 12, 12].
    public let conv2: Conv2d, bn2: BatchNorm2d
    /// conv 32→64 3×3 without bias: [N, 32, 12, 12] → [N, 64, 10, 10]; batch normalisation of its 64 channels
    /// (`bn3`) and ReLU follow.
    public let conv3: Conv2d, bn3: BatchNorm2d
    /// conv 64→64 3×3 without bias: [N, 64, 10, 10] → [N, 64, 8, 8]; batch normalisation of its 64 channels
    /// (`bn4`), ReLU and 2×2 max pooling follow: [N, 64, 4, 4].
    public let conv4: Conv2d, bn4: BatchNorm2d
    /// linear 1024→256 without bias: the flattened [N, 64, 4, 4], [N, 1024] → [N, 256]; batch normalisation of
    /// its 256 features (`bn5`) and ReLU follow.
    public let fc1: Linear, bn5: BatchNorm1d
    /// linear 256→10: [N, 256] → logits [N, 10].
    public let fc2: Linear

    /// A freshly initialised network (PyTorch's default initialisation), its weights drawn from `generator`.
    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 32, kernelSize: 3, bias: false, generator: &generator)
        bn1 = BatchNorm2d(32)
        conv2 = Conv2d(32, 32, kernelSize: 3, bias: false, generator: &generator)
        bn2 = BatchNorm2d(32)
        conv3 = Conv2d(32, 64, kernelSize: 3, bias: false, generator: &generator)
        bn3 = BatchNorm2d(64)
        conv4 = Conv2d(64, 64, kernelSize: 3, bias: false, generator: &generator)
        bn4 = BatchNorm2d(64)
        fc1 = Linear(64 * 4 * 4, 256, bias: false, generator: &generator)
        bn5 = BatchNorm1d(256)
        fc2 = Linear(256, 10, generator: &generator)
    }

    /// Logits [N, 10] for images [N, 1, 28, 28].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = bn1(conv1(input)).relu() // [N, 32, 26, 26]
        x = bn2(conv2(x)).reluMaxPool2d(kernelSize: 2) // [N, 32, 12, 12]
        x = bn3(conv3(x)).relu() // [N, 64, 10, 10]
        x = bn4(conv4(x)).reluMaxPool2d(kernelSize: 2) // [N, 64, 4, 4]
        return fc2(bn5(fc1(x.flattened())).relu()) // [N, 10]
    }
}

extension VGGStyleCNN: LayerChain {
    /// The forward pass's layers in order, for the ONNX exporter.
    public var layerChain: [any UnaryLayer] {
        [
            conv1, bn1, ReLU(), conv2, bn2, ReLU(), MaxPool2d(2), conv3, bn3, ReLU(), conv4, bn4, ReLU(),
            MaxPool2d(2), Flatten(), fc1, bn5, ReLU(), fc2,
        ]
    }
}

extension ModelKind {
    /// Not the tutorial's: `VGGStyleCNN`.
    public static let vgg = ModelKind(VGGStyleCNN.self)
}
