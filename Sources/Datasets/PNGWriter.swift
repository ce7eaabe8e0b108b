import CZlib

/// Encodes images as PNG, enough to look at MNIST samples (`mnist data --png FILE`).
public enum PNGWriter {
    /// A PNG file of the 8-bit grayscale image `pixels` (row-major, `width × height` bytes, 0 black).
    public static func encodeGrayscale(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        precondition(
            width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max),
            "PNG sides must be in 1...\(Int32.max), got \(width)×\(height)")
        precondition(
            pixels.count == width * height, "\(width)×\(height) needs \(width * height) pixels, got \(pixels.count)")

        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 0, 0, 0, 0] // bit depth 8, grayscale, deflate, adaptive filtering, no interlace

        // Each scanline is preceded by its filter type; 0 (none) keeps the encoder trivial.
        var scanlines = [UInt8]()
        scanlines.reserveCapacity(height * (width + 1))
        for row in 0..<height {
            scanlines.append(0)
            scanlines += pixels[(row * width)..<((row + 1) * width)]
        }

        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        return signature + chunk("IHDR", header) + chunk("IDAT", zlibCompress(scanlines)) + chunk("IEND", [])
    }

    /// A chunk: data length, type, data, and the CRC-32 of type and data.
    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(UInt32(crc))
    }

    private static func zlibCompress(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(UInt(bytes.count))
        var compressed = [UInt8](repeating: 0, count: Int(length))
        let status = compressed.withUnsafeMutableBufferPointer { output in
            bytes.withUnsafeBufferPointer { input in
                compress2(output.baseAddress, &length, input.baseAddress, UInt(input.count), Z_BEST_COMPRESSION)
            }
        }
        // compressBound guarantees room, so only a failed allocation inside zlib can get here.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Array(compressed[0..<Int(length)])
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
}
