/// Why an image could not be read or used, naming the file (or whatever label the caller gave the bytes).
public struct ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Problem: Equatable, Sendable {
        /// No file at the path.
        case missingFile
        /// The file exists but could not be read (a folder, no permission…); the system's reason.
        case unreadable(String)
        /// The file has no bytes at all.
        case emptyFile
        /// The bytes do not start with the PNG signature; `firstBytes` is how they begin, for the message.
        case notPNG(firstBytes: [UInt8])
        /// A PNG whose data libpng rejected (truncated, bad checksum, bad compressed data…); libpng's message.
        case corrupt(String)
        /// Wider, taller or larger than the limits (the longest side and the pixel count accepted); refused
        /// before any pixel memory is allocated.
        case tooLarge(width: Int, height: Int, maximumSide: Int, maximumPixelCount: Int)
        /// Nothing drawn: the image is all one level (or so close that no ink can be told from paper).
        case blank
    }

    /// The file name or label the bytes came from.
    public let file: String
    /// What went wrong.
    public let problem: Problem

    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .missingFile:
            return "\(file): no such file"
        case .unreadable(let reason):
            return "\(file): cannot be read: \(reason)"
        case .emptyFile:
            return "\(file): the file is empty"
        case .notPNG(let firstBytes):
            return
                "\(file): not a PNG image (it starts with \(Self.describe(firstBytes)); a PNG starts with 89 50 4E 47 0D 0A 1A 0A, \"\\x89PNG\\r\\n\\x1a\\n\")"
        case .corrupt(let message):
            return "\(file): corrupt or truncated PNG: \(message)"
        case .tooLarge(let width, let height, let maximumSide, let maximumPixelCount):
            return
                "\(file): image too large (\(width)×\(height) pixels; the limit is \(maximumSide) pixels a side and \(maximumPixelCount) pixels in all)"
        case .blank:
            return "\(file): the image is blank (no ink to tell from the background)"
        }
    }

    /// The bytes in hex, then as text where they are printable ASCII: `3C 21 44 4F ("<!DO")`.
    static func describe(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
        let text = String(decoding: bytes.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
        return "\(hex) (\"\(text)\")"
    }
}
