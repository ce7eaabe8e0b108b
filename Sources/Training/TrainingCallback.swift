import Foundation

/// Told of a `Learner.fit` run's progress (Keras's and PyTorch Lightning's callbacks), in this order:
/// `trainingWillBegin`; for each epoch `epochWillBegin`, `batchDidEnd` after each batch, `epochDidEnd`
/// once the epoch is trained and validated; then `trainingDidEnd`. Every method does nothing unless a
/// conforming type implements it. A callback may end the run after the epoch in progress with
/// `learner.stop()`, and an error it throws ends the run at once.
public protocol TrainingCallback: AnyObject {
    func trainingWillBegin(_ learner: Learner) throws
    /// `epoch` counts from 1.
    func epochWillBegin(_ epoch: Int, learner: Learner) throws
    func batchDidEnd(_ progress: EpochProgress, learner: Learner) throws
    /// After `metrics` was appended to `learner.history`.
    func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws
    func trainingDidEnd(_ learner: Learner) throws
}

extension TrainingCallback {
    public func trainingWillBegin(_ learner: Learner) throws {}
    public func epochWillBegin(_ epoch: Int, learner: Learner) throws {}
    public func batchDidEnd(_ progress: EpochProgress, learner: Learner) throws {}
    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {}
    public func trainingDidEnd(_ learner: Learner) throws {}
}

/// Writes a line per epoch through `write` (standard output unless told): the training loss and accuracy,
/// and the validation's when measured; and every `batchInterval` batches (0: never) the progress line
/// `EpochProgress.line(label:)`.
public final class ProgressLogger: TrainingCallback {
    public let batchInterval: Int
    private let write: (String) -> Void

    public init(batchInterval: Int = 0, write: @escaping (String) -> Void = { print($0) }) {
        self.batchInterval = max(batchInterval, 0)
        self.write = write
    }

    public func batchDidEnd(_ progress: EpochProgress, learner: Learner) {
        guard batchInterval > 0, progress.batchesDone % batchInterval == 0 else { return }
        write(progress.line(label: "epoch \(learner.completedEpochs + 1)"))
    }

    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) {
        func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }
        var line =
            "Epoch \(metrics.epoch): training loss \(String(format: "%.4f", metrics.trainingLoss)), "
            + "accuracy \(percent(metrics.trainingAccuracy))"
        if let loss = metrics.validationLoss, let accuracy = metrics.validationAccuracy {
            line += "; validation loss \(String(format: "%.4f", loss)), accuracy \(percent(accuracy))"
        }
        write(line + String(format: " (%.2f s)", metrics.seconds))
    }
}

/// Writes the learner's history to `url` after every epoch, one JSON object (`EpochMetrics`) a line,
/// replacing the file atomically: a restored learner's file continues with the epochs before it.
public final class MetricsLogger: TrainingCallback {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let lines = try learner.history.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }
        try AtomicFile.write(Array(lines.joined().utf8), to: url)
    }
}

/// Saves a checkpoint to `url` after every epoch (`Learner.saveCheckpoint(to:metadata:)`), which
/// `Learner.restoreCheckpoint(from:)` continues from.
public final class ModelCheckpoint: TrainingCallback {
    public let url: URL
    public let metadata: [String: String]

    public init(url: URL, metadata: [String: String] = [:]) {
        self.url = url
        self.metadata = metadata
    }

    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {
        try learner.saveCheckpoint(to: url, metadata: metadata)
    }
}

/// Stops training once the watched metric has not improved by more than `minimumImprovement` for
/// `patience` epochs in a row (Keras's `EarlyStopping`).
public final class EarlyStopping: TrainingCallback {
    /// A metric of `EpochMetrics` and which way is better.
    public enum Metric: String, Sendable {
        case validationLoss, validationAccuracy, trainingLoss

        func value(in metrics: EpochMetrics) -> Double? {
            switch self {
            case .validationLoss: metrics.validationLoss
            case .validationAccuracy: metrics.validationAccuracy
            case .trainingLoss: metrics.trainingLoss
            }
        }

        var higherIsBetter: Bool { self == .validationAccuracy }
    }

    public let metric: Metric
    public let patience: Int
    public let minimumImprovement: Double
    /// The best value seen in this run, and the epochs since it.
    public private(set) var best: Double?
    public private(set) var epochsWithoutImprovement = 0

    public init(metric: Metric = .validationLoss, patience: Int = 3, minimumImprovement: Double = 0) {
        self.metric = metric
        self.patience = max(patience, 1)
        self.minimumImprovement = max(minimumImprovement, 0)
    }

    public func trainingWillBegin(_ learner: Learner) {
        best = nil
        epochsWithoutImprovement = 0
    }

    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {
        guard let value = metric.value(in: metrics) else { throw LearnerError.missingMetric(metric.rawValue) }
        // A value that is not finite never counts as an improvement.
        let improved =
            value.isFinite
            && (best.map { (metric.higherIsBetter ? value - $0 : $0 - value) > minimumImprovement } ?? true)
        if improved {
            best = value
            epochsWithoutImprovement = 0
        } else {
            epochsWithoutImprovement += 1
            if epochsWithoutImprovement >= patience { learner.stop() }
        }
    }
}
