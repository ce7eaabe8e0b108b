/// Protocol Buffers' wire format, the little of it that ONNX files need: varints, 32-bit floats and
/// length-delimited fields (strings, bytes, packed repeated integers, nested messages).
///
/// Each field is a key, `fieldNumber << 3 | wireType`, as a varint, then its value. A message is its fields
/// one after another; a nested message is a length-delimited field holding the nested message's bytes.
/// Fields are written in the order the calls come; readers accept any order.
struct ProtobufEncoder {
    /// The wire types used here (protobuf's encoding guide).
    enum WireType: UInt64 {
        /// int32, int64, uint64, bool, enum: a varint.
        case varint = 0
        /// string, bytes, nested messages, packed repeated fields: a varint length, then that many bytes.
        case lengthDelimited = 2
        /// float: 4 bytes, little-endian.
        case fixed32 = 5
    }

    /// The message so far.
    private(set) var bytes: [UInt8] = []

    /// Appends `value` as a varint: 7 bits a byte, least significant first, the high bit set on every byte
    /// but the last.
    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func appendKey(_ fieldNumber: Int, _ wireType: WireType) {
        appendVarint(UInt64(fieldNumber) << 3 | wireType.rawValue)
    }

    /// An int32, int64 or enum field. A negative value takes ten bytes (its 64-bit two's complement), as
    /// protobuf writes int32 and int64.
    mutating func append(_ fieldNumber: Int, integer value: Int) {
        appendKey(fieldNumber, .varint)
        appendVarint(UInt64(bitPattern: Int64(value)))
    }

    /// A float field.
    mutating func append(_ fieldNumber: Int, float value: Float) {
        appendKey(fieldNumber, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A bytes field, or a nested message's bytes.
    mutating func append(_ fieldNumber: Int, bytes value: [UInt8]) {
        appendKey(fieldNumber, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string field (UTF-8).
    mutating func append(_ fieldNumber: Int, string value: String) {
        append(fieldNumber, bytes: Array(value.utf8))
    }

    /// A nested message, built by `build` on an encoder of its own.
    mutating func append(_ fieldNumber: Int, message build: (inout ProtobufEncoder) -> Void) {
        var nested = ProtobufEncoder()
        build(&nested)
        append(fieldNumber, bytes: nested.bytes)
    }

    /// A packed repeated int64 field: one length-delimited field holding the varints back to back.
    mutating func append(_ fieldNumber: Int, packedIntegers values: [Int]) {
        var packed = ProtobufEncoder()
        for value in values { packed.appendVarint(UInt64(bitPattern: Int64(value))) }
        append(fieldNumber, bytes: packed.bytes)
    }
}
