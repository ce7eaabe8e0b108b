import NN

/// The tutorial's simple CNN: conv 1→32 5×5, ReLU, max-pool 2, linear 4608→128, ReLU — plus the final
/// 128→10 layer (`fc2`) that the tutorial forgot, without which it would output 128 "classes".
public final class SimpleCNN: Module, BuiltInModel {
    public static let modelName = "cnn"
    public static let summary = "the tutorial's simple CNN"
    public static let isTutorialModel = true

    public let conv1: Conv2d
    public let fc1: Linear
    public let fc2: Linear

    public init(generator: inout RandomGenerator) {
        conv1 = Conv2d(1, 32, kernelSize: 5, generator: &generator)
        fc1 = Linear(32 * 12 * 12, 128, generator: &generator)
        fc2 = Linear(128, 10, generator: &generator)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        // conv1, ReLU, max-pool 2: [N, 32, 12, 12], pooled before the ReLU (the same values and gradients; see
        // `Tensor.reluMaxPool2d`) so the convolution and the pooling run as one pass.
        let features = conv1.maxPool2d(input).relu()
        return fc2(fc1(features.flattened()).relu())
    }
}

extension SimpleCNN: LayerChain {
    public var layerChain: [any UnaryLayer] { [conv1, ReLU(), MaxPool2d(2), Flatten(), fc1, ReLU(), fc2] }
}

extension ModelKind {
    /// The tutorial's simple CNN, `SimpleCNN`.
    public static let cnn = ModelKind(SimpleCNN.self)
}
