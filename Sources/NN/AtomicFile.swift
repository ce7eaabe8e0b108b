import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Files written so that a crash mid-write leaves the old file or the new one, never a part of one:
/// weights, checkpoints and metrics all go through here.
public enum AtomicFile {
    /// Writes `bytes` to a new temporary file next to `url`, flushes it to disk and renames it over `url`;
    /// on failure removes the temporary file and leaves `url` as it was. Temporary files of earlier writes
    /// to `url` whose process is gone (killed mid-write) are removed first (`removeStaleTemporaryFiles`).
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let destination = url.lastPathComponent
        func failure(_ action: String) -> AtomicFileError {
            AtomicFileError(file: destination, problem: "cannot \(action): \(systemError())")
        }
        let directory = url.deletingLastPathComponent()
        removeStaleTemporaryFiles(of: url)
        let temporaryPath = directory.appendingPathComponent(
            ".\(destination).\(getpid()).\(UUID().uuidString).tmp"
        ).path
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw failure("create temporary file \(temporaryPath)") }
        var writeFailure: AtomicFileError?
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count, writeFailure == nil {
                let count = writeToDescriptor(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count >= 0 {
                    written += count
                } else if errno != EINTR {
                    writeFailure = failure("write \(temporaryPath)")
                }
            }
        }
        if writeFailure == nil, fsync(descriptor) != 0 { writeFailure = failure("flush \(temporaryPath) to disk") }
        if close(descriptor) != 0, writeFailure == nil { writeFailure = failure("close \(temporaryPath)") }
        if writeFailure == nil, rename(temporaryPath, url.path) != 0 {
            writeFailure = failure("rename \(temporaryPath) to \(url.path)")
        }
        if let writeFailure {
            unlink(temporaryPath)
            throw writeFailure
        }
        // Make the rename itself durable. Some file systems cannot sync a directory; the file is in place
        // either way, so a failure here is not an error.
        let directoryDescriptor = open(directory.path, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}

extension AtomicFile {
    /// Removes the temporary files that writes to `url` left when their process was killed before the
    /// rename: `.NAME.PID.UUID.tmp` beside `url` whose process PID no longer exists, and any such file, or one
    /// of earlier builds' `.NAME.UUID.tmp` (no PID to ask), untouched for `staleAge`: a write goes from
    /// creating its file to the rename without pause, in seconds for the largest weights, so an hour-old one
    /// has no live writer (even when its PID now belongs to another process). A file that may still be
    /// written is left alone; so is every other file. Failures to remove are ignored: the write itself does
    /// not depend on them.
    static func removeStaleTemporaryFiles(of url: URL, staleAge: TimeInterval = 3600) {
        let directory = url.deletingLastPathComponent()
        let prefix = "." + url.lastPathComponent + "."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            // PID.UUID (or, from earlier builds, UUID alone) between the prefix and ".tmp".
            let middle = name.dropFirst(prefix.count).dropLast(4).split(
                separator: ".", omittingEmptySubsequences: false)
            guard let uuid = middle.last, UUID(uuidString: String(uuid)) != nil else { continue }
            let path = directory.appendingPathComponent(name).path
            let writerGone: Bool
            switch middle.count {
            case 2:
                guard let pid = Int32(middle[0]), pid > 0 else { continue }
                writerGone = kill(pid, 0) != 0 && errno == ESRCH
            case 1: writerGone = false
            default: continue
            }
            if writerGone || isUntouched(path, for: staleAge) { unlink(path) }
        }
    }

    /// Whether the file at `path` was last modified `age` seconds ago or more (false when it cannot be read).
    private static func isUntouched(_ path: String, for age: TimeInterval) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return false }
        return Date().timeIntervalSince(modified) >= age
    }
}

/// Why an atomic write failed; names the file.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    /// The name of the file being written (its last path component).
    public let file: String
    /// What could not be done, with the system's reason.
    public let problem: String
    /// `FILE: PROBLEM`.
    public var description: String { "\(file): \(problem)" }
}

/// The C library's `write`, named apart from `AtomicFile.write`.
private func writeToDescriptor(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// The C library's message for the current `errno`.
func systemError() -> String {
    String(cString: strerror(errno))
}
