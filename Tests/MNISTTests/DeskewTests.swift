import Foundation
import TestSupport
import Testing
@testable import MNIST

/// Weights trained on deskewed digits (`train --deskew`): their metadata says so, and every path that
/// reads them (`Predictor`, `evaluate` alone and in an ensemble) deskews its images first, giving what the
/// model gives on images deskewed beforehand; `export` refuses them, as no ONNX node deskews.
@Suite struct DeskewTests {
    /// The LeNet5 fixture's weights written again with `deskew: true` in their metadata, into `directory`.
    static func deskewedLeNet5(in directory: URL) throws -> URL {
        let (kind, model, _) = try WeightsFile.read(from: try EnsembleTests.lenet5URL.get())
        let url = directory.appendingPathComponent("lenet5-deskew.safetensors")
        try WeightsFile.write(model: model, kind: kind, metadata: ["deskew": "true"], to: url)
        return url
    }

    @Test func aPredictorForDeskewedWeightsDeskewsEachImageFirst() throws {
        try withTemporaryDirectory(prefix: "deskew") { directory in
            let testSet = try EnsembleTests.testSet.get()
            let images = (0..<12).map { EnsembleTests.pixels(testSet, $0) }
            let predictor = try Predictor(weights: try Self.deskewedLeNet5(in: directory))
            #expect(predictor.deskew)
            let plain = try Predictor(weights: try EnsembleTests.lenet5URL.get())
            #expect(!plain.deskew)
            let upright = images.map { Deskewing.deskewed($0, rows: 28, columns: 28) }
            #expect(predictor.predict(images: images) == plain.predict(images: upright))
            // The digits do lean, so deskewing changes what the model is given.
            #expect(plain.predict(images: images) != plain.predict(images: upright))
            #expect(
                try Ensemble(weights: [directory.appendingPathComponent("lenet5-deskew.safetensors")]).members[0].deskew
            )
        }
    }

    @Test func evaluateDeskewsTheTestImagesForDeskewedWeightsAloneAndInAnEnsemble() throws {
        try withTemporaryDirectory(prefix: "deskew-command") { directory in
            try EnsembleCommandTests.writeTestSet(count: 300, in: directory)
            let deskewed = try Self.deskewedLeNet5(in: directory).path
            let plain = try EnsembleTests.lenet5URL.get().path
            let testSet = try EnsembleTests.testSet.get()
            let (_, model, _) = try WeightsFile.read(from: URL(fileURLWithPath: plain))
            let onDeskewed = Evaluation(outcomes: classify(model: model, on: testSet.deskewed())).correct
            let onWritten = Evaluation(outcomes: classify(model: model, on: testSet)).correct
            // The fixture was trained on the digits as written, so the two counts differ and tell the paths apart.
            #expect(onDeskewed != onWritten)

            let alone = try EnsembleCommandTests.run(["evaluate", "--weights", deskewed, "--data", directory.path])
            #expect(alone.status == 0, "\(alone.error)")
            #expect(alone.output.contains("Accuracy: \(formatPercent(Double(onDeskewed) / 300)) (\(onDeskewed)/300)"))

            let both = try EnsembleCommandTests.run([
                "evaluate", "--weights", deskewed, plain, "--data", directory.path,
            ])
            #expect(both.status == 0, "\(both.error)")
            #expect(both.output.contains("  1. lenet5 \(deskewed): \(formatPercent(Double(onDeskewed) / 300)) "))
            #expect(both.output.contains("  2. lenet5 \(plain): \(formatPercent(Double(onWritten) / 300)) "))
        }
    }

    @Test func trainDeskewsAndSaysSoInTheWeightsAndExportRefusesThem() throws {
        try withTemporaryDirectory(prefix: "deskew-train") { directory in
            try HostileInputTests.writeDataset(in: directory, count: 64)
            let output = directory.appendingPathComponent("mlp.safetensors")
            let trained = try HostileInputTests.run([
                "train", "--model", "mlp", "--epochs", "1", "--deskew", "--data", directory.path, "--output",
                output.path,
            ])
            #expect(trained.status == 0, "\(trained.error)")
            #expect(trained.output.contains(", deskewed"), "\(trained.output)")
            #expect(
                trained.output.contains("Time: ") && trained.output.contains(" (reading the data and deskewing it "))
            #expect(try WeightsFile.read(from: output).metadata["deskew"] == "true")
            #expect(try Predictor(weights: output).deskew)

            let exported = try HostileInputTests.run(["export", "--weights", output.path])
            HostileInputTests.expectCleanFailure(exported, containing: "was trained on deskewed digits")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("mlp.onnx").path))
        }
    }
}
