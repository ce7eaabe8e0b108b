/// Mean cross-entropy between logits [N, C] and class labels (PyTorch's `nn.CrossEntropyLoss()`),
/// fused with a stable log-softmax.
public struct CrossEntropyLoss {
    /// ε in 0…1: the target is (1 − ε) on the label and ε / C on every class (PyTorch's
    /// `label_smoothing`; 0, the default, is plain cross-entropy).
    public var labelSmoothing: Float

    /// Cross-entropy with label smoothing ε = `labelSmoothing` (0, the default, for none). An ε outside 0…1 stops the
    /// program when the loss is computed.
    public init(labelSmoothing: Float = 0) {
        self.labelSmoothing = labelSmoothing
    }

    /// The mean loss of logits [N, C] against `labels` (N of them, each in 0..<C) → a scalar [].
    public func callAsFunction(_ logits: Tensor, _ labels: [Int32]) -> Tensor {
        logits.crossEntropy(labels: labels, labelSmoothing: labelSmoothing)
    }
}

/// Mean negative log-likelihood of log-probabilities [N, C] (PyTorch's `nn.NLLLoss()`).
public struct NLLLoss {
    /// The negative log-likelihood loss; it has no settings.
    public init() {}

    /// The mean of −logProbabilities[n, labels[n]] over the rows: [N, C] and N labels, each in 0..<C → a scalar [].
    public func callAsFunction(_ logProbabilities: Tensor, _ labels: [Int32]) -> Tensor {
        logProbabilities.nllLoss(labels: labels)
    }
}
