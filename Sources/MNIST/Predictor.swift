import Foundation

/// What a model says about one image: the digit and the probability of each of the ten.
public struct Prediction: Equatable, Sendable, Codable {
    public let digit: Int
    /// Softmax of the logits, [10], summing to 1.
    public let probabilities: [Float]

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
/// normalisation it was trained with. Safe to call from several threads at once (it only reads weights).
public final class Predictor: @unchecked Sendable {
    public let kind: ModelKind
    public let model: any UnaryLayer
    public let normalization: DataLoader.Normalization?

    public init(kind: ModelKind, model: any UnaryLayer, normalization: DataLoader.Normalization? = nil) {
        self.kind = kind
        self.model = model
        self.normalization = normalization
        model.eval()
    }

    /// Loads a weights file (see `WeightsFile`); its metadata says the model and whether it was trained on
    /// normalised pixels.
    public convenience init(weights url: URL) throws {
        let (kind, model, metadata) = try WeightsFile.read(from: url)
        self.init(kind: kind, model: model, normalization: metadata["normalize"] == "true" ? .mnist : nil)
    }

    /// Predictions for 28×28 images given as 784 values each from 0 (background) to 255 (ink), row-major,
    /// white digit on black as in MNIST.
    public func predict(images: [[Float]]) -> [Prediction] {
        guard !images.isEmpty else { return [] }
        precondition(images.allSatisfy { $0.count == 784 }, "each image must have 784 pixels")
        let scale: (Float) -> Float = { [normalization] value in
            let unit = value / 255
            guard let normalization else { return unit }
            return (unit - normalization.mean) / normalization.standardDeviation
        }
        let batch = Tensor(shape: [images.count, 1, 28, 28], data: images.flatMap { $0.map(scale) })
        let probabilities = withoutGradients { model(batch).softmax() }
        return (0..<images.count).map { index in
            Prediction(probabilities: Array(probabilities.data[(index * 10)..<((index + 1) * 10)]))
        }
    }

    /// The prediction for one 28×28 image (784 values, 0 background to 255 ink).
    public func predict(image: [Float]) -> Prediction {
        predict(images: [image])[0]
    }
}
