import Preconditions

/// 2-D convolution (PyTorch's `nn.Conv2d`): input [N, inputChannels, H, W] →
/// [N, outputChannels, (H + 2·padding − kernelSize) / stride + 1, (W + 2·padding − kernelSize) / stride + 1].
public final class Conv2d: Module, UnaryLayer {
    /// [outputChannels, inputChannels, kernelSize, kernelSize]
    public let weight: Tensor
    /// [outputChannels], or nil without a bias.
    public let bias: Tensor?
    /// The step between windows, in both directions.
    public let stride: Int
    /// The rows and columns of zeros added on each side of the input.
    public let padding: Int

    /// A convolution from `inputChannels` to `outputChannels` channels with kernelSize × kernelSize kernels (sizes
    /// positive, `stride` ≥ 1, `padding` ≥ 0), with a bias unless `bias` is false. Initialised from `generator` as
    /// PyTorch initialises `nn.Conv2d`: weight and bias uniform in ±1/√(inputChannels · kernelSize²).
    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        bias: Bool = true, generator: inout RandomGenerator
    ) {
        checkPrecondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0, "Conv2d needs positive sizes")
        checkPrecondition(stride >= 1 && padding >= 0, "Conv2d needs stride ≥ 1 and padding ≥ 0")
        let fanIn = inputChannels * kernelSize * kernelSize
        weight = Initialization.parameter(
            Initialization.kaimingUniform(
                [outputChannels, inputChannels, kernelSize, kernelSize], fanIn: fanIn, generator: &generator))
        self.bias =
            bias
            ? Initialization.parameter(
                Initialization.biasUniform([outputChannels], fanIn: fanIn, generator: &generator))
            : nil
        self.stride = stride
        self.padding = padding
    }

    /// The channels of the input, `weight.shape[1]`.
    public var inputChannels: Int { weight.shape[1] }
    /// The channels of the output (one per kernel), `weight.shape[0]`.
    public var outputChannels: Int { weight.shape[0] }
    /// The height and width of each kernel, `weight.shape[2]`.
    public var kernelSize: Int { weight.shape[2] }

    /// input [N, inputChannels, H, W] → [N, outputChannels, H′, W′], H′ and W′ as above; a running
    /// `MultiplyAddCounter` counts its multiply–adds.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        recordMultiplyAdds(input)
        return input.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// `self(input).tanhAvgPool2d(kernelSize: 2)`: convolution, tanh and 2 × 2 average pooling, a LeNet-5 stage,
    /// in one fused pass in inference where the kernels have one for the shape (`Tensor.conv2dTanhAvgPool2d`).
    public func tanhAvgPool2d(_ input: Tensor) -> Tensor {
        recordMultiplyAdds(input)
        return input.conv2dTanhAvgPool2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// `self(input).maxPool2d(kernelSize: 2)`: convolution and 2 × 2 max pooling, in one fused pass where the
    /// kernels have one for the shape (`Tensor.conv2dMaxPool2d`), with the same results bit for bit.
    public func maxPool2d(_ input: Tensor) -> Tensor {
        recordMultiplyAdds(input)
        return input.conv2dMaxPool2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }

    /// Tells a counting `MultiplyAddCounter` this convolution's multiply–adds on `input` [N, C, H, W]:
    /// N · outputChannels · outputRows · outputColumns · inputChannels · kernelSize².
    private func recordMultiplyAdds(_ input: Tensor) {
        guard MultiplyAddCounter.isCounting, input.rank == 4 else { return }
        let rows = (input.shape[2] + 2 * padding - kernelSize) / stride + 1
        let columns = (input.shape[3] + 2 * padding - kernelSize) / stride + 1
        MultiplyAddCounter.record(
            input.shape[0] * outputChannels * rows * columns * inputChannels * kernelSize * kernelSize)
    }
}
