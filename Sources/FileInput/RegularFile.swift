#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading only when it is a regular file: a FIFO is refused at once instead of waiting
/// for a writer, a device (`/dev/zero`) instead of being read without end, and the size is known before
/// anything is read, so a caller can check it against a limit and against the file's own header first.
/// Closed when it goes out of scope. The weights (safetensors) and IDX readers share it.
public struct RegularFile: ~Copyable {
    /// Why a file could not be opened; `reason` is the C library's text for the error.
    public enum OpenError: Error, Sendable, Equatable {
        case cannotOpen(reason: String)
        case cannotInspect(reason: String)
        /// Not a regular file: `kind` is "a directory", "a FIFO (named pipe)", "a character device", ….
        case notRegular(kind: String)
    }

    /// Why `read(exactly:)` stopped short.
    public enum ReadError: Error, Sendable, Equatable {
        /// The file ended after `read` bytes: it shrank while being read.
        case endedEarly(read: Int)
        case failed(reason: String)
    }

    public let descriptor: Int32
    /// The file's size in bytes when it was opened.
    public let size: Int

    public init(path: String) throws(OpenError) {
        // Non-blocking, so opening a FIFO returns at once instead of waiting for a writer.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .cannotOpen(reason: Self.systemError()) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = Self.systemError()
            close(descriptor)
            throw .cannotInspect(reason: reason)
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(descriptor)
            let kind =
                switch type {
                case S_IFDIR: "a directory"
                case S_IFIFO: "a FIFO (named pipe)"
                case S_IFCHR: "a character device"
                case S_IFBLK: "a block device"
                case S_IFSOCK: "a socket"
                default: "not a regular file"
                }
            throw .notRegular(kind: kind)
        }
        self.descriptor = descriptor
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    /// The next `count` bytes.
    public func read(exactly count: Int) throws(ReadError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes {
                Self.readFromDescriptor(descriptor, $0.baseAddress! + done, count - done)
            }
            if result > 0 {
                done += result
            } else if result == 0 {
                throw .endedEarly(read: done)
            } else if errno != EINTR && errno != EAGAIN {
                throw .failed(reason: Self.systemError())
            }
        }
        return bytes
    }

    /// The C library's `read` (inside this type, `read` is the method above).
    private static func readFromDescriptor(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
    {
        #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
        #elseif canImport(Musl)
        Musl.read(descriptor, buffer, count)
        #else
        Darwin.read(descriptor, buffer, count)
        #endif
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}
