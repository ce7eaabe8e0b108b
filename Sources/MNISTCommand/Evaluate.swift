import ArgumentParser
import Foundation
import Kernels
import MNIST
import Reports

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Test a weights file on the MNIST test set: accuracy, per-class precision and recall, confusion matrix.",
        discussion: """
            With --report DIR, also writes into DIR: confusion.csv and confusion.png (the confusion matrix), \
            mistakes.csv and mistakes.png (the wrongly classified test images, most confident first), \
            curves.svg (the learning curves from the training run's metrics file) and report.md, which sums it up.
            """)

    @Option(
        help: ArgumentHelp(
            "A weights file written by `mnist train` or by PyTorch (safetensors with a model name in its metadata).",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var weights: String
    @Flag(
        help:
            "Normalise pixels with MNIST's mean and std (for weights trained that way; read from the file's metadata when it says)."
    )
    var normalize = false
    @Flag(
        help:
            "Test on the test images randomly rotated, scaled and shifted as `mnist train --augment` transforms its images: how well the model copes with digits written tilted, larger, smaller or off-centre."
    )
    var augment = false
    @Option(help: "Seeds the random transforms of --augment.")
    var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Write a report (confusion matrix, mistakes, learning curves, summary) into this folder.", valueName: "dir"),
        completion: .directory)
    var report: String?
    @Option(
        help: ArgumentHelp(
            "The training run's metrics for the report's learning curves (default: the weights path with .metrics.jsonl for its extension, as `mnist train` names it; skipped when that is absent).",
            valueName: "file"),
        completion: .file(extensions: ["jsonl"]))
    var metrics: String?
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if metrics != nil && report == nil { throw ValidationError("--metrics is for the report: add --report DIR") }
        if augment && report != nil {
            throw ValidationError(
                "--report draws the test images as they are, so it does not go with --augment: run them separately")
        }
    }

    func run() throws {
        try threadOptions.apply()
        // The report's folder first: a report that cannot be written should fail before the evaluation's work.
        if let report { try OutputPaths.checkFolder(option: "--report", URL(fileURLWithPath: report)) }
        let weightsURL = URL(fileURLWithPath: weights)
        let (kind, model, metadata) = try WeightsFile.read(from: weightsURL)
        // The metrics first, so a bad file stops the command before the evaluation's work.
        let (history, metricsURL) = report == nil ? ([], nil) : try readHistory(weightsURL: weightsURL)
        let testSet = try dataOptions.load(.test)
        let normalization: DataLoader.Normalization? = (normalize || metadata["normalize"] == "true") ? .mnist : nil
        let start = Date()
        let outcomes = classify(
            model: model, on: testSet, normalization: normalization, augmentation: augment ? .mnist : nil,
            augmentationSeed: seed)
        let seconds = Date().timeIntervalSince(start)
        let evaluation = Evaluation(outcomes: outcomes)
        print(
            "Model: \(kind.rawValue), \(testSet.imageCount) test images"
                + (augment ? ", each randomly rotated, scaled and shifted (seed \(seed))" : ""))
        // The whole classification pass (preparing batches, the forward passes, the argmax), on --threads cores.
        print(
            "Inference: \(String(format: "%.0f", Double(testSet.imageCount) / max(seconds, 1e-9))) images/s "
                + "(\(String(format: "%.3f", seconds)) s, \(Parallel.threadCount) threads)")
        print("Accuracy: \(formatPercent(evaluation.accuracy)) (\(evaluation.correct)/\(evaluation.total))")
        print()
        print(evaluation.report)

        guard let report else { return }
        let directory = URL(fileURLWithPath: report)
        let files = try EvaluationReport(
            modelName: kind.rawValue, weightsPath: weights, testSet: testSet, outcomes: outcomes,
            history: history, metricsPath: metricsURL?.path
        ).write(to: directory)
        print()
        print(
            "Report: \(directory.appendingPathComponent("report.md").path) (with \(files.map(\.lastPathComponent).filter { $0 != "report.md" }.joined(separator: ", ")))"
        )
    }

    /// The training run's epochs for the learning curves, and the file they came from (nil, with a note on
    /// standard error, when the default metrics file is absent or holds no epochs).
    func readHistory(weightsURL: URL) throws -> ([EpochRecord], URL?) {
        let url = URL(fileURLWithPath: metrics ?? weightsURL.deletingPathExtension().path + ".metrics.jsonl")
        guard metrics != nil || FileManager.default.fileExists(atPath: url.path) else {
            printError("note: no metrics file at \(url.path) (pass --metrics FILE); the report has no learning curves")
            return ([], nil)
        }
        let history: [EpochRecord]
        do {
            history = try EpochRecord.readMetrics(from: url)
        } catch let error as MetricsFileError {
            throw ExitError(message: error.description)
        } catch {
            throw ExitError(message: "cannot read the metrics file \(url.path): \(error.localizedDescription)")
        }
        guard !history.isEmpty else {
            printError("note: \(url.path) has no epochs; the report has no learning curves")
            return ([], nil)
        }
        return (history, url)
    }
}
