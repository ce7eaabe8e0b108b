import Foundation

/// Verification of MNIST files against the MD5s of their uncompressed content, so a file passes whether it
/// is stored raw or in any gzip wrapper.
public enum MNISTChecksums {
    /// Checks `file` in `directory` (its `.gz` or raw form, as `MNISTFile.location(in:)` picks).
    /// - Throws: `DatasetError` if the file is missing or unreadable, or `.checksumMismatch` with both MD5s.
    public static func verify(_ file: MNISTFile, in directory: URL) throws {
        let (url, found) = try uncompressedMD5(of: file, in: directory)
        guard found == file.uncompressedMD5 else {
            throw DatasetError(
                .checksumMismatch, file: url.lastPathComponent,
                detail: "expected \(file.uncompressedMD5) for the uncompressed content, found \(found)")
        }
    }

    /// Whether `file` in `directory` holds MNIST's published content: false for another dataset in MNIST's
    /// format (Fashion-MNIST) or a part of MNIST. Cheap for the labels files (60 kB and 10 kB).
    /// - Throws: `DatasetError` if the file is missing or unreadable.
    public static func matches(_ file: MNISTFile, in directory: URL) throws -> Bool {
        try uncompressedMD5(of: file, in: directory).md5 == file.uncompressedMD5
    }

    /// The location of `file` in `directory` and the MD5 of its uncompressed content.
    private static func uncompressedMD5(of file: MNISTFile, in directory: URL) throws -> (url: URL, md5: String) {
        let url = try file.location(in: directory)
        return (url, MD5.hex(of: try IDXFile.contents(of: url)))
    }

    /// Checks all four MNIST files in `directory`, stopping at the first that fails.
    public static func verifyAll(in directory: URL) throws {
        for file in MNISTFile.allCases { try verify(file, in: directory) }
    }
}
