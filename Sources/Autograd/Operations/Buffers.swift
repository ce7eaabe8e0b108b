/// A new array of `count` elements filled by `body` through a pointer (no zero-fill pass first).
/// `body` must write every element.
@inlinable
func makeBuffer(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initializedCount in
        if count > 0 { body(buffer.baseAddress!) }
        initializedCount = count
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
    precondition(left.count == right.count, "element counts differ: \(left.count) vs \(right.count)")
    return left.withUnsafeBufferPointer { a in
        right.withUnsafeBufferPointer { b in
            makeBuffer(count: a.count) { target in
                for index in 0..<a.count { target[index] = combine(a[index], b[index]) }
            }
        }
    }
}
