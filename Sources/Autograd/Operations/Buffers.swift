import Preconditions

/// A new array of `count` elements filled by `body` through a pointer (no zero-fill pass first).
/// `body` must write every element.
@inlinable
func makeBuffer(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initializedCount in
        if count > 0 { body(buffer.baseAddress!) }
        initializedCount = count
    }
}

/// `count` floats that start on a 64-byte boundary (a cache line, and one AVX-512 vector), so a kernel that loads
/// whole vectors from them never splits a load across two lines: a Swift array's elements start only 16-byte
/// aligned, and the sparse product reading the MLP's transposed weights from one ran 20–25% slower (Emerald Rapids
/// Xeon). The elements sit at the first such boundary inside a slightly larger array, which never moves once
/// made; were it ever copied, they would still be read from the same index, only maybe unaligned.
///
/// A class, not a struct: held in `Tensor`'s `Mutex`, a three-field struct here corrupted the heap in release
/// builds with Swift 6.3.1 (found, not understood); a class reference is one word there, as `[Float]?` was.
final class AlignedFloats: Sendable {
    private let storage: [Float]
    private let offset: Int
    let count: Int

    /// Floats written by `body` into the aligned, uninitialised memory.
    init(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) {
        var offset = 0
        storage = [Float](unsafeUninitializedCapacity: count + 15) { buffer, initializedCount in
            let address = Int(bitPattern: buffer.baseAddress!)
            offset = (64 - address % 64) % 64 / MemoryLayout<Float>.stride
            // Only the padding around the elements: `body` writes the elements themselves (the MLP transposes
            // 2.4 MB at every training step, which need not be zeroed first).
            buffer[..<offset].initialize(repeating: 0)
            buffer[(offset + count)...].initialize(repeating: 0)
            if count > 0 { body(buffer.baseAddress! + offset) }
            initializedCount = count + 15
        }
        self.offset = offset
        self.count = count
    }

    /// The elements, in order.
    var elements: ArraySlice<Float> { storage[offset..<(offset + count)] }

    /// Calls `body` with the address of the first element.
    func withUnsafePointer<Result>(_ body: (UnsafePointer<Float>) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress! + offset) }
    }
}

/// Applies `transform` to every element.
@inlinable
func mapElements(_ values: [Float], _ transform: (Float) -> Float) -> [Float] {
    values.withUnsafeBufferPointer { source in
        makeBuffer(count: source.count) { target in
            for index in 0..<source.count { target[index] = transform(source[index]) }
        }
    }
}

/// Combines two equally long arrays element by element.
@inlinable
func zipElements(_ left: [Float], _ right: [Float], _ combine: (Float, Float) -> Float) -> [Float] {
    checkPrecondition(left.count == right.count, "element counts differ: \(left.count) vs \(right.count)")
    return left.withUnsafeBufferPointer { a in
        right.withUnsafeBufferPointer { b in
            makeBuffer(count: a.count) { target in
                for index in 0..<a.count { target[index] = combine(a[index], b[index]) }
            }
        }
    }
}
