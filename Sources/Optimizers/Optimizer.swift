import Foundation
@_exported import NN

/// An optimizer updates parameters in place from their gradients, with PyTorch's semantics.
///
/// A conforming type writes only its per-parameter update; `step()` and `zeroGrad()` are shared.
/// Per-parameter state (moments, momentum buffers, step counts) lives in `state`, which a checkpoint
/// saves and restores by name.
public protocol Optimizer: AnyObject {
    /// The parameters being optimised, with their state-dict names.
    var parameters: [(name: String, tensor: Tensor)] { get }
    /// The learning rate the next step uses; a schedule may change it between steps.
    var learningRate: Float { get set }
    /// The per-parameter state, which a checkpoint saves and restores by name.
    var state: OptimizerState { get }
    /// Updates parameter `index` in place from its gradient; `step` counts this parameter's updates,
    /// starting at 1.
    func update(
        index: Int, step: Int, parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>)
}

extension Optimizer {
    /// Applies one update to every parameter that has a gradient (PyTorch's `optimizer.step()`);
    /// parameters without one are skipped, and their step count does not advance.
    public func step() {
        for (index, (_, parameter)) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            state.steps[index] += 1
            let step = state.steps[index]
            gradient.data.withUnsafeBufferPointer { gradientBuffer in
                parameter.data.withUnsafeMutableBufferPointer { parameterBuffer in
                    update(index: index, step: step, parameter: parameterBuffer, gradient: gradientBuffer)
                }
            }
        }
    }

    /// Clears every parameter's gradient (PyTorch's `optimizer.zero_grad()`).
    public func zeroGrad() {
        for (_, parameter) in parameters { parameter.zeroGrad() }
    }
}

/// Per-parameter optimizer state: named slots of one buffer per parameter (Adam's `exp_avg`, say) and
/// each parameter's step count. Saved as tensors named `<parameter>.<slot>` and `<parameter>.step`.
public final class OptimizerState {
    /// The parameters' state-dict names, in the optimizer's order: the prefixes of the saved tensors' names.
    public let parameterNames: [String]
    /// The parameters' shapes, in the same order; each slot buffer has its parameter's shape.
    public let parameterShapes: [[Int]]
    /// Slot name → one buffer per parameter, each the parameter's shape.
    private var slots: [String: [Tensor]]
    /// Updates applied to each parameter.
    public var steps: [Int]

    /// State for `parameters`: every step count 0, and one zeroed buffer per parameter (of its shape) in each slot
    /// of `slotNames`.
    public init(parameters: [(name: String, tensor: Tensor)], slotNames: [String]) {
        parameterNames = parameters.map(\.name)
        parameterShapes = parameters.map(\.tensor.shape)
        steps = Array(repeating: 0, count: parameters.count)
        slots = Dictionary(
            uniqueKeysWithValues: slotNames.map { slot in
                (slot, parameters.map { Tensor.zeros($0.tensor.shape) })
            })
    }

    /// Slot `name` (as given at init) of parameter `index`.
    public func slot(_ name: String, _ index: Int) -> Tensor {
        guard let buffers = slots[name] else { fatalError("no optimizer slot named \(name)") }
        return buffers[index]
    }

    /// The state as named tensors, for a checkpoint.
    public var namedTensors: [(name: String, tensor: Tensor)] {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (index, name) in parameterNames.enumerated() {
            tensors.append(("\(name).step", Tensor(Float(steps[index]))))
            for slot in slots.keys.sorted() {
                tensors.append(("\(name).\(slot)", slots[slot]![index].detached()))
            }
        }
        return tensors
    }

    /// Restores state saved by `namedTensors`. Every expected tensor must be there with the right shape.
    public func load(_ tensors: [String: Tensor]) throws {
        var newSteps = steps
        var newSlotData: [(Tensor, [Float])] = []
        for (index, name) in parameterNames.enumerated() {
            // `Int(exactly:)`: nil for a fraction, infinity, NaN or a value past `Int.max`, each of which a damaged
            // checkpoint may hold and `Int(_:)` would stop the program on.
            guard let step = tensors["\(name).step"], step.count == 1, let count = Int(exactly: step.scalar), count >= 0
            else {
                throw OptimizerStateError.missing("\(name).step")
            }
            newSteps[index] = count
            for slot in slots.keys {
                let key = "\(name).\(slot)"
                guard let tensor = tensors[key] else { throw OptimizerStateError.missing(key) }
                guard tensor.shape == parameterShapes[index] else {
                    throw OptimizerStateError.shapeMismatch(key, expected: parameterShapes[index], found: tensor.shape)
                }
                newSlotData.append((slots[slot]![index], tensor.data))
            }
        }
        // Only now that everything checked out: a failed load leaves the state as it was.
        steps = newSteps
        for (slotTensor, data) in newSlotData { slotTensor.data = data }
    }
}

/// Why `OptimizerState.load(_:)` refused saved state; the state is left as it was.
public enum OptimizerStateError: Error, CustomStringConvertible, Equatable {
    /// The tensor named is absent, or (for a `.step`) is not a whole number ≥ 0.
    case missing(String)
    /// The tensor named has shape `found` instead of its parameter's shape `expected`.
    case shapeMismatch(String, expected: [Int], found: [Int])

    /// The tensor's name and what is wrong with it.
    public var description: String {
        switch self {
        case .missing(let name): "optimizer state '\(name)' is missing or malformed"
        case .shapeMismatch(let name, let expected, let found):
            "optimizer state '\(name)' has shape \(found), expected \(expected)"
        }
    }
}
