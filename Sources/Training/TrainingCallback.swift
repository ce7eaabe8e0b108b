import Foundation

/// Told of a `Learner.fit` run's progress (Keras's and PyTorch Lightning's callbacks), in this order:
/// `trainingWillBegin`; for each epoch `epochWillBegin`, `batchDidEnd` after each batch, `epochDidEnd`
/// once the epoch is trained and validated; then `trainingDidEnd`. Every method does nothing unless a
/// conforming type implements it. A callback may end the run after the epoch in progress with
/// `learner.stop()`, and an error it throws ends the run at once.
public protocol TrainingCallback: AnyObject {
    /// Before the first epoch of `fit`.
    func trainingWillBegin(_ learner: Learner) throws
    /// `epoch` counts from 1.
    func epochWillBegin(_ epoch: Int, learner: Learner) throws
    /// After each training batch, with where the epoch's training pass stands.
    func batchDidEnd(_ progress: EpochProgress, learner: Learner) throws
    /// After `metrics` was appended to `learner.history`.
    func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws
    /// When `fit` ends without an error: after its last epoch, or the epoch in which a callback called `stop()`.
    func trainingDidEnd(_ learner: Learner) throws
}

extension TrainingCallback {
    /// Does nothing.
    public func trainingWillBegin(_ learner: Learner) throws {}
    /// Does nothing.
    public func epochWillBegin(_ epoch: Int, learner: Learner) throws {}
    /// Does nothing.
    public func batchDidEnd(_ progress: EpochProgress, learner: Learner) throws {}
    /// Does nothing.
    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {}
    /// Does nothing.
    public func trainingDidEnd(_ learner: Learner) throws {}
}

/// Writes a line per epoch through `write` (standard output unless told): the training loss and accuracy,
/// and the validation's when measured; and every `batchInterval` batches (0: never) the progress line
/// `EpochProgress.line(label:)`.
public final class ProgressLogger: TrainingCallback {
    /// Batches between progress lines; 0 for none.
    public let batchInterval: Int
    private let write: (String) -> Void

    /// A logger writing through `write` (`print` by default), with a progress line every `batchInterval` batches (0,
    /// the default, or less: none).
    public init(batchInterval: Int = 0, write: @escaping (String) -> Void = { print($0) }) {
        self.batchInterval = max(batchInterval, 0)
        self.write = write
    }

    /// Writes `progress.line(label:)`, labelled with the epoch's number, after every `batchInterval`-th batch.
    public func batchDidEnd(_ progress: EpochProgress, learner: Learner) {
        guard batchInterval > 0, progress.batchesDone % batchInterval == 0 else { return }
        write(progress.line(label: "epoch \(learner.completedEpochs + 1)"))
    }

    /// Writes the epoch's training loss and accuracy, the validation's when measured, and its seconds.
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
    /// The file written, one JSON object a line.
    public let url: URL

    /// A logger writing the history to `url`.
    public init(url: URL) {
        self.url = url
    }

    /// Replaces the file at `url` with `learner.history`, one JSON object (keys sorted) a line.
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
    /// The checkpoint file, replaced after every epoch.
    public let url: URL
    /// Added to every checkpoint's metadata.
    public let metadata: [String: String]

    /// Checkpoints to `url` with `metadata` (none by default) added.
    public init(url: URL, metadata: [String: String] = [:]) {
        self.url = url
        self.metadata = metadata
    }

    /// Saves the learner's checkpoint to `url` (`Learner.saveCheckpoint(to:metadata:)`).
    public func epochDidEnd(_ metrics: EpochMetrics, learner: Learner) throws {
        try learner.saveCheckpoint(to: url, metadata: metadata)
    }
}

/// Stops training once the watched metric has not improved by more than `minimumImprovement` for
/// `patience` epochs in a row (Keras's `EarlyStopping`).
public final class EarlyStopping: TrainingCallback {
    /// A metric of `EpochMetrics` and which way is better.
    public enum Metric: String, Sendable {
        /// The validation loss and the training loss improve downwards, the validation accuracy upwards.
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

    /// The metric watched.
    public let metric: Metric
    /// The epochs in a row without improvement after which training stops (at least 1).
    public let patience: Int
    /// How much a value must beat the best so far by to count as an improvement (0 or more).
    public let minimumImprovement: Double
    /// The best value seen in this run, and the epochs since it.
    public private(set) var best: Double?
    /// The epochs in a row that did not improve on `best`, 0 after an improvement.
    public private(set) var epochsWithoutImprovement = 0

    /// Stops after `patience` epochs (3 by default; less counts as 1) in which `metric` (the validation loss by
    /// default) did not improve by more than `minimumImprovement` (0 by default; less counts as 0).
    public init(metric: Metric = .validationLoss, patience: Int = 3, minimumImprovement: Double = 0) {
        self.metric = metric
        self.patience = max(patience, 1)
        self.minimumImprovement = max(minimumImprovement, 0)
    }

    /// Forgets the best value and the count of an earlier run.
    public func trainingWillBegin(_ learner: Learner) {
        best = nil
        epochsWithoutImprovement = 0
    }

    /// Compares the epoch's value of `metric` with the best so far (a value that is not finite never improves) and
    /// stops the learner after `patience` epochs without improvement. Throws `LearnerError.missingMetric` when the
    /// epoch did not measure `metric`.
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
