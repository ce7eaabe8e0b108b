import Preconditions

/// 2-D convolution (PyTorch's `nn.Conv2d`): input [N, inputChannels, H, W] →
/// [N, outputChannels, (H + 2·padding − kernelSize) / stride + 1, (W + 2·padding − kernelSize) / stride + 1].
public final class Conv2d: Module, UnaryLayer {
    /// [outputChannels, inputChannels, kernelSize, kernelSize]
    public let weight: Tensor
    /// [outputChannels], or nil without a bias.
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

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

    public var inputChannels: Int { weight.shape[1] }
    public var outputChannels: Int { weight.shape[0] }
    public var kernelSize: Int { weight.shape[2] }

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
