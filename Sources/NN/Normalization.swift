import Preconditions

/// Batch normalisation over channel dimension 1 (PyTorch's `nn.BatchNorm1d` for [N, C] and
/// `nn.BatchNorm2d` for [N, C, H, W]). Training normalises with the batch's statistics and updates the
/// running ones (momentum 0.1, unbiased variance); evaluation uses the running statistics.
public class BatchNorm: Module, UnaryLayer {
    /// γ, [C], initialised to 1.
    public let weight: Tensor
    /// β, [C], initialised to 0.
    public let bias: Tensor
    /// [C], initialised to 0.
    public let runningMean: Tensor
    /// [C], initialised to 1.
    public let runningVariance: Tensor
    /// How many training batches updated the running statistics (PyTorch's `num_batches_tracked`).
    public let batchesTracked: Tensor
    /// Added to the variance before its square root, for numerical stability (PyTorch's `eps`).
    public let epsilon: Float
    /// The weight of each training batch's statistics in the running ones: running ← (1 − momentum) · running +
    /// momentum · batch.
    public let momentum: Float
    private let expectedRank: Int

    init(features: Int, epsilon: Float, momentum: Float, expectedRank: Int) {
        checkPrecondition(features > 0, "BatchNorm needs a positive feature count")
        weight = Initialization.parameter(Tensor.ones([features]))
        bias = Initialization.parameter(Tensor.zeros([features]))
        runningMean = Tensor.zeros([features])
        runningVariance = Tensor.ones([features])
        batchesTracked = Tensor.zeros([])
        self.epsilon = epsilon
        self.momentum = momentum
        self.expectedRank = expectedRank
    }

    /// The running statistics and the batch count, under PyTorch's state-dict names `running_mean`, `running_var` and
    /// `num_batches_tracked`.
    public override var namedOwnBuffers: [(name: String, tensor: Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVariance), ("num_batches_tracked", batchesTracked)]
    }

    /// False: it must see the whole batch (its statistics are the batch's), and its running statistics take
    /// one update per batch, not one per part.
    public override var allowsBatchSplitting: Bool { false }

    /// input [N, C] (`BatchNorm1d`) or [N, C, H, W] (`BatchNorm2d`) → the same shape, each channel normalised, scaled
    /// by γ and shifted by β; training also updates the running statistics. Another rank stops the program.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        checkPrecondition(
            input.rank == expectedRank, "\(type(of: self)) needs rank-\(expectedRank) input, got \(input.shape)")
        guard isTraining else {
            return input.batchNormalized(
                scale: weight, shift: bias, mean: runningMean.data, variance: runningVariance.data, epsilon: epsilon)
        }
        let (output, mean, variance) = input.batchNormalized(scale: weight, shift: bias, epsilon: epsilon)
        let elementsPerChannel = Float(input.count / input.shape[1])
        let unbiasing = elementsPerChannel / Swift.max(elementsPerChannel - 1, 1)
        for channel in 0..<mean.count {
            runningMean.data[channel] = (1 - momentum) * runningMean.data[channel] + momentum * mean[channel]
            runningVariance.data[channel] =
                (1 - momentum) * runningVariance.data[channel] + momentum * variance[channel] * unbiasing
        }
        batchesTracked.data[0] += 1
        return output
    }
}

/// Batch normalisation for [N, C] (PyTorch's `nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
    /// Batch normalisation of `features` channels (positive), with ε 1e-5 and momentum 0.1 by default, as in PyTorch.
    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, epsilon: epsilon, momentum: momentum, expectedRank: 2)
    }
}

/// Batch normalisation for [N, C, H, W] (PyTorch's `nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
    /// Batch normalisation of `features` channels (positive), with ε 1e-5 and momentum 0.1 by default, as in PyTorch.
    public init(_ features: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, epsilon: epsilon, momentum: momentum, expectedRank: 4)
    }
}
