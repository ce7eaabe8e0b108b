import Foundation

/// Verification of MNIST files against the MD5s of their uncompressed content, so a file passes whether it
/// is stored raw or in any gzip wrapper.
public enum MNISTChecksums {
    /// Checks `file` in `directory` (its `.gz` or raw form, as `MNISTFile.location(in:)` picks).
    /// - Throws: `DatasetError` if the file is missing or unreadable, or `.checksumMismatch` with both MD5s.
    public static func verify(_ file: MNISTFile, in directory: URL) throws {
        let url = try file.location(in: directory)
        let found = MD5.hex(of: try IDXFile.contents(of: url))
        guard found == file.uncompressedMD5 else {
            throw DatasetError(
                .checksumMismatch, file: url.lastPathComponent,
                detail: "expected \(file.uncompressedMD5) for the uncompressed content, found \(found)")
        }
    }

    /// Checks all four MNIST files in `directory`, stopping at the first that fails.
    public static func verifyAll(in directory: URL) throws {
        for file in MNISTFile.allCases { try verify(file, in: directory) }
    }
}
