import Foundation
import Preconditions

/// Resampling of one-channel images through an affine map with bilinear interpolation, as PyTorch's
/// `grid_sample(mode="bilinear", padding_mode="zeros", align_corners=True)` samples: the data-augmentation
/// kernel (random rotations, scalings and shifts of training images). It has no backward pass: it runs on
/// the data, before the tape.
public enum AffineWarp {
    /// Where each output pixel is read from: output pixel (x, y) (column, row; pixel centres at whole
    /// numbers) samples the source at (xx·x + xy·y + x0, yx·x + yy·y + y0).
    public struct Matrix: Equatable, Sendable {
        public var xx: Float, xy: Float, x0: Float
        public var yx: Float, yy: Float, y0: Float

        public init(xx: Float, xy: Float, x0: Float, yx: Float, yy: Float, y0: Float) {
            (self.xx, self.xy, self.x0, self.yx, self.yy, self.y0) = (xx, xy, x0, yx, yy, y0)
        }

        /// Every pixel read from where it is.
        public static let identity = Matrix(xx: 1, xy: 0, x0: 0, yx: 0, yy: 1, y0: 0)

        /// The map of rotating an image by `degrees` (counter-clockwise as displayed, rows growing
        /// downwards), scaling it by `scale` about its centre, then shifting it by (`shiftX`, `shiftY`)
        /// pixels: its inverse, which is what sampling needs.
        public static func rotation(
            degrees: Float, scale: Float, shiftX: Float, shiftY: Float, rows: Int, columns: Int
        ) -> Matrix {
            let radians = Double(degrees) * .pi / 180
            let (cosine, sine) = (Float(cos(radians)) / scale, Float(sin(radians)) / scale)
            let centreX = Float(columns - 1) / 2, centreY = Float(rows - 1) / 2
            // source = centre + R(angle)ᵀ · (output − centre − shift) / scale, with R(angle) the rotation
            // [[cos, sin], [−sin, cos]] in (column, row) coordinates.
            let (offsetX, offsetY) = (centreX + shiftX, centreY + shiftY)
            return Matrix(
                xx: cosine, xy: -sine, x0: centreX - (cosine * offsetX - sine * offsetY),
                yx: sine, yy: cosine, y0: centreY - (sine * offsetX + cosine * offsetY))
        }

        /// The horizontal shear that stands `source`'s digit upright (deskewing, as LeCun et al.'s "deskewed"
        /// MNIST entries were preprocessed): with the ink's centre of mass (x̄, ȳ) and its moments
        /// μ₁₁ = Σ I·(x − x̄)(y − ȳ) and μ₀₂ = Σ I·(y − ȳ)², output pixel (x, y) reads the source at
        /// (x + s·(y − ȳ), y) for the slope s = μ₁₁ / μ₀₂, so the ink's columns no longer drift with its rows
        /// (the deskewed moment μ₁₁ is 0). Rows stay where they are, and so does the centre of mass. The slope
        /// is kept within ±1 (45°), so a stroke with almost no height (a dash) is not sheared off the image;
        /// an image without ink, or with all of it on one row, gets the identity.
        ///
        /// source: [rows, columns], intensities ≥ 0 (ink positive, background 0).
        public static func deskewing(source: UnsafePointer<Float>, rows: Int, columns: Int) -> Matrix {
            // Sums in Double: 784 products of values up to 255 and coordinates up to 27.
            var (total, sumX, sumY) = (0.0, 0.0, 0.0)
            for y in 0..<rows {
                for x in 0..<columns {
                    let value = Double(source[y * columns + x])
                    total += value
                    sumX += value * Double(x)
                    sumY += value * Double(y)
                }
            }
            guard total > 0 else { return .identity }
            let (meanX, meanY) = (sumX / total, sumY / total)
            var (covariance, rowVariance) = (0.0, 0.0)
            for y in 0..<rows {
                let dy = Double(y) - meanY
                for x in 0..<columns {
                    let value = Double(source[y * columns + x])
                    covariance += value * (Double(x) - meanX) * dy
                    rowVariance += value * dy * dy
                }
            }
            guard rowVariance > 0 else { return .identity }
            let slope = min(max(covariance / rowVariance, -1), 1)
            return Matrix(xx: 1, xy: Float(slope), x0: Float(-slope * meanY), yx: 0, yy: 1, y0: 0)
        }

        /// The horizontal scaling that makes `source`'s ink `width` pixels wide, centred between the image's
        /// left and right edges (width normalisation, as Cireşan et al. preprocessed MNIST for some of their
        /// committee's columns): the ink's columns (those with a value above 0) span `left…right`, and output
        /// column x reads source column (left + right) / 2 + (x − (columns − 1) / 2) · (right − left + 1) / width.
        /// Rows stay where they are; an image without ink gets the identity.
        ///
        /// source: [rows, columns]; width > 0.
        public static func widthNormalizing(source: UnsafePointer<Float>, rows: Int, columns: Int, width: Int) -> Matrix
        {
            checkPrecondition(width > 0, "widthNormalizing needs a positive width, got \(width)")
            var (left, right) = (columns, -1)
            for y in 0..<rows {
                for x in 0..<columns where source[y * columns + x] > 0 {
                    left = min(left, x)
                    right = max(right, x)
                }
            }
            guard right >= left else { return .identity }
            let scale = Float(right - left + 1) / Float(width)
            let inkCentre = Float(left + right) / 2, imageCentre = Float(columns - 1) / 2
            return Matrix(xx: scale, xy: 0, x0: inkCentre - imageCentre * scale, yx: 0, yy: 1, y0: 0)
        }
    }

    /// output[y, x] = the bilinear interpolation of `source` at `matrix`(x, y), moved by
    /// (displacement[0, y, x], displacement[1, y, x]) pixels when a displacement field is given (an elastic
    /// distortion), its four neighbours outside the image counting as `fill`.
    ///
    /// source: [rows, columns], output: [rows, columns], displacement: [2, rows, columns] (horizontal, then
    /// vertical offsets) or nil; distinct buffers.
    public static func bilinear(
        source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
        matrix: Matrix, displacement: UnsafePointer<Float>? = nil, fill: Float = 0
    ) {
        @inline(__always) func pixel(_ row: Int, _ column: Int) -> Float {
            row >= 0 && row < rows && column >= 0 && column < columns ? source[row * columns + column] : fill
        }
        for y in 0..<rows {
            for x in 0..<columns {
                var sourceX = matrix.xx * Float(x) + matrix.xy * Float(y) + matrix.x0
                var sourceY = matrix.yx * Float(x) + matrix.yy * Float(y) + matrix.y0
                if let displacement {
                    sourceX += displacement[y * columns + x]
                    sourceY += displacement[(rows + y) * columns + x]
                }
                // Far outside (or not a number): all four neighbours are fill. Also keeps Int() in range.
                guard sourceX > -2, sourceX < Float(columns + 1), sourceY > -2, sourceY < Float(rows + 1) else {
                    output[y * columns + x] = fill
                    continue
                }
                let left = sourceX.rounded(.down), top = sourceY.rounded(.down)
                let (fractionX, fractionY) = (sourceX - left, sourceY - top)
                let (column, row) = (Int(left), Int(top))
                let upper = pixel(row, column) + fractionX * (pixel(row, column + 1) - pixel(row, column))
                let lower = pixel(row + 1, column) + fractionX * (pixel(row + 1, column + 1) - pixel(row + 1, column))
                output[y * columns + x] = upper + fractionY * (lower - upper)
            }
        }
    }
}
