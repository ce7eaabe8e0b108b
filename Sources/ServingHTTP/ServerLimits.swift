import Foundation
import Hardware

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `mnist-serve` allows any client, so that slow, silent, greedy or hostile clients cannot take its
/// memory, its descriptors or its CPU from the others. The values and the reasons for them are in
/// docs/serving.md ("Limits").
public struct ServerLimits: Sendable {
    /// A connection that sends nothing for this long is closed: one stalled in its headers or mid-body, or
    /// idle between requests. 15 s: a browser or a script sends a whole request in milliseconds.
    public var idleTimeout: Duration = .seconds(15)
    /// The longest a request body may take to arrive, from the end of its headers: a client trickling a body
    /// a byte every few seconds never trips `idleTimeout`, but gets 408 and a closed connection past this.
    /// 30 s: the 1 MB maximum body at 33 KB/s, far slower than any real client.
    public var bodyTimeout: Duration = .seconds(30)
    /// The most connections open at once; further ones wait in the kernel's listen backlog until one closes.
    /// `mnist-serve` lowers it to what its file-descriptor limit allows.
    public var maximumConnections = 10_000
    /// Predictions computed at once: one per core this process may use (`Processors.available`). The event
    /// loops, which read and answer every connection (`/health` among them), keep up because the workers are
    /// threads apart from them. Release builds on 2 cores, wrk at 1,000 connections: one worker per core
    /// 2,777–3,762 requests/s (p99 0.28–0.45 s, `/health` within 5 ms during the load); one worker fewer than
    /// the cores, the earlier choice made on debug builds, 1,331–1,802. docs/serving.md, "Load on release
    /// builds", has the runs.
    public var predictionWorkers = Processors.available
    /// Predictions that may wait for a worker; a request beyond them gets 503 and `Retry-After`. Large
    /// enough that 1,000 clients each with one request in flight all wait rather than fail.
    public var predictionQueueLimit = 2048
    /// The bytes of request bodies held at once, all connections together (256 MB: 256 bodies of the 1 MB
    /// maximum); a request beyond it gets 503 before its body is read.
    public var bodyBudget = 256 << 20
    /// How long, at most, a connection whose body was refused (413) is read and the bytes discarded after the
    /// answer, so that a client that sends its whole body before reading (Python's urllib) gets the 413 rather
    /// than a reset; then it is closed.
    public var lingerTimeout: Duration = .seconds(5)
    /// How long a shutdown (SIGTERM, SIGINT) waits for requests in progress before closing every connection.
    public var shutdownDeadline: Duration = .seconds(10)

    public init() {}

    /// Descriptors kept for everything but connections: the listening socket, standard streams, the weights
    /// file, the event loops' own.
    static let reservedDescriptors = 64

    /// Raises this process's soft limit on open files to its hard limit (1,024 is a common soft limit, far
    /// below the hard one), then lowers `maximumConnections` to fit, so that the server never runs out of
    /// descriptors, which would leave it unable to accept even `/health`. Returns the limit it now runs under.
    public mutating func fitDescriptorLimit() -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return maximumConnections }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        let descriptors = Int(clamping: limit.rlim_cur)
        maximumConnections = max(1, min(maximumConnections, descriptors - Self.reservedDescriptors))
        return descriptors
    }
}
