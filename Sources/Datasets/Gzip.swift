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
        var remaining: [UInt8]? = bytes
        return try decompress(
            fileName: fileName, fileSize: bytes.count, maximumSize: maximumSize,
            capacityHint: expectedSize(of: bytes)
        ) {
            defer { remaining = nil }
            return remaining
        }
    }

    /// The decompressed content of a gzip file of `fileSize` bytes read piece by piece: `nextInput` returns
    /// the file's next bytes, or nil at its end. Only one piece of the compressed file is held at a time, so
    /// a large file costs its decompressed size in memory (at most `maximumSize`), not that plus its own.
    /// Errors as `decompress(_:fileName:maximumSize:)`.
    static func decompress(
        fileName: String, fileSize: Int, maximumSize: Int = maximumDecompressedSize, capacityHint: Int = 0,
        nextInput: () throws -> [UInt8]?
    ) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: the largest window, and zlib detects the gzip header itself.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError(.corruptCompressedData, file: fileName, detail: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(min(capacityHint, maximumSize))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var input: [UInt8] = [] // the piece zlib reads from; `stream.next_in` points into it
        var inputOffset = 0 // where `input` starts in the file
        var position = 0 // where zlib stands in `input`
        var atEnd = false
        /// Makes `input` hold unread bytes, fetching the next piece when the current one is used up; false at
        /// the end of the file.
        func refill() throws -> Bool {
            while position == input.count {
                guard !atEnd, let next = try nextInput() else {
                    atEnd = true
                    return false
                }
                inputOffset += input.count
                (input, position) = (next, 0)
            }
            return true
        }
        guard try refill() else {
            throw DatasetError(.truncated, file: fileName, offset: 0, detail: "expected gzip data, found an empty file")
        }
        while true {
            let hasInput = try refill()
            let status = input.withUnsafeMutableBufferPointer { source in
                chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    let available = min(source.count - position, Int(UInt32.max))
                    stream.next_in = source.baseAddress.map { $0 + position }
                    stream.avail_in = UInt32(hasInput ? available : 0)
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    position += (hasInput ? available : 0) - Int(stream.avail_in)
                    return status
                }
            }
            output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            let consumed = inputOffset + position
            guard output.count <= maximumSize else {
                throw DatasetError(
                    .corruptCompressedData, file: fileName, offset: consumed,
                    detail: "expected at most \(maximumSize) decompressed bytes, found more (a gzip bomb?)")
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                guard try refill() else { return output }
                // Another member must start here. When its second byte is in the next piece, the first is kept
                // in front of that piece.
                if position + 1 == input.count, let next = try nextInput() {
                    inputOffset += position
                    (input, position) = ([input[position]] + next, 0)
                }
                guard input.count - position >= 2 && input[position] == 0x1F && input[position + 1] == 0x8B else {
                    throw DatasetError(
                        .trailingBytes, file: fileName, offset: consumed,
                        detail: "expected end of file or another gzip member, found \(fileSize - consumed) more bytes")
                }
                inflateReset(&stream)
            case Z_BUF_ERROR where !hasInput:
                throw DatasetError(
                    .truncated, file: fileName, offset: consumed, detail: "expected more gzip data, found end of file")
            default:
                let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DatasetError(.corruptCompressedData, file: fileName, offset: consumed, detail: reason)
            }
        }
    }

    /// The size the gzip trailer records for the last member (modulo 2³²), capped so that a damaged trailer
    /// cannot make us reserve a huge buffer; only a hint for the output's capacity.
    private static func expectedSize(of bytes: [UInt8]) -> Int {
        guard bytes.count >= 18 else { return 0 }
        let trailer = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(trailer, 1 << 28)
    }
}
