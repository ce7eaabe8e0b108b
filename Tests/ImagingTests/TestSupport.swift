import Foundation
import Imaging

/// PNG byte surgery for tests: chunks, CRCs, hand-built headers.
enum PNGBytes {
    static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    /// A PNG that claims `width × height` 8-bit gray pixels but carries almost no data: enough for the header.
    static func header(width: UInt32, height: UInt32) -> [UInt8] {
        PNGDecoder.signature + chunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 0, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    /// The byte ranges (type + data) covered by each chunk's CRC, and where that CRC sits.
    static func chunks(of bytes: [UInt8]) -> [(body: Range<Int>, crcAt: Int)] {
        var result: [(Range<Int>, Int)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let end = offset + 8 + length
            guard length >= 0, end + 4 <= bytes.count else { break }
            result.append(((offset + 4)..<end, end))
            offset = end + 4
        }
        return result
    }

    /// `bytes` with every chunk's CRC recomputed, so corruption reaches the decompressor and filters.
    static func fixingCRCs(_ bytes: [UInt8]) -> [UInt8] {
        var fixed = bytes
        for (body, crcAt) in chunks(of: bytes) {
            fixed.replaceSubrange(crcAt..<(crcAt + 4), with: bigEndian(crc32(bytes[body])))
        }
        return fixed
    }
}

enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
        }
        return url
    }

    struct Expected: Decodable {
        let width: Int
        let height: Int
        let gray: [Int]
    }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: url("expected.json")))
    }
}

extension GrayImage {
    /// A white page with black ink wherever `ink(x, y)` is true.
    static func drawing(width: Int, height: Int, ink: (Int, Int) -> Bool) -> GrayImage {
        var image = GrayImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width where ink(x, y) { image[x, y] = 0 }
        }
        return image
    }
}

/// The centre of mass (column, row) of 28×28 values, in pixel-index coordinates.
func centreOfMass(_ values: [Float], width: Int = 28) -> (x: Double, y: Double) {
    var mass = 0.0, x = 0.0, y = 0.0
    for (index, value) in values.enumerated() {
        mass += Double(value); x += Double(value) * Double(index % width); y += Double(value) * Double(index / width)
    }
    return (x / mass, y / mass)
}

/// The inclusive bounding box of the nonzero values.
func inkBox(_ values: [Float], width: Int = 28) -> (left: Int, right: Int, top: Int, bottom: Int) {
    let inked = values.indices.filter { values[$0] > 0 }
    let xs = inked.map { $0 % width }, ys = inked.map { $0 / width }
    return (xs.min() ?? -1, xs.max() ?? -1, ys.min() ?? -1, ys.max() ?? -1)
}
