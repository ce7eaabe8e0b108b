import Foundation
import Preconditions

/// What a model says about one image: the digit and the probability of each of the ten.
public struct Prediction: Equatable, Sendable, Codable {
    /// The most probable digit (the first of equals).
    public let digit: Int
    /// Softmax of the logits, [10], summing to 1.
    public let probabilities: [Float]

    /// The prediction for an image's class probabilities (the softmax of its logits): `digit` is the most probable.
    public init(probabilities: [Float]) {
        self.probabilities = probabilities
        digit = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
    }

    /// The `count` most probable digits, most probable first.
    public func top(_ count: Int) -> [(digit: Int, probability: Float)] {
        probabilities.enumerated().sorted { $0.element > $1.element }.prefix(count).map { ($0.offset, $0.element) }
    }
}

/// A trained model ready to recognise 28×28 digits: evaluation mode, nothing recorded, the pixel
/// normalisation and preprocessing it was trained with. Safe to call from several threads at once.
///
/// What it shares between threads are values: the model's kind and its weights by state-dict name. A model
/// (whose tensors are reference types) is never shared: each thread that predicts builds its own copy from
/// those values on its first prediction and keeps it in its thread dictionary.
public final class Predictor: Sendable {
    /// The model's kind, which `makeModel()` builds.
    public let kind: ModelKind
    /// The pixel normalisation the model was trained with, after scaling to 0…1; nil for none.
    public let normalization: DataLoader.Normalization?
    /// What is done to each image before the model sees it (deskewing, width normalisation), as it was done
    /// to the model's training images.
    public let preprocessing: InputPreprocessing
    /// Every parameter and buffer of the model by state-dict name, as values.
    public let weights: [NamedWeights]
    /// Where a thread keeps its copy of the model: a key no other predictor uses.
    private let threadKey: String

    /// One tensor of a state dict, as a value.
    public struct NamedWeights: Sendable, Equatable {
        /// The state-dict name (`conv1.weight`).
        public let name: String
        /// The tensor's shape.
        public let shape: [Int]
        /// The tensor's elements, row-major.
        public let data: [Float]
    }

    /// A predictor for a model of `kind` holding `model`'s current weights (copied: later changes to `model`
    /// do not reach it), which preprocesses each image by `preprocessing` first.
    public init(
        kind: ModelKind, model: any UnaryLayer, normalization: DataLoader.Normalization? = nil,
        preprocessing: InputPreprocessing = .none
    ) {
        self.kind = kind
        self.normalization = normalization
        self.preprocessing = preprocessing
        weights = model.stateDict.map { NamedWeights(name: $0.name, shape: $0.tensor.shape, data: $0.tensor.data) }
        threadKey = "swift-mnist.predictor.\(UUID().uuidString)"
    }

    deinit {
        // Other threads' copies go with their threads; this one's can go now.
        Thread.current.threadDictionary.removeObject(forKey: threadKey)
    }

    /// Loads a weights file (see `WeightsFile`); its metadata says the model and whether it was trained on
    /// normalised pixels and how its digits were preprocessed.
    /// - Throws: `WeightsFileError` for a file that does not load or whose preprocessing metadata is malformed.
    public convenience init(weights url: URL) throws {
        let (kind, model, metadata) = try WeightsFile.read(from: url)
        self.init(
            kind: kind, model: model, normalization: metadata["normalize"] == "true" ? .mnist : nil,
            preprocessing: try WeightsFile.preprocessing(metadata, of: url))
    }

    /// How many images go through the model at once: predicting any number of images holds the activations
    /// of at most this many.
    public static let batchSize = 256

    /// Predictions for 28×28 images given as 784 values each from 0 (background) to 255 (ink), row-major,
    /// white digit on black as in MNIST; run through the model `batchSize` images at a time.
    public func predict(images: [[Float]]) -> [Prediction] {
        guard !images.isEmpty else { return [] }
        checkPrecondition(images.allSatisfy { $0.count == 784 }, "each image must have 784 pixels")
        let model = threadModel()
        return stride(from: 0, to: images.count, by: Self.batchSize).flatMap { start in
            predict(images[start..<min(start + Self.batchSize, images.count)], with: model)
        }
    }

    /// Predictions for one batch of at most `batchSize` images by this thread's `model`.
    private func predict(_ images: ArraySlice<[Float]>, with model: any UnaryLayer) -> [Prediction] {
        let scale: (Float) -> Float = { [normalization] value in
            let unit = value / 255
            guard let normalization else { return unit }
            return (unit - normalization.mean) / normalization.standardDeviation
        }
        let preprocessed = images.map { preprocessing.apply(to: $0, rows: 28, columns: 28) }
        let batch = Tensor(shape: [images.count, 1, 28, 28], data: preprocessed.flatMap { $0.map(scale) })
        let probabilities = withoutGradients { model(batch).softmax() }
        return (0..<images.count).map { index in
            Prediction(probabilities: Array(probabilities.data[(index * 10)..<((index + 1) * 10)]))
        }
    }

    /// The prediction for one 28×28 image (784 values, 0 background to 255 ink).
    public func predict(image: [Float]) -> Prediction {
        predict(images: [image])[0]
    }

    /// This thread's copy of the model, built from `weights` the first time.
    private func threadModel() -> any UnaryLayer {
        let dictionary = Thread.current.threadDictionary
        if let model = dictionary[threadKey] as? any UnaryLayer { return model }
        let model = makeModel()
        dictionary[threadKey] = model
        return model
    }

    /// A new model of `kind` holding `weights`, in evaluation mode: the caller's own, to use on one thread at
    /// a time (`mnist evaluate` runs each member of an ensemble through the test set this way).
    public func makeModel() -> any UnaryLayer {
        // Its initial weights are drawn and then overwritten; the seed does not matter.
        var generator = RandomGenerator(seed: 0)
        let model = kind.makeModel(generator: &generator)
        let tensors = weights.map { (name: $0.name, tensor: Tensor(shape: $0.shape, data: $0.data)) }
        do {
            try model.loadStateDict(tensors, source: "the predictor's weights")
        } catch {
            // The same kind of model the weights were read from: names and shapes cannot differ.
            fatalError("\(error)")
        }
        model.eval()
        return model
    }
}
