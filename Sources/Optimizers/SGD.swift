import Kernels
import Preconditions

/// Stochastic gradient descent (PyTorch's `torch.optim.SGD`) with optional momentum, dampening, Nesterov
/// momentum and weight decay. The momentum buffer starts as the first gradient, as in PyTorch.
public final class SGD: Optimizer {
    /// The parameters being optimised, with their state-dict names.
    public let parameters: [(name: String, tensor: Tensor)]
    /// The learning rate; a schedule may change it between steps.
    public var learningRate: Float
    /// The momentum factor μ; 0 keeps no momentum buffer.
    public let momentum: Float
    /// The share of each gradient the momentum buffer leaves out: b ← μ · b + (1 − dampening) · g.
    public let dampening: Float
    /// Whether the step follows g + μ · b (Nesterov momentum) instead of b.
    public let nesterov: Bool
    /// The L2 penalty: weightDecay · p is added to the gradient.
    public let weightDecay: Float
    /// Each parameter's `momentum_buffer` slot (none when momentum is 0) and step count.
    public let state: OptimizerState

    /// SGD over `parameters` at `learningRate`, by default with PyTorch's other defaults: no momentum, dampening,
    /// Nesterov momentum or weight decay. What PyTorch refuses stops the program: a negative rate, momentum or weight
    /// decay, Nesterov momentum without momentum > 0 and no dampening.
    public init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float, momentum: Float = 0,
        dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) {
        // PyTorch's checks, in its words.
        checkPrecondition(learningRate >= 0, "Invalid learning rate: \(learningRate)")
        checkPrecondition(momentum >= 0, "Invalid momentum value: \(momentum)")
        checkPrecondition(weightDecay >= 0, "Invalid weight_decay value: \(weightDecay)")
        checkPrecondition(
            !nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        state = OptimizerState(parameters: parameters, slotNames: momentum == 0 ? [] : ["momentum_buffer"])
    }

    /// One SGD step of parameter `index` in place: p ← p − lr · g, g the gradient plus weight decay, through the
    /// momentum buffer when there is one (which starts as g at `step` 1, as in PyTorch).
    public func update(
        index: Int, step: Int, parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) {
        guard parameter.count > 0 else { return }
        func run(_ momentumBuffer: UnsafeMutablePointer<Float>?) {
            ParameterUpdate.sgd(
                parameter: parameter.baseAddress!, gradient: gradient.baseAddress!, momentumBuffer: momentumBuffer,
                count: parameter.count, learningRate: learningRate, momentum: momentum, dampening: dampening,
                nesterov: nesterov, weightDecay: weightDecay, firstStep: step == 1)
        }
        guard momentum != 0 else { return run(nil) }
        state.slot("momentum_buffer", index).data.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
    }
}
