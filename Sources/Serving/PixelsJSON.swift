/// The usual `POST /predict` body, `{"pixels": [784 numbers from 0 to 255]}`, read in one pass over its bytes.
///
/// `JSONDecoder` took about 0.4 ms for such a body, most of a request's work on the server (`perf`: 44% of its
/// time under wrk). `parse` accepts only that object, with exactly `count` numbers in 0…255
/// (`PredictionService.pixelValues`), and JSON's whitespace anywhere JSON allows it; for anything else (other
/// keys, escapes, a byte-order mark, a number out of range, a wrong count, malformed JSON) it answers nil and
/// the caller decodes the body with `JSONDecoder`, which accepts what JSON allows and words the errors. Each number is converted as `JSONDecoder` converts it
/// (correctly rounded to a `Double`, then to a `Float`), so both paths give the same pixels.
enum PixelsJSON {
    /// The pixels of `body` when it is exactly the usual object with `count` numbers in 0…255, else nil.
    static func parse(_ body: [UInt8], count: Int) -> [Float]? {
        body.withUnsafeBufferPointer { bytes in
            var reader = Reader(bytes: bytes)
            guard reader.skip("{"), reader.skip("\"pixels\""), reader.skip(":"), reader.skip("[") else { return nil }
            var pixels = [Float]()
            pixels.reserveCapacity(count)
            while pixels.count < count {
                if !pixels.isEmpty { guard reader.skip(",") else { return nil } }
                guard let value = reader.number(), PredictionService.pixelValues.contains(value) else { return nil }
                pixels.append(Float(value))
            }
            guard reader.skip("]"), reader.skip("}") else { return nil }
            reader.skipWhitespace()
            return reader.atEnd ? pixels : nil
        }
    }

    /// A cursor over the body's bytes.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var atEnd: Bool { position == bytes.count }

        /// Moves past JSON's whitespace: space, tab, line feed, carriage return.
        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        /// Moves past whitespace and then `token`, if the bytes are `token`; false (position unspecified) if not.
        mutating func skip(_ token: StaticString) -> Bool {
            skipWhitespace()
            let length = token.utf8CodeUnitCount
            guard bytes.count - position >= length else { return false }
            for offset in 0..<length where bytes[position + offset] != token.utf8Start[offset] { return false }
            position += length
            return true
        }

        /// A number in JSON's grammar, after whitespace: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        /// Whole numbers of up to 15 digits are exact as they are read; any other is converted by
        /// `Double(String)`, correctly rounded like `JSONDecoder`'s.
        mutating func number() -> Double? {
            skipWhitespace()
            let start = position
            let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            let integerStart = position
            var whole = 0
            while position < bytes.count, let digit = Self.digit(bytes[position]) {
                whole = whole &* 10 &+ digit
                position += 1
            }
            let integerDigits = position - integerStart
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { return nil }
            var isWhole = true
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard skipDigits() else { return nil }
                isWhole = false
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
                {
                    position += 1
                }
                guard skipDigits() else { return nil }
                isWhole = false
            }
            if isWhole && integerDigits <= 15 { return negative ? -Double(whole) : Double(whole) }
            return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }

        /// Moves past one or more digits; false if there is none.
        private mutating func skipDigits() -> Bool {
            let start = position
            while position < bytes.count, Self.digit(bytes[position]) != nil { position += 1 }
            return position > start
        }

        private static func digit(_ byte: UInt8) -> Int? {
            byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
        }
    }
}
