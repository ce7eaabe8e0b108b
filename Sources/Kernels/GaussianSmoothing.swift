import Foundation

/// Smoothing of one-channel planes by a Gaussian, as `scipy.ndimage.gaussian_filter(plane, sigma,
/// mode="constant", truncate=4)` smooths them: the displacement fields of elastic distortions. Separable:
/// along each row, then along each column, values outside the plane counting as 0. It has no backward pass:
/// it runs on the data, before the tape.
public enum GaussianSmoothing {
    /// The taps of a Gaussian of `standardDeviation` (positive) pixels cut at ⌊4σ + ½⌋ pixels either side,
    /// normalised to sum 1 over all of them (scipy's kernel).
    ///
    /// returns: [2 · radius + 1], the centre tap in the middle.
    public static func taps(standardDeviation: Float) -> [Float] {
        precondition(standardDeviation > 0, "standardDeviation must be positive, got \(standardDeviation)")
        let radius = Int(4 * Double(standardDeviation) + 0.5)
        let variance = Double(standardDeviation) * Double(standardDeviation)
        let weights = (-radius...radius).map { offset in exp(-0.5 * Double(offset * offset) / variance) }
        let total = weights.reduce(0, +)
        return weights.map { Float($0 / total) }
    }

    /// output[y, x] = Σ_i Σ_j taps[i] · taps[j] · plane[y + i − radius, x + j − radius], taps outside the
    /// plane left out (radius = taps.count / 2): along rows into `scratch`, then along columns into `output`.
    ///
    /// plane, output, scratch: [rows, columns], distinct buffers; taps: [2 · radius + 1].
    public static func smooth(
        plane: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, taps: UnsafeBufferPointer<Float>
    ) {
        let radius = taps.count / 2
        // Along rows: every tap adds a shifted row, so the innermost loop runs along contiguous memory.
        for y in 0..<rows {
            let source = plane + y * columns, target = scratch + y * columns
            for x in 0..<columns { target[x] = 0 }
            for tap in 0..<taps.count {
                let shift = tap - radius
                let (first, last) = (max(0, -shift), min(columns, columns - shift))
                guard first < last else { continue }
                let weight = taps[tap]
                for x in first..<last { target[x] += weight * source[x + shift] }
            }
        }
        // Along columns: every tap adds a shifted row of the row-smoothed plane.
        for y in 0..<rows {
            let target = output + y * columns
            for x in 0..<columns { target[x] = 0 }
            for tap in max(0, radius - y)..<min(taps.count, rows + radius - y) {
                let weight = taps[tap], source = scratch + (y + tap - radius) * columns
                for x in 0..<columns { target[x] += weight * source[x] }
            }
        }
    }
}
