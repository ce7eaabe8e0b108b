import Foundation

/// What a model said about one image of a labelled set.
public struct ImageOutcome: Equatable, Sendable {
    /// The image's position in the dataset.
    public let index: Int
    /// The digit the image shows, as the dataset labels it.
    public let label: Int
    /// The digit the model predicts (`predictions(of:for:)`: the largest logit).
    public let prediction: Int
    /// The softmax probability the model gave `prediction`, for a wrong prediction: the confidence an
    /// evaluation report ranks mistakes by. Nil for a correct one (`classify` computes it for mistakes only).
    public let probability: Float?

    /// The outcome for the image at `index`: its `label`, the model's `prediction` and, for a wrong one,
    /// the probability the model gave it.
    public init(index: Int, label: Int, prediction: Int, probability: Float?) {
        self.index = index
        self.label = label
        self.prediction = prediction
        self.probability = probability
    }

    /// Whether the model predicted the label.
    public var isCorrect: Bool { label == prediction }
}

/// The model's prediction for every image of `dataset`, in order, made as `evaluate(model:on:normalization:
/// batchSize:)` makes it (evaluation mode, batches of `batchSize`, each through `predictions(of:for:)`), so
/// `Evaluation(outcomes:)` of the result equals what `evaluate` returns. Each wrong prediction also gets its
/// softmax probability, from one more forward pass over the batch's mistaken images only.
///
/// With `augmentation`, each image is first randomly transformed as training augments it, the transforms
/// drawn from `RandomGenerator(seed: augmentationSeed)`: how well the model copes with digits written
/// tilted, larger, smaller or off-centre.
public func classify(
    model: any UnaryLayer, on dataset: MNISTDataset, normalization: DataLoader.Normalization? = nil,
    batchSize: Int = 1000,
    augmentation: RandomAffine? = nil, augmentationSeed: UInt64 = 0
) -> [ImageOutcome] {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    var outcomes = [ImageOutcome]()
    outcomes.reserveCapacity(dataset.imageCount)
    var generator = RandomGenerator(seed: augmentationSeed)
    let loader = DataLoader(
        dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: augmentation)
    for batch in loader.epoch(generator: &generator) {
        let classes = predictions(of: model, for: batch.images)
        let mistaken = classes.indices.filter { classes[$0] != Int(batch.labels[$0]) }
        let confidence = Dictionary(
            uniqueKeysWithValues: zip(
                mistaken, probabilities(of: model, for: batch.images, rows: mistaken, classes: classes)))
        for (row, prediction) in classes.enumerated() {
            outcomes.append(
                ImageOutcome(
                    index: outcomes.count, label: Int(batch.labels[row]), prediction: prediction,
                    probability: confidence[row]))
        }
    }
    return outcomes
}

/// The softmax probability `model` gives `classes[row]` for each image `images[row]` of `rows`, nothing
/// recorded; `images` is [N, …], and the rows run through the model as one batch.
private func probabilities(of model: any UnaryLayer, for images: Tensor, rows: [Int], classes: [Int]) -> [Float] {
    guard !rows.isEmpty else { return [] }
    let imageSize = images.count / images.shape[0]
    var pixels = [Float]()
    pixels.reserveCapacity(rows.count * imageSize)
    images.data.withUnsafeBufferPointer { data in
        for row in rows { pixels += data[(row * imageSize)..<((row + 1) * imageSize)] }
    }
    let softmax = withoutGradients {
        model(Tensor(shape: [rows.count] + images.shape.dropFirst(), data: pixels)).softmax()
    }
    let classCount = softmax.shape[1]
    return rows.enumerated().map { position, row in softmax.data[position * classCount + classes[row]] }
}

extension Evaluation {
    /// The confusion matrix of `outcomes`.
    public init(outcomes: [ImageOutcome], classCount: Int = 10) {
        var confusion = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for outcome in outcomes { confusion[outcome.label][outcome.prediction] += 1 }
        self.init(confusion: confusion)
    }
}
