import FileInput
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An IDX file of unsigned bytes, the format MNIST is distributed in, read from disk raw or gzip-compressed.
///
/// Layout: a big-endian 4-byte magic number (two zero bytes, the element type — 0x08 for unsigned bytes —
/// and the number of dimensions), one big-endian 32-bit size per dimension, then the elements row-major.
/// MNIST labels are `[count]` (magic 2049), images `[count, rows, columns]` (magic 2051).
public struct IDXFile: Sendable, Equatable {
    /// The size of each dimension, outermost first: `[60000, 28, 28]` for the MNIST training images.
    public let dimensions: [Int]
    /// The elements in row-major order; `data.count` is the product of `dimensions`.
    public let data: [UInt8]

    /// The element type byte for unsigned bytes, the only type read.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads the IDX file at `url`, decompressing it first if it starts with the gzip magic number.
    ///
    /// - Parameters:
    ///   - url: the file, raw or gzip; only a regular file is read.
    ///   - dimensionCount: the number of dimensions the file must have (1 for labels, 3 for images), or nil
    ///     to accept any. A file with another count has the wrong magic number.
    /// - Throws: `DatasetError` naming the file, the offset and what was expected and found.
    public init(contentsOf url: URL, dimensionCount: Int? = nil) throws {
        try self.init(
            idxBytes: try Self.contents(of: url, dimensionCount: dimensionCount), fileName: url.lastPathComponent,
            dimensionCount: dimensionCount)
    }

    /// Parses IDX `bytes` (raw, or gzip-compressed if they start with 1f 8b); `fileName` names them in errors.
    public init(bytes: [UInt8], fileName: String, dimensionCount: Int? = nil) throws {
        let content = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, fileName: fileName) : bytes
        try self.init(idxBytes: content, fileName: fileName, dimensionCount: dimensionCount)
    }

    /// The largest file read from disk, raw or gzip: 2 GiB (MNIST's largest file is 47 MB raw).
    public static let maximumFileSize = 1 << 31

    /// The bytes of the file at `url`, decompressed if it is gzip.
    ///
    /// Only a regular file of at most `maximumFileSize` bytes is read (a FIFO, device or directory is
    /// refused without reading it); a raw file's header is read first and the file's size checked against
    /// it before the elements are read.
    static func contents(of url: URL, dimensionCount expectedDimensionCount: Int? = nil) throws -> [UInt8] {
        let fileName = url.lastPathComponent
        func unreadable(_ detail: String) -> DatasetError { DatasetError(.unreadable, file: fileName, detail: detail) }
        let file: RegularFile
        do {
            file = try RegularFile(path: url.path)
        } catch {
            switch error {
            case .cannotOpen(let reason): throw unreadable("cannot open \(url.path): \(reason)")
            case .cannotInspect(let reason): throw unreadable("cannot read \(url.path): \(reason)")
            case .notRegular(let kind): throw unreadable("expected a regular file, found \(kind) at \(url.path)")
            }
        }
        let size = file.size
        guard size <= maximumFileSize else {
            throw unreadable("expected at most \(maximumFileSize) bytes (2 GiB), found \(size)")
        }
        var fileOffset = 0 // bytes read so far
        func readExactly(_ count: Int) throws -> [UInt8] {
            do {
                defer { fileOffset += count }
                return try file.read(exactly: count)
            } catch {
                switch error {
                case .endedEarly(let done):
                    throw DatasetError(
                        .truncated, file: fileName, offset: fileOffset + done,
                        detail: "the file ended while being read (it shrank)")
                case .failed(let reason): throw unreadable("cannot read \(url.path): \(reason)")
                }
            }
        }
        var bytes = try readExactly(min(size, 4))
        if Gzip.isCompressed(bytes) {
            // Decompressed piece by piece as it is read: the compressed file is never held whole.
            return try Gzip.decompress(fileName: fileName, fileSize: size) {
                if bytes.isEmpty {
                    guard fileOffset < size else { return nil }
                    return try readExactly(min(size - fileOffset, 1 << 20))
                }
                defer { bytes = [] }
                return bytes
            }
        }
        if bytes.count < 4 || bytes[0] != 0 || bytes[1] != 0 {
            return bytes + (try readExactly(size - bytes.count))
        }
        // A raw IDX file of unsigned bytes with the dimensions expected (when the caller expects a count):
        // its header first, and the size it
        // announces against the file's, so a file of the wrong size is never read whole. (Anything else
        // is read as it is and the parser names the problem.)
        let dimensionCount = Int(bytes[3])
        let headerSize = 4 + 4 * dimensionCount
        guard bytes[2] == unsignedByteType, expectedDimensionCount == dimensionCount,
            size >= headerSize
        else {
            return bytes + (try readExactly(size - bytes.count))
        }
        bytes += try readExactly(headerSize - 4)
        let dimensions = (0..<dimensionCount).map { bytes[(4 + 4 * $0)..<(8 + 4 * $0)].reduce(0) { $0 << 8 | Int($1) } }
        let shape = dimensions.map(String.init).joined(separator: "×")
        let count = Self.elementCount(dimensions)
        guard let elementCount = count, elementCount <= size - headerSize else {
            let expected = count.map { "\(headerSize + $0)" } ?? "more than \(Int.max)"
            throw DatasetError(
                .truncated, file: fileName, offset: size,
                detail: "expected \(expected) bytes (\(headerSize)-byte header and \(shape) elements), found \(size)")
        }
        guard elementCount == size - headerSize else {
            throw DatasetError(
                .trailingBytes, file: fileName, offset: headerSize + elementCount,
                detail:
                    "expected end of file after \(shape) elements, found \(size - headerSize - elementCount) more bytes"
            )
        }
        return bytes + (try readExactly(size - headerSize))
    }

    /// The product of `dimensions`, or nil when it overflows Int. Each is below 2³², so a product of several
    /// can overflow (unless one is zero); that many bytes cannot be present anyway.
    static func elementCount(_ dimensions: [Int]) -> Int? {
        var count = 1
        var overflowed = false
        for dimension in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            count = product
            overflowed = overflowed || overflow
        }
        return overflowed && !dimensions.contains(0) ? nil : count
    }

    private init(idxBytes bytes: [UInt8], fileName: String, dimensionCount expectedCount: Int?) throws {
        func bigEndianWord(at offset: Int) -> Int {
            bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        guard bytes.count >= 4 else {
            throw DatasetError(
                .truncated, file: fileName, offset: bytes.count,
                detail: "expected a 4-byte magic number, found \(bytes.count) bytes")
        }
        let dimensionCount = Int(bytes[3])
        // Byte 3 (the dimension count) is checked as part of the magic number: a file with another count is
        // another kind of file (2051, images, where 2049, labels, was expected).
        func badMagic() -> DatasetError {
            let expected = expectedCount.map(Self.describeMagic) ?? "2049–2303 (unsigned bytes in 1 to 255 dimensions)"
            return DatasetError(
                .badMagic, file: fileName, offset: 0, detail: "expected \(expected), found \(bigEndianWord(at: 0))")
        }
        guard bytes[0] == 0 && bytes[1] == 0 else { throw badMagic() }
        guard bytes[2] == Self.unsignedByteType else {
            throw DatasetError(
                .unsupportedType, file: fileName, offset: 2,
                detail: "expected 0x08 (unsigned byte), found \(Self.describeType(bytes[2]))")
        }
        guard dimensionCount > 0 && (expectedCount == nil || dimensionCount == expectedCount) else { throw badMagic() }

        let headerSize = 4 + 4 * dimensionCount
        guard bytes.count >= headerSize else {
            throw DatasetError(
                .truncated, file: fileName, offset: bytes.count,
                detail:
                    "expected a \(headerSize)-byte header for \(dimensionCount) dimensions, found \(bytes.count) bytes")
        }
        let dimensions = (0..<dimensionCount).map { bigEndianWord(at: 4 + 4 * $0) }
        let shape = dimensions.map(String.init).joined(separator: "×")
        let available = bytes.count - headerSize
        let count = Self.elementCount(dimensions)
        guard let elementCount = count, elementCount <= available else {
            let expected = count.map { "\(headerSize + $0)" } ?? "more than \(Int.max)"
            throw DatasetError(
                .truncated, file: fileName, offset: bytes.count,
                detail:
                    "expected \(expected) bytes (\(headerSize)-byte header and \(shape) elements), found \(bytes.count)"
            )
        }
        guard elementCount == available else {
            throw DatasetError(
                .trailingBytes, file: fileName, offset: headerSize + elementCount,
                detail: "expected end of file after \(shape) elements, found \(available - elementCount) more bytes")
        }
        self.dimensions = dimensions
        self.data = Array(bytes[headerSize...])
    }

    private static func describeMagic(dimensionCount: Int) -> String {
        let magic = Int(unsignedByteType) << 8 | dimensionCount
        switch dimensionCount {
        case 1: return "\(magic) (labels)"
        case 3: return "\(magic) (images)"
        default: return "\(magic) (\(dimensionCount) dimensions)"
        }
    }

    private static func describeType(_ type: UInt8) -> String {
        let hex = "0x" + (type < 16 ? "0" : "") + String(type, radix: 16, uppercase: true)
        let names: [UInt8: String] = [
            0x09: "signed byte", 0x0B: "16-bit integer", 0x0C: "32-bit integer", 0x0D: "float", 0x0E: "double",
        ]
        return names[type].map { "\(hex) (\($0))" } ?? hex
    }
}
