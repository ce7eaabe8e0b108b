import Autograd
import Foundation
import NN
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reading weights from disk (issue 12): only regular files, the header checked against the file's size
/// before the tensors are read, a size limit; never a hang on a FIFO or an endless read of a device.
@Suite struct SafeTensorsFileTests {
    /// `SafeTensors.read(from:)` on another thread, given `seconds` to answer: nil if it did not (a hang).
    static func readWithin(_ seconds: Double, _ url: URL) -> Result<SafeTensorsFile, any Error>? {
        final class Box: @unchecked Sendable { var result: Result<SafeTensorsFile, any Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.result = Result { try SafeTensors.read(from: url) }
            done.signal()
        }
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return box.result
    }

    static func message(_ result: Result<SafeTensorsFile, any Error>?) -> String {
        switch result {
        case nil: "no answer (hung)"
        case .success: "read without error"
        case .failure(let error): "\(error)"
        }
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        try withTemporaryDirectory(prefix: "safetensors-files") { directory in
            let fifo = directory.appendingPathComponent("weights.safetensors")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let message = Self.message(Self.readWithin(10, fifo))
            #expect(
                message.contains("weights.safetensors: \(fifo.path) is a FIFO (named pipe), not a regular file"),
                "\(message)")
        }
    }

    @Test func aDeviceAndADirectoryAreRefused() throws {
        let zero = Self.message(Self.readWithin(10, URL(fileURLWithPath: "/dev/zero")))
        #expect(zero.contains("zero: /dev/zero is a character device, not a regular file"), "\(zero)")
        try withTemporaryDirectory(prefix: "safetensors-files") { directory in
            let message = Self.message(Self.readWithin(10, directory))
            #expect(message.contains("is a directory, not a regular file"), "\(message)")
        }
    }

    @Test func aFileLongerOrShorterThanItsHeaderSaysIsReportedWithBothSizes() throws {
        try withTemporaryDirectory(prefix: "safetensors-files") { directory in
            let bytes = try SafeTensors.encode([("w", Tensor(shape: [2, 2], data: [1, 2, 3, 4]))])
            let longer = directory.appendingPathComponent("longer.safetensors")
            try Data(bytes + [UInt8](repeating: 7, count: 1000)).write(to: longer)
            let long = Self.message(Self.readWithin(10, longer))
            #expect(
                long.contains(
                    "longer.safetensors: file is \(bytes.count + 1000) bytes, but the header says the data ends at byte \(bytes.count) (1000 trailing bytes)"
                ), "\(long)")
            let shorter = directory.appendingPathComponent("shorter.safetensors")
            try Data(bytes.dropLast(4)).write(to: shorter)
            let short = Self.message(Self.readWithin(10, shorter))
            #expect(
                short.contains(
                    "shorter.safetensors: file is \(bytes.count - 4) bytes, but the header says the data ends at byte \(bytes.count) (truncated?)"
                ), "\(short)")
            // A well-formed file still reads.
            let good = directory.appendingPathComponent("good.safetensors")
            try Data(bytes).write(to: good)
            #expect(try SafeTensors.read(from: good)["w"]?.data == [1, 2, 3, 4])
        }
    }

    @Test func aFileOverTheSizeLimitIsRefusedBeforeItIsRead() throws {
        try withTemporaryDirectory(prefix: "safetensors-files") { directory in
            // Sparse: 1 GiB + 1 byte on disk costs nothing.
            let huge = directory.appendingPathComponent("huge.safetensors")
            #expect(FileManager.default.createFile(atPath: huge.path, contents: Data()))
            #expect(truncate(huge.path, off_t(SafeTensors.maximumFileSize + 1)) == 0)
            let message = Self.message(Self.readWithin(10, huge))
            #expect(
                message.contains(
                    "huge.safetensors: file is \(SafeTensors.maximumFileSize + 1) bytes, over the \(SafeTensors.maximumFileSize)-byte limit"
                ), "\(message)")
        }
    }
}
