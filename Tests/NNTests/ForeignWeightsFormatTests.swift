import Foundation
import Testing
@testable import NN

/// Files that are not safetensors, given as weights by mistake: named for what they are, with what to do,
/// instead of "header length … exceeds" (issue 12's renamed PyTorch pickle).
@Suite struct ForeignWeightsFormatTests {
    /// The first bytes of each format, padded to a file's worth; the expected words in the message.
    static let cases: [([UInt8], String)] = [
        ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08], "ZIP archive, as PyTorch's torch.save writes"),
        ([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46], "Python pickle"),
        ([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00], "gzip file"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG image"),
    ]

    @Test(arguments: cases)
    func namedWhenDecoded(start: [UInt8], expected: String) {
        let bytes = start + [UInt8](repeating: 0x41, count: 200)
        #expect {
            try SafeTensors.decode(bytes, source: "model.pt")
        } throws: { error in
            let message = "\(error)"
            return message.contains("model.pt") && message.contains(expected) && message.contains("not a safetensors")
        }
    }

    @Test(arguments: cases)
    func namedWhenRead(start: [UInt8], expected: String) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).pth")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(start + [UInt8](repeating: 0x41, count: 200)).write(to: url)
        #expect {
            try SafeTensors.read(from: url)
        } throws: { error in
            let message = "\(error)"
            return message.contains(url.lastPathComponent) && message.contains(expected)
        }
    }

    /// A safetensors file whose header length is merely too large keeps the message about the length.
    @Test func anOversizedHeaderLengthIsStillReportedAsSuch() {
        let bytes: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00] + [UInt8](repeating: 0x20, count: 16)
        #expect(SafeTensors.otherFormat(startingWith: Array(bytes[0..<8])) == nil)
        #expect {
            try SafeTensors.decode(bytes, source: "big.safetensors")
        } throws: { error in
            "\(error)".contains("header length 4294967295 exceeds")
        }
    }
}
