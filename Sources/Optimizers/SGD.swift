import Kernels
import Preconditions

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
