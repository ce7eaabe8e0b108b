import ArgumentParser
import Foundation
import MNIST

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test a weights file on the MNIST test set: accuracy, per-class precision and recall, confusion matrix.")

    @Option(help: ArgumentHelp("A weights file written by `mnist train` or by PyTorch (safetensors with a model name in its metadata).", valueName: "file"))
    var weights: String
    @Flag(help: "Normalise pixels with MNIST's mean and std (for weights trained that way; read from the file's metadata when it says).")
    var normalize = false
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        let (kind, model, metadata) = try WeightsFile.read(from: URL(fileURLWithPath: weights))
        let testSet = try dataOptions.load(.test)
        let normalization: DataLoader.Normalization? = (normalize || metadata["normalize"] == "true") ? .mnist : nil
        let evaluation = MNIST.evaluate(model: model, on: testSet, normalization: normalization)
        print("Model: \(kind.rawValue), \(testSet.imageCount) test images")
        print("Accuracy: \(formatPercent(evaluation.accuracy)) (\(evaluation.correct)/\(evaluation.total))")
        print()
        print(evaluation.report)
    }
}
