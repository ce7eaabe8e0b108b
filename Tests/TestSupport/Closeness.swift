import Testing

/// Nil when `actual` matches `expected` element by element; otherwise a description of what does not: the
/// count (and shape) mismatch, or how many elements are out of tolerance and the worst of them (its index,
/// both values, the difference and the bound).
///
/// A finite expected element allows |actual − expected| ≤ absolute + relative · |expected| +
/// relativeToLargest · L, L the largest magnitude among the finite expected elements. A NaN or an infinity
/// matches only itself: NaN against a number, a number against NaN, ±∞ against anything but the same ∞ all
/// fail (a check built on `max()` over differences drops NaN, so an output left at NaN passed it).
/// `shapes`, when given, must agree with each other and with the counts.
public func closenessFailure<Actual: BinaryFloatingPoint, Expected: BinaryFloatingPoint>(
    _ actual: [Actual], _ expected: [Expected], absolute: Double = 0, relative: Double = 0,
    relativeToLargest: Double = 0, shapes: (actual: [Int], expected: [Int])? = nil
) -> String? {
    if let shapes {
        guard shapes.actual == shapes.expected else { return "shape \(shapes.actual) against \(shapes.expected)" }
        let elements = shapes.expected.reduce(1, *)
        guard elements == expected.count else {
            return
                "shape \(shapes.expected) holds \(elements) elements, the arrays \(actual.count) and \(expected.count)"
        }
    }
    guard actual.count == expected.count else { return "\(actual.count) values against \(expected.count) expected" }
    var largest = 0.0
    for value in expected where value.isFinite { largest = Swift.max(largest, abs(Double(value))) }

    var failures = 0
    var worst: (index: Int, difference: Double, bound: Double, ratio: Double)?
    for index in expected.indices {
        let value = Double(actual[index]), reference = Double(expected[index])
        let difference = abs(value - reference)
        let bound = absolute + relative * abs(reference) + relativeToLargest * largest
        let matches: Bool
        if reference.isNaN {
            matches = value.isNaN
        } else if reference.isInfinite {
            matches = value == reference
        } else {
            // False for a NaN or infinite value too: NaN compares false, and ∞ exceeds every finite bound.
            matches = difference <= bound
        }
        guard !matches else { continue }
        failures += 1
        // Non-finite mismatches rank above every finite one; among equals the first is kept.
        let ratio = difference.isFinite && bound > 0 ? difference / bound : .infinity
        if worst == nil || ratio > worst!.ratio { worst = (index, difference, bound, ratio) }
    }
    guard let worst else { return nil }
    let position = shapes.map { " \(coordinates(of: worst.index, in: $0.expected))" } ?? ""
    return "\(failures) of \(expected.count) elements out of tolerance (absolute \(absolute), relative \(relative), "
        + "relative to the largest \(relativeToLargest) × \(largest)); worst at [\(worst.index)]\(position): "
        + "actual \(actual[worst.index]), expected \(expected[worst.index]), difference \(worst.difference), "
        + "allowed \(worst.bound)"
}

/// Records an issue at the caller when `closenessFailure` finds one, prefixed by `comment`.
public func expectClose<Actual: BinaryFloatingPoint, Expected: BinaryFloatingPoint>(
    _ actual: [Actual], _ expected: [Expected], absolute: Double = 0, relative: Double = 0,
    relativeToLargest: Double = 0, shapes: (actual: [Int], expected: [Int])? = nil, _ comment: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard
        let failure = closenessFailure(
            actual, expected, absolute: absolute, relative: relative, relativeToLargest: relativeToLargest,
            shapes: shapes)
    else { return }
    Issue.record(
        Comment(rawValue: comment.isEmpty ? failure : "\(comment): \(failure)"), sourceLocation: sourceLocation)
}

/// The row-major coordinates of element `index` of an array of `shape`.
func coordinates(of index: Int, in shape: [Int]) -> [Int] {
    var remainder = index
    var result = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        result[axis] = remainder % shape[axis]
        remainder /= shape[axis]
    }
    return result
}
