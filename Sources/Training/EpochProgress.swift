import Foundation

/// Where an epoch's training pass stands after a batch, as `Learner.trainEpoch(on:epoch:progress:)` reports it.
public struct EpochProgress: Sendable, Equatable {
    /// Batches trained on so far in this epoch.
    public var batchesDone: Int
    /// Batches in the epoch.
    public var batchCount: Int
    /// Images trained on so far in this epoch.
    public var imagesDone: Int
    /// Time since the epoch's training pass began.
    public var elapsed: Duration
    /// The mean training loss over this epoch's images so far.
    public var runningLoss: Double

    /// Progress after `batchesDone` of `batchCount` batches, `imagesDone` images and `elapsed` time, with the mean
    /// loss so far `runningLoss`.
    public init(batchesDone: Int, batchCount: Int, imagesDone: Int, elapsed: Duration, runningLoss: Double) {
        self.batchesDone = batchesDone
        self.batchCount = batchCount
        self.imagesDone = imagesDone
        self.elapsed = elapsed
        self.runningLoss = runningLoss
    }

    /// Seconds since the epoch's training pass began.
    public var elapsedSeconds: Double {
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// A progress-bar line: `LABEL [bar] DONE/TOTAL  RATE img/s  loss LOSS  ETA M:SS`. The rate is the
    /// images trained on per second so far and the time left assumes the batches to come take as long as
    /// those done; both read `--` before any time has passed or any batch is done.
    public func line(label: String, barWidth: Int = 20) -> String {
        let filled = batchCount > 0 ? barWidth * min(batchesDone, batchCount) / batchCount : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: barWidth - filled)
        let seconds = elapsedSeconds
        let measured = seconds > 0 && batchesDone > 0
        let rate = measured ? String(Int((Double(imagesDone) / seconds).rounded())) : "--"
        let remaining = measured ? seconds * Double(max(batchCount - batchesDone, 0)) / Double(batchesDone) : nil
        let loss = batchesDone > 0 ? String(format: "%.4f", runningLoss) : "--"
        return "\(label) [\(bar)] \(batchesDone)/\(batchCount)  \(rate) img/s  loss \(loss)  ETA "
            + (remaining.map(Self.clock) ?? "--")
    }

    /// `seconds` rounded up to whole seconds as `M:SS`, or `H:MM:SS` from an hour on.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, remainder) = (total / 3600, total / 60 % 60, total % 60)
        func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return hours > 0
            ? "\(hours):\(twoDigits(minutes)):\(twoDigits(remainder))" : "\(minutes):\(twoDigits(remainder))"
    }
}
