import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import Datasets

/// Reading IDX files from disk (issue 12): only regular files, a raw file's size checked against its
/// header before its elements are read, a size limit.
@Suite struct IDXFileReadingTests {
    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        try withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("train-images-idx3-ubyte")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            // Before the fix, Foundation's read of a FIFO waited for a writer: a hang, not a failure.
            final class Box: @unchecked Sendable { var error: String? }
            let box = Box()
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                do { _ = try IDXFile(contentsOf: fifo, dimensionCount: 3) } catch { box.error = "\(error)" }
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 10) == .success, "reading a FIFO hung")
            #expect(
                box.error?.contains("expected a regular file, found a FIFO (named pipe) at \(fifo.path)") == true,
                "\(box.error ?? "no error")")
        }
    }

    @Test func aRawFileOfTheWrongSizeIsReportedFromItsHeader() throws {
        try withTemporaryDirectory { directory in
            let images = idxBytes(dimensions: [3, 2, 4], data: (0..<24).map { UInt8($0) })
            try write(images + [UInt8](repeating: 0, count: 100), to: directory, as: "long")
            expectDatasetError(
                .trailingBytes,
                containing: ["long", "offset 40", "expected end of file after 3×2×4 elements, found 100 more bytes"]
            ) {
                _ = try IDXFile(contentsOf: directory.appendingPathComponent("long"), dimensionCount: 3)
            }
            try write(Array(images.dropLast(5)), to: directory, as: "short")
            expectDatasetError(
                .truncated, containing: ["short", "expected 40 bytes (16-byte header and 3×2×4 elements), found 35"]
            ) {
                _ = try IDXFile(contentsOf: directory.appendingPathComponent("short"), dimensionCount: 3)
            }
            // Sparse, over the limit: refused from its size alone.
            let huge = directory.appendingPathComponent("huge")
            #expect(FileManager.default.createFile(atPath: huge.path, contents: Data(images.prefix(16))))
            #expect(truncate(huge.path, off_t(IDXFile.maximumFileSize + 1)) == 0)
            expectDatasetError(
                .unreadable,
                containing: [
                    "huge",
                    "expected at most \(IDXFile.maximumFileSize) bytes (2 GiB), found \(IDXFile.maximumFileSize + 1)",
                ]
            ) {
                _ = try IDXFile(contentsOf: huge, dimensionCount: 3)
            }
            // A good file still reads.
            try write(images, to: directory, as: "good")
            #expect(
                try IDXFile(contentsOf: directory.appendingPathComponent("good"), dimensionCount: 3).dimensions == [
                    3, 2, 4,
                ])
        }
    }
}
