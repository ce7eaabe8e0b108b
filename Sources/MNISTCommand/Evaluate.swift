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

            With several weights files (`--weights A B C`, any mix of models), prints each model's accuracy, \
            then the ensemble's: the mean of the models' class probabilities (each model's softmax). With \
            --tta, each model's probabilities are first averaged over 7 fixed views of each image (as it is, \
            shifted by one pixel left, right, up and down, rotated by 10° either way); the accuracies without \
            it are printed too.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "A weights file written by `mnist train` or by PyTorch (safetensors with a model name in its metadata); several make an ensemble, which averages their models' class probabilities.",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var weights: [String]
    @Flag(
        help:
            "Normalise pixels with MNIST's mean and std (for weights trained that way; read from the file's metadata when it says). With several weights files, for every one."
    )
    var normalize = false
    @Flag(
        help:
            "Test-time augmentation: average each model's probabilities over 7 views of each test image: as it is, shifted by one pixel left, right, up and down, and rotated by 10° either way."
    )
    var tta = false
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
        guard !weights.isEmpty else { throw ValidationError("name a weights file: --weights FILE [FILE…]") }
        // An empty path would name the current folder, where the report would land unasked.
        if report == "" { throw ValidationError("--report needs a folder to write into: the path given is empty") }
        if metrics != nil && report == nil { throw ValidationError("--metrics is for the report: add --report DIR") }
        if metrics != nil && weights.count > 1 {
            throw ValidationError(
                "--metrics is one training run's: an ensemble's report has no learning curves, so leave it out")
        }
        if tta && augment {
            throw ValidationError(
                "--tta averages fixed views of the test images as they are, --augment draws random ones: run them separately"
            )
        }
        if augment && report != nil {
            throw ValidationError(
                "--report draws the test images as they are, so it does not go with --augment: run them separately")
        }
    }

    func run() throws {
        try requireMatrixProducts()
        try threadOptions.apply()
        // The report's folder first: a report that cannot be written should fail before the evaluation's work.
        if let report { try checkReportFolder(URL(fileURLWithPath: report)) }
        if weights.count > 1 || tta {
            try evaluateAveraged()
        } else {
            try evaluateOne(weights: weights[0])
        }
    }

    /// Throws unless the report can be written into `folder` without replacing an input: the folder is
    /// writable or can be created, and none of the report's files (`EvaluationReport.fileNames`) is a weights
    /// or metrics file given, a folder, or another kind of file that cannot be replaced.
    func checkReportFolder(_ folder: URL) throws {
        try OutputPaths.checkFolder(option: "--report", folder)
        // A folder still to be created holds nothing a report file could replace.
        guard FileManager.default.fileExists(atPath: folder.path) else { return }
        try OutputPaths.check(
            outputs: EvaluationReport.fileNames.map { ("--report", folder.appendingPathComponent($0)) },
            inputs: weights.map { ("--weights", URL(fileURLWithPath: $0)) }
                + (metrics.map { [("--metrics", URL(fileURLWithPath: $0))] } ?? []))
    }

    /// One model, as it is: its accuracy, per-class figures and confusion matrix.
    func evaluateOne(weights: String) throws {
        let weightsURL = URL(fileURLWithPath: weights)
        let (kind, model, metadata) = try WeightsFile.read(from: weightsURL)
        // The metrics first, so a bad file stops the command before the evaluation's work.
        let (history, metricsURL) = report == nil ? ([], nil) : try readHistory(weightsURL: weightsURL)
        let testSet = try dataOptions.load(.test)
        let normalization: DataLoader.Normalization? = (normalize || metadata["normalize"] == "true") ? .mnist : nil
        // A model trained on preprocessed digits sees the test digits preprocessed the same way; the report
        // shows them as written.
        let inputSet = try WeightsFile.preprocessing(metadata, of: weightsURL).apply(to: testSet)
        let start = Date()
        let outcomes = classify(
            model: model, on: inputSet, normalization: normalization, augmentation: augment ? .mnist : nil,
            augmentationSeed: seed)
        let seconds = Date().timeIntervalSince(start)
        try requireFiniteProbabilities(outcomes)
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

        try writeReport(
            modelName: kind.rawValue, testSet: testSet, outcomes: outcomes, history: history, metricsURL: metricsURL)
    }

    /// Several models, or one with test-time augmentation: each model's class probabilities for every test
    /// image (averaged over the views with --tta), then their mean over the models.
    func evaluateAveraged() throws {
        let ensemble: Ensemble
        do {
            ensemble = try Ensemble(weights: weights.map { URL(fileURLWithPath: $0) })
        } catch let error as EnsembleError {
            throw ExitError(message: error.description)
        }
        let single = weights.count == 1
        let (history, metricsURL) =
            report == nil || !single ? ([], nil) : try readHistory(weightsURL: URL(fileURLWithPath: weights[0]))
        let testSet = try dataOptions.load(.test)
        // The first view of `.mnist` is the image as it is: its probabilities are the plain ones.
        let views = tta ? TestTimeAugmentation.mnist.views : [TestTimeAugmentation.identity.views[0]]
        var plain: [[Float]] = [], augmented: [[Float]] = []
        let start = Date()
        // Each preprocessing's test set made once, for the members trained on digits preprocessed that way.
        var preprocessedTestSets: [InputPreprocessing: MNISTDataset] = [:]
        for member in ensemble.members {
            let model = member.makeModel()
            let normalization = normalize ? .mnist : member.normalization
            let memberTestSet =
                preprocessedTestSets[member.preprocessing] ?? member.preprocessing.apply(to: testSet)
            preprocessedTestSets[member.preprocessing] = memberTestSet
            if augment {
                plain.append(
                    classProbabilities(
                        model: model, on: memberTestSet, normalization: normalization, augmentation: .mnist,
                        augmentationSeed: seed))
                continue
            }
            let perView = views.map {
                classProbabilities(
                    model: model, on: memberTestSet, normalization: normalization, transform: $0.transform)
            }
            plain.append(perView[0])
            if tta { augmented.append(Ensemble.average(perView)) }
        }
        let seconds = Date().timeIntervalSince(start)
        // Before any accuracy is printed: every model's probabilities for every image, views included.
        for probabilities in plain + augmented {
            if let bad = probabilities.firstIndex(where: { !$0.isFinite }) {
                throw overflowError(image: bad / 10, probability: probabilities[bad])
            }
        }

        let labels = testSet.labels
        func accuracy(_ probabilities: [Float]) -> String {
            let evaluation = Evaluation(outcomes: ImageOutcome.outcomes(probabilities: probabilities, labels: labels))
            return "\(formatPercent(evaluation.accuracy)) (\(evaluation.correct)/\(evaluation.total))"
        }
        let names = ensemble.modelNames
        let modelName = single ? names[0] : "ensemble of \(names.joined(separator: ", "))"
        let ttaNote = tta ? ", each averaged over \(views.count) views (test-time augmentation)" : ""
        let augmentNote = augment ? ", each randomly rotated, scaled and shifted (seed \(seed))" : ""
        if single {
            print("Model: \(names[0]), \(testSet.imageCount) test images\(ttaNote)")
        } else {
            print(
                "Ensemble of \(names.count) models (the mean of their probabilities), \(testSet.imageCount) test images\(ttaNote)\(augmentNote)"
            )
            for (index, path) in weights.enumerated() {
                let withTTA = tta ? ", with test-time augmentation \(accuracy(augmented[index]))" : ""
                print("  \(index + 1). \(names[index]) \(path): \(accuracy(plain[index]))\(withTTA)")
            }
        }
        let passes = (single ? "" : "\(names.count) models × ") + "\(views.count) view\(views.count == 1 ? "" : "s")"
        print(
            "Inference: \(String(format: "%.0f", Double(testSet.imageCount) / max(seconds, 1e-9))) images/s "
                + "(\(String(format: "%.3f", seconds)) s, \(passes), \(Parallel.threadCount) threads)")
        if tta { print("Accuracy without test-time augmentation: \(accuracy(Ensemble.average(plain)))") }
        let outcomes = ImageOutcome.outcomes(
            probabilities: Ensemble.average(tta ? augmented : plain), labels: labels)
        let evaluation = Evaluation(outcomes: outcomes)
        print("Accuracy: \(formatPercent(evaluation.accuracy)) (\(evaluation.correct)/\(evaluation.total))")
        print()
        print(evaluation.report)
        try writeReport(
            modelName: modelName + (tta ? " with test-time augmentation" : ""), testSet: testSet, outcomes: outcomes,
            history: history, metricsURL: metricsURL)
    }

    /// Stops with an error when the models gave an image a probability that is not a number (weights finite but
    /// so large that the logits overflow), rather than report an accuracy of answers read from NaNs.
    func requireFiniteProbabilities(_ outcomes: [ImageOutcome]) throws {
        guard let bad = outcomes.first(where: { $0.probability.map { !$0.isFinite } ?? false }) else { return }
        throw overflowError(image: bad.index, probability: bad.probability!)
    }

    /// The error for a probability that is not a number, naming the weights and the test image.
    func overflowError(image: Int, probability: Float) -> ExitError {
        ExitError(
            message:
                "\(weights.joined(separator: ", ")): the model gave test image \(image) a probability of \(probability); its weights may be broken (values so large that its outputs overflow)"
        )
    }

    /// Writes the --report folder, if asked for.
    func writeReport(
        modelName: String, testSet: MNISTDataset, outcomes: [ImageOutcome], history: [EpochRecord], metricsURL: URL?
    ) throws {
        guard let report else { return }
        let directory = URL(fileURLWithPath: report)
        let files = try EvaluationReport(
            modelName: modelName, weightsPath: weights.joined(separator: ", "), testSet: testSet, outcomes: outcomes,
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
