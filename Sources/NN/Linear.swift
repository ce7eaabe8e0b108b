/// y = x · Wᵀ + b (PyTorch's `nn.Linear`): input [N, inputFeatures] → [N, outputFeatures].
public final class Linear: Module, UnaryLayer {
    /// [outputFeatures, inputFeatures]
    public let weight: Tensor
    /// [outputFeatures], or nil without a bias.
    public let bias: Tensor?

    public init(_ inputFeatures: Int, _ outputFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        precondition(inputFeatures > 0 && outputFeatures > 0, "Linear needs positive feature counts")
        weight = Initialization.parameter(
            Initialization.kaimingUniform([outputFeatures, inputFeatures], fanIn: inputFeatures, generator: &generator))
        self.bias =
            bias
            ? Initialization.parameter(
                Initialization.biasUniform([outputFeatures], fanIn: inputFeatures, generator: &generator))
            : nil
    }

    public var inputFeatures: Int { weight.shape[1] }
    public var outputFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.linear(weight: weight, bias: bias)
    }
}
