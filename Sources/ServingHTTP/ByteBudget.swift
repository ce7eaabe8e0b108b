import Synchronization

/// A budget of bytes shared by every connection: the request bodies being collected at one time. A request
/// reserves its body's size (its `Content-Length`, or the largest body allowed when it does not say) before
/// reading it and gives it back once answered, so the memory held in bodies stays bounded however many
/// clients send at once.
final class ByteBudget: Sendable {
    /// The bytes that may be reserved at one time.
    let capacity: Int
    private let reserved = Mutex(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Reserves `count` bytes; false, reserving nothing, when fewer are left.
    func reserve(_ count: Int) -> Bool {
        reserved.withLock { reserved in
            guard reserved + count <= capacity else { return false }
            reserved += count
            return true
        }
    }

    /// Gives back `count` bytes reserved before.
    func release(_ count: Int) {
        reserved.withLock { $0 -= count }
    }
}
