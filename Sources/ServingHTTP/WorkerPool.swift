import Dispatch
import Preconditions
import Synchronization

/// Runs blocking work (a prediction: JSON parsing or PNG decoding, then the model) on at most `workers`
/// threads at once, off Swift's cooperative pool and NIO's event loops, so cheap requests such as
/// `GET /health` are answered however many predictions are waiting. At most `queueLimit` more wait their
/// turn, first come first served; beyond that `run` refuses at once, and the server answers 503.
final class WorkerPool: Sendable {
    /// How many pieces of work run at once.
    let workers: Int
    /// How many may wait for a worker.
    let queueLimit: Int
    /// Runs the work: concurrent, bounded by `State.running`.
    private let queue = DispatchQueue(label: "mnist-serve.predictions", attributes: .concurrent)
    private let state = Mutex(State())

    /// The work running, and the callers waiting for a worker, oldest first.
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
    }

    init(workers: Int, queueLimit: Int) {
        checkPrecondition(workers > 0 && queueLimit >= 0, "a pool needs a worker and a queue limit of 0 or more")
        self.workers = workers
        self.queueLimit = queueLimit
    }

    /// The work running now and waiting now.
    var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// `work`'s result once a worker has run it, or nil, at once, when `queueLimit` callers already wait.
    func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result? {
        let admitted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer: Bool? = state.withLock { state in
                if state.running < workers {
                    state.running += 1
                    return true
                }
                guard state.waiting.count < queueLimit else { return false }
                state.waiting.append(continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
        guard admitted else { return nil }
        defer { release() }
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    /// Hands the finished work's worker to the oldest caller waiting, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: true)
    }
}
