@_exported import Datasets
@_exported import Optimizers

/// The tutorial's baseline, a multilayer perceptron: flatten [N, 1, 28, 28] → 784 → ReLU → 784 → 10.
public final class Baseline: Module, UnaryLayer {
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

/// The tutorial's simple CNN: conv 1→32 5×5, ReLU, max-pool 2, linear 4608→128, ReLU — plus the final
/// 128→10 layer (`fc2`) that the tutorial forgot, without which it would output 128 "classes".
public final class SimpleCNN: Module, UnaryLayer {
    public let conv1: Conv2d
    public let fc1: Linear
    public let fc2: Linear

    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 32, kernelSize: 5, generator: &generator)
        fc1 = Linear(32 * 12 * 12, 128, generator: &generator)
        fc2 = Linear(128, 10, generator: &generator)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let features = conv1(input).relu().maxPool2d(kernelSize: 2) // [N, 32, 12, 12]
        return fc2(fc1(features.flattened()).relu())
    }
}

/// LeNet-5 as the tutorial writes it (after LeCun et al., "Gradient-based learning applied to document
/// recognition", 1998): conv 1→6 5×5 pad 2, tanh, avg-pool 2; conv 6→16 5×5, tanh, avg-pool 2;
/// conv 16→120 5×5, tanh; linear 120→84, tanh; linear 84→10.
public final class LeNet5: Module, UnaryLayer {
    public let conv1: Conv2d
    public let conv2: Conv2d
    public let conv3: Conv2d
    public let fc1: Linear
    public let fc2: Linear

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

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = conv1.tanhAvgPool2d(input) // conv1, tanh, avg-pool 2: [N, 6, 14, 14]
        x = conv2.tanhAvgPool2d(x) // conv2, tanh, avg-pool 2: [N, 16, 5, 5]
        x = conv3(x).tanh().flattened() // [N, 120]
        return fc2(fc1(x).tanh()) // [N, 10]
    }
}

/// Beyond the tutorial: a small VGG-style network with batch normalisation, for the best accuracy this
/// package reaches (with `mnist train --augment --schedule cosine`; see the README). Two blocks of two
/// 3×3 convolutions (without biases: batch normalisation's shift takes their place), each followed by
/// batch normalisation and ReLU, then 2×2 max pooling; then linear 1024→256, batch normalisation, ReLU,
/// linear 256→10.
///
/// [N, 1, 28, 28] → [N, 32, 26, 26] → [N, 32, 24, 24] → pool [N, 32, 12, 12] → [N, 64, 10, 10]
/// → [N, 64, 8, 8] → pool [N, 64, 4, 4] → [N, 256] → [N, 10]
public final class VGGStyleCNN: Module, UnaryLayer {
    public let conv1: Conv2d, bn1: BatchNorm2d
    public let conv2: Conv2d, bn2: BatchNorm2d
    public let conv3: Conv2d, bn3: BatchNorm2d
    public let conv4: Conv2d, bn4: BatchNorm2d
    public let fc1: Linear, bn5: BatchNorm1d
    public let fc2: Linear

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

    public func callAsFunction(_ input: Tensor) -> Tensor {
        var x = bn1(conv1(input)).relu() // [N, 32, 26, 26]
        x = bn2(conv2(x)).relu().maxPool2d(kernelSize: 2) // [N, 32, 12, 12]
        x = bn3(conv3(x)).relu() // [N, 64, 10, 10]
        x = bn4(conv4(x)).relu().maxPool2d(kernelSize: 2) // [N, 64, 4, 4]
        return fc2(bn5(fc1(x.flattened())).relu()) // [N, 10]
    }
}

/// The models the `mnist` tool knows, by the names used on the command line and in weights files'
/// metadata.
public enum ModelKind: String, CaseIterable, Sendable {
    case mlp
    case cnn
    case lenet5
    /// Not the tutorial's: `VGGStyleCNN`.
    case vgg
    /// Not the tutorial's: `FastCNN`, for `--recipe speed`.
    case fast

    /// The tutorial's three models, which `mnist bench` compares with PyTorch.
    public static let tutorialModels: [ModelKind] = [.mlp, .cnn, .lenet5]

    /// A freshly initialised model of this kind (PyTorch's default initialisation).
    public func makeModel(generator: inout RandomGenerator) -> any UnaryLayer {
        switch self {
        case .mlp: Baseline(generator: &generator)
        case .cnn: SimpleCNN(generator: &generator)
        case .lenet5: LeNet5(generator: &generator)
        case .vgg: VGGStyleCNN(generator: &generator)
        case .fast: FastCNN(generator: &generator)
        }
    }

    /// Whether training splits each batch into one part per thread, each with its own forward and backward
    /// pass (`Trainer.gradientStep`). Not for the MLP: its 615k-weight layer, whose gradient each part
    /// would write in full and then sum, makes parts slower than one pass whose matrix products split
    /// their rows over the threads (measured back to back: an epoch about 10% slower).
    /// Not for the VGG-style network and `FastCNN` either: batch normalisation must see the whole batch, and
    /// its running statistics take one update per batch.
    public var splitsBatches: Bool { self == .cnn || self == .lenet5 }

    /// Forward floating-point operations per image (a multiply–add counts two), for throughput figures.
    public var forwardFlopsPerImage: Int { 2 * multiplyAddsPerImage.reduce(0, +) }

    /// Floating-point operations to train on one image: the forward pass, then the backward pass's two
    /// products per layer (weight and input gradients) — except the first layer's input gradient, which
    /// nothing needs and the engine skips.
    public var trainingFlopsPerImage: Int { 3 * forwardFlopsPerImage - 2 * multiplyAddsPerImage[0] }

    /// Multiply–adds of each layer with weights, in order.
    var multiplyAddsPerImage: [Int] {
        switch self {
        case .mlp: [784 * 784, 784 * 10]
        case .cnn: [24 * 24 * 32 * 25, 4608 * 128, 128 * 10]
        case .lenet5: [28 * 28 * 6 * 25, 10 * 10 * 16 * 150, 120 * 400, 120 * 84, 84 * 10]
        case .vgg: [26 * 26 * 32 * 9, 24 * 24 * 32 * 288, 10 * 10 * 64 * 288, 8 * 8 * 64 * 576, 1024 * 256, 256 * 10]
        case .fast: [24 * 24 * 12 * 25, 10 * 10 * 32 * 108, 800 * 64, 64 * 10]
        }
    }
}
