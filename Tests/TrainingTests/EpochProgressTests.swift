import Testing
@testable import Training

/// The training progress bar's line: the bar, batches, images per second, running loss and time left,
/// including before any time has passed and at the last batch.
@Suite struct EpochProgressTests {
    static func progress(
        done: Int, of total: Int = 938, images: Int, seconds: Double, loss: Double = 0.25
    ) -> EpochProgress {
        EpochProgress(
            batchesDone: done, batchCount: total, imagesDone: images, elapsed: .milliseconds(Int(seconds * 1000)),
            runningLoss: loss)
    }

    @Test func midEpochShowsRateLossAndTimeLeft() {
        // 469 of 938 batches (30,016 images) in 5 s: 6,003 images/s, 5 s left.
        let line = Self.progress(done: 469, images: 30_016, seconds: 5, loss: 0.123_456).line(label: "training")
        #expect(line == "training [██████████··········] 469/938  6003 img/s  loss 0.1235  ETA 0:05")
    }

    @Test func zeroElapsedTimeShowsNoRateAndNoTimeLeft() {
        let line = Self.progress(done: 1, images: 64, seconds: 0).line(label: "training")
        #expect(line == "training [····················] 1/938  -- img/s  loss 0.2500  ETA --")
    }

    @Test func beforeTheFirstBatchNothingIsMeasured() {
        let line = Self.progress(done: 0, images: 0, seconds: 0.5).line(label: "training", barWidth: 4)
        #expect(line == "training [····] 0/938  -- img/s  loss --  ETA --")
    }

    @Test func theLastBatchFillsTheBarWithNothingLeft() {
        // 60,000 images in 938 batches (the last one 32 images) in 12.5 s.
        let line = Self.progress(done: 938, images: 60_000, seconds: 12.5, loss: 0.05).line(label: "training")
        #expect(line == "training [████████████████████] 938/938  4800 img/s  loss 0.0500  ETA 0:00")
    }

    @Test func longWaitsReadInMinutesAndHours() {
        #expect(EpochProgress.clock(0) == "0:00")
        #expect(EpochProgress.clock(0.2) == "0:01")
        #expect(EpochProgress.clock(59.5) == "1:00")
        #expect(EpochProgress.clock(754) == "12:34")
        #expect(EpochProgress.clock(3600 + 2 * 60 + 3) == "1:02:03")
        // 1 of 938 batches in 4 s: 937 × 4 s = 3,748 s left.
        #expect(Self.progress(done: 1, images: 64, seconds: 4).line(label: "t").hasSuffix("ETA 1:02:28"))
    }

    @Test func elapsedSecondsKeepsTheFraction() {
        #expect(Self.progress(done: 1, images: 64, seconds: 2.25).elapsedSeconds == 2.25)
    }
}
