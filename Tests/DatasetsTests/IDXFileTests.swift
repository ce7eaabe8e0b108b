import Autograd
import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct IDXFileTests {
    let images = idxBytes(dimensions: [3, 2, 4], data: (0..<24).map { UInt8($0 * 10) })

    @Test func readsRawAndGzipIdentically() throws {
        let raw = try IDXFile(bytes: images, fileName: "images", dimensionCount: 3)
        #expect(raw.dimensions == [3, 2, 4])
        #expect(raw.data == (0..<24).map { UInt8($0 * 10) })
        #expect(try IDXFile(bytes: gzip(images), fileName: "images.gz", dimensionCount: 3) == raw)
        try withTemporaryDirectory { directory in
            try write(images, to: directory, as: "images")
            try write(gzip(images), to: directory, as: "images.gz")
            #expect(try IDXFile(contentsOf: directory.appendingPathComponent("images")) == raw)
            #expect(try IDXFile(contentsOf: directory.appendingPathComponent("images.gz")) == raw)
        }
    }

    @Test func decompressionStopsAtItsLimit() throws {
        let bomb = gzip([UInt8](repeating: 0, count: 1 << 20)) // 1 MiB of zeros compresses to ~1 KB
        #expect(bomb.count < 4096)
        #expect(try Gzip.decompress(bomb, fileName: "bomb.gz", maximumSize: 1 << 20).count == 1 << 20)
        expectDatasetError(.corruptCompressedData, containing: ["bomb.gz", "at most 65536 decompressed bytes"]) {
            _ = try Gzip.decompress(bomb, fileName: "bomb.gz", maximumSize: 1 << 16)
        }
    }

    @Test func concatenatedGzipMembersReadAsOneFile() throws {
        let joined = gzip(Array(images[..<10])) + gzip(Array(images[10...]))
        #expect(
            try IDXFile(bytes: joined, fileName: "images.gz").data == IDXFile(bytes: images, fileName: "images").data)
    }

    /// A file read piece by piece (as `IDXFile(contentsOf:)` reads gzip files) decompresses to the same bytes,
    /// or fails with the same error at the same offset, as the whole file at once, wherever the pieces are cut:
    /// here pieces of 1, 2, 3 and 7 bytes, so every member boundary and trailer falls across a cut.
    @Test func decompressingPieceByPieceEqualsWhole() throws {
        let compressed = gzip(Array(images[..<10])) + gzip(Array(images[10...]))
        let cases: [[UInt8]] = [
            compressed, Array(compressed.dropLast(5)), compressed + [0, 1, 2], compressed + [0x1F],
            compressed + [0x1F, 0x8B], gzip(images) + [0x1F, 0x00, 0x00], [],
        ]
        func outcome(_ decompress: () throws -> [UInt8]) -> String {
            do { return "\(try decompress())" } catch { return "\(error)" }
        }
        for bytes in cases {
            let whole = outcome { try Gzip.decompress(bytes, fileName: "images.gz") }
            for pieceSize in [1, 2, 3, 7] {
                var offset = 0
                let pieces = outcome {
                    try Gzip.decompress(fileName: "images.gz", fileSize: bytes.count) {
                        guard offset < bytes.count else { return nil }
                        defer { offset += pieceSize }
                        return Array(bytes[offset..<min(offset + pieceSize, bytes.count)])
                    }
                }
                #expect(pieces == whole, "\(bytes.count) bytes in pieces of \(pieceSize)")
            }
        }
        #expect(outcome { try Gzip.decompress(compressed, fileName: "images.gz") } == "\(images)")
    }

    @Test func badMagicNamesFileAndBothNumbers() {
        expectDatasetError(.badMagic, containing: []) {
            do {
                _ = try IDXFile(bytes: gzip(images), fileName: "train-labels-idx1-ubyte.gz", dimensionCount: 1)
            } catch let error as DatasetError {
                #expect(
                    error.description
                        == "train-labels-idx1-ubyte.gz: bad magic number at offset 0: expected 2049 (labels), found 2051"
                )
                throw error
            }
        }
        var swapped = images
        swapped[0] = 0x12
        expectDatasetError(
            .badMagic,
            containing: ["images: bad magic number at offset 0", "expected 2051 (images)", "found 301991939"]
        ) {
            _ = try IDXFile(bytes: swapped, fileName: "images", dimensionCount: 3)
        }
    }

    @Test func rejectsOtherElementTypes() {
        let floats = idxBytes(type: 0x0D, dimensions: [1], data: [0, 0, 0, 0])
        expectDatasetError(
            .unsupportedType,
            containing: [
                "labels: unsupported data type at offset 2", "expected 0x08 (unsigned byte), found 0x0D (float)",
            ]
        ) {
            _ = try IDXFile(bytes: floats, fileName: "labels", dimensionCount: 1)
        }
    }

    @Test func rejectsWrongDimensionCount() {
        expectDatasetError(
            .badMagic, containing: ["labels: bad magic number at offset 0", "expected 2049 (labels), found 2050"]
        ) {
            _ = try IDXFile(bytes: idxBytes(dimensions: [2, 1], data: [1, 2]), fileName: "labels", dimensionCount: 1)
        }
        expectDatasetError(.badMagic, containing: ["expected 2049–2303", "found 2048"]) {
            _ = try IDXFile(bytes: idxBytes(dimensions: [], data: [7]), fileName: "scalar")
        }
    }

    @Test func rejectsTruncatedFiles() {
        expectDatasetError(
            .truncated, containing: ["empty: truncated at offset 0", "expected a 4-byte magic number, found 0 bytes"]
        ) {
            _ = try IDXFile(bytes: [], fileName: "empty")
        }
        expectDatasetError(
            .truncated,
            containing: [
                "images: truncated at offset 10", "expected a 16-byte header for 3 dimensions, found 10 bytes",
            ]
        ) {
            _ = try IDXFile(bytes: Array(images[..<10]), fileName: "images")
        }
        expectDatasetError(
            .truncated,
            containing: [
                "images.gz: truncated at offset 39", "expected 40 bytes (16-byte header and 3×2×4 elements), found 39",
            ]
        ) {
            _ = try IDXFile(bytes: gzip(Array(images.dropLast())), fileName: "images.gz")
        }
        let huge = idxBytes(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1, 2, 3])
        expectDatasetError(.truncated, containing: ["expected more than \(Int.max) bytes", "found 19"]) {
            _ = try IDXFile(bytes: huge, fileName: "huge")
        }
    }

    @Test func readsEmptyArrays() throws {
        let empty = try IDXFile(
            bytes: idxBytes(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0], data: []), fileName: "empty")
        #expect(empty.dimensions == [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0])
        #expect(empty.data.isEmpty)
    }

    @Test func rejectsTrailingBytes() {
        expectDatasetError(
            .trailingBytes,
            containing: [
                "images: trailing bytes at offset 40", "expected end of file after 3×2×4 elements, found 2 more bytes",
            ]
        ) {
            _ = try IDXFile(bytes: images + [9, 9], fileName: "images")
        }
    }

    @Test func rejectsCountMismatchAgainstHeader() {
        let labels = idxBytes(dimensions: [5], data: [1, 2, 3])
        expectDatasetError(
            .truncated,
            containing: [
                "labels: truncated at offset 11", "expected 13 bytes (8-byte header and 5 elements), found 11",
            ]
        ) {
            _ = try IDXFile(bytes: labels, fileName: "labels", dimensionCount: 1)
        }
    }

    @Test func rejectsDamagedGzip() {
        let compressed = gzip(images)
        expectDatasetError(
            .truncated,
            containing: [
                "images.gz: truncated at offset \(compressed.count - 5)", "expected more gzip data, found end of file",
            ]
        ) {
            _ = try IDXFile(bytes: Array(compressed.dropLast(5)), fileName: "images.gz")
        }
        expectDatasetError(
            .trailingBytes,
            containing: ["images.gz: trailing bytes at offset \(compressed.count)", "found 3 more bytes"]
        ) {
            _ = try IDXFile(bytes: compressed + [0, 1, 2], fileName: "images.gz")
        }
        var badChecksum = compressed
        badChecksum[compressed.count - 6] ^= 0xFF // inside the CRC-32 of the trailer
        expectDatasetError(
            .corruptCompressedData,
            containing: ["images.gz: corrupt compressed data at offset", "incorrect data check"]
        ) {
            _ = try IDXFile(bytes: badChecksum, fileName: "images.gz")
        }
        var badBlock = compressed
        badBlock[10] = 0x07 // the first deflate block: final, reserved type 3
        expectDatasetError(
            .corruptCompressedData, containing: ["images.gz: corrupt compressed data at offset", "invalid block type"]
        ) {
            _ = try IDXFile(bytes: badBlock, fileName: "images.gz")
        }
    }

    @Test func unreadableFileIsAnError() throws {
        try withTemporaryDirectory { directory in
            expectDatasetError(.unreadable, containing: ["absent: cannot read file"]) {
                _ = try IDXFile(contentsOf: directory.appendingPathComponent("absent"))
            }
        }
    }

    /// Random truncations and byte flips of raw and gzip files must throw a `DatasetError` or decode; never trap.
    @Test func survivesDamagedInput() {
        var generator = RandomGenerator(seed: 7)
        let labels = idxBytes(dimensions: [300], data: (0..<300).map { UInt8($0 % 10) })
        for original in [images, gzip(images), labels, gzip(labels)] {
            for _ in 0..<300 {
                var damaged = original
                if generator.nextInt(below: 2) == 0 {
                    damaged.removeLast(generator.nextInt(below: damaged.count) + 1)
                }
                for _ in 0..<(generator.nextInt(below: 3) + 1) where !damaged.isEmpty {
                    damaged[generator.nextInt(below: damaged.count)] ^= UInt8(generator.nextInt(below: 255) + 1)
                }
                do {
                    _ = try IDXFile(bytes: damaged, fileName: "fuzz")
                } catch {
                    #expect(error is DatasetError)
                }
            }
        }
    }
}
