import Foundation
import Imaging
import Kernels
import TestSupport
import Testing
@testable import MNIST

/// Ensembles and test-time augmentation (issue 13): an ensemble of one answers as its model, an ensemble's
/// probabilities are the mean of its members' computed directly, any mix of models (each with its own pixel
/// normalisation) works, the identity view alone is plain evaluation, and bad sets of weights files are
/// refused naming the file.
@Suite struct EnsembleTests {
    static let lenet5URL = Result {
        try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
    }

    /// The first 300 MNIST test images.
    static let testSet = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test).prefix(300)
    }

    /// A freshly initialised `kind` (seeded by `seed`) written as a weights file into `directory`, with
    /// `normalize: true` in its metadata when `normalized`.
    static func writeFresh(
        _ kind: ModelKind, seed: UInt64, normalized: Bool = false, in directory: URL
    ) throws -> URL {
        var generator = RandomGenerator(seed: seed)
        let url = directory.appendingPathComponent("\(kind.rawValue)-\(seed).safetensors")
        try WeightsFile.write(
            model: kind.makeModel(generator: &generator), kind: kind,
            metadata: normalized ? ["normalize": "true"] : [:], to: url)
        return url
    }

    /// Test image `index` as 784 values from 0 to 255.
    static func pixels(_ testSet: MNISTDataset, _ index: Int) -> [Float] {
        testSet.images[(index * 784)..<((index + 1) * 784)].map(Float.init)
    }

    /// The softmax of `model`'s logits for `images` (784 values from 0 to 255 each), computed here from the
    /// layer itself: scaled to 0…1, normalised when asked, one batch.
    static func directProbabilities(
        _ model: any UnaryLayer, _ images: [[Float]], normalization: DataLoader.Normalization?
    ) -> [Float] {
        let values = images.flatMap { image in
            image.map { value in
                let unit = value / 255
                guard let normalization else { return unit }
                return (unit - normalization.mean) / normalization.standardDeviation
            }
        }
        model.eval()
        return withoutGradients { model(Tensor(shape: [images.count, 1, 28, 28], data: values)).softmax().data }
    }

    @Test func anEnsembleOfOneAnswersExactlyAsItsModel() throws {
        let url = try Self.lenet5URL.get()
        let testSet = try Self.testSet.get()
        let images = (0..<16).map { Self.pixels(testSet, $0) }
        let single = try Predictor(weights: url)
        let ensemble = try Ensemble(weights: [url])
        #expect(ensemble.modelNames == ["lenet5"])
        #expect(ensemble.predict(images: images) == single.predict(images: images))
        #expect(ensemble.predict(image: images[3]) == single.predict(image: images[3]))

        // The evaluation path: the mean over one model's probabilities gives `classify`'s outcomes.
        let (_, model, _) = try WeightsFile.read(from: url)
        let probabilities = classProbabilities(model: model, on: testSet)
        #expect(Ensemble.average([probabilities]) == probabilities)
        let outcomes = ImageOutcome.outcomes(probabilities: probabilities, labels: testSet.labels)
        Self.expectSameOutcomes(outcomes, classify(model: model, on: testSet))
        #expect(Evaluation(outcomes: outcomes).accuracy > 0.95)
    }

    /// The same image, label and prediction for every image, and for each mistake the same probability to
    /// float rounding: `classify` recomputes a mistake's probability by running only the batch's mistaken
    /// images through the model (measured: within 3e-7).
    static func expectSameOutcomes(
        _ actual: [ImageOutcome], _ expected: [ImageOutcome], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        func answers(_ outcomes: [ImageOutcome]) -> [[Int]] { outcomes.map { [$0.index, $0.label, $0.prediction] } }
        #expect(answers(actual) == answers(expected), sourceLocation: sourceLocation)
        #expect(
            actual.map { $0.probability == nil } == expected.map { $0.probability == nil },
            sourceLocation: sourceLocation)
        expectClose(
            actual.compactMap(\.probability), expected.compactMap(\.probability), absolute: 1e-5,
            sourceLocation: sourceLocation)
    }

    @Test func aMixedEnsemblesProbabilitiesAreTheMeanOfItsMembers() throws {
        try withTemporaryDirectory(prefix: "ensemble") { directory in
            let lenet5 = try Self.lenet5URL.get()
            let mlp = try Self.writeFresh(.mlp, seed: 1, in: directory)
            let cnn = try Self.writeFresh(.cnn, seed: 2, normalized: true, in: directory)
            let ensemble = try Ensemble(weights: [lenet5, mlp, cnn])
            #expect(ensemble.modelNames == ["lenet5", "mlp", "cnn"])
            #expect(ensemble.members.map(\.normalization) == [nil, nil, .mnist])

            let testSet = try Self.testSet.get()
            let images = (0..<6).map { Self.pixels(testSet, $0) }
            let memberProbabilities = try [(lenet5, nil), (mlp, nil), (cnn, DataLoader.Normalization.mnist)].map {
                url, normalization in
                Self.directProbabilities(try WeightsFile.read(from: url).model, images, normalization: normalization)
            }
            // The mean written out: (a + b + c) / 3, element by element.
            let (a, b, c) = (memberProbabilities[0], memberProbabilities[1], memberProbabilities[2])
            let expected: [Float] = (0..<(6 * 10)).map { (a[$0] + b[$0] + c[$0]) / 3 }
            let predictions = ensemble.predict(images: images)
            expectClose(predictions.flatMap(\.probabilities), expected, absolute: 1e-6, relative: 1e-5)
            for (index, prediction) in predictions.enumerated() {
                let row = Array(expected[(index * 10)..<((index + 1) * 10)])
                #expect(prediction.digit == row.indices.max { row[$0] < row[$1] })
                #expect(abs(prediction.probabilities.reduce(0, +) - 1) < 1e-5)
            }
            // The members do not agree on everything, so the mean is not just one of them.
            #expect(memberProbabilities[0] != memberProbabilities[1])

            // The evaluation path averages the same way, over a whole set in batches.
            let evaluated = ensemble.members.map {
                classProbabilities(model: $0.makeModel(), on: testSet, normalization: $0.normalization, batchSize: 128)
            }
            let allImages = (0..<testSet.imageCount).map { Self.pixels(testSet, $0) }
            let direct = try zip([lenet5, mlp, cnn], ensemble.members).map { url, member in
                Self.directProbabilities(
                    try WeightsFile.read(from: url).model, allImages, normalization: member.normalization)
            }
            let (first, second, third) = (direct[0], direct[1], direct[2])
            let directMean: [Float] = first.indices.map { (first[$0] + second[$0] + third[$0]) / 3 }
            expectClose(Ensemble.average(evaluated), directMean, absolute: 1e-6, relative: 1e-5)
        }
    }

    /// The evaluation path's probabilities come from parts (one a thread) run in slices: the rows must be the
    /// one-batch softmax's, image by image, in order, with slices smaller than a part and a last one shorter.
    @Test func probabilitiesInPartsAndSlicesAreTheOneBatchSoftmaxInOrder() throws {
        let (_, model, _) = try WeightsFile.read(from: Self.lenet5URL.get())
        model.eval()
        let testSet = try Self.testSet.get()
        let images = (0..<50).map { Self.pixels(testSet, $0) }
        let batch = Tensor(shape: [50, 1, 28, 28], data: images.flatMap { $0.map { $0 / 255 } })
        let sliced = classProbabilities(of: model, for: batch, sliceSize: 7)
        #expect(sliced.count == 50 * 10)
        expectClose(sliced, Self.directProbabilities(model, images, normalization: nil), absolute: 1e-6, relative: 1e-5)
    }

    @Test func theIdentityViewAloneIsPlainEvaluation() throws {
        let (_, model, _) = try WeightsFile.read(from: Self.lenet5URL.get())
        let testSet = try Self.testSet.get()
        for normalization in [nil, DataLoader.Normalization.mnist] {
            let plain = classProbabilities(model: model, on: testSet, normalization: normalization)
            let identity = classProbabilities(
                model: model, on: testSet, normalization: normalization, testTimeAugmentation: .identity)
            #expect(identity == plain)
        }
        let plainOutcomes = classify(model: model, on: testSet)
        let identityOutcomes = ImageOutcome.outcomes(
            probabilities: classProbabilities(model: model, on: testSet, testTimeAugmentation: .identity),
            labels: testSet.labels)
        Self.expectSameOutcomes(identityOutcomes, plainOutcomes)
    }

    /// Each view of `.mnist` resamples the image as stated: the shifts move whole pixels (checked against
    /// images shifted here by hand), and the result is the mean over the views.
    @Test func testTimeAugmentationAveragesTheStatedViews() throws {
        let (_, model, _) = try WeightsFile.read(from: Self.lenet5URL.get())
        let testSet = try Self.testSet.get().prefix(40)
        let views = TestTimeAugmentation.mnist.views
        #expect(views.count == 7 && views[0].transform == .identity)
        let perView = views.map { classProbabilities(model: model, on: testSet, transform: $0.transform) }

        let images = (0..<testSet.imageCount).map { Self.pixels(testSet, $0) }
        func shifted(_ image: [Float], columns: Int, rows: Int) -> [Float] {
            (0..<784).map { index in
                let (row, column) = (index / 28 - rows, index % 28 - columns)
                return (0..<28).contains(row) && (0..<28).contains(column) ? image[row * 28 + column] : 0
            }
        }
        for (index, (columns, rows)) in [(-1, 0), (1, 0), (0, -1), (0, 1)].enumerated() {
            let byHand = Self.directProbabilities(
                model, images.map { shifted($0, columns: columns, rows: rows) }, normalization: nil)
            expectClose(perView[index + 1], byHand, absolute: 1e-6, relative: 1e-5, views[index + 1].name)
        }
        // The rotations change the images, and so the probabilities.
        #expect(perView[5] != perView[0] && perView[6] != perView[0] && perView[5] != perView[6])

        let averaged = classProbabilities(model: model, on: testSet, testTimeAugmentation: .mnist)
        let mean = (0..<perView[0].count).map { element in
            perView.reduce(Float(0)) { $0 + $1[element] } / Float(perView.count)
        }
        expectClose(averaged, mean, absolute: 1e-7, relative: 1e-6)
    }

    @Test func badSetsOfWeightsFilesAreRefusedNamingTheFile() throws {
        try withTemporaryDirectory(prefix: "ensemble") { directory in
            let lenet5 = try Self.lenet5URL.get()
            #expect(throws: EnsembleError("no weights file given: name at least one")) { try Ensemble(weights: []) }

            let twice = #expect(throws: EnsembleError.self) { try Ensemble(weights: [lenet5, lenet5]) }
            #expect(twice?.description.contains("\(lenet5.path) is named twice (weights files 1 and 2)") == true)

            let missing = directory.appendingPathComponent("missing.safetensors")
            let notFound = #expect(throws: EnsembleError.self) { try Ensemble(weights: [lenet5, missing]) }
            #expect(
                notFound?.description.hasPrefix("cannot load weights file 2 of 2, \(missing.path): ") == true,
                "\(String(describing: notFound))")

            let garbage = directory.appendingPathComponent("garbage.safetensors")
            try Data("not safetensors at all".utf8).write(to: garbage)
            let broken = #expect(throws: EnsembleError.self) { try Ensemble(weights: [garbage, lenet5]) }
            #expect(broken?.description.hasPrefix("cannot load weights file 1 of 2, \(garbage.path): ") == true)

            // One file: its own error, as `Predictor(weights:)` throws it.
            #expect(throws: (any Error).self) { try Ensemble(weights: [garbage]) }
            #expect((try? Ensemble(weights: [garbage])) == nil)
        }
    }
}

/// `mnist evaluate`, `predict` and `serve` with several `--weights`, end to end: `swift test` builds the
/// `mnist` tool next to the tests.
@Suite struct EnsembleCommandTests {
    /// A folder with the first `count` MNIST test images as raw IDX files, for `--data`.
    static func writeTestSet(count: Int, in directory: URL) throws {
        let testSet = try EnsembleTests.testSet.get().prefix(count)
        func word(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        try Data(word(2051) + word(count) + word(28) + word(28) + testSet.images)
            .write(to: directory.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(word(2049) + word(count) + testSet.labels)
            .write(to: directory.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    static func run(_ arguments: [String]) throws -> (status: Int32?, output: String, error: String) {
        let tool = try #require(PredictCommandTests.tool, "the mnist tool should be built next to the tests")
        return try runProcess(tool, arguments, environment: ["SWIFT_BACKTRACE": "enable=no"], timeout: 300)
    }

    /// The percentage of the first line starting with `prefix`, e.g. `Accuracy: 97.00% (97/100)`.
    static func percent(after prefix: String, in output: String) throws -> Double {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(output)")
        return try #require(Double(line.dropFirst(prefix.count).prefix { $0 != "%" }), "\(line)")
    }

    @Test func evaluateTakesSeveralWeightsFilesAndPrintsEachAccuracyAndTheEnsembles() throws {
        try withTemporaryDirectory(prefix: "ensemble-command") { directory in
            try Self.writeTestSet(count: 200, in: directory)
            let lenet5 = try EnsembleTests.lenet5URL.get().path
            let cnn = try EnsembleTests.writeFresh(.cnn, seed: 4, normalized: true, in: directory).path
            let data = ["--data", directory.path]

            let single = try Self.run(["evaluate", "--weights", lenet5] + data)
            #expect(single.status == 0, "\(single.error)")
            #expect(single.output.hasPrefix("Model: lenet5, 200 test images\nInference: "), "\(single.output)")
            let singleAccuracy = try Self.percent(after: "Accuracy: ", in: single.output)

            // `--weights A B` and `--weights A --weights B` are the same.
            for weights in [["--weights", lenet5, cnn], ["--weights", lenet5, "--weights", cnn]] {
                let result = try Self.run(["evaluate"] + weights + data)
                #expect(result.status == 0, "\(result.error)")
                let lines = result.output.split(separator: "\n").map(String.init)
                #expect(lines.first == "Ensemble of 2 models (the mean of their probabilities), 200 test images")
                #expect(
                    lines.count > 3
                        && lines[1].hasPrefix("  1. lenet5 \(lenet5): \(String(format: "%.2f", singleAccuracy))%"))
                #expect(lines.count > 3 && lines[2].hasPrefix("  2. cnn \(cnn): "))
                #expect(lines.count > 3 && lines[3].hasPrefix("Inference: ") && lines[3].contains("2 models × 1 view"))
                // A trained model averaged with an untrained one: a figure, not the trained one's.
                let accuracy = try Self.percent(after: "Accuracy: ", in: result.output)
                #expect(accuracy > 0 && accuracy <= 100)
            }

            let augmented = try Self.run(["evaluate", "--weights", lenet5, cnn, "--tta"] + data)
            #expect(augmented.status == 0, "\(augmented.error)")
            #expect(augmented.output.contains("each averaged over 7 views (test-time augmentation)"))
            #expect(augmented.output.contains("  1. lenet5 \(lenet5): \(String(format: "%.2f", singleAccuracy))%"))
            #expect(augmented.output.contains(", with test-time augmentation "))
            #expect(augmented.output.contains("Accuracy without test-time augmentation: "))

            let one = try Self.run(["evaluate", "--weights", lenet5, "--tta"] + data)
            #expect(one.status == 0, "\(one.error)")
            #expect(one.output.hasPrefix("Model: lenet5, 200 test images, each averaged over 7 views"))
            #expect(
                try Self.percent(after: "Accuracy without test-time augmentation: ", in: one.output) == singleAccuracy)
        }
    }

    @Test(arguments: [
        (["--weights"], "--weights"),
        (["--weights", "LENET5", "LENET5"], "is named twice (weights files 1 and 2): name each weights file once"),
        (["--weights", "LENET5", "MISSING"], "cannot load weights file 2 of 2, MISSING: "),
        (["--weights", "LENET5", "--tta", "--augment"], "--tta averages fixed views"),
        (["--weights", "LENET5", "OTHER", "--report", "DIR", "--metrics", "M"], "--metrics is one training run's"),
        (["--weights", "LENET5", "--report", ""], "--report needs a folder to write into: the path given is empty"),
    ])
    func evaluateRefusesBadCombinationsNamingTheProblem(arguments: [String], message: String) throws {
        try withTemporaryDirectory(prefix: "ensemble-command") { directory in
            try Self.writeTestSet(count: 20, in: directory)
            let lenet5 = try EnsembleTests.lenet5URL.get().path
            let other = try EnsembleTests.writeFresh(.mlp, seed: 1, in: directory).path
            let missing = directory.appendingPathComponent("missing.safetensors").path
            func substitute(_ text: String) -> String {
                text.replacingOccurrences(of: "LENET5", with: lenet5).replacingOccurrences(of: "MISSING", with: missing)
                    .replacingOccurrences(of: "OTHER", with: other)
                    .replacingOccurrences(of: "DIR", with: directory.appendingPathComponent("report").path)
            }
            let result = try Self.run(["evaluate"] + arguments.map(substitute) + ["--data", directory.path])
            #expect(result.status.map { $0 != 0 && $0 < 128 } == true, "\(String(describing: result.status))")
            #expect(!result.error.contains("Fatal error"), "\(result.error)")
            #expect(result.error.contains(substitute(message)), "\(result.error)")
        }
    }

    @Test func predictTakesSeveralWeightsFilesBeforeOrAfterTheImages() throws {
        try withTemporaryDirectory(prefix: "ensemble-command") { directory in
            let lenet5 = try EnsembleTests.lenet5URL.get().path
            let mlp = try EnsembleTests.writeFresh(.mlp, seed: 3, in: directory).path
            let testSet = try EnsembleTests.testSet.get()
            var generator = SplitMix64(seed: 9)
            let seven = directory.appendingPathComponent("seven.png")
            try Data(
                PredictTests.renderPNG(testSet.images[0..<784], scale: 6, left: 40, top: 30, generator: &generator)
            )
            .write(to: seven)
            // A PNG without the .png name: told from its signature.
            let unnamed = directory.appendingPathComponent("digit")
            try FileManager.default.copyItem(at: seven, to: unnamed)

            let expected = Ensemble.average(
                try [lenet5, mlp].map {
                    try Predictor(weights: URL(fileURLWithPath: $0)).predict(
                        image: MNISTPreprocessing.prepare(
                            PNGDecoder.decode(contentsOf: seven), file: seven.path)
                    ).probabilities
                })
            for arguments in [
                ["--weights", lenet5, mlp, seven.path, unnamed.path],
                [seven.path, unnamed.path, "--weights", lenet5, mlp],
                ["--weights", lenet5, mlp, "--", seven.path, unnamed.path],
                ["--weights", lenet5, "--weights", mlp, seven.path, unnamed.path],
            ] {
                let result = try Self.run(["predict", "--json"] + arguments)
                #expect(result.status == 0, "\(arguments): \(result.error)")
                let entries = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
                #expect(entries.map { $0["path"] as? String } == [seven.path, unnamed.path])
                for entry in entries {
                    let probabilities = try #require(entry["probabilities"] as? [Double]).map(Float.init)
                    expectClose(probabilities, expected, absolute: 1e-6, relative: 1e-5, "\(arguments)")
                }
            }

            let noImage = try Self.run(["predict", "--weights", lenet5, mlp])
            #expect(noImage.status == 64 && noImage.error.contains("name at least one image"), "\(noImage.error)")
            let broken = try Self.run(["predict", "--weights", lenet5, seven.path + ".safetensors", seven.path])
            #expect(broken.status == 1)
            #expect(broken.error.contains("cannot load weights file 2 of 2, \(seven.path).safetensors: "))
        }
    }
}
