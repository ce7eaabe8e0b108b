import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct PNGDecodingTests {
    static let fixtureNames = [
        "gray1.png", "gray2.png", "gray4.png", "gray16.png", "gray-alpha8.png", "gray-alpha16.png", "gray-trns8.png",
        "rgb16.png", "rgb-trns8.png", "rgba8.png", "rgba16.png", "palette1.png", "palette4.png", "palette8.png",
        "interlaced-gray8.png", "interlaced-rgba8.png", "interlaced-gray2.png", "canvas-export.png",
    ]

    /// Every colour type and bit depth, palettes with transparency and Adam7 interlacing decode to the gray
    /// levels `make_fixtures.py` computed independently (alpha over white, Rec. 601 luma).
    @Test(arguments: fixtureNames) func fixtureDecodesToTheExpectedGrayLevels(name: String) throws {
        let expected = try #require(try Fixtures.expected()[name])
        let image = try PNGDecoder.decode(contentsOf: Fixtures.url(name))
        // 8-bit and lower: exact. 16-bit goes through libpng's 16→8 reduction (and, with alpha, its linear
        // un-premultiplying): within a couple of levels.
        expectClose(
            image.pixels.map(Double.init), expected.gray.map(Double.init), absolute: name.contains("16") ? 2 : 0,
            shapes: ([image.height, image.width], [expected.height, expected.width]), name)
    }

    /// Mid-grays come back unchanged: 8-bit gray is sRGB-encoded in and out, no linear-light conversion.
    @Test func everyGrayLevelRoundTrips() throws {
        let levels = GrayImage(width: 16, height: 16, pixels: (0...255).map { UInt8($0) })
        let bytes = PNGEncoder.encode(levels)
        #expect(bytes.starts(with: PNGDecoder.signature))
        #expect(try PNGDecoder.decode(bytes) == levels)
    }

    /// 16-bit gray without colour-space chunks is taken as sRGB-encoded: 0x8080 is 128, not ~188.
    @Test func sixteenBitMidGrayStaysMidGray() throws {
        let image = try PNGDecoder.decode(contentsOf: Fixtures.url("gray16.png"))
        // The pixel at (0, 1) is ((0 + 71) % 256) × 257 + 100 ≈ 71.4 × 257.
        #expect(abs(Int(image[0, 1]) - 71) <= 1)
        // (5, 0) is 145 × 257.
        #expect(image[5, 0] == 145)
    }

    /// RGB becomes the usual luma, 0.299 R + 0.587 G + 0.114 B, within a level.
    @Test func rgbBecomesRec601Luma() throws {
        var generator = SplitMix64(seed: 7)
        let count = 64 * 64
        let rgb = (0..<(3 * count)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = try PNGDecoder.decode(PNGEncoder.encodeRGB(width: 64, height: 64, pixels: rgb))
        let luma = (0..<count).map { (index: Int) -> Double in
            let (red, green, blue) = (Double(rgb[3 * index]), Double(rgb[3 * index + 1]), Double(rgb[3 * index + 2]))
            return 0.299 * red + 0.587 * green + 0.114 * blue
        }
        expectClose(image.pixels.map(Double.init), luma, absolute: 1, "Rec. 601 luma")
        let primaries = try PNGDecoder.decode(
            PNGEncoder.encodeRGB(width: 3, height: 1, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255]))
        #expect(primaries.pixels == [76, 150, 29])
    }

    /// Transparency composites onto white: a canvas export (transparent black background, black ink) is dark
    /// ink on white, and half-transparent black is mid-gray.
    @Test func alphaCompositesOntoWhite() throws {
        let canvas = try PNGDecoder.decode(contentsOf: Fixtures.url("canvas-export.png"))
        #expect(canvas[0, 0] == 255 && canvas[39, 39] == 255 && canvas[20, 20] == 255)
        #expect(canvas[19, 7] == 0, "the ring's middle is opaque black")
        let grayAlpha = try PNGDecoder.decode(contentsOf: Fixtures.url("gray-alpha8.png"))
        #expect(grayAlpha[1, 0] == 255, "alpha 0 is white whatever the gray")
        #expect(grayAlpha[0, 2] == 127, "black at alpha 128 over white")
        #expect(grayAlpha[1, 3] == 37, "opaque: the gray itself")
    }

    /// 28 rows of 56 characters in a frame; full ink is "@@", none is blank.
    @Test func terminalRenderingDrawsAFramedImage() throws {
        let text = TerminalRendering.render([Float](repeating: 0, count: 783) + [255])
        let lines = text.split(separator: "\n")
        #expect(lines.count == 30 && lines.allSatisfy { $0.count == 58 })
        #expect(lines[28].hasSuffix("@@|") && lines[1] == "|" + String(repeating: " ", count: 56) + "|")
    }
}
