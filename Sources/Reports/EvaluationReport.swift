import Foundation
import Imaging
import MNIST
import Preconditions

/// The files `mnist evaluate --report DIR` writes about a model tested on a labelled set: the confusion
/// matrix as CSV and as a heat map, the most confident mistakes as CSV and as a labelled grid of digits,
/// the learning curves from the training run's metrics as SVG, and a Markdown summary linking them.
///
/// The pictures are in ReportImages.swift, the curves in LearningCurves.swift (drawn by `SVGDrawing`), the
/// summary in Markdown.swift.
public struct EvaluationReport {
    /// How the model is named in the summary, e.g. "lenet5".
    public let modelName: String
    /// The weights file, as the summary should show it.
    public let weightsPath: String
    public let testSet: MNISTDataset
    /// One per image of `testSet`, in order.
    public let outcomes: [ImageOutcome]
    public let evaluation: Evaluation
    /// The training run's epochs, empty when there is no metrics file.
    public let history: [EpochRecord]
    /// The metrics file the history came from, as the summary should show it.
    public let metricsPath: String?
    /// How many mistakes `mistakes.png` shows (`mistakes.csv` lists them all).
    public let mistakeTileCount: Int

    public init(
        modelName: String, weightsPath: String, testSet: MNISTDataset, outcomes: [ImageOutcome],
        history: [EpochRecord] = [], metricsPath: String? = nil, mistakeTileCount: Int = 50
    ) {
        checkPrecondition(
            outcomes.count == testSet.imageCount, "\(outcomes.count) outcomes for \(testSet.imageCount) images")
        self.modelName = modelName
        self.weightsPath = weightsPath
        self.testSet = testSet
        self.outcomes = outcomes
        evaluation = Evaluation(outcomes: outcomes)
        self.history = history
        self.metricsPath = metricsPath
        self.mistakeTileCount = mistakeTileCount
    }

    /// The wrongly classified images, most confident first (ties, and mistakes without a probability last,
    /// in test-set order).
    public var mistakes: [ImageOutcome] {
        outcomes.filter { !$0.isCorrect }.sorted {
            ($1.probability ?? 0, $0.index) < ($0.probability ?? 0, $1.index)
        }
    }

    /// The names of the files a report may write into its folder.
    public static let fileNames = [
        "confusion.csv", "confusion.png", "mistakes.csv", "mistakes.png", "curves.svg", "report.md",
    ]

    /// Writes the report into `directory`, creating it if needed, and returns the files written:
    /// confusion.csv, confusion.png, mistakes.csv, mistakes.png (when there are mistakes), curves.svg (when
    /// there is a history) and report.md.
    public func write(to directory: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [(name: String, bytes: [UInt8])] = [
            ("confusion.csv", Array(confusionCSV.utf8)),
            ("confusion.png", PNGEncoder.encode(confusionImage())),
            ("mistakes.csv", Array(mistakesCSV.utf8)),
        ]
        if let image = mistakesImage() { files.append(("mistakes.png", PNGEncoder.encode(image))) }
        if let svg = learningCurvesSVG() { files.append(("curves.svg", Array(svg.utf8))) }
        files.append(("report.md", Array(markdown.utf8)))
        return try files.map { name, bytes in
            let url = directory.appendingPathComponent(name)
            try AtomicFile.write(bytes, to: url)
            return url
        }
    }

    /// The confusion matrix with a header row and column of digits: row `label`, column `prediction`.
    public var confusionCSV: String {
        let digits = 0..<evaluation.classCount
        var lines = ["true\\predicted," + digits.map(String.init).joined(separator: ",")]
        for digit in digits {
            lines.append("\(digit)," + evaluation.confusion[digit].map(String.init).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every mistake, most confident first, after a header line: index in the test set, true label,
    /// prediction, and the probability the model gave the prediction (empty where the outcome has none).
    public var mistakesCSV: String {
        (["index,label,prediction,probability"]
            + mistakes.map { mistake in
                let probability = mistake.probability.map { String(format: "%.6f", $0) } ?? ""
                return "\(mistake.index),\(mistake.label),\(mistake.prediction),\(probability)"
            })
            .joined(separator: "\n") + "\n"
    }
}
