/// Mean cross-entropy between logits [N, C] and class labels (PyTorch's `nn.CrossEntropyLoss()`),
/// fused with a stable log-softmax.
public struct CrossEntropyLoss {
    public init() {}

    public func callAsFunction(_ logits: Tensor, _ labels: [Int32]) -> Tensor {
        logits.crossEntropy(labels: labels)
    }
}

/// Mean negative log-likelihood of log-probabilities [N, C] (PyTorch's `nn.NLLLoss()`).
public struct NLLLoss {
    public init() {}

    public func callAsFunction(_ logProbabilities: Tensor, _ labels: [Int32]) -> Tensor {
        logProbabilities.nllLoss(labels: labels)
    }
}
