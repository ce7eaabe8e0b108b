@_exported import Autograd

/// The base of every layer and model, like PyTorch's `nn.Module`: it knows its children and parameters
/// by name, and switches between training and evaluation.
///
/// A subclass declares its layers as stored properties and gets PyTorch's state-dict names for free:
/// `let conv1 = Conv2d(…)` gives parameters `conv1.weight` and `conv1.bias`. Children and parameters are
/// found by reflection (Swift's `Mirror`) over stored properties, in declaration order: a property holding
/// a `Module` is a child, one holding a parameter (a `Tensor` marked `isParameter`, as
/// `Initialization.parameter` marks it, or one that requires a gradient) is a parameter, and an array of
/// modules gives children `name.0`, `name.1`, …. A subclass can override the `namedChildren`,
/// `namedOwnParameters` and `namedOwnBuffers` properties to name things differently. `freeze()` stops
/// parameters from training without removing them from the state dict.
///
/// It is a class rather than a protocol so that the train/eval flag lives in one place instead of being
/// restated by every layer.
open class Module {
    /// True while training (the default); false after `eval()`. Dropout and batch normalisation read it.
    public private(set) var isTraining = true

    /// A module in training mode; its children and parameters are the stored properties a subclass declares.
    public init() {}

    /// Direct children, named as in PyTorch's `named_children()`.
    open var namedChildren: [(name: String, module: Module)] {
        var children: [(name: String, module: Module)] = []
        for (label, value) in storedProperties() {
            if let module = value as? Module {
                children.append((label, module))
            } else if let modules = value as? [Module] {
                for (index, module) in modules.enumerated() { children.append(("\(label).\(index)", module)) }
            }
        }
        return children
    }

    /// Parameters held by this module itself (not its children), such as `weight` and `bias`.
    open var namedOwnParameters: [(name: String, tensor: Tensor)] {
        storedProperties().compactMap { label, value in
            guard let tensor = value as? Tensor, tensor.isParameter || tensor.requiresGrad else { return nil }
            return (label, tensor)
        }
    }

    /// State saved with the parameters but not trained, such as batch normalisation's running statistics.
    open var namedOwnBuffers: [(name: String, tensor: Tensor)] { [] }

    /// How many images inference runs through this model at a time (`predictions(of:for:)`): few enough that
    /// every layer's activations stay in cache, enough that each matrix product pays its setup once for
    /// many images. 64 unless a model says otherwise.
    open var inferenceSliceSize: Int { 64 }

    /// Whether a training step may split a batch into parts, one per thread, each part with its own forward
    /// and backward pass, and sum the parts' gradients (`Learner.gradientStep`). True unless a descendant
    /// says otherwise: a layer answers false when its output for one image depends on the others in the
    /// batch (batch normalisation), when it changes state on every call (dropout's generator), or when
    /// parts cost more than they gain (a large `Linear`); a model may override it too.
    open var allowsBatchSplitting: Bool {
        namedChildren.allSatisfy { $0.module.allowsBatchSplitting }
    }

    /// Every parameter of this module and its descendants, with dotted names (`conv1.weight`), in
    /// PyTorch's order.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        collect { $0.namedOwnParameters }
    }

    /// Every buffer of this module and its descendants, with dotted names.
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        collect { $0.namedOwnBuffers }
    }

    /// Parameters and buffers, named as in PyTorch's `state_dict()`.
    public var stateDict: [(name: String, tensor: Tensor)] {
        collect { $0.namedOwnParameters + $0.namedOwnBuffers }
    }

    /// The tensors of `namedParameters`, in the same order, without their names (PyTorch's `parameters()`).
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The parameters that are not frozen (that require a gradient), with their names: what an optimizer
    /// should be given when part of a model is frozen.
    public var trainableParameters: [(name: String, tensor: Tensor)] {
        namedParameters.filter(\.tensor.requiresGrad)
    }

    /// The number of parameter scalars, frozen ones included (PyTorch's `sum(p.numel() for p in
    /// model.parameters())`).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Stops every parameter of this module and its descendants from training (PyTorch's
    /// `requires_grad_(False)`): they no longer get gradients, so optimizers skip them, but they stay
    /// parameters, in `namedParameters` and in the state dict, saved and loaded as before.
    public func freeze() {
        for parameter in parameters { parameter.requiresGrad = false }
    }

    /// Lets every parameter of this module and its descendants train again.
    public func unfreeze() {
        for parameter in parameters { parameter.requiresGrad = true }
    }

    /// Switches this module and its descendants to training (`true`) or evaluation (`false`) behaviour.
    public func train(_ isTraining: Bool = true) {
        self.isTraining = isTraining
        for (_, child) in namedChildren { child.train(isTraining) }
    }

    /// Switches to evaluation behaviour (PyTorch's `model.eval()`): dropout off, batch normalisation uses
    /// its running statistics. Pair it with `withoutGradients` to record nothing.
    public func eval() { train(false) }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }

    private func collect(_ own: (Module) -> [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
        var result = own(self)
        for (childName, child) in namedChildren {
            result += child.collect(own).map { ("\(childName).\($0.name)", $0.tensor) }
        }
        return result
    }

    /// Stored properties of the dynamic type and its superclasses up to (not including) `Module`, base
    /// class first.
    private func storedProperties() -> [(label: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror, current.subjectType != Module.self {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        return mirrors.reversed().flatMap { mirror in
            mirror.children.compactMap { child in child.label.map { ($0, child.value) } }
        }
    }
}

/// A module that maps one tensor to one tensor, so it can stand in a `Sequential`.
public protocol UnaryLayer: Module {
    /// The layer's output for `input`.
    func callAsFunction(_ input: Tensor) -> Tensor
}
