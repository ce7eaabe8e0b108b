import CZlib

/// Decompression of gzip files with zlib.
enum Gzip {
    /// The most a file may decompress to: far above MNIST's 47 MB training images, far below what would
    /// exhaust memory, so a gzip bomb is an error rather than a crash.
    static let maximumDecompressedSize = 1 << 30

    /// Whether `bytes` start with the gzip magic number 1f 8b.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of the gzip file `bytes` (named `fileName` in errors), at most
    /// `maximumSize` bytes.
    ///
    /// Several gzip members one after another decompress to their concatenation, as with `gunzip` (RFC 1952
    /// allows a file to hold a series of members). A damaged stream, a stream cut short, and bytes after the
    /// last member that do not start another member are errors; offsets in them count bytes of the file.
    static func decompress(
        _ bytes: [UInt8], fileName: String, maximumSize: Int = maximumDecompressedSize
    ) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: the largest window, and zlib detects the gzip header itself.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError(.corruptCompressedData, file: fileName, detail: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(expectedSize(of: bytes))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try bytes.withUnsafeBufferPointer { input in
            guard let inputBase = input.baseAddress else {
                throw DatasetError(
                    .truncated, file: fileName, offset: 0, detail: "expected gzip data, found an empty file")
            }
            var fed = 0 // bytes of `input` handed to zlib so far
            while true {
                if stream.avail_in == 0 && fed < input.count {
                    let length = min(input.count - fed, Int(UInt32.max))
                    stream.next_in = UnsafeMutablePointer(mutating: inputBase + fed)
                    stream.avail_in = UInt32(length)
                    fed += length
                }
                let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                guard output.count <= maximumSize else {
                    throw DatasetError(
                        .corruptCompressedData, file: fileName, offset: fed - Int(stream.avail_in),
                        detail: "expected at most \(maximumSize) decompressed bytes, found more (a gzip bomb?)")
                }
                let consumed = fed - Int(stream.avail_in)
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let remaining = input.count - consumed
                    if remaining == 0 { return }
                    guard remaining >= 2 && input[consumed] == 0x1F && input[consumed + 1] == 0x8B else {
                        throw DatasetError(
                            .trailingBytes, file: fileName, offset: consumed,
                            detail: "expected end of file or another gzip member, found \(remaining) more bytes")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where consumed == input.count:
                    throw DatasetError(
                        .truncated, file: fileName, offset: consumed,
                        detail: "expected more gzip data, found end of file")
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DatasetError(.corruptCompressedData, file: fileName, offset: consumed, detail: reason)
                }
            }
        }
        return output
    }

    /// The size the gzip trailer records for the last member (modulo 2³²), capped so that a damaged trailer
    /// cannot make us reserve a huge buffer; only a hint for the output's capacity.
    private static func expectedSize(of bytes: [UInt8]) -> Int {
        guard bytes.count >= 18 else { return 0 }
        let trailer = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(trailer, 1 << 28)
    }
}
