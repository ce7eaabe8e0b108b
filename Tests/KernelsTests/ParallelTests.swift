import Foundation
import Synchronization
import Testing

@testable import Kernels

/// The worker pool under `Parallel`: every chunk once, index i on the same thread of its own every time, no
/// lost wake-up after the workers fall asleep, and a call the pool cannot take (from inside a chunk, or from
/// several threads at once) run in turn on the calling thread instead.
@Suite(.timeLimit(.minutes(1))) struct ParallelTests {
    /// The calling thread's identity.
    static func currentThread() -> UInt {
        UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    /// Runs `body` on the pool, retrying while other tests running beside this one hold it; the threads each
    /// index ran on.
    static func threadsOfARun(count: Int, _ body: (Int) -> Void = { _ in }) throws -> [UInt] {
        var threads = [UInt](repeating: 0, count: count)
        for _ in 0..<1000 {
            let ran = threads.withUnsafeMutableBufferPointer { threads in
                Parallel.runOnWorkers(count: count) { index in
                    body(index)
                    threads[index] = currentThread()
                }
            }
            if ran { return threads }
            Thread.sleep(forTimeInterval: 0.01)
        }
        Issue.record("the pool stayed busy for 10 s")
        return threads
    }

    @Test func eachIndexRunsOnItsOwnThreadTheSameOneEveryTime() throws {
        let first = try Self.threadsOfARun(count: 4)
        #expect(first[0] == Self.currentThread(), "index 0 runs on the caller")
        #expect(Set(first).count == 4, "four indices on four threads: \(first)")
        let second = try Self.threadsOfARun(count: 4)
        #expect(second == first)
        // Fewer indices: the first workers again.
        #expect(try Self.threadsOfARun(count: 2) == Array(first.prefix(2)))
    }

    @Test func everyChunkRunsOnceWithItsRange() {
        for count in [1, 2, 3, 7, 64, 1000] {
            Parallel.withThreadCount(3) {
                let expected = Parallel.chunks(of: count)
                var seen = [[Range<Int>]](repeating: [], count: expected.count)
                seen.withUnsafeMutableBufferPointer { seen in
                    Parallel.forEachIndexedChunk(of: count) { index, range in seen[index].append(range) }
                }
                #expect(seen == expected.map { [$0] }, "count \(count)")
            }
        }
    }

    /// Thousands of jobs back to back (the handoff while workers spin), then after a pause long enough for
    /// them to sleep (the wake-up): every index of every job runs exactly once.
    @Test func noJobIsLostSpinningOrAsleep() throws {
        var runs = [Int](repeating: 0, count: 3)
        runs.withUnsafeMutableBufferPointer { runs in
            for round in 0..<2 {
                if round == 1 { Thread.sleep(forTimeInterval: 0.05) }
                for _ in 0..<2000 {
                    Parallel.withThreadCount(3) {
                        Parallel.forEachIndexedChunk(of: 3) { index, _ in runs[index] += 1 }
                    }
                }
            }
        }
        #expect(runs == [4000, 4000, 4000])
        // And a job that outlasts the caller's spin (it then sleeps until the last worker is done).
        var finished = [false, false]
        _ = try finished.withUnsafeMutableBufferPointer { finished in
            try Self.threadsOfARun(count: 2) { index in
                if index == 1 { Thread.sleep(forTimeInterval: 0.02) }
                finished[index] = true
            }
        }
        #expect(finished == [true, true])
    }

    @Test func aCallFromInsideAChunkRunsItsChunksOnItsOwnThread() throws {
        var inner = [[UInt]](repeating: [], count: 2)
        var innerRan = [Bool](repeating: true, count: 2)
        _ = try inner.withUnsafeMutableBufferPointer { inner in
            try innerRan.withUnsafeMutableBufferPointer { innerRan in
                try Self.threadsOfARun(count: 2) { outer in
                    innerRan[outer] = Parallel.runOnWorkers(count: 2) { _ in }
                    var threads = [UInt](repeating: 0, count: 2)
                    threads.withUnsafeMutableBufferPointer { threads in
                        Parallel.withThreadCount(2) {
                            Parallel.forEachIndexedChunk(of: 10) { index, _ in threads[index] = Self.currentThread() }
                        }
                    }
                    inner[outer] = threads
                }
            }
        }
        #expect(innerRan == [false, false], "the pool does not take a job while it runs one")
        for threads in inner { #expect(threads[0] != 0 && threads[0] == threads[1], "\(threads)") }
    }

    /// Several threads calling at once: whoever finds the pool busy runs its chunks itself, and every sum is right.
    @Test func callersOnSeveralThreadsAllGetTheirResults() {
        let callers = 4
        let totals = Mutex([Int](repeating: 0, count: callers))
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            var total = 0
            for round in 0..<300 {
                var partial = [Int](repeating: 0, count: 2)
                partial.withUnsafeMutableBufferPointer { partial in
                    Parallel.withThreadCount(2) {
                        Parallel.forEachIndexedChunk(of: 100) { index, range in
                            partial[index] = range.reduce(0) { $0 + $1 * (round + 1) }
                        }
                    }
                }
                total += partial.reduce(0, +)
            }
            totals.withLock { $0[caller] = total }
        }
        // Σ_round (round + 1) · Σ_{0..<100} i = (300 · 301 / 2) · 4950.
        #expect(totals.withLock { $0 } == [Int](repeating: 45150 * 4950, count: callers))
    }
}
