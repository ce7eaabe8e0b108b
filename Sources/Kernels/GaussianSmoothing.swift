import Foundation
import Preconditions

/// Smoothing of one-channel planes by a Gaussian, as `scipy.ndimage.gaussian_filter(plane, sigma,
/// mode="constant", truncate=4)` smooths them: the displacement fields of elastic distortions. Separable,
/// values outside the plane counting as 0, so along rows it is a product with a banded matrix on the right
/// and along columns one on the left. It has no backward pass: it runs on the data, before the tape.
public enum GaussianSmoothing {
    /// The taps of a Gaussian of `standardDeviation` (positive) pixels cut at ⌊4σ + ½⌋ pixels either side,
    /// normalised to sum 1 over all of them (scipy's kernel).
    ///
    /// returns: [2 · radius + 1], the centre tap in the middle.
    public static func taps(standardDeviation: Float) -> [Float] {
        checkPrecondition(standardDeviation > 0, "standardDeviation must be positive, got \(standardDeviation)")
        let radius = Int(4 * Double(standardDeviation) + 0.5)
        let variance = Double(standardDeviation) * Double(standardDeviation)
        let weights = (-radius...radius).map { offset in exp(-0.5 * Double(offset * offset) / variance) }
        let total = weights.reduce(0, +)
        return weights.map { Float($0 / total) }
    }

    /// The smoothing of a line of `size` values as a matrix: band[i, j] = taps[j − i + radius] where that tap
    /// exists, else 0 (radius = taps.count / 2). Symmetric, as the taps are.
    ///
    /// returns: [size, size].
    public static func band(taps: [Float], size: Int) -> [Float] {
        let radius = taps.count / 2
        return (0..<(size * size)).map { index in
            let offset = index % size - index / size + radius
            return taps.indices.contains(offset) ? taps[offset] : 0
        }
    }

    /// output[y, x] = Σ_i Σ_j taps[i] · taps[j] · plane[y + i − radius, x + j − radius], taps outside the
    /// plane left out: scratch = plane · columnBand, then output = rowBand · scratch.
    ///
    /// plane, output, scratch: [rows, columns], distinct buffers; rowBand: `band(taps:size: rows)`
    /// [rows, rows]; columnBand: `band(taps:size: columns)` [columns, columns].
    public static func smooth(
        plane: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, rowBand: UnsafePointer<Float>, columnBand: UnsafePointer<Float>
    ) {
        multiply(plane, columnBand, into: scratch, rows: rows, inner: columns, columns: columns)
        multiply(rowBand, scratch, into: output, rows: rows, inner: rows, columns: columns)
    }

    /// output = left · right, each output row summed in registers: output[i, :] = Σ_k left[i, k] · right[k, :].
    ///
    /// left: [rows, inner], right: [inner, columns], output: [rows, columns].
    private static func multiply(
        _ left: UnsafePointer<Float>, _ right: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        rows: Int, inner: Int, columns: Int
    ) {
        let rightBytes = UnsafeRawPointer(right)
        for row in 0..<rows {
            let factors = left + row * inner, target = UnsafeMutableRawPointer(output + row * columns)
            var column = 0
            while column + 16 <= columns {
                let sum = columnSums(
                    SIMD16<Float>.self, factors, rightBytes, column: column, inner: inner, columns: columns)
                target.storeBytes(of: sum, toByteOffset: column * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
                column += 16
            }
            while column + 4 <= columns {
                let sum = columnSums(
                    SIMD4<Float>.self, factors, rightBytes, column: column, inner: inner, columns: columns)
                target.storeBytes(of: sum, toByteOffset: column * MemoryLayout<Float>.stride, as: SIMD4<Float>.self)
                column += 4
            }
            while column < columns {
                var sum: Float = 0
                for k in 0..<inner { sum += factors[k] * right[k * columns + column] }
                output[row * columns + column] = sum
                column += 1
            }
        }
    }

    /// Σ_k factors[k] · right[k, column..<column + lanes], summed in one register of `Vector`'s lanes.
    ///
    /// factors: [inner], right: [inner, columns] Floats.
    @inline(__always)
    private static func columnSums<Vector: SIMD>(
        _: Vector.Type, _ factors: UnsafePointer<Float>, _ right: UnsafeRawPointer, column: Int, inner: Int,
        columns: Int
    ) -> Vector where Vector.Scalar == Float {
        var sum = Vector()
        for k in 0..<inner {
            let offset = (k * columns + column) * MemoryLayout<Float>.stride
            sum += factors[k] * right.loadUnaligned(fromByteOffset: offset, as: Vector.self)
        }
        return sum
    }
}
