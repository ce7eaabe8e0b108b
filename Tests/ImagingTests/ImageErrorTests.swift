import Foundation
import Imaging
import TestSupport
import Testing

@Suite struct ImageErrorTests {
    static func temporaryFile(_ bytes: [UInt8], name: String = "digit.png") throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    static func error(_ body: () throws -> Any) -> ImageError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? ImageError
        }
    }

    static let validPNG = PNGEncoder.encode(GrayImage(width: 20, height: 10, pixels: (0..<200).map { UInt8($0) }))

    @Test func missingFile() throws {
        let error = try #require(
            Self.error { try PNGDecoder.decode(contentsOf: URL(fileURLWithPath: "no/such/seven.png")) })
        #expect(error.problem == .missingFile)
        #expect(error.description == "no/such/seven.png: no such file")
    }

    @Test func folder() throws {
        let url = try Self.temporaryFile([1]).deletingLastPathComponent()
        let error = try #require(Self.error { try PNGDecoder.decode(contentsOf: url) })
        #expect(error.description.hasPrefix(url.path + ": cannot be read"))
    }

    @Test func emptyFile() throws {
        let url = try Self.temporaryFile([], name: "empty.png")
        let error = try #require(Self.error { try PNGDecoder.decode(contentsOf: url) })
        #expect(error.problem == .emptyFile)
        #expect(error.description == "\(url.path): the file is empty")
    }

    @Test func notAPNG() throws {
        let jpeg = try #require(
            Self.error {
                try PNGDecoder.decode([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46], file: "photo.jpg")
            })
        #expect(jpeg.problem == .notPNG(firstBytes: [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46]))
        #expect(
            jpeg.description.hasPrefix(
                "photo.jpg: not a PNG image (it starts with FF D8 FF E0 00 10 4A 46 (\"......JF\")"))
        let html = try #require(Self.error { try PNGDecoder.decode(Array("<!DOCTYPE html>".utf8), file: "page.png") })
        #expect(html.description.contains("3C 21 44 4F 43 54 59 50 (\"<!DOCTYP\")"))
        let short = try #require(Self.error { try PNGDecoder.decode([0x89, 0x50], file: "short.png") })
        #expect(short.description.contains("starts with 89 50 (\".P\")"))
    }

    @Test func truncated() throws {
        let cut = Array(Self.validPNG.prefix(Self.validPNG.count - 20))
        let error = try #require(Self.error { try PNGDecoder.decode(cut, file: "cut.png") })
        guard case .corrupt(let message) = error.problem else {
            Issue.record("expected corrupt, got \(error)")
            return
        }
        #expect(!message.isEmpty)
        #expect(error.description.hasPrefix("cut.png: corrupt or truncated PNG: "))
        // Only the signature and part of the header.
        let header = try #require(Self.error { try PNGDecoder.decode(Array(Self.validPNG.prefix(12)), file: "h.png") })
        #expect(header.description.hasPrefix("h.png: corrupt or truncated PNG: "))
    }

    /// Found by the PNG fuzzing harness (Fuzzing/Corpus/PNG/oom-text-chunk-longer-than-file.png): 112 bytes, a
    /// 5×2 RGB header then a tEXt chunk declaring 1,953,776,984 bytes, which took the harness to 1.96 GB
    /// resident inside libpng; the chunk is now refused before libpng sees the file.
    @Test func aChunkDeclaringMoreThanTheFileHoldsIsRefusedBeforeLibpngReadsIt() throws {
        let bytes: [UInt8] = [
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
            0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0x1F, 0x08, 0x81,
            0x0A, 0x74, 0x74, 0x45, 0x58, 0x74, 0x45, 0x58, 0x74, 0x00, 0x00, 0x00, 0x06, 0xC7, 0x74, 0x52,
            0x4E, 0x53, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0xC9, 0x4B, 0xAB, 0xF5, 0x00, 0x00, 0x00, 0x25,
            0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x60, 0x38, 0xC1, 0xC0, 0x75, 0x82, 0x81, 0x91, 0x89,
            0x59, 0xEE, 0x04, 0x83, 0xC6, 0x09, 0x06, 0x06, 0x86, 0x13, 0xEC, 0x5C, 0x27, 0xD8, 0xC1, 0x7C,
            0x76, 0x8D, 0x13, 0xEC, 0x00, 0x6D, 0xE8, 0x07, 0x09, 0x09, 0x95, 0x92, 0x44, 0x42, 0x60, 0x82,
        ]
        let error = try #require(Self.error { try PNGDecoder.decode(bytes, file: "fuzzed.png") })
        #expect(
            error.description
                == "fuzzed.png: corrupt or truncated PNG: chunk tEXt at byte 33 declares 1953776984 bytes of data, but"
                + " the file has room for 67")
    }

    @Test func badChecksum() throws {
        var bytes = Self.validPNG
        bytes[bytes.count - 20] ^= 0x55 // inside IDAT
        let error = try #require(Self.error { try PNGDecoder.decode(bytes, file: "flipped.png") })
        #expect(error.description.hasPrefix("flipped.png: corrupt or truncated PNG: "), "\(error)")
    }

    @Test func zeroWidthHeader() throws {
        let error = try #require(
            Self.error { try PNGDecoder.decode(PNGBytes.header(width: 0, height: 5), file: "zero.png") })
        #expect(error.description.hasPrefix("zero.png: corrupt or truncated PNG: "), "\(error)")
    }

    /// Refused from the header alone: nothing the size of the image is allocated (these files are ~60 bytes).
    @Test(arguments: [(UInt32(30_000), UInt32(10)), (10, 25_000), (10_000, 10_000), (8_000, 6_000)])
    func tooLarge(width: UInt32, height: UInt32) throws {
        let error = try #require(
            Self.error { try PNGDecoder.decode(PNGBytes.header(width: width, height: height), file: "huge.png") })
        #expect(
            error.problem
                == .tooLarge(
                    width: Int(width), height: Int(height), maximumSide: PNGDecoder.maximumSide,
                    maximumPixelCount: PNGDecoder.maximumPixelCount))
        #expect(error.description.hasPrefix("huge.png: image too large (\(width)×\(height) pixels"))
    }

    @Test func blankImages() throws {
        for level: UInt8 in [0, 128, 255] {
            let error = try #require(
                Self.error {
                    try MNISTPreprocessing.prepare(
                        GrayImage(width: 50, height: 40, filledWith: level), file: "blank.png")
                })
            #expect(error.problem == .blank)
            #expect(error.description == "blank.png: the image is blank (no ink to tell from the background)")
        }
        // Faint pencil (10 levels) on white is still blank; a single dust speck is not a digit either.
        var faint = GrayImage(width: 50, height: 40)
        for x in 10..<30 { faint[x, 20] = 245 }
        #expect(Self.error { try MNISTPreprocessing.prepare(faint) }?.problem == .blank)
        var speck = GrayImage(width: 50, height: 40)
        speck[25, 20] = 0
        #expect(Self.error { try MNISTPreprocessing.prepare(speck) }?.problem == .blank)
        #expect(
            Self.error { try MNISTPreprocessing.prepare(GrayImage(width: 0, height: 0, pixels: [])) }?.problem == .blank
        )
    }

    /// Every truncation of a valid PNG, and thousands of random byte changes (with and without repaired
    /// checksums, so damage reaches the decompressor and the filters), either decode or throw `ImageError`.
    @Test func fuzzing() throws {
        var rgb = [UInt8]()
        var generator = SplitMix64(seed: 42)
        for y in 0..<24 {
            for x in 0..<31 { rgb += [UInt8(x * 8), UInt8(y * 10), UInt8.random(in: 0...255, using: &generator)] }
        }
        let valid = PNGEncoder.encodeRGB(width: 31, height: 24, pixels: rgb)
        let interlaced = try Data(contentsOf: Fixtures.url("interlaced-gray8.png"))
        let palette = try Data(contentsOf: Fixtures.url("palette4.png"))
        var decoded = 0, thrown = 0
        func attempt(_ bytes: [UInt8]) {
            do {
                let image = try PNGDecoder.decode(bytes, file: "fuzz.png")
                #expect(image.pixels.count == image.width * image.height)
                if let ready = try? MNISTPreprocessing.prepare(image) { #expect(ready.count == 784) }
                decoded += 1
            } catch is ImageError {
                thrown += 1
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        for length in 0..<valid.count { attempt(Array(valid.prefix(length))) }
        for original in [valid, [UInt8](interlaced), [UInt8](palette)] {
            for round in 0..<1500 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 8..<bytes.count, using: &generator)
                    bytes[index] =
                        round % 3 == 0
                        ? UInt8.random(in: 0...255, using: &generator)
                        : bytes[index] ^ (1 << UInt8.random(in: 0...7, using: &generator))
                }
                attempt(bytes)
                attempt(PNGBytes.fixingCRCs(bytes))
            }
        }
        #expect(decoded > 0 && thrown > valid.count)
    }
}
