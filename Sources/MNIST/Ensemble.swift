import Foundation
import Kernels
import Preconditions

/// Several trained models answering together: each member's class probabilities for an image (the softmax
/// of its logits), averaged over the members. Members may be any mix of models, each with the pixel
/// normalisation it was trained with. An ensemble of one answers exactly as its member does. Safe to call
/// from several threads at once.
///
///     let ensemble = try Ensemble(weights: [lenet5A, lenet5B, cnn])
///     let prediction = ensemble.predict(image: pixels)   // the mean of the three models' probabilities
public final class Ensemble: Sendable {
    /// The models, in the order given; at least one.
    public let members: [Predictor]

    /// An ensemble of `members` (at least one).
    public init(members: [Predictor]) {
        checkPrecondition(!members.isEmpty, "an ensemble needs at least one member")
        self.members = members
    }

    /// Loads each weights file as `Predictor(weights:)` does: its metadata says the model and whether it was
    /// trained on normalised pixels.
    /// - Throws: `EnsembleError` for an empty list or a file named twice; for a file that does not load, with
    ///   one file its own error (which names it), with several an `EnsembleError` naming the file, its place
    ///   in the list and the reason.
    public convenience init(weights urls: [URL]) throws {
        guard !urls.isEmpty else { throw EnsembleError("no weights file given: name at least one") }
        let paths = urls.map(\.standardizedFileURL.path)
        for (index, path) in paths.enumerated() {
            if let first = paths[..<index].firstIndex(of: path) {
                throw EnsembleError(
                    "\(urls[index].path) is named twice (weights files \(first + 1) and \(index + 1)): "
                        + "name each weights file once")
            }
        }
        var members: [Predictor] = []
        for (index, url) in urls.enumerated() {
            do {
                members.append(try Predictor(weights: url))
            } catch  where urls.count > 1 {
                throw EnsembleError(
                    "cannot load weights file \(index + 1) of \(urls.count), \(url.path): \(Self.reason(error))")
            }
        }
        self.init(members: members)
    }

    /// The members' model names, in order: `["lenet5", "lenet5", "cnn"]`.
    public var modelNames: [String] { members.map(\.kind.rawValue) }

    /// Predictions for 28×28 images given as 784 values each from 0 (background) to 255 (ink), row-major,
    /// white digit on black as in MNIST: each image's probabilities are the mean of the members'.
    public func predict(images: [[Float]]) -> [Prediction] {
        guard members.count > 1 else { return members[0].predict(images: images) }
        let memberPredictions = members.map { $0.predict(images: images) }
        return images.indices.map { index in
            Prediction(probabilities: Self.average(memberPredictions.map { $0[index].probabilities }))
        }
    }

    /// The prediction for one 28×28 image (784 values, 0 background to 255 ink).
    public func predict(image: [Float]) -> Prediction {
        predict(images: [image])[0]
    }

    /// The element-wise mean of equally long probability arrays (at least one), summed in order then divided
    /// by their count: the mean of one array is that array.
    public static func average(_ probabilities: [[Float]]) -> [Float] {
        checkPrecondition(!probabilities.isEmpty, "nothing to average")
        checkPrecondition(Set(probabilities.map(\.count)).count == 1, "probability arrays of different lengths")
        guard probabilities.count > 1 else { return probabilities[0] }
        var sum = probabilities[0]
        for other in probabilities.dropFirst() {
            for index in sum.indices { sum[index] += other[index] }
        }
        let count = Float(probabilities.count)
        return sum.map { $0 / count }
    }

    /// An error's message: its description, which the errors here write as a sentence (every error converts
    /// to `CustomStringConvertible` through Foundation, so a fallback to `localizedDescription` never ran).
    private static func reason(_ error: any Error) -> String { String(describing: error) }
}

/// Why a set of weights files does not make an ensemble, in a sentence naming the file.
public struct EnsembleError: Error, CustomStringConvertible, Equatable {
    /// The reason, as a sentence naming the file where there is one.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}

/// Test-time augmentation: a model's probabilities for an image averaged over a few fixed, small transforms
/// of it (views), which smooths over the model's sensitivity to exactly where and at what angle a digit was
/// written. The transforms are deterministic, so an evaluation with them is reproducible.
public struct TestTimeAugmentation: Sendable, Equatable {
    /// One view of an image: what it is called in reports, and the map it is resampled through (bilinear,
    /// background outside, as `AffineWarp.bilinear` does).
    public struct View: Sendable, Equatable {
        /// What reports call the view (`1 px left`).
        public let name: String
        /// The map the image is resampled through (`.identity` leaves it as it is).
        public let transform: AffineWarp.Matrix

        /// A view called `name` that resamples the image through `transform`.
        public init(name: String, transform: AffineWarp.Matrix) {
            self.name = name
            self.transform = transform
        }

        /// The image moved `columns` pixels right and `rows` pixels down (negative: left, up); whole pixels
        /// move exactly, without interpolation.
        public static func shift(columns: Int, rows: Int, name: String) -> View {
            View(
                name: name,
                transform: .rotation(
                    degrees: 0, scale: 1, shiftX: Float(columns), shiftY: Float(rows), rows: 28, columns: 28))
        }

        /// A 28×28 image rotated by `degrees` about its centre (counter-clockwise as displayed).
        public static func rotation(degrees: Float, name: String) -> View {
            View(
                name: name,
                transform: .rotation(degrees: degrees, scale: 1, shiftX: 0, shiftY: 0, rows: 28, columns: 28))
        }
    }

    /// The views averaged, at least one.
    public let views: [View]

    /// Averages over `views` (at least one).
    public init(views: [View]) {
        checkPrecondition(!views.isEmpty, "test-time augmentation needs at least one view")
        self.views = views
    }

    /// The image as it is, alone: the same probabilities as no augmentation.
    public static let identity = TestTimeAugmentation(views: [View(name: "as is", transform: .identity)])

    /// `mnist evaluate --tta`: 7 views of each 28×28 image: as it is, shifted by one pixel left, right, up and
    /// down, and rotated by 10° either way about its centre. Chosen before measuring, not tuned on the test set.
    public static let mnist = TestTimeAugmentation(views: [
        View(name: "as is", transform: .identity),
        .shift(columns: -1, rows: 0, name: "1 px left"), .shift(columns: 1, rows: 0, name: "1 px right"),
        .shift(columns: 0, rows: -1, name: "1 px up"), .shift(columns: 0, rows: 1, name: "1 px down"),
        .rotation(degrees: 10, name: "10° counter-clockwise"), .rotation(degrees: -10, name: "10° clockwise"),
    ])
}

/// The class probabilities `model` gives every image of `dataset`, image after image: [imageCount × classes]
/// row-major, the softmax of its logits in evaluation mode with nothing recorded, in batches of `batchSize`,
/// each split over the threads and run in slices (`classProbabilities(of:for:sliceSize:)`) as `classify` runs
/// them.
///
/// `transform` first resamples every image through one fixed map (a view of test-time augmentation; the
/// identity gives the plain probabilities exactly). `augmentation` instead draws a random transform for each
/// image from `RandomGenerator(seed: augmentationSeed)`, as `classify` does, so models given the same seed see
/// the same transformed images. At most one of the two.
public func classProbabilities(
    model: any UnaryLayer, on dataset: MNISTDataset, normalization: DataLoader.Normalization? = nil,
    transform: AffineWarp.Matrix? = nil, augmentation: RandomAffine? = nil, augmentationSeed: UInt64 = 0,
    batchSize: Int = 1000
) -> [Float] {
    checkPrecondition(transform == nil || augmentation == nil, "a fixed transform or random augmentation, not both")
    let wasTraining = model.isTraining
    model.eval()
    defer { model.train(wasTraining) }
    let loader = DataLoader(
        dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: augmentation)
    var generator = RandomGenerator(seed: augmentationSeed)
    let epoch =
        if let transform { loader.epoch(transformedBy: transform) } else { loader.epoch(generator: &generator) }
    var probabilities = [Float]()
    probabilities.reserveCapacity(dataset.imageCount * MNISTDataset.classCount)
    for batch in epoch { probabilities += classProbabilities(of: model, for: batch.images) }
    return probabilities
}

/// The class probabilities `model` gives every image of `dataset` averaged over the views of
/// `testTimeAugmentation`: [imageCount × classes] row-major (see `classProbabilities(model:on:…)`).
public func classProbabilities(
    model: any UnaryLayer, on dataset: MNISTDataset, normalization: DataLoader.Normalization? = nil,
    testTimeAugmentation: TestTimeAugmentation, batchSize: Int = 1000
) -> [Float] {
    Ensemble.average(
        testTimeAugmentation.views.map {
            classProbabilities(
                model: model, on: dataset, normalization: normalization, transform: $0.transform,
                batchSize: batchSize)
        })
}

extension ImageOutcome {
    /// The outcome of each image from its class probabilities ([labels.count × classCount] row-major): the
    /// most probable class (the first of equals, as `Prediction` picks it) and, for a wrong one, its
    /// probability (nil for a right one, as `classify` gives it).
    public static func outcomes(probabilities: [Float], labels: [UInt8], classCount: Int = 10) -> [ImageOutcome] {
        checkPrecondition(probabilities.count == labels.count * classCount, "one row of probabilities per label")
        return labels.indices.map { index in
            let prediction = Prediction(
                probabilities: Array(probabilities[(index * classCount)..<((index + 1) * classCount)]))
            let label = Int(labels[index])
            return ImageOutcome(
                index: index, label: label, prediction: prediction.digit,
                probability: prediction.digit == label ? nil : prediction.probabilities[prediction.digit])
        }
    }
}
