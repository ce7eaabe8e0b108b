import CZlib
import Testing

@testable import Datasets

@Suite struct PNGWriterTests {
    struct Chunk {
        var type: String
        var data: [UInt8]
    }

    func bigEndianWord(_ bytes: ArraySlice<UInt8>) -> Int {
        bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
    }

    /// The chunks of `png`, checking the signature and every CRC on the way.
    func chunks(of png: [UInt8]) throws -> [Chunk] {
        #expect(png.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var chunks: [Chunk] = []
        var offset = 8
        while offset < png.count {
            let length = bigEndianWord(png[offset...])
            try #require(offset + 12 + length <= png.count)
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            #expect(bigEndianWord(png[(offset + 8 + length)...]) == Int(crc))
            chunks.append(
                Chunk(
                    type: String(decoding: typeAndData.prefix(4), as: UTF8.self), data: Array(typeAndData.dropFirst(4)))
            )
            offset += 12 + length
        }
        return chunks
    }

    @Test func encodesGrayscaleThatDecodesToTheSamePixels() throws {
        let (width, height) = (5, 3)
        let pixels = (0..<(width * height)).map { UInt8($0 * 17) }
        let chunks = try chunks(of: PNGWriter.encodeGrayscale(width: width, height: height, pixels: pixels))
        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])

        let header = chunks[0].data
        #expect(header.count == 13)
        #expect(bigEndianWord(header[0...]) == width)
        #expect(bigEndianWord(header[4...]) == height)
        #expect(Array(header[8...]) == [8, 0, 0, 0, 0])
        #expect(chunks[2].data.isEmpty)

        var inflated = [UInt8](repeating: 0, count: height * (width + 1) + 16)
        var length = UInt(inflated.count)
        let status = uncompress(&inflated, &length, chunks[1].data, UInt(chunks[1].data.count))
        #expect(status == Z_OK)
        let scanlines = Array(inflated[0..<Int(length)])
        #expect(scanlines.count == height * (width + 1))
        for row in 0..<height {
            let line = scanlines[(row * (width + 1))..<((row + 1) * (width + 1))]
            #expect(line.first == 0)
            #expect(Array(line.dropFirst()) == Array(pixels[(row * width)..<((row + 1) * width)]))
        }
    }
}
