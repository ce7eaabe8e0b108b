import Imaging
import Preconditions

/// Drawing on a picture for report images: rectangles, scaled MNIST digits and `BitmapFont` text.
/// Everything drawn is clipped to the picture.
extension GrayImage {
    /// Sets the pixels of the rectangle with top-left corner (`x`, `y`) to `value`.
    public mutating func fillRectangle(
        x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, value: UInt8
    ) {
        let left = max(0, x), right = min(width, x + rectangleWidth)
        let top = max(0, y), bottom = min(height, y + rectangleHeight)
        guard left < right, top < bottom else { return }
        for row in top..<bottom {
            pixels.replaceSubrange(
                (row * width + left)..<(row * width + right), with: repeatElement(value, count: right - left))
        }
    }

    /// Draws the outline of the rectangle with top-left corner (`x`, `y`), `thickness` pixels wide, inside it.
    public mutating func strokeRectangle(
        x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, thickness: Int, value: UInt8
    ) {
        fillRectangle(x: x, y: y, width: rectangleWidth, height: thickness, value: value)
        fillRectangle(x: x, y: y + rectangleHeight - thickness, width: rectangleWidth, height: thickness, value: value)
        fillRectangle(x: x, y: y, width: thickness, height: rectangleHeight, value: value)
        fillRectangle(x: x + rectangleWidth - thickness, y: y, width: thickness, height: rectangleHeight, value: value)
    }

    /// Copies the `sourceWidth × sourceHeight` picture `source` (row-major) with its top-left corner at
    /// (`x`, `y`), each source pixel becoming a `scale × scale` square.
    public mutating func drawPixels<Source: RandomAccessCollection<UInt8>>(
        _ source: Source, width sourceWidth: Int, height sourceHeight: Int, x: Int, y: Int, scale: Int = 1
    ) where Source.Index == Int {
        checkPrecondition(
            source.count == sourceWidth * sourceHeight,
            "\(sourceWidth)×\(sourceHeight) needs \(sourceWidth * sourceHeight) pixels, got \(source.count)")
        for row in 0..<sourceHeight {
            for column in 0..<sourceWidth {
                fillRectangle(
                    x: x + column * scale, y: y + row * scale, width: scale, height: scale,
                    value: source[source.startIndex + row * sourceWidth + column])
            }
        }
    }

    /// Writes `text` in `BitmapFont` with its top-left corner at (`x`, `y`), each font pixel a
    /// `scale × scale` square of `value`; the background is left as it is.
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, value: UInt8) {
        for (position, character) in text.enumerated() {
            let left = x + position * (BitmapFont.glyphWidth + BitmapFont.spacing) * scale
            for row in 0..<BitmapFont.glyphHeight {
                for column in 0..<BitmapFont.glyphWidth where BitmapFont.isInk(character, column: column, row: row) {
                    fillRectangle(
                        x: left + column * scale, y: y + row * scale, width: scale, height: scale, value: value)
                }
            }
        }
    }
}
