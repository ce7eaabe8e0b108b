import Foundation

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
