import Foundation
import TestSupport
import Testing
@testable import Kernels

/// The elastic distortions' smoothing, against the Gaussian written out and a direct two-dimensional sum in
/// Double; and the warp's displacement field, against bilinear sampling from its definition.
@Suite struct GaussianSmoothingTests {
    typealias Numbers = KernelParityTests.Numbers

    @Test(arguments: [0.5, 1.0, 4.0, 6.0])
    func tapsAreAGaussianCutAtFourStandardDeviationsSummingToOne(standardDeviation: Double) {
        let taps = GaussianSmoothing.taps(standardDeviation: Float(standardDeviation))
        let radius = Int(4 * standardDeviation + 0.5)
        #expect(taps.count == 2 * radius + 1)
        let weights = (-radius...radius).map { exp(-Double($0 * $0) / (2 * standardDeviation * standardDeviation)) }
        let total = weights.reduce(0, +)
        expectClose(taps, weights.map { $0 / total }, relative: 1e-6)
        #expect(abs(taps.reduce(0, +) - 1) < 1e-5)
        #expect(taps == taps.reversed())
    }

    /// output[y, x] = Σ taps[i] · taps[j] · plane[y + i − r, x + j − r] over the taps inside the plane.
    func directSum(_ plane: [Float], rows: Int, columns: Int, taps: [Float]) -> [Double] {
        let radius = taps.count / 2
        return (0..<(rows * columns)).map { index in
            let (y, x) = (index / columns, index % columns)
            var sum = 0.0
            for i in taps.indices {
                for j in taps.indices {
                    let (row, column) = (y + i - radius, x + j - radius)
                    guard row >= 0, row < rows, column >= 0, column < columns else { continue }
                    sum += Double(taps[i]) * Double(taps[j]) * Double(plane[row * columns + column])
                }
            }
            return sum
        }
    }

    // Kernels narrower and wider than the plane (σ 6 reaches 24 pixels either side of a 28-pixel image);
    // rows of 16 and 4 values at a time and single ones (columns 28, 13, 9, 5, 3, 33).
    @Test(arguments: [(28, 28, 6.0), (28, 28, 1.0), (9, 13, 2.0), (13, 9, 6.0), (1, 5, 0.7), (4, 3, 1.0), (7, 33, 1.5)])
    func matchesTheDirectSum(rows: Int, columns: Int, standardDeviation: Double) {
        var numbers = Numbers(state: UInt64(rows * 31 + columns))
        let plane = numbers.array(rows * columns)
        let taps = GaussianSmoothing.taps(standardDeviation: Float(standardDeviation))
        var output = [Float](repeating: .nan, count: rows * columns)
        var scratch = [Float](repeating: .nan, count: rows * columns)
        GaussianSmoothing.smooth(
            plane: plane, output: &output, scratch: &scratch, rows: rows, columns: columns,
            rowBand: GaussianSmoothing.band(taps: taps, size: rows),
            columnBand: GaussianSmoothing.band(taps: taps, size: columns))
        expectClose(
            output, directSum(plane, rows: rows, columns: columns, taps: taps), absolute: 1e-6,
            shapes: ([rows, columns], [rows, columns]))
    }

    @Test func aDisplacementFieldMovesEverySampleByItsOffsets() {
        var numbers = Numbers(state: 17)
        let (rows, columns) = (12, 10)
        let image = numbers.array(rows * columns)
        // Offsets up to two pixels either way, some reaching outside the image.
        let displacement = numbers.array(2 * rows * columns).map { $0 * 2 }
        let matrix = AffineWarp.Matrix.rotation(
            degrees: 7, scale: 1.05, shiftX: 0.5, shiftY: -1, rows: rows, columns: columns)
        var output = [Float](repeating: .nan, count: rows * columns)
        AffineWarp.bilinear(
            source: image, output: &output, rows: rows, columns: columns, matrix: matrix, displacement: displacement,
            fill: 0.25)
        let expected = (0..<(rows * columns)).map { index in
            let (x, y) = (index % columns, index / columns)
            let sourceX =
                Double(matrix.xx) * Double(x) + Double(matrix.xy) * Double(y) + Double(matrix.x0)
                + Double(displacement[index])
            let sourceY =
                Double(matrix.yx) * Double(x) + Double(matrix.yy) * Double(y) + Double(matrix.y0)
                + Double(displacement[rows * columns + index])
            return AffineWarpTests().sample(image, rows: rows, columns: columns, x: sourceX, y: sourceY, fill: 0.25)
        }
        expectClose(output, expected, absolute: 1e-5, shapes: ([rows, columns], [rows, columns]))

        // A zero field is no field: the same bits.
        var plain = [Float](repeating: .nan, count: rows * columns)
        var still = [Float](repeating: .nan, count: rows * columns)
        AffineWarp.bilinear(source: image, output: &plain, rows: rows, columns: columns, matrix: matrix)
        AffineWarp.bilinear(
            source: image, output: &still, rows: rows, columns: columns, matrix: matrix,
            displacement: [Float](repeating: 0, count: 2 * rows * columns))
        #expect(still == plain)
    }
}
