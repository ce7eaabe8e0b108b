/// Stochastic gradient descent (PyTorch's `torch.optim.SGD`) with optional momentum, dampening, Nesterov
/// momentum and weight decay. The momentum buffer starts as the first gradient, as in PyTorch.
public final class SGD: Optimizer {
    public let parameters: [(name: String, tensor: Tensor)]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let state: OptimizerState

    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float, momentum: Float = 0,
        dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        state = OptimizerState(parameters: parameters, slotNames: momentum == 0 ? [] : ["momentum_buffer"])
    }

    public func update(index: Int, step: Int, parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>) {
        let (momentum, dampening, nesterov, weightDecay, learningRate) = (momentum, dampening, nesterov, weightDecay, learningRate)
        guard momentum != 0 else {
            for element in 0..<parameter.count {
                parameter[element] -= learningRate * (gradient[element] + weightDecay * parameter[element])
            }
            return
        }
        state.slot("momentum_buffer", index).data.withUnsafeMutableBufferPointer { buffer in
            for element in 0..<parameter.count {
                var g = gradient[element] + weightDecay * parameter[element]
                buffer[element] = step == 1 ? g : momentum * buffer[element] + (1 - dampening) * g
                g = nesterov ? g + momentum * buffer[element] : buffer[element]
                parameter[element] -= learningRate * g
            }
        }
    }
}
