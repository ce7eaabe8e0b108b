import Foundation
import Testing

@testable import Serving

/// The one-pass reader of the usual `{"pixels": [...]}` body against `JSONDecoder`'s path: the same pixels for
/// every body it reads, and nil (so `JSONDecoder` decides and words the error) for every other.
@Suite struct PixelsJSONTests {
    /// A body of `values` (JSON number texts), with `space` between every two tokens.
    static func body(_ values: [String], space: (Int) -> String = { _ in "" }) -> [UInt8] {
        var text = space(0) + "{" + space(1) + "\"pixels\"" + space(2) + ":" + space(3) + "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += space(4 + 2 * index) + "," }
            text += space(5 + 2 * index) + value
        }
        text += space(1) + "]" + space(2) + "}" + space(3)
        return Array(text.utf8)
    }

    /// Numbers written every way JSON allows, whitespace of every kind between the tokens: read in one pass,
    /// and equal to what `JSONDecoder` makes of the same bytes, bit for bit.
    @Test func readsWhatJSONDecoderReadsTheSame() throws {
        var generator = SystemRandomNumberGenerator()
        let forms: [(inout SystemRandomNumberGenerator) -> String] = [
            { "\(Int.random(in: 0...255, using: &$0))" },
            { String(format: "%.3f", Double.random(in: 0...255, using: &$0)) },
            { "\(Double.random(in: 0...255, using: &$0))" },
            { "\(Int.random(in: 1...25, using: &$0))e1" },
            { "\(Int.random(in: 0...2550, using: &$0))E-1" },
            { "0.\(Int.random(in: 0...99_999_999, using: &$0))e+2" },
            { _ in "-0" },
            { _ in "0.0" },
            { _ in "255" },
            { _ in "2.55e2" },
            { _ in "0.1" },
            { _ in "254.99999999999999999999" },
        ]
        let spaces = ["", " ", "\n", "\t", "\r\n", "  \t "]
        for _ in 0..<200 {
            let values = (0..<PredictionService.pixelCount).map { _ in
                forms.randomElement(using: &generator)!(&generator)
            }
            let chosen = (0..<4).map { _ in spaces.randomElement(using: &generator)! }
            let body = Self.body(values) { chosen[$0 % 4] }
            let read = try #require(
                PixelsJSON.parse(body, count: PredictionService.pixelCount),
                "\(String(decoding: body, as: UTF8.self).prefix(120))")
            let decoded = try PredictionService.decodedPixels(fromJSON: body)
            let served = try PredictionService.pixels(fromJSON: body)
            // The first pixel that differs in its bits, if any, named with both values and its text.
            let mismatch = (0..<decoded.count).first {
                read[$0].bitPattern != decoded[$0].bitPattern || served[$0].bitPattern != decoded[$0].bitPattern
            }
            #expect(
                mismatch == nil,
                "pixel \(mismatch ?? 0), \(values[mismatch ?? 0]): read \(read[mismatch ?? 0]), decoded \(decoded[mismatch ?? 0])"
            )
            if mismatch != nil { break }
        }
    }

    /// Valid JSON it does not read (another key, an escaped key): nil, and the service's
    /// answer is `JSONDecoder`'s.
    @Test(arguments: [
        #"{"pixels": [P], "extra": 1}"#, #"{"extra": 1, "pixels": [P]}"#, #"{"\u0070ixels": [P]}"#,
    ])
    func handsOtherValidJSONToTheDecoder(_ template: String) throws {
        let values = (0..<PredictionService.pixelCount).map { String($0 % 256) }.joined(separator: ",")
        let body = Array(template.replacingOccurrences(of: "P", with: values).utf8)
        #expect(PixelsJSON.parse(body, count: PredictionService.pixelCount) == nil)
        let expected = (0..<PredictionService.pixelCount).map { Float($0 % 256) }
        #expect(try PredictionService.pixels(fromJSON: body) == expected)
    }

    /// Bodies that are not the usual object with 784 numbers in 0…255: nil, so the decoder words the error.
    @Test(arguments: [
        "01", "1.", ".5", "+1", "1e", "1e+", "-", "256", "-1", "255.001", "1e400", "NaN", "\"1\"", "null", "0x1",
        "1 2",
    ])
    func refusesANumberThatIsNotOne(_ value: String) throws {
        let body = PredictionServiceTests.pixelsBody(replacing: 100, with: value)
        #expect(PixelsJSON.parse(body, count: PredictionService.pixelCount) == nil)
        #expect(throws: ServingError.self) { try PredictionService.pixels(fromJSON: body) }
    }

    @Test func refusesTheWrongCountAndTrailingBytes() {
        let count = PredictionService.pixelCount
        for wrong in [count - 1, count + 1] {
            #expect(PixelsJSON.parse(PredictionServiceTests.pixelsBody(count: wrong), count: count) == nil)
        }
        let good = PredictionServiceTests.pixelsBody()
        #expect(PixelsJSON.parse(good, count: count) != nil)
        for broken in [good + Array("x".utf8), Array(good.dropLast()), Array(good.dropFirst()), good + Array(",".utf8)]
        {
            #expect(PixelsJSON.parse(broken, count: count) == nil)
        }
        let trailingComma = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "]", with: ",]").utf8)
        #expect(PixelsJSON.parse(trailingComma, count: count) == nil)
        #expect(PixelsJSON.parse([], count: count) == nil)
    }
}
