import Preconditions

/// How a tensor was computed: its inputs and the pullback that maps the gradient of the result to a
/// gradient for each input (nil for an input that needs none).
public final class GradientNode {
    /// A short name of the operation, for error messages and debugging.
    public let operation: String
    /// The tensors the operation read, in the order of the gradients `pullback` returns.
    public let inputs: [Tensor]
    /// Maps the output's gradient (same element count as the output) to one gradient per input.
    public let pullback: ([Float]) -> [[Float]?]

    /// A node for `operation` on `inputs`, whose `pullback` maps the output's gradient to one gradient per input (nil
    /// for an input that needs none).
    public init(operation: String, inputs: [Tensor], pullback: @escaping ([Float]) -> [[Float]?]) {
        self.operation = operation
        self.inputs = inputs
        self.pullback = pullback
    }
}

/// Whether operations record their pullbacks. Off inside `withoutGradients` (PyTorch's `torch.no_grad()`),
/// which evaluation uses so nothing is kept for a backward pass that will never run. Like PyTorch's grad
/// mode it is local to the current task or thread, so concurrent work does not switch it for others.
public enum GradientMode {
    @TaskLocal static var enabled = true

    /// Whether operations record their pullbacks here and now: true unless inside `withoutGradients`.
    public static var isEnabled: Bool { enabled }

    /// Runs `body` with recording off, restoring the previous mode afterwards.
    public static func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $enabled.withValue(false, operation: body)
    }
}

/// Runs `body` without recording operations (PyTorch's `with torch.no_grad():`).
public func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
    try GradientMode.withoutGradients(body)
}

extension Tensor {
    /// Makes the result of an operation: records `pullback` when gradients are on and any input needs one.
    /// Every differentiable operation goes through here, its pullback written right beside its forward.
    @usableFromInline
    static func result(
        shape: [Int], data: [Float], operation: String, inputs: [Tensor],
        pullback: @escaping ([Float]) -> [[Float]?]
    ) -> Tensor {
        let output = Tensor(shape: shape, data: data)
        if GradientMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            output.requiresGrad = true
            output.gradientNode = GradientNode(operation: operation, inputs: inputs, pullback: pullback)
        }
        return output
    }

    /// Computes the gradient of this scalar with respect to every leaf tensor that requires one and adds it
    /// to that leaf's `grad` (PyTorch's `loss.backward()`). The recorded graph is released afterwards.
    public func backward() {
        checkPrecondition(count == 1, "backward() needs a scalar (one element), shape is \(shape)")
        backward(seed: [1])
    }

    /// Backpropagates `seed` (the gradient of some scalar with respect to this tensor, same element count).
    public func backward(seed: [Float]) {
        propagate(seed: seed) { leaf, gradient in leaf.accumulateGradient(gradient) }
    }

    /// The gradients of `seed` (as in `backward(seed:)`) with respect to `tensors`, returned instead of
    /// accumulated into their `grad`: one array per tensor, each its element count, nil for a tensor the
    /// result does not depend on. Only leaves (parameters) can be asked for. Nothing shared is written, so
    /// separate graphs over the same parameters (a batch's parts, one per thread) can run at once.
    public func gradients(withRespectTo tensors: [Tensor], seed: [Float]) -> [[Float]?] {
        let wanted = Dictionary(tensors.enumerated().map { (ObjectIdentifier($0.element), $0.offset) }) { first, _ in
            first
        }
        var results = [[Float]?](repeating: nil, count: tensors.count)
        propagate(seed: seed) { leaf, gradient in
            guard let index = wanted[ObjectIdentifier(leaf)] else { return }
            if results[index] == nil {
                results[index] = gradient
            } else {
                addInPlace(&results[index]!, gradient)
            }
        }
        // The same tensor listed twice gets its gradient twice.
        for (index, tensor) in tensors.enumerated() where results[index] == nil {
            results[index] = wanted[ObjectIdentifier(tensor)].flatMap { results[$0] }
        }
        return results
    }

    /// Runs the recorded pullbacks from this tensor back to the leaves and hands each leaf's gradient to
    /// `deliver`; the recorded graph is released on the way.
    private func propagate(seed: [Float], deliver: (Tensor, [Float]) -> Void) {
        checkPrecondition(seed.count == count, "seed has \(seed.count) elements, tensor has \(count)")
        guard requiresGrad else { return }
        let order = topologicalOrder()
        var gradients: [ObjectIdentifier: [Float]] = [ObjectIdentifier(self): seed]
        for tensor in order.reversed() {
            guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
            guard let node = tensor.gradientNode else {
                deliver(tensor, gradient)
                continue
            }
            let inputGradients = node.pullback(gradient)
            for (input, inputGradient) in zip(node.inputs, inputGradients) {
                guard input.requiresGrad, let inputGradient else { continue }
                let key = ObjectIdentifier(input)
                if var existing = gradients.removeValue(forKey: key) {
                    addInPlace(&existing, inputGradient)
                    gradients[key] = existing
                } else {
                    gradients[key] = inputGradient
                }
            }
            tensor.gradientNode = nil
        }
    }

    /// Tensors reachable from this one through recorded nodes, every input before the tensors computed
    /// from it. Iterative, so deep graphs cannot overflow the stack.
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited: Set<ObjectIdentifier> = []
        var stack: [(tensor: Tensor, inputsPushed: Bool)] = [(self, false)]
        while let (tensor, inputsPushed) = stack.popLast() {
            if inputsPushed {
                order.append(tensor)
                continue
            }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.gradientNode?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }
        return order
    }

    private func accumulateGradient(_ gradient: [Float]) {
        if let grad {
            addInPlace(&grad.data, gradient)
        } else {
            grad = Tensor(shape: shape, data: gradient)
        }
    }
}

/// `accumulator += addend`, elementwise.
@inlinable
func addInPlace(_ accumulator: inout [Float], _ addend: [Float]) {
    checkPrecondition(
        accumulator.count == addend.count, "gradient sizes differ: \(accumulator.count) vs \(addend.count)")
    accumulator.withUnsafeMutableBufferPointer { target in
        addend.withUnsafeBufferPointer { source in
            for index in 0..<target.count { target[index] += source[index] }
        }
    }
}
