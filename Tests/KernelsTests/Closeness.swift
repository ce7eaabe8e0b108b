/// Where `values` is not within `tolerance` × (largest reference magnitude, at least 1e-6) of `reference`,
/// or within `tolerance` itself when `absolute`, element by element, a description of the first such element and how many there are; nil when every one is.
/// A NaN or an infinity where the reference is finite always counts (`!(difference <= bound)` is true for
/// NaN, where `max()` over the differences would drop it), and so does a length that differs.
func closenessProblem(_ values: [Float], _ reference: [Float], tolerance: Float, absolute: Bool = false) -> String? {
    guard values.count == reference.count else {
        return "\(values.count) values against \(reference.count) in the reference"
    }
    var scale: Float = absolute ? 1 : 1e-6
    if !absolute {
        for value in reference where !(abs(value) <= scale) { scale = abs(value) }
    }
    let bound = tolerance * scale
    var first: Int?
    var count = 0
    for index in values.indices where !(abs(values[index] - reference[index]) <= bound) {
        if first == nil { first = index }
        count += 1
    }
    guard let first else { return nil }
    return
        "\(count) of \(values.count) differ by more than \(bound) (tolerance \(tolerance) × \(scale)); first at [\(first)]: "
        + "\(values[first]) against \(reference[first])"
}
