import Foundation
import TestSupport
import Testing
@testable import MNIST

/// Weights trained on preprocessed digits (`train --deskew`, `--ink-width`): their metadata says so, and every
/// path that reads them (`Predictor`, `evaluate` alone and in an ensemble of differently preprocessed members)
/// preprocesses its images first, giving what the model gives on images preprocessed beforehand; malformed
/// metadata is refused naming the file, and `export` refuses such weights, as no ONNX node preprocesses.
@Suite struct InputPreprocessingCommandTests {
    /// The LeNet5 fixture's weights written again with `preprocessing`'s metadata, into `directory`.
    static func preprocessedLeNet5(_ preprocessing: InputPreprocessing, in directory: URL) throws -> URL {
        try preprocessedLeNet5(metadata: preprocessing.metadata, in: directory)
    }

    static func preprocessedLeNet5(metadata: [String: String], in directory: URL) throws -> URL {
        let (kind, model, _) = try WeightsFile.read(from: try EnsembleTests.lenet5URL.get())
        let url = directory.appendingPathComponent("lenet5-\(UUID().uuidString).safetensors")
        try WeightsFile.write(model: model, kind: kind, metadata: metadata, to: url)
        return url
    }

    @Test(arguments: [InputPreprocessing(deskew: true), InputPreprocessing(deskew: true, inkWidth: 18)])
    func aPredictorPreprocessesEachImageAsItsWeightsSay(preprocessing: InputPreprocessing) throws {
        try withTemporaryDirectory(prefix: "preprocessing") { directory in
            let testSet = try EnsembleTests.testSet.get()
            let images = (0..<12).map { EnsembleTests.pixels(testSet, $0) }
            let url = try Self.preprocessedLeNet5(preprocessing, in: directory)
            let predictor = try Predictor(weights: url)
            #expect(predictor.preprocessing == preprocessing)
            let plain = try Predictor(weights: try EnsembleTests.lenet5URL.get())
            #expect(plain.preprocessing == .none)
            let preprocessed = images.map { preprocessing.apply(to: $0, rows: 28, columns: 28) }
            #expect(predictor.predict(images: images) == plain.predict(images: preprocessed))
            // The preprocessing changes what the model is given.
            #expect(plain.predict(images: images) != plain.predict(images: preprocessed))
            #expect(try Ensemble(weights: [url]).members[0].preprocessing == preprocessing)
        }
    }

    @Test func malformedPreprocessingMetadataIsRefusedNamingTheFile() throws {
        try withTemporaryDirectory(prefix: "preprocessing") { directory in
            let url = try Self.preprocessedLeNet5(metadata: ["ink_width": "0"], in: directory)
            #expect {
                _ = try Predictor(weights: url)
            } throws: { error in
                "\(error)".contains(url.lastPathComponent) && "\(error)".contains("ink_width is '0'")
            }
            let result = try EnsembleCommandTests.run(["evaluate", "--weights", url.path])
            HostileInputTests.expectCleanFailure(result, containing: "ink_width is '0'")
        }
    }

    @Test func evaluatePreprocessesTheTestImagesForEachModelAloneAndInAnEnsemble() throws {
        try withTemporaryDirectory(prefix: "preprocessing-command") { directory in
            try EnsembleCommandTests.writeTestSet(count: 300, in: directory)
            let deskewed = try Self.preprocessedLeNet5(InputPreprocessing(deskew: true), in: directory).path
            let narrow = try Self.preprocessedLeNet5(InputPreprocessing(inkWidth: 10), in: directory).path
            let plain = try EnsembleTests.lenet5URL.get().path
            let testSet = try EnsembleTests.testSet.get()
            let (_, model, _) = try WeightsFile.read(from: URL(fileURLWithPath: plain))
            func correct(_ preprocessing: InputPreprocessing) -> Int {
                Evaluation(outcomes: classify(model: model, on: preprocessing.apply(to: testSet))).correct
            }
            let (onDeskewed, onNarrow, onWritten) = (
                correct(InputPreprocessing(deskew: true)), correct(InputPreprocessing(inkWidth: 10)), correct(.none)
            )
            // The fixture was trained on the digits as written, so the counts differ and tell the paths apart.
            #expect(Set([onDeskewed, onNarrow, onWritten]).count == 3)
            func percent(_ count: Int) -> String { "\(formatPercent(Double(count) / 300)) (\(count)/300)" }

            let alone = try EnsembleCommandTests.run(["evaluate", "--weights", deskewed, "--data", directory.path])
            #expect(alone.status == 0, "\(alone.error)")
            #expect(alone.output.contains("Accuracy: \(percent(onDeskewed))"), "\(alone.output)")

            let all = try EnsembleCommandTests.run([
                "evaluate", "--weights", deskewed, plain, narrow, "--data", directory.path,
            ])
            #expect(all.status == 0, "\(all.error)")
            #expect(all.output.contains("  1. lenet5 \(deskewed): \(percent(onDeskewed))"), "\(all.output)")
            #expect(all.output.contains("  2. lenet5 \(plain): \(percent(onWritten))"), "\(all.output)")
            #expect(all.output.contains("  3. lenet5 \(narrow): \(percent(onNarrow))"), "\(all.output)")
        }
    }

    @Test func trainPreprocessesAndSaysSoInTheWeightsAndExportRefusesThem() throws {
        try withTemporaryDirectory(prefix: "preprocessing-train") { directory in
            try HostileInputTests.writeDataset(in: directory, count: 64)
            let output = directory.appendingPathComponent("mlp.safetensors")
            let trained = try HostileInputTests.run([
                "train", "--model", "mlp", "--epochs", "1", "--deskew", "--ink-width", "14", "--data", directory.path,
                "--output", output.path,
            ])
            #expect(trained.status == 0, "\(trained.error)")
            #expect(trained.output.contains(", deskewed, ink 14 px wide"), "\(trained.output)")
            #expect(trained.output.contains(" (reading and preprocessing the data "), "\(trained.output)")
            let metadata = try WeightsFile.read(from: output).metadata
            #expect(metadata["deskew"] == "true" && metadata["ink_width"] == "14")
            #expect(try Predictor(weights: output).preprocessing == InputPreprocessing(deskew: true, inkWidth: 14))

            let exported = try HostileInputTests.run(["export", "--weights", output.path])
            HostileInputTests.expectCleanFailure(
                exported,
                containing: "was trained on preprocessed digits (its metadata says deskew: true, ink_width: 14)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("mlp.onnx").path))

            for width in ["0", "29"] {
                let refused = try HostileInputTests.run(["train", "--ink-width", width, "--data", directory.path])
                HostileInputTests.expectCleanFailure(
                    refused, containing: "--ink-width must be between 1 and 28, found \(width)")
            }
        }
    }
}
