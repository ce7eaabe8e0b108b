import Preconditions

/// An 8-bit grayscale image: `width × height` pixels, row-major, 0 black to 255 white.
public struct GrayImage: Equatable, Sendable {
    /// The number of columns.
    public let width: Int
    /// The number of rows.
    public let height: Int
    /// The pixels, row after row from the top, `width × height` bytes; 0 is black, 255 white.
    public var pixels: [UInt8]

    /// An image of `width × height` pixels given row-major; `pixels.count` must be `width × height`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        checkPrecondition(width >= 0 && height >= 0, "negative image size \(width)×\(height)")
        checkPrecondition(
            pixels.count == width * height, "\(width)×\(height) needs \(width * height) pixels, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image of `width × height` pixels all of the gray level `value` (255, white, unless told).
    public init(width: Int, height: Int, filledWith value: UInt8 = 255) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: value, count: width * height))
    }

    /// The pixel in column `x` and row `y`, both counted from 0 at the top left.
    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }
}
