import DeepLearning

/// Squeeze-and-excitation (Hu et al., 2018): a weight per channel computed from the whole image, which
/// rescales the channels. [N, C, H, W] → [N, C, H, W].
///
/// The image is squeezed to one mean per channel (`mean(dim:)` over the pixels), two small linear layers
/// turn the C means into C weights between 0 and 1, and the input is multiplied by them: a `[N, C, 1, 1]`
/// tensor broadcast over the `H × W` pixels of each channel.
final class SqueezeExcitation: Module, UnaryLayer {
    let reduce: Linear
    let expand: Linear

    init(channels: Int, reduction: Int = 4, generator: inout RandomGenerator) {
        reduce = Linear(channels, channels / reduction, generator: &generator)
        expand = Linear(channels / reduction, channels, generator: &generator)
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let (batch, channels) = (input.shape[0], input.shape[1])
        // [N, C, H, W] → [N, C, H·W] → [N, C]: the mean of each channel.
        let squeezed = input.reshaped([batch, channels, -1]).mean(dim: -1)
        let weights = expand(reduce(squeezed).relu()).sigmoid()
        // [N, C, H, W] × [N, C, 1, 1]: each channel times its weight.
        return input * weights.reshaped([batch, channels, 1, 1])
    }
}

/// A basic residual block (He et al., 2016): two 3×3 convolutions, each followed by batch normalisation,
/// with ReLU after the first, a squeeze-and-excitation, and the block's input added back before the last
/// ReLU: [N, Cin, H, W] → [N, Cout, H / stride, W / stride].
///
/// When the block changes the number of channels or the resolution, the input goes through a 1×1
/// convolution with the block's stride and batch normalisation (the projection shortcut) before it is
/// added; otherwise it is added as it is.
final class ResidualBlock: Module, UnaryLayer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let se: SqueezeExcitation
    /// The 1×1 convolution and batch normalisation of the projection shortcut; nil for the identity.
    let shortcut: Sequential?

    init(_ inputChannels: Int, _ outputChannels: Int, stride: Int = 1, generator: inout RandomGenerator) {
        // No convolution biases: the batch normalisation that follows each one has its own shift.
        conv1 = Conv2d(
            inputChannels, outputChannels, kernelSize: 3, stride: stride, padding: 1, bias: false,
            generator: &generator)
        bn1 = BatchNorm2d(outputChannels)
        conv2 = Conv2d(outputChannels, outputChannels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(outputChannels)
        se = SqueezeExcitation(channels: outputChannels, generator: &generator)
        shortcut =
            stride == 1 && inputChannels == outputChannels
            ? nil
            : Sequential(
                Conv2d(
                    inputChannels, outputChannels, kernelSize: 1, stride: stride, bias: false, generator: &generator),
                BatchNorm2d(outputChannels))
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        let branch = se(bn2(conv2(bn1(conv1(input)).relu())))
        return (branch + (shortcut?(input) ?? input)).relu()
    }
}

/// A small residual network for 28×28 digits (a ResNet in miniature), `width` channels (w) wide:
///
/// - stem: a 3×3 convolution to w channels, batch normalisation, ReLU, and 2×2 max pooling
///   ([N, 1, 28, 28] → [N, w, 14, 14]);
/// - a residual block at w channels ([N, w, 14, 14]), one that halves the resolution and doubles the
///   channels ([N, 2w, 7, 7]) and one more at 2w channels;
/// - global average pooling (the mean of each channel, [N, 2w]) and a linear layer to the classes' logits.
///
/// Global average pooling makes the network take images of any size of at least 4×4.
final class ResNet: Module, UnaryLayer {
    let stem: Sequential
    let blocks: Sequential
    let fc: Linear

    init(width: Int = 16, classes: Int = 10, generator: inout RandomGenerator) {
        stem = Sequential(
            Conv2d(1, width, kernelSize: 3, padding: 1, bias: false, generator: &generator), BatchNorm2d(width),
            ReLU(), MaxPool2d(2))
        blocks = Sequential(
            ResidualBlock(width, width, generator: &generator),
            ResidualBlock(width, 2 * width, stride: 2, generator: &generator),
            ResidualBlock(2 * width, 2 * width, generator: &generator))
        fc = Linear(2 * width, classes, generator: &generator)
    }

    /// [N, 1, H, W] → [N, classes] logits.
    func callAsFunction(_ input: Tensor) -> Tensor {
        let features = blocks(stem(input))
        let (batch, channels) = (features.shape[0], features.shape[1])
        return fc(features.reshaped([batch, channels, -1]).mean(dim: -1))
    }
}
