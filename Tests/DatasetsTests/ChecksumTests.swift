import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct MD5Tests {
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func matchesRFC1321(message: String, digest: String) {
        #expect(MD5.hex(of: Array(message.utf8)) == digest)
    }

    /// Lengths around the 56- and 64-byte padding boundaries (digests from Python's hashlib).
    @Test(arguments: [
        (55, "ef1772b6dff9a122358552954ad0df65"), (56, "3b0c8ac703f828b04c6c197006d17218"),
        (63, "b06521f39153d618550606be297466d5"), (64, "014842d480b571495a4a0363793f7367"),
        (65, "c743a45e0d2e6a95cb859adae0248435"), (127, "020406e1d05cdc2aa287641f7ae2cc39"),
        (128, "e510683b3f5ffe4093d021808bc6ff70"), (1000, "cabe45dcc9ae5b66ba86600cca6b8ba8"),
    ])
    func handlesPaddingBoundaries(length: Int, digest: String) {
        #expect(MD5.hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: length)) == digest)
    }
}

@Suite struct MNISTChecksumsTests {
    @Test func bundledFilesHaveThePublishedContent() throws {
        try MNISTChecksums.verifyAll(in: try #require(Bundled.directory))
    }

    @Test func aChangedFileFailsNamingBothChecksums() throws {
        try withTemporaryDirectory { directory in
            try write(idxBytes(dimensions: [1], data: [3]), to: directory, as: "t10k-labels-idx1-ubyte")
            let found = MD5.hex(of: idxBytes(dimensions: [1], data: [3]))
            expectDatasetError(
                .checksumMismatch,
                containing: [
                    "t10k-labels-idx1-ubyte: MD5 mismatch: expected 27ae3e4e09519cfbb04c329615203637 for the uncompressed content, found \(found)"
                ]
            ) {
                try MNISTChecksums.verify(.testLabels, in: directory)
            }
            expectDatasetError(.missingFile, containing: ["t10k-images-idx3-ubyte"]) {
                try MNISTChecksums.verify(.testImages, in: directory)
            }
        }
    }

    @Test func matchesTellsMNISTFromAnotherDatasetInItsFormat() throws {
        let bundled = try #require(Bundled.directory)
        for file in [MNISTFile.trainLabels, .testLabels] { #expect(try MNISTChecksums.matches(file, in: bundled)) }
        try withTemporaryDirectory { directory in
            try write(idxBytes(dimensions: [1], data: [3]), to: directory, as: "t10k-labels-idx1-ubyte")
            #expect(try !MNISTChecksums.matches(.testLabels, in: directory))
            expectDatasetError(.missingFile, containing: ["train-labels-idx1-ubyte"]) {
                _ = try MNISTChecksums.matches(.trainLabels, in: directory)
            }
        }
    }
}
