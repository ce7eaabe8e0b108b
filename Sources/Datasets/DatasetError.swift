/// A problem reading, verifying or downloading a dataset file.
///
/// The description names the file, says what is wrong and where, and gives what was expected and what was
/// found, e.g. `train-labels-idx1-ubyte.gz: bad magic number at offset 0: expected 2049 (labels), found 2051`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The file could not be read from disk.
        case unreadable
        /// A file or directory could not be written.
        case unwritable
        /// None of the accepted names for the file exists in the directory.
        case missingFile
        /// The gzip stream is damaged (zlib rejected it).
        case corruptCompressedData
        /// The file (or its gzip stream) ends before the data it announces.
        case truncated
        /// Bytes follow the end of the data (or of the gzip stream).
        case trailingBytes
        /// The IDX magic number is not the expected one.
        case badMagic
        /// The IDX element type is not unsigned bytes (0x08).
        case unsupportedType
        /// Two files that must agree (images and labels) hold different numbers of items.
        case countMismatch
        /// A label is not a digit 0–9.
        case labelOutOfRange
        /// The images' rows or columns are 0 or over `MNISTDataset.maximumSide`.
        case imageSizeOutOfRange
        /// The file's MD5 is not the published one.
        case checksumMismatch
        /// Every mirror failed for the file.
        case downloadFailed
    }

    /// What went wrong.
    public let kind: Kind
    /// The file's name (its last path component).
    public let file: String
    /// The byte offset of the problem, where there is one. For a gzip file, errors in the gzip stream count
    /// bytes of the file, and errors in the IDX content count bytes of the decompressed content.
    public let offset: Int?
    /// Expected versus found, or the underlying reason.
    public let detail: String

    /// An error of `kind` in `file`, at `offset` where the problem has a position.
    public init(_ kind: Kind, file: String, offset: Int? = nil, detail: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.detail = detail
    }

    /// `FILE: PROBLEM at offset OFFSET: DETAIL`, without the offset part where there is none.
    public var description: String {
        let position = offset.map { " at offset \($0)" } ?? ""
        return "\(file): \(phrase)\(position): \(detail)"
    }

    private var phrase: String {
        switch kind {
        case .unreadable: "cannot read file"
        case .unwritable: "cannot write file"
        case .missingFile: "file not found"
        case .corruptCompressedData: "corrupt compressed data"
        case .truncated: "truncated"
        case .trailingBytes: "trailing bytes"
        case .badMagic: "bad magic number"
        case .unsupportedType: "unsupported data type"
        case .countMismatch: "count mismatch"
        case .labelOutOfRange: "label out of range"
        case .imageSizeOutOfRange: "image size out of range"
        case .checksumMismatch: "MD5 mismatch"
        case .downloadFailed: "download failed"
        }
    }
}
