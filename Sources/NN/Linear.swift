import Preconditions

/// y = x · Wᵀ + b (PyTorch's `nn.Linear`): input [N, inputFeatures] → [N, outputFeatures].
public final class Linear: Module, UnaryLayer {
    /// [outputFeatures, inputFeatures]
    public let weight: Tensor
    /// [outputFeatures], or nil without a bias.
    public let bias: Tensor?

    /// A layer from `inputFeatures` to `outputFeatures` (both positive), with a bias unless `bias` is false.
    /// Initialised from `generator` as PyTorch initialises `nn.Linear`: weight and bias uniform in ±1/√inputFeatures.
    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        checkPrecondition(inputFeatures > 0 && outputFeatures > 0, "Linear needs positive feature counts")
        weight = Initialization.parameter(
            Initialization.kaimingUniform([outputFeatures, inputFeatures], fanIn: inputFeatures, generator: &generator))
        self.bias =
            bias
            ? Initialization.parameter(
                Initialization.biasUniform([outputFeatures], fanIn: inputFeatures, generator: &generator))
            : nil
    }

    /// The size of each input row, `weight.shape[1]`.
    public var inputFeatures: Int { weight.shape[1] }
    /// The size of each output row, `weight.shape[0]`.
    public var outputFeatures: Int { weight.shape[0] }

    /// False when both sides have 512 features or more. Each part of a split batch writes the layer's whole
    /// weight gradient and the parts are then summed, so splitting pays off only where the layer's products
    /// are too small for the matrix kernels to split well themselves: a product with ≥ 512 output rows and
    /// columns splits over the threads as it is. The tutorial's MLP (784 → 784, 615k weights) trained an
    /// epoch about 10% slower split than whole (measured back to back when a switch on the model decided);
    /// the CNN's 4608 → 128 layer, whose products are 128 columns wide, trains split beside its convolution.
    public override var allowsBatchSplitting: Bool { min(inputFeatures, outputFeatures) < 512 }

    /// input [N, inputFeatures] → [N, outputFeatures]; a running `MultiplyAddCounter` counts its multiply–adds.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        MultiplyAddCounter.record(input.count / inputFeatures * inputFeatures * outputFeatures)
        return input.linear(weight: weight, bias: bias)
    }
}
