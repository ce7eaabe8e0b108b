import Dispatch
import Foundation
import Synchronization
import Testing
@testable import ServingHTTP

/// The prediction pool: work runs on at most `workers` threads, callers beyond them wait up to the queue
/// limit, and one more is refused at once.
@Suite struct WorkerPoolTests {
    @Test func aFullQueueRefusesAtOnceAndTheWaitingWorkRunsInTurn() async throws {
        let pool = WorkerPool(workers: 1, queueLimit: 1)
        let gate = DispatchSemaphore(value: 0)
        async let first = pool.run {
            gate.wait(); return 1
        }
        while pool.load.running < 1 { await Task.yield() }
        async let second = pool.run { 2 }
        while pool.load.waiting < 1 { await Task.yield() }
        // The worker is busy and the queue full: refused without waiting.
        #expect(await pool.run { 3 } == nil)
        gate.signal()
        #expect(await first == 1)
        #expect(await second == 2)
        #expect(pool.load.running == 0 && pool.load.waiting == 0)
        #expect(await pool.run { 4 } == 4)
    }

    @Test func noMoreThanTheWorkersRunAtOnce() async throws {
        let pool = WorkerPool(workers: 3, queueLimit: 100)
        let counter = Counter()
        let results = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await pool.run {
                        counter.enter(); usleep(2000); counter.leave(); return 1
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ?? 0) }
        }
        #expect(results == 40)
        #expect(counter.highest <= 3)
        #expect(counter.highest >= 1)
    }
}

/// How many threads are inside a piece of work at once, and the most there ever were.
final class Counter: Sendable {
    private let state = Mutex((current: 0, highest: 0))
    var highest: Int { state.withLock { $0.highest } }
    func enter() {
        state.withLock {
            $0.current += 1; $0.highest = max($0.highest, $0.current)
        }
    }
    func leave() { state.withLock { $0.current -= 1 } }
}
