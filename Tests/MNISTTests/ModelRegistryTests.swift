import Foundation
import Testing
@testable import MNIST

/// The built-in models as a registry: names, help, Codable names, splitting and costs read off the models.
@Suite struct ModelRegistryTests {
    /// The hand-written table these figures replaced (multiply–adds of each layer with weights, in order):
    /// `mnist bench`'s throughput figures must not change.
    static let handWrittenMultiplyAdds: [String: [Int]] = [
        "mlp": [784 * 784, 784 * 10],
        "cnn": [24 * 24 * 32 * 25, 4608 * 128, 128 * 10],
        "lenet5": [28 * 28 * 6 * 25, 10 * 10 * 16 * 150, 120 * 400, 120 * 84, 84 * 10],
        "vgg": [26 * 26 * 32 * 9, 24 * 24 * 32 * 288, 10 * 10 * 64 * 288, 8 * 8 * 64 * 576, 1024 * 256, 256 * 10],
    ]

    @Test(arguments: ["mlp", "cnn", "lenet5", "vgg"])
    func countedCostsAreTheHandWrittenTable(name: String) throws {
        let kind = try #require(ModelKind(rawValue: name))
        let table = try #require(Self.handWrittenMultiplyAdds[name])
        #expect(kind.multiplyAddsPerImage == table)
        #expect(kind.forwardFlopsPerImage == 2 * table.reduce(0, +))
        #expect(kind.trainingFlopsPerImage == 3 * 2 * table.reduce(0, +) - 2 * table[0])
    }

    @Test func namesHelpAndOrder() {
        #expect(ModelKind.allCases.map(\.rawValue).prefix(4) == ["mlp", "cnn", "lenet5", "vgg"])
        #expect(ModelKind.tutorialModels == [.mlp, .cnn, .lenet5])
        #expect(ModelKind(rawValue: "resnet") == nil)
        #expect(ModelKind(rawValue: "lenet5") == .lenet5)
        #expect(
            ModelKind.helpList.hasPrefix(
                "mlp, cnn or lenet5 (the tutorial's), or vgg (a VGG-style network with batch normalisation)"))
        #expect(ModelKind.names.hasPrefix("mlp, cnn, lenet5, vgg"))
        #expect(ModelKind(rawValue: "plain") == .plain)
        #expect(
            ModelKind.helpList.contains(
                "or plain (five 5×5 convolutions without pooling, after An et al.'s M5 at half its width)"))
        for kind in ModelKind.allCases {
            var generator = RandomGenerator(seed: 0)
            #expect(type(of: kind.makeModel(generator: &generator)) is any BuiltInModel.Type)
        }
    }

    /// Names encode as the JSON strings the enum wrote, so existing checkpoints' configurations still decode;
    /// an unknown name is an error naming it.
    @Test func codableAsBefore() throws {
        let encoded = try JSONEncoder().encode([ModelKind.mlp, .vgg])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["mlp","vgg"]"#)
        #expect(try JSONDecoder().decode([ModelKind].self, from: Data(#"["lenet5","cnn"]"#.utf8)) == [.lenet5, .cnn])
        #expect {
            try JSONDecoder().decode([ModelKind].self, from: Data(#"["resnet"]"#.utf8))
        } throws: { error in
            "\(error)".contains("unknown model 'resnet'")
        }
    }

    /// Data-parallel splitting as the layers declare it: the two models with a large square linear layer or
    /// batch normalisation run each batch whole, the other two split it (as `ModelKind.splitsBatches` said
    /// before it was read off the layers).
    @Test func splittingReadOffTheLayers() {
        var generator = RandomGenerator(seed: 0)
        let splits = Dictionary(
            uniqueKeysWithValues: ModelKind.allCases.map {
                ($0.rawValue, $0.makeModel(generator: &generator).allowsBatchSplitting)
            })
        #expect(splits["mlp"] == false)
        #expect(splits["cnn"] == true)
        #expect(splits["lenet5"] == true)
        #expect(splits["vgg"] == false)
        #expect(splits["plain"] == false)
    }

    /// `PlainCNN`'s shapes, size and cost: each unpadded 5×5 convolution takes four pixels off each side's
    /// length, 28 → 24 → 20 → 16 → 12 → 8, with 16 more channels each time; 308,100 parameters; the multiply–adds
    /// of its five convolutions and its linear layer (batch normalisation is not counted, as in every model).
    @Test func thePlainNetworksShapesAndCosts() {
        var generator = RandomGenerator(seed: 0)
        let model = PlainCNN(generator: &generator)
        var activations = Tensor(shape: [3, 1, 28, 28], data: (0..<(3 * 784)).map { Float($0 % 251) / 251 })
        var shapesAfterReLU: [[Int]] = []
        for layer in model.layerChain {
            activations = layer(activations)
            if layer is ReLU { shapesAfterReLU.append(activations.shape) }
        }
        #expect(
            shapesAfterReLU == [[3, 16, 24, 24], [3, 32, 20, 20], [3, 48, 16, 16], [3, 64, 12, 12], [3, 80, 8, 8]])
        #expect(activations.shape == [3, 10])
        let finite = activations.data.allSatisfy { $0.isFinite }
        #expect(finite)
        #expect(
            model.parameterCount
                == 25 * (16 + 16 * 32 + 32 * 48 + 48 * 64 + 64 * 80) + 5120 * 10 + 2 * (16 + 32 + 48 + 64 + 80 + 10))
        #expect(model.parameterCount == 308_100)
        #expect(
            ModelKind.plain.multiplyAddsPerImage == [
                24 * 24 * 16 * 25, 20 * 20 * 32 * 16 * 25, 16 * 16 * 48 * 32 * 25, 12 * 12 * 64 * 48 * 25,
                8 * 8 * 80 * 64 * 25, 5120 * 10,
            ])
        #expect(
            ModelKind.plain.forwardFlopsPerImage
                == 2
                * (24 * 24 * 16 * 25 + 20 * 20 * 32 * 16 * 25 + 16 * 16 * 48 * 32 * 25 + 12 * 12 * 64 * 48 * 25
                    + 8 * 8 * 80 * 64 * 25 + 5120 * 10))
    }
}
