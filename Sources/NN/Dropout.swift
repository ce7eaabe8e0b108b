import Preconditions

/// Zeroes each element with probability `probability` while training and scales the rest by
/// 1 / (1 − probability) (PyTorch's `nn.Dropout`); the identity in evaluation mode.
public final class Dropout: Module, UnaryLayer {
    /// The chance that an element is zeroed while training, in [0, 1).
    public let probability: Float
    /// The layer's own generator, seeded from the caller's at construction, so `callAsFunction` keeps
    /// PyTorch's one-argument form while runs stay reproducible.
    public var generator: RandomGenerator

    /// Dropout with `probability` in [0, 1) (0.5 by default, as in PyTorch; anything else stops the program), its own
    /// generator seeded with one draw from `generator`.
    public init(probability: Float = 0.5, generator: inout RandomGenerator) {
        checkPrecondition(
            probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = RandomGenerator(seed: generator.next())
    }

    /// False: every call draws from the layer's one generator, so parts on several threads would race for
    /// it and draw in whatever order they ran.
    public override var allowsBatchSplitting: Bool { false }

    /// In training, `input` with each element zeroed with `probability` and the rest scaled by 1 / (1 − probability);
    /// in evaluation, `input` itself. Any shape → the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTraining else { return input }
        return input.dropout(probability: probability, generator: &generator)
    }
}
