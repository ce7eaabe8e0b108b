@_exported import Datasets
@_exported import Optimizers
@_exported import Training

/// A model the `mnist` tool knows by name: a class in a file of its own in this folder, listed once in
/// `ModelKind.registry`. Everything else about it is read off the model itself: its layers, its data-parallel
/// splitting (`Module.allowsBatchSplitting`), its cost (`ModelKind.multiplyAddsPerImage`).
public protocol BuiltInModel: UnaryLayer {
    /// The model's name on the command line, in weights files' metadata and in checkpoints (`lenet5`).
    static var modelName: String { get }
    /// What it is, in a few words (`a VGG-style network with batch normalisation`), for `mnist train --help`,
    /// which lists the tutorial's models together as "the tutorial's".
    static var summary: String { get }
    /// Whether it is one of the PyTorch tutorial's three models, which `mnist bench` compares with PyTorch.
    static var isTutorialModel: Bool { get }
    /// A freshly initialised model (PyTorch's default initialisation), its weights drawn from `generator`.
    init(generator: inout RandomGenerator)
}

extension BuiltInModel {
    /// False: a model is one of the tutorial's only where it says so.
    public static var isTutorialModel: Bool { false }
}

/// The models the `mnist` tool knows, by the names used on the command line and in weights files' and
/// checkpoints' metadata (`mlp`, `cnn`, `lenet5`, `vgg`, `fast`, `plain`), in the order `--help` lists them.
public struct ModelKind: RawRepresentable, CaseIterable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The registry: every built-in model, in the order `--help` lists them. Adding a model is one line here.
    static var registry: [any BuiltInModel.Type] {
        [
            Baseline.self, SimpleCNN.self, LeNet5.self, VGGStyleCNN.self, FastCNN.self, PlainCNN.self,
        ]
    }

    /// Every built-in model, in the registry's order (the order `--help` lists them).
    public static let allCases = registry.map { ModelKind($0) }

    /// The tutorial's three models, which `mnist bench` compares with PyTorch.
    public static var tutorialModels: [ModelKind] { allCases.filter { $0.type.isTutorialModel } }

    /// The model's name (`lenet5`).
    public let rawValue: String

    /// The built-in model named `rawValue`, or nil if none is.
    public init?(rawValue: String) {
        guard Self.registry.contains(where: { $0.modelName == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// The kind of a registered model (a model's file declares its constant with it: `ModelKind.lenet5`, say).
    init(_ type: any BuiltInModel.Type) {
        rawValue = type.modelName
    }

    /// The model's class. Every `ModelKind` names a model of the registry: `init?(rawValue:)` looks there, and
    /// `init(_:)` is given the registry's types only.
    private var type: any BuiltInModel.Type {
        guard let type = Self.registry.first(where: { $0.modelName == rawValue }) else {
            fatalError("\(rawValue) is not in ModelKind.registry")
        }
        return type
    }

    /// The model's name (`lenet5`), as `rawValue`.
    public var description: String { rawValue }

    /// A freshly initialised model of this kind (PyTorch's default initialisation).
    public func makeModel(generator: inout RandomGenerator) -> any UnaryLayer {
        type.init(generator: &generator)
    }

    /// Decodes the model's name, as a string, and refuses a name no model has.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = ModelKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown model '\(name)' (expected one of \(Self.names))")
        }
        self = kind
    }

    /// Encodes the model's name as a string (as the enum this type once was did, so checkpoints still read).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Every model's name, separated by commas: `mlp, cnn, lenet5, vgg, fast, plain` today.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The models for `--help`, the tutorial's first, then each other one with its summary: `mlp, cnn or lenet5 (the
    /// tutorial's), or vgg (a VGG-style network with batch normalisation), or …`.
    public static var helpList: String {
        let tutorial = allCases.filter { $0.type.isTutorialModel }.map(\.rawValue)
        let others = allCases.filter { !$0.type.isTutorialModel }.map { "\($0.rawValue) (\($0.type.summary))" }
        let tutorialList =
            tutorial.count > 1 ? tutorial.dropLast().joined(separator: ", ") + " or " + tutorial.last! : tutorial.first
        return ((tutorialList.map { ["\($0) (the tutorial's)"] } ?? []) + others).joined(separator: ", or ")
    }

    /// Multiply–adds of each layer with weights on one image [1, 1, 28, 28], in the order the forward pass
    /// (in evaluation mode) runs them, counted by `MultiplyAddCounter` on a freshly built model.
    public var multiplyAddsPerImage: [Int] {
        var generator = RandomGenerator(seed: 0)
        let model = makeModel(generator: &generator)
        model.eval()
        let image = Tensor.zeros([1] + ONNXExport.imageShape)
        return MultiplyAddCounter.counting { _ = withoutGradients { model(image) } }
    }

    /// Forward floating-point operations per image (a multiply–add counts two), for throughput figures.
    public var forwardFlopsPerImage: Int { 2 * multiplyAddsPerImage.reduce(0, +) }

    /// Floating-point operations to train on one image: the forward pass, then the backward pass's two
    /// products per layer (weight and input gradients) — except the first layer's input gradient, which
    /// nothing needs and the engine skips.
    public var trainingFlopsPerImage: Int {
        let multiplyAdds = multiplyAddsPerImage
        return 3 * 2 * multiplyAdds.reduce(0, +) - 2 * multiplyAdds[0]
    }
}
