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

    @Test func deskewingStandsASlantedStrokeUprightAndKeepsItsRowsAndCentre() {
        let (rows, columns) = (28, 28)
        // Ink at (8 + y/2, y) for every even row y from 4 to 24: a stroke leaning right as it goes down, slope
        // exactly 0.5, its centre of mass at (15, 14).
        var image = [Float](repeating: 0, count: rows * columns)
        for y in stride(from: 4, through: 24, by: 2) { image[y * columns + 8 + y / 2] = 200 }
        let matrix = AffineWarp.Matrix.deskewing(source: image, rows: rows, columns: columns)
        #expect(matrix == AffineWarp.Matrix(xx: 1, xy: 0.5, x0: -7, yx: 0, yy: 1, y0: 0))
        // Every ink pixel lands on column 15 of its own row, exactly (whole-pixel reads).
        let upright = warp(image, rows: rows, columns: columns, matrix)
        for y in 0..<rows {
            for x in 0..<columns {
                let expected: Float = x == 15 && y % 2 == 0 && (4...24).contains(y) ? 200 : 0
                #expect(upright[y * columns + x] == expected, "(\(x), \(y))")
            }
        }

        // A slanted random blob: the slant left after deskewing is a small part of what it was.
        var numbers = Numbers(state: 11)
        var blob = [Float](repeating: 0, count: rows * columns)
        for y in 6..<22 {
            for x in 0..<6 { blob[y * columns + 4 + (y * 3) / 4 + x] = 50 + 200 * abs(numbers.next()) }
        }
        let before = inkSlant(blob.map(Double.init), columns: columns)
        let after = inkSlant(
            warp(blob, rows: rows, columns: columns, .deskewing(source: blob, rows: rows, columns: columns))
                .map(Double.init), columns: columns)
        #expect(before > 0.6 && abs(after) < 0.1 * before, "slant \(before) → \(after)")
    }

    @Test func deskewingLeavesUprightEmptyAndFlatImagesAloneAndCapsTheShearAt45Degrees() {
        let (rows, columns) = (28, 28)
        // Symmetric about its centre row: no slant.
        var upright = [Float](repeating: 0, count: rows * columns)
        for y in 5..<23 { for x in 12..<16 { upright[y * columns + x] = 255 } }
        let uprightMatrix = AffineWarp.Matrix.deskewing(source: upright, rows: rows, columns: columns)
        #expect(uprightMatrix.xy == 0 && uprightMatrix.x0 == 0)
        #expect(warp(upright, rows: rows, columns: columns, uprightMatrix) == upright)

        let empty = [Float](repeating: 0, count: rows * columns)
        #expect(AffineWarp.Matrix.deskewing(source: empty, rows: rows, columns: columns) == .identity)
        // All ink on one row: no height to measure a slant against.
        var flat = [Float](repeating: 0, count: rows * columns)
        for x in 3..<20 { flat[10 * columns + x] = 90 }
        #expect(AffineWarp.Matrix.deskewing(source: flat, rows: rows, columns: columns) == .identity)

        // A dash one row high but for one pixel: its slope (27 by the moments) is capped at 1.
        var dash = [Float](repeating: 0, count: rows * columns)
        dash[0] = 100
        dash[1 * columns + 27] = 100
        let capped = AffineWarp.Matrix.deskewing(source: dash, rows: rows, columns: columns)
        #expect(capped.xy == 1 && capped.x0 == -0.5)
    }

    @Test func widthNormalizingScalesTheInkToTheWidthAndCentresIt() {
        let (rows, columns) = (28, 28)
        // Ink in columns 10…13 (4 pixels wide, centred on 11.5) of rows 5…20.
        var image = [Float](repeating: 0, count: rows * columns)
        for y in 5...20 { for x in 10...13 { image[y * columns + x] = 200 } }
        let matrix = AffineWarp.Matrix.widthNormalizing(source: image, rows: rows, columns: columns, width: 16)
        // Output column x reads 11.5 + (x − 13.5) · 4 / 16.
        #expect(matrix == AffineWarp.Matrix(xx: 0.25, xy: 0, x0: 8.125, yx: 0, yy: 1, y0: 0))
        // The ink's edges (pixel edges 9.5 and 13.5) land on 5.5 and 21.5: columns 6…21, 16 of them, hold at
        // least half the ink's value, the rows outside 5…20 stay empty.
        let normalized = warp(image, rows: rows, columns: columns, matrix)
        for y in 0..<rows {
            let halfInk = (0..<columns).filter { normalized[y * columns + $0] >= 100 }
            #expect(halfInk == ((5...20).contains(y) ? Array(6...21) : []), "row \(y)")
        }

        // Squeezing works the same way: ink in columns 2…25 (24 wide) to 12 gives columns 8…19.
        var wide = [Float](repeating: 0, count: rows * columns)
        for x in 2...25 { wide[14 * columns + x] = 255 }
        let squeeze = AffineWarp.Matrix.widthNormalizing(source: wide, rows: rows, columns: columns, width: 12)
        #expect(squeeze == AffineWarp.Matrix(xx: 2, xy: 0, x0: -13.5, yx: 0, yy: 1, y0: 0))
        let squeezed = warp(wide, rows: rows, columns: columns, squeeze)
        #expect((0..<columns).filter { squeezed[14 * columns + $0] >= 127.5 } == Array(8...19))

        let empty = [Float](repeating: 0, count: rows * columns)
        #expect(AffineWarp.Matrix.widthNormalizing(source: empty, rows: rows, columns: columns, width: 16) == .identity)
    }
}
