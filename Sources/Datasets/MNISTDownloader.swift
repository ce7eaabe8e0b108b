import Dispatch
import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads the four MNIST `.gz` files as torchvision does: each from the first mirror that serves it with
/// the published MD5, written atomically, and not at all when a valid copy is already present (so a
/// directory that holds the data works offline).
public struct MNISTDownloader {
    /// Fetches the bytes at a URL, giving up after the timeout in seconds; throws on any failure.
    public typealias Fetch = (URL, TimeInterval) throws -> [UInt8]

    /// What `download(to:timeout:files:)` did for one file.
    public enum Outcome: Equatable, Sendable {
        /// A valid copy was already in the directory; nothing was fetched.
        case alreadyPresent
        /// The file was fetched from this mirror, verified and written.
        case downloaded(mirror: URL)
    }

    /// torchvision's mirrors, in the order it tries them.
    public static let torchvisionMirrors = [
        URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/")!,
        URL(string: "http://yann.lecun.com/exdb/mnist/")!,
    ]

    /// The base URLs tried in order for each file.
    public var mirrors: [URL]
    /// How bytes are fetched; `fetchWithURLSession` unless a test substitutes its own.
    public var fetch: Fetch
    /// The MD5 a fetched `.gz` must have. Tests substitute the checksums of their own bytes, since the
    /// published files are not available offline.
    var expectedMD5: (MNISTFile) -> String = { $0.compressedMD5 }

    /// A downloader trying `mirrors` in order, fetching with `fetch`.
    public init(
        mirrors: [URL] = MNISTDownloader.torchvisionMirrors,
        fetch: @escaping Fetch = MNISTDownloader.fetchWithURLSession
    ) {
        self.mirrors = mirrors
        self.fetch = fetch
    }

    /// Makes `directory` (created if needed) hold `files`, by default all four MNIST files.
    ///
    /// A file whose `.gz` or raw copy already passes `MNISTChecksums.verify` is left alone. Otherwise each
    /// mirror is tried in turn until one returns bytes with the published `.gz` MD5, which are then written
    /// as `<name>.gz` through a temporary file and a rename, so a failed run never leaves a partial file.
    ///
    /// - Parameters:
    ///   - directory: where the files go; created if needed.
    ///   - timeout: seconds a mirror may stay silent, connecting or mid-transfer, before it counts as failed.
    ///   - files: the files to make present.
    /// - Returns: what happened to each file, in the order of `files`.
    /// - Throws: `DatasetError.Kind.downloadFailed` for the first file no mirror could supply, listing each
    ///   mirror's failure; or `.unwritable` when the directory cannot be created or written.
    @discardableResult
    public func download(
        to directory: URL, timeout: TimeInterval = 60, files: [MNISTFile] = MNISTFile.allCases
    ) throws -> [(file: MNISTFile, outcome: Outcome)] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(
                .unwritable, file: directory.lastPathComponent,
                detail: "\(error.localizedDescription) (\(directory.path))")
        }
        return try files.map { file in
            if (try? MNISTChecksums.verify(file, in: directory)) != nil { return (file, .alreadyPresent) }
            return (file, .downloaded(mirror: try fetchVerified(file, into: directory, timeout: timeout)))
        }
    }

    /// Fetches `file` from the first mirror that serves it intact, writes it, and returns that mirror.
    private func fetchVerified(_ file: MNISTFile, into directory: URL, timeout: TimeInterval) throws -> URL {
        var failures: [String] = []
        for mirror in mirrors {
            let url = mirror.appendingPathComponent(file.compressedName)
            let bytes: [UInt8]
            do {
                bytes = try fetch(url, timeout)
            } catch {
                failures.append("\(url.absoluteString): \(Self.describe(error, timeout: timeout))")
                continue
            }
            let expected = expectedMD5(file)
            let found = MD5.hex(of: bytes)
            guard found == expected else {
                failures.append("\(url.absoluteString): MD5 mismatch: expected \(expected), found \(found)")
                continue
            }
            let destination = directory.appendingPathComponent(file.compressedName)
            do {
                // `.atomic` writes a temporary file in the same directory and renames it over the destination.
                try Data(bytes).write(to: destination, options: .atomic)
            } catch {
                throw DatasetError(
                    .unwritable, file: file.compressedName,
                    detail: "\(error.localizedDescription) (\(destination.path))")
            }
            return mirror
        }
        let listing = failures.isEmpty ? ["no mirrors configured"] : failures
        throw DatasetError(
            .downloadFailed, file: file.compressedName,
            detail: "every mirror failed:\n" + listing.map { "  " + $0 }.joined(separator: "\n"))
    }

    /// A line for a mirror's failure. A `URLError` reads best as its localized description, except a
    /// timeout, which Linux's Foundation describes only by its code; other errors as their description.
    private static func describe(_ error: Error, timeout: TimeInterval) -> String {
        guard let urlError = error as? URLError else { return String(describing: error) }
        return urlError.code == .timedOut
            ? "timed out (nothing received for \(timeout) seconds)" : urlError.localizedDescription
    }

    /// A response other than 200 OK.
    private struct HTTPStatusError: Error, CustomStringConvertible {
        let status: Int
        var description: String { "HTTP status \(status)" }
    }

    /// Fetches `url` with `URLSession`, failing after `timeout` seconds without progress or on a status other
    /// than 200.
    public static func fetchWithURLSession(_ url: URL, timeout: TimeInterval) throws -> [UInt8] {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let done = DispatchSemaphore(value: 0)
        // Written by the completion handler before it signals, read after the wait.
        let result = Mutex<Result<[UInt8], any Error>>(.success([]))
        session.dataTask(with: url) { data, response, error in
            let outcome: Result<[UInt8], any Error>
            if let error {
                outcome = .failure(error)
            } else if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
                outcome = .failure(HTTPStatusError(status: status))
            } else {
                outcome = .success([UInt8](data ?? Data()))
            }
            result.withLock { $0 = outcome }
            done.signal()
        }.resume()
        done.wait()
        return try result.withLock { $0 }.get()
    }
}
