import Foundation

/// How a classifier did on a labelled set: the confusion matrix and what follows from it.
public struct Evaluation: Sendable, Equatable {
    /// confusion[label][prediction]: how many images of class `label` were predicted as `prediction`.
    public let confusion: [[Int]]

    /// No images yet: a `classCount` × `classCount` confusion matrix of zeros.
    public init(classCount: Int = 10) {
        confusion = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
    }

    /// The evaluation whose confusion matrix is `confusion` (square, indexed [label][prediction]).
    public init(confusion: [[Int]]) {
        self.confusion = confusion
    }

    /// Adds one batch's predictions.
    public func adding(labels: [Int32], predictions: [Int]) -> Evaluation {
        var matrix = confusion
        for (label, prediction) in zip(labels, predictions) { matrix[Int(label)][prediction] += 1 }
        return Evaluation(confusion: matrix)
    }

    /// How many classes: the confusion matrix's rows.
    public var classCount: Int { confusion.count }
    /// How many images were predicted: the sum of the confusion matrix.
    public var total: Int { confusion.joined().reduce(0, +) }
    /// How many images were predicted as their label: the sum of the confusion matrix's diagonal.
    public var correct: Int { (0..<classCount).reduce(0) { $0 + confusion[$1][$1] } }
    /// Correct predictions as a fraction of all, 0 for an empty set.
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Of the images predicted as `digit`, the fraction that were `digit` (nil when none were predicted).
    public func precision(of digit: Int) -> Double? {
        let predicted = (0..<classCount).reduce(0) { $0 + confusion[$1][digit] }
        return predicted == 0 ? nil : Double(confusion[digit][digit]) / Double(predicted)
    }

    /// Of the images of `digit`, the fraction predicted as `digit` (nil when there were none).
    public func recall(of digit: Int) -> Double? {
        let actual = confusion[digit].reduce(0, +)
        return actual == 0 ? nil : Double(confusion[digit][digit]) / Double(actual)
    }

    /// Per-class precision and recall and the confusion matrix, as text for a terminal.
    public var report: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%6.2f%%", $0 * 100) } ?? "     – " }
        var lines = ["digit  precision  recall   images"]
        for digit in 0..<classCount {
            lines.append(
                "  \(digit)     \(percent(precision(of: digit)))  \(percent(recall(of: digit)))  \(String(format: "%6d", confusion[digit].reduce(0, +)))"
            )
        }
        lines.append("")
        lines.append("confusion matrix (rows: true digit, columns: predicted digit)")
        lines.append("      " + (0..<classCount).map { String(format: "%6d", $0) }.joined())
        for digit in 0..<classCount {
            lines.append(String(format: "%6d", digit) + confusion[digit].map { String(format: "%6d", $0) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

/// "xx.xx%" as the tutorial prints accuracies.
public func formatPercent(_ fraction: Double) -> String {
    String(format: "%.2f%%", fraction * 100)
}
