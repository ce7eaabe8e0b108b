import CWorkerPool
import Foundation
import Hardware
import Synchronization

/// Work split across CPU cores in fixed, contiguous chunks.
///
/// The split depends only on `threadCount`, and per-chunk partial results are combined in chunk order,
/// so a run with the same seed and thread count gives the same numbers bit for bit.
///
/// Work is split at one level only: inside `forEachPart` (a training step's per-thread parts, say) every
/// kernel runs on its calling thread, so parts never wait on each other's threads.
///
/// The chunks run on the calling thread and on a pool of threads kept for the purpose (`CWorkerPool`): chunk i
/// always on worker i, so the memory a part allocates and reuses stays in one core's caches from step to step,
/// and workers spin briefly between jobs instead of being woken for each. Handing the chunks to Dispatch
/// instead, whichever threads woke took them, and LeNet5 trained barely faster on two threads than on one.
public enum Parallel {
    /// How many chunks work is split into; defaults to the cores this process may use (`Processors.available`).
    /// Set it once at start-up (the `--threads` option) before running kernels. Inside `withThreadCount`, the
    /// count given there.
    public static var threadCount: Int {
        get { taskThreadCount ?? storedThreadCount.load(ordering: .relaxed) }
        set { storedThreadCount.store(max(1, newValue), ordering: .relaxed) }
    }
    private static let storedThreadCount = Atomic<Int>(Processors.available)

    /// The thread count `withThreadCount` set for the calling task (or thread), if any.
    @TaskLocal static var taskThreadCount: Int?

    /// Runs `body` with work split into `count` chunks (at least 1), for the calling task (or thread) only:
    /// every other keeps the process-wide `threadCount`, so tests running side by side can compare thread
    /// counts without changing each other's.
    public static func withThreadCount<Result>(_ count: Int, _ body: () throws -> Result) rethrows -> Result {
        try $taskThreadCount.withValue(max(1, count), operation: body)
    }

    /// True on a thread running one part of `forEachPart`; kernels then split nothing further.
    @TaskLocal static var insidePart = false

    /// Whether kernels called from here may split their work over threads (false inside `forEachPart`).
    public static var splitsWork: Bool { threadCount > 1 && !insidePart }

    /// The contiguous ranges `0..<count` is split into: at most `threadCount` (one inside `forEachPart`),
    /// none empty.
    public static func chunks(of count: Int) -> [Range<Int>] {
        let parts = splitsWork ? min(threadCount, count) : 1
        guard parts > 1 else { return count > 0 ? [0..<count] : [] }
        return (0..<parts).map { part in (part * count / parts)..<((part + 1) * count / parts) }
    }

    /// Calls `body` once per chunk of `0..<count`, concurrently.
    public static func forEachChunk(of count: Int, _ body: (Range<Int>) -> Void) {
        forEachIndexedChunk(of: count) { _, range in body(range) }
    }

    /// Calls `body(chunkIndex, range)` once per chunk, concurrently; the chunk index lets a kernel keep
    /// one scratch or partial-sum buffer per chunk and reduce them in order afterwards.
    public static func forEachIndexedChunk(of count: Int, _ body: (Int, Range<Int>) -> Void) {
        let ranges = chunks(of: count)
        if ranges.count <= 1 {
            for (index, range) in ranges.enumerated() { body(index, range) }
            return
        }
        let ran = runOnWorkers(count: ranges.count) { index in body(index, ranges[index]) }
        // The pool was busy (a call from inside a chunk, or from another thread): the same chunks, in turn.
        if !ran {
            for (index, range) in ranges.enumerated() { body(index, range) }
        }
    }

    /// Calls `body(index)` for every index in `0..<count` at once: index 0 on the calling thread, index i on
    /// the worker pool's thread i, the same thread every call (`CWorkerPool`). Returns false, having called
    /// nothing, when the pool is running another job. `body` runs on several threads at once, as Dispatch's
    /// `concurrentPerform` would run it: callers give each index its own part of the memory they write.
    static func runOnWorkers(count: Int, _ body: (Int) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var job = body
            return withUnsafeMutablePointer(to: &job) { job in
                worker_pool_run(
                    count,
                    { context, index in
                        context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                    }, job)
            }
        }
    }

    /// Like `forEachIndexedChunk`, but each chunk is a whole unit of work (a forward and backward pass on
    /// part of a batch): the kernels it calls run on its own thread, unsplit.
    public static func forEachPart(of count: Int, _ body: (Int, Range<Int>) -> Void) {
        forEachIndexedChunk(of: count) { index, range in
            $insidePart.withValue(true) { body(index, range) }
        }
    }
}
