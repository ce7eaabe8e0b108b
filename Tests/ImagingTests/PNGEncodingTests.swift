import Imaging
import TestSupport
import Testing

/// `PNGEncoder`, the package's one PNG writer (reports, `mnist data --png`, the tests' images): what it
/// writes, libpng reads back as the same pixels.
@Suite struct PNGEncodingTests {
    /// The chunk types of `png` in order, and the IHDR fields: width, height, bit depth, colour type; checks
    /// every chunk's CRC (with the tests' own CRC-32, not libpng's).
    static func structure(
        _ png: [UInt8]
    ) throws -> (chunks: [String], width: Int, height: Int, depth: UInt8, color: UInt8) {
        #expect(png.starts(with: PNGDecoder.signature))
        func word(at offset: Int) -> Int { png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var chunks = [String]()
        var offset = 8
        while offset + 12 <= png.count {
            let length = word(at: offset)
            try #require(offset + 12 + length <= png.count, "chunk at byte \(offset) runs past the end")
            chunks.append(String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self))
            #expect(UInt32(word(at: offset + 8 + length)) == PNGBytes.crc32(png[(offset + 4)..<(offset + 8 + length)]))
            offset += 12 + length
        }
        #expect(offset == png.count, "the chunks do not fill the file")
        try #require(chunks.first == "IHDR" && png.count >= 26)
        return (chunks, word(at: 16), word(at: 20), png[24], png[25])
    }

    /// Random gray images of awkward sizes (one pixel, one row, one column, odd widths), compressed for size
    /// and fast, decode to exactly their pixels, as 8-bit gray PNGs.
    @Test(arguments: [(1, 1), (5, 3), (1, 300), (300, 1), (257, 31)])
    func grayImagesDecodeToTheSamePixels(width: Int, height: Int) throws {
        var generator = SplitMix64(seed: UInt64(width * 1000 + height))
        let image = GrayImage(
            width: width, height: height,
            pixels: (0..<(width * height)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        for fast in [false, true] {
            let png = PNGEncoder.encode(image, fast: fast)
            let layout = try Self.structure(png)
            #expect(layout.chunks.contains("IDAT") && layout.chunks.last == "IEND")
            #expect((layout.width, layout.height, layout.depth, layout.color) == (width, height, 8, 0))
            #expect(try PNGDecoder.decode(png) == image, "\(width)×\(height), fast: \(fast)")
        }
    }

    /// RGB is written as 8-bit colour (type 2); gray pixels given as RGB come back as the same gray.
    @Test func rgbIsWrittenAsColour() throws {
        let levels = (0..<64).map { UInt8($0 * 4) }
        let png = PNGEncoder.encodeRGB(width: 8, height: 8, pixels: levels.flatMap { [$0, $0, $0] })
        let layout = try Self.structure(png)
        #expect((layout.width, layout.height, layout.depth, layout.color) == (8, 8, 8, 2))
        #expect(try PNGDecoder.decode(png).pixels == levels)
    }
}
