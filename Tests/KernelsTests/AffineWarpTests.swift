import Foundation
import TestSupport
import Testing
@testable import Kernels

/// The augmentation kernel: exact where the map is, against bilinear sampling written from its definition
/// in Double, and with its rotation, scale and shift going the way their names say.
@Suite struct AffineWarpTests {
    typealias Numbers = KernelParityTests.Numbers

    func warp(_ source: [Float], rows: Int, columns: Int, _ matrix: AffineWarp.Matrix, fill: Float = 0) -> [Float] {
        var output = [Float](repeating: .nan, count: rows * columns)
        AffineWarp.bilinear(source: source, output: &output, rows: rows, columns: columns, matrix: matrix, fill: fill)
        return output
    }

    /// Bilinear sampling at (x, y), neighbours outside counting as `fill`, in Double.
    func sample(_ source: [Float], rows: Int, columns: Int, x: Double, y: Double, fill: Double) -> Double {
        let (left, top) = (x.rounded(.down), y.rounded(.down))
        var sum = 0.0
        for (row, rowWeight) in [(Int(top), 1 - (y - top)), (Int(top) + 1, y - top)] {
            for (column, columnWeight) in [(Int(left), 1 - (x - left)), (Int(left) + 1, x - left)] {
                let inside = row >= 0 && row < rows && column >= 0 && column < columns
                sum += rowWeight * columnWeight * (inside ? Double(source[row * columns + column]) : fill)
            }
        }
        return sum
    }

    @Test func theIdentityAndWholePixelShiftsMoveValuesExactly() {
        var numbers = Numbers(state: 5)
        let (rows, columns) = (28, 28)
        let image = numbers.array(rows * columns)
        #expect(warp(image, rows: rows, columns: columns, .identity) == image)
        #expect(
            warp(
                image, rows: rows, columns: columns,
                .rotation(degrees: 0, scale: 1, shiftX: 0, shiftY: 0, rows: rows, columns: columns)) == image)

        // Shifted 2 pixels right and 3 up: what was at (x − 2, y + 3) is now at (x, y); the rest is fill.
        let shifted = warp(
            image, rows: rows, columns: columns,
            .rotation(degrees: 0, scale: 1, shiftX: 2, shiftY: -3, rows: rows, columns: columns), fill: -1)
        for y in 0..<rows {
            for x in 0..<columns {
                let (sourceX, sourceY) = (x - 2, y + 3)
                let expected = sourceX >= 0 && sourceY < rows ? image[sourceY * columns + sourceX] : -1
                #expect(shifted[y * columns + x] == expected, "(\(x), \(y))")
            }
        }
    }

    @Test(arguments: [
        (28, 28, 12.5, 1.1, 1.7, -2.2), (28, 28, -15, 0.85, -2.8, 2.8), (9, 13, 90, 1, 0, 0),
        (20, 7, 200, 1.6, 3.5, 0.25),
    ])
    func matchesBilinearSamplingFromItsDefinition(
        rows: Int, columns: Int, degrees: Float, scale: Float, shiftX: Float, shiftY: Float
    ) {
        var numbers = Numbers(state: UInt64(rows * columns))
        let image = numbers.array(rows * columns)
        let matrix = AffineWarp.Matrix.rotation(
            degrees: degrees, scale: scale, shiftX: shiftX, shiftY: shiftY, rows: rows, columns: columns)
        let output = warp(image, rows: rows, columns: columns, matrix, fill: 0.25)
        let expected = (0..<(rows * columns)).map { index in
            let (x, y) = (index % columns, index / columns)
            let sourceX = Double(matrix.xx) * Double(x) + Double(matrix.xy) * Double(y) + Double(matrix.x0)
            let sourceY = Double(matrix.yx) * Double(x) + Double(matrix.yy) * Double(y) + Double(matrix.y0)
            return sample(image, rows: rows, columns: columns, x: sourceX, y: sourceY, fill: 0.25)
        }
        expectClose(output, expected, absolute: 1e-5, shapes: ([rows, columns], [rows, columns]))
    }

    /// A blob drawn at one place lands where rotating (counter-clockwise on screen), scaling about the
    /// centre and shifting that place says, by its centre of mass.
    @Test(arguments: [(30.0, 1.0, 0.0, 0.0), (-12.0, 1.15, 2.5, -1.5), (90.0, 0.9, 0.0, 2.0)])
    func rotatesScalesAndShiftsTheWayItsArgumentsSay(degrees: Double, scale: Double, shiftX: Double, shiftY: Double) {
        let (rows, columns) = (28, 28)
        let (blobX, blobY) = (18.0, 9.0)
        let image = (0..<(rows * columns)).map { index -> Float in
            let (dx, dy) = (Double(index % columns) - blobX, Double(index / columns) - blobY)
            return Float(exp(-(dx * dx + dy * dy) / 4))
        }
        let output = warp(
            image, rows: rows, columns: columns,
            .rotation(
                degrees: Float(degrees), scale: Float(scale), shiftX: Float(shiftX), shiftY: Float(shiftY), rows: rows,
                columns: columns))
        var (mass, sumX, sumY) = (0.0, 0.0, 0.0)
        for (index, value) in output.enumerated() {
            mass += Double(value)
            sumX += Double(value) * Double(index % columns)
            sumY += Double(value) * Double(index / columns)
        }
        // Rows grow downwards, so counter-clockwise on screen turns (dx, dy) into (dx·cos + dy·sin, −dx·sin + dy·cos).
        let (angle, centre) = (degrees * .pi / 180, 13.5)
        let (dx, dy) = (blobX - centre, blobY - centre)
        let expectedX = centre + scale * (dx * cos(angle) + dy * sin(angle)) + shiftX
        let expectedY = centre + scale * (-dx * sin(angle) + dy * cos(angle)) + shiftY
        #expect(
            abs(sumX / mass - expectedX) < 0.05 && abs(sumY / mass - expectedY) < 0.05,
            "centre of mass (\(sumX / mass), \(sumY / mass)), expected (\(expectedX), \(expectedY))")
    }

    @Test func aMapLeavingTheImageOrNotANumberGivesFill() {
        let image = [Float](repeating: 1, count: 16)
        let far = AffineWarp.Matrix(xx: 1, xy: 0, x0: 100, yx: 0, yy: 1, y0: -1e30)
        #expect(warp(image, rows: 4, columns: 4, far, fill: 0.5) == [Float](repeating: 0.5, count: 16))
        let broken = AffineWarp.Matrix(xx: .nan, xy: 0, x0: 0, yx: 0, yy: .infinity, y0: 0)
        #expect(warp(image, rows: 4, columns: 4, broken, fill: 0) == [Float](repeating: 0, count: 16))
        // Half a pixel off the left edge: half image, half fill.
        let halfOut = AffineWarp.Matrix(xx: 1, xy: 0, x0: -0.5, yx: 0, yy: 1, y0: 0)
        #expect(warp(image, rows: 4, columns: 4, halfOut, fill: 0)[0] == 0.5)
    }
}
