import Foundation
import MNIST

extension EvaluationReport {
    /// The Markdown summary: accuracy, per-class precision and recall, and the other files, linked.
    public var markdown: String {
        func percent(_ value: Double?) -> String { value.map(formatPercent) ?? "–" }
        let mistakeCount = evaluation.total - evaluation.correct
        var lines = [
            "# MNIST evaluation: \(modelName)",
            "",
            "- Weights: `\(weightsPath)`",
            "- Test images: \(evaluation.total)",
            "- Accuracy: **\(formatPercent(evaluation.accuracy))** (\(evaluation.correct)/\(evaluation.total) correct, \(mistakeCount) mistakes)",
            "",
            "## Precision and recall per digit",
            "",
            "| digit | precision | recall | images |",
            "|---:|---:|---:|---:|",
        ]
        for digit in 0..<evaluation.classCount {
            lines.append(
                "| \(digit) | \(percent(evaluation.precision(of: digit))) | \(percent(evaluation.recall(of: digit))) | \(evaluation.confusion[digit].reduce(0, +)) |"
            )
        }
        lines += [
            "",
            "## Confusion matrix",
            "",
            "Rows are the true digits, columns the predictions; darker cells hold more images (on a logarithmic scale), "
                + "the diagonal (correct answers) is framed. Counts: [confusion.csv](confusion.csv).",
            "",
            "![Confusion matrix](confusion.png)",
            "",
            "## Most confident mistakes",
            "",
        ]
        if mistakeCount == 0 {
            lines.append(
                "The model got every test image right, so there is no mistakes.png; [mistakes.csv](mistakes.csv) is empty."
            )
        } else {
            lines += [
                "The \(min(mistakeTileCount, mistakeCount)) wrongly classified test images the model was surest of, most confident first, "
                    + "each captioned *true digit → prediction, probability of the prediction*. "
                    + "All \(mistakeCount) mistakes, in the same order: [mistakes.csv](mistakes.csv) "
                    + "(index in the test set, label, prediction, probability).",
                "",
                "![Most confident mistakes](mistakes.png)",
            ]
        }
        lines += ["", "## Learning curves", ""]
        if let last = history.last {
            lines += [
                "From `\(metricsPath ?? "the training metrics")`: \(history.count) epochs; after the last, test accuracy "
                    + "\(formatPercent(last.testAccuracy)), training accuracy \(formatPercent(last.trainingAccuracy)), "
                    + "training loss \(String(format: "%.4f", last.trainingLoss)).",
                "",
                "![Learning curves](curves.svg)",
            ]
        } else {
            lines.append("No training metrics were found, so there are no learning curves.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
