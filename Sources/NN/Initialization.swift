/// PyTorch's default initialisation for `Linear` and `Conv2d`: weights from kaiming-uniform with a = √5,
/// which works out to U(−1/√fanIn, 1/√fanIn), and biases from U(−1/√fanIn, 1/√fanIn).
public enum Initialization {
    /// kaiming_uniform_(a: √5): bound = gain · √(3 / fanIn) with gain = √(2 / (1 + a²)) = √(1/3).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, generator: inout RandomGenerator) -> Tensor {
        let gain = (2 / (1 + Float(5))).squareRoot()
        let bound = gain * (3 / Float(fanIn)).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// U(−1/√fanIn, 1/√fanIn), PyTorch's default for biases.
    public static func biasUniform(_ shape: [Int], fanIn: Int, generator: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, generator: &generator)
    }

    /// Marks a freshly made tensor as a parameter that requires a gradient.
    public static func parameter(_ tensor: Tensor) -> Tensor {
        tensor.isParameter = true
        tensor.requiresGrad = true
        return tensor
    }
}
