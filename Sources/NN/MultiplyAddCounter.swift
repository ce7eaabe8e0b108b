import Synchronization

/// Counts the multiply–adds of the layers with weights (`Linear`, `Conv2d`) that run inside `counting`, in
/// the order they run, like PyTorch's `FlopCounterMode`: a model's cost read off one forward pass rather
/// than written down by hand.
///
///     let multiplyAdds = MultiplyAddCounter.counting { _ = model(Tensor.zeros([1, 1, 28, 28])) }
///     let flopsPerImage = 2 * multiplyAdds.reduce(0, +)
///
/// Only the calling task (or thread) is counted; a layer costs one read of a task-local value when nothing
/// is counting. Operations without weights (activations, pooling, batch normalisation) are not counted.
public enum MultiplyAddCounter {
    /// The counts so far, one per layer call.
    final class Counts: Sendable {
        let values = Mutex<[Int]>([])
    }

    @TaskLocal static var current: Counts?

    /// Runs `body` and returns the multiply–adds of each `Linear` and `Conv2d` call it made, in call order.
    public static func counting(_ body: () throws -> Void) rethrows -> [Int] {
        let counts = Counts()
        try $current.withValue(counts, operation: body)
        return counts.values.withLock { $0 }
    }

    /// Whether a `counting` call is running on this task (or thread).
    public static var isCounting: Bool { current != nil }

    /// Adds one layer call's multiply–adds to the count in progress, if any.
    public static func record(_ multiplyAdds: @autoclosure () -> Int) {
        guard let counts = current else { return }
        let value = multiplyAdds()
        counts.values.withLock { $0.append(value) }
    }
}
