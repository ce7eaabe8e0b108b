import Foundation
import Kernels
import Preconditions

/// Adam with bias correction (PyTorch's `torch.optim.Adam`, defaults lr 0.001, betas (0.9, 0.999),
/// eps 1e-8). `weightDecay` adds `weightDecay · p` to the gradient (L2), as PyTorch's Adam does.
public final class Adam: Optimizer {
    /// The parameters being optimised, with their state-dict names.
    public let parameters: [(name: String, tensor: Tensor)]
    /// The learning rate; a schedule may change it between steps.
    public var learningRate: Float
    /// β1, the decay rate of the gradient's running mean (`exp_avg`).
    public let beta1: Float
    /// β2, the decay rate of the squared gradient's running mean (`exp_avg_sq`).
    public let beta2: Float
    /// ε, added to the bias-corrected √v in the denominator, for numerical stability.
    public let epsilon: Float
    /// The weight decay: Adam adds weightDecay · p to the gradient, AdamW multiplies p by 1 − lr · weightDecay first.
    public let weightDecay: Float
    /// Each parameter's `exp_avg` and `exp_avg_sq` slots (the moments, starting at 0) and step count.
    public let state: OptimizerState
    /// AdamW decouples weight decay from the gradient instead.
    let decoupledWeightDecay: Bool

    /// Adam over `parameters` (`model.namedParameters`, say), by default with PyTorch's lr 0.001, betas (0.9, 0.999),
    /// eps 1e-8 and no weight decay. What PyTorch refuses stops the program: a negative rate, ε or weight decay,
    /// a β outside [0, 1).
    public convenience init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float = 0.001, beta1: Float = 0.9,
        beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.init(
            parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, decoupledWeightDecay: false)
    }

    init(
        parameters: [(name: String, tensor: Tensor)], learningRate: Float, beta1: Float, beta2: Float,
        epsilon: Float, weightDecay: Float, decoupledWeightDecay: Bool
    ) {
        // PyTorch's checks, in its words.
        checkPrecondition(learningRate >= 0, "Invalid learning rate: \(learningRate)")
        checkPrecondition(epsilon >= 0, "Invalid epsilon value: \(epsilon)")
        checkPrecondition(beta1 >= 0 && beta1 < 1, "Invalid beta parameter at index 0: \(beta1)")
        checkPrecondition(beta2 >= 0 && beta2 < 1, "Invalid beta parameter at index 1: \(beta2)")
        checkPrecondition(weightDecay >= 0, "Invalid weight_decay value: \(weightDecay)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        state = OptimizerState(parameters: parameters, slotNames: ["exp_avg", "exp_avg_sq"])
    }

    /// One Adam step of parameter `index` in place: the moments updated from `gradient` (plus the weight decay), then
    /// p ← p − lr · m̂ / (√v̂ + ε), m̂ and v̂ bias-corrected for `step` (from 1).
    public func update(
        index: Int, step: Int, parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>
    ) {
        guard parameter.count > 0 else { return }
        // PyTorch: step_size = lr / (1 − β1ᵗ); denominator = √v / √(1 − β2ᵗ) + ε; the corrections in
        // double precision, as PyTorch computes them on Python floats.
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), Double(step))))
        let secondCorrection = Float((1 - pow(Double(beta2), Double(step))).squareRoot())
        state.slot("exp_avg", index).data.withUnsafeMutableBufferPointer { firstMoment in
            state.slot("exp_avg_sq", index).data.withUnsafeMutableBufferPointer { secondMoment in
                ParameterUpdate.adam(
                    parameter: parameter.baseAddress!, gradient: gradient.baseAddress!,
                    firstMoment: firstMoment.baseAddress!, secondMoment: secondMoment.baseAddress!,
                    count: parameter.count,
                    learningRate: learningRate, stepSize: stepSize, beta1: beta1, beta2: beta2, epsilon: epsilon,
                    secondCorrection: secondCorrection, weightDecay: weightDecay,
                    decoupledWeightDecay: decoupledWeightDecay)
            }
        }
    }
}

/// AdamW (PyTorch's `torch.optim.AdamW`): Adam whose weight decay shrinks the weights directly,
/// p ← p · (1 − lr · weightDecay), instead of adding to the gradient. PyTorch's default weight decay 0.01.
// swift-format-ignore: AlwaysUseLowerCamelCase
// Named as PyTorch names it, `torch.optim.AdamW`.
public func AdamW(
    parameters: [(name: String, tensor: Tensor)], learningRate: Float = 0.001, beta1: Float = 0.9,
    beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
) -> Adam {
    Adam(
        parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
        weightDecay: weightDecay, decoupledWeightDecay: true)
}
