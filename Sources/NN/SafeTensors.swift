import Autograd
import FileInput
import Foundation

/// Reading and writing the safetensors format, the weights format PyTorch writes with
/// `safetensors.torch.save_file(model.state_dict(), path, metadata=...)`.
///
/// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (plus an optional `"__metadata__"`
/// string-to-string map), then the tensors' little-endian row-major bytes, packed without gaps.
///
/// Reading accepts the dtypes listed in `SafeTensorsDataType` and converts them to Float32. It rejects
/// malformed files as the reference implementation does (and duplicate header keys besides), with a
/// message that names the file and the problem, and it never traps, whatever the bytes. The header's JSON
/// is parsed by Foundation's `JSONSerialization`; what that parser lets through (duplicate keys, trailing
/// commas) is refused by a scan of the brackets and keys (`checkKeysAndCommas`).
///
/// Writing always stores F32, names sorted, the header padded with spaces to a multiple of 8 bytes: the
/// same bytes Python's `safetensors.torch.save` writes for the same F32 tensors (and metadata, up to the
/// order of its keys, which Python leaves to a hash map).
public enum SafeTensors {
    /// The largest header the reader accepts, in bytes (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    /// The largest file `read(from:)` accepts: 1 GiB (the largest model here, the VGG-style network, is
    /// 1.3 MB; its checkpoint, with Adam's state, 4 MB).
    public static let maximumFileSize = 1 << 30

    /// Reads and decodes the file at `url`. Errors name the file by its last path component.
    ///
    /// Only a regular file is read (a FIFO, device or directory is refused without reading from it, so
    /// `/dev/zero` or a pipe nobody writes to cannot exhaust memory or hang), of at most
    /// `maximumFileSize` bytes; the header is read and checked, against the file's size too, before the
    /// tensors' bytes are.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let source = url.lastPathComponent
        func failure(_ problem: String) -> SafeTensorsError { SafeTensorsError(source: source, problem: problem) }
        let file: RegularFile
        do {
            file = try RegularFile(path: url.path)
        } catch {
            switch error {
            case .cannotOpen(let reason): throw failure("cannot open \(url.path): \(reason)")
            case .cannotInspect(let reason): throw failure("cannot read \(url.path): \(reason)")
            case .notRegular(let kind):
                throw failure("\(url.path) is \(kind), not a regular file: only regular files are read as weights")
            }
        }
        func readExactly(_ count: Int) throws -> [UInt8] {
            do {
                return try file.read(exactly: count)
            } catch {
                switch error {
                case .endedEarly(let done):
                    throw failure(
                        "the file ended after \(done) of \(count) bytes while being read (truncated while reading?)")
                case .failed(let reason): throw failure("cannot read \(url.path): \(reason)")
                }
            }
        }
        let size = file.size
        guard size <= maximumFileSize else {
            throw failure("file is \(size) bytes, over the \(maximumFileSize)-byte limit (1 GiB) for safetensors files")
        }
        guard size >= 8 else {
            throw failure("file is \(size) bytes, too short for the 8-byte header length (truncated?)")
        }
        let lengthBytes = try readExactly(8)
        // A header that does not hold together may be another format's file (see `otherFormat`).
        func headerFailure(_ problem: String) -> SafeTensorsError {
            failure(otherFormat(startingWith: lengthBytes) ?? problem)
        }
        let headerLength = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw headerFailure("header length \(headerLength) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= size else {
            throw headerFailure(
                "file is \(size) bytes, but the header length \(headerLength) says the header ends at byte "
                    + "\(dataStart) (truncated?)")
        }
        let headerBytes = try readExactly(Int(headerLength))
        let header = try decodeHeader(headerBytes, failure: headerFailure)
        // The header's size for the data against the file's, before reading the data.
        try checkDataLength(
            header.dataEnd, available: size - dataStart, fileSize: size, dataStart: dataStart, failure: failure)
        let body = try readExactly(size - dataStart)
        return try decode(lengthBytes + headerBytes + body, source: source)
    }

    /// What a file that is not safetensors is, told by its first bytes, for files given as weights by
    /// mistake: PyTorch's own `torch.save` files above all, which would otherwise be reported as a header
    /// length of petabytes. Nil when the bytes name no format this knows.
    static func otherFormat(startingWith bytes: [UInt8]) -> String? {
        let convert =
            "in Python, `safetensors.torch.save_file(torch.load(path), \"model.safetensors\")` converts a saved "
            + "state dict"
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return "this is a ZIP archive, as PyTorch's torch.save writes (.pt, .pth), not a safetensors file: "
                + convert
        }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) {
            return "this is a Python pickle (PyTorch's legacy torch.save format), not a safetensors file: " + convert
        }
        if bytes.starts(with: [0x1F, 0x8B]) {
            return "this is a gzip file, not a safetensors file: decompress it first"
        }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "this is a PNG image, not a safetensors file" }
        return nil
    }

    /// Throws unless the data section, `available` bytes from byte `dataStart`, ends where the header says.
    fileprivate static func checkDataLength(
        _ dataEnd: Int, available dataLength: Int, fileSize: Int, dataStart: Int, failure: (String) -> SafeTensorsError
    ) throws {
        guard dataEnd == dataLength else {
            let headerSays = "the header says the data ends at byte \(UInt64(dataStart) + UInt64(dataEnd))"
            if dataEnd > dataLength {
                throw failure("file is \(fileSize) bytes, but \(headerSays) (truncated?)")
            }
            let trailing = dataLength - dataEnd
            let trailingBytes = "\(trailing) trailing byte\(trailing == 1 ? "" : "s")"
            throw failure("file is \(fileSize) bytes, but \(headerSays) (\(trailingBytes))")
        }
    }

    /// Decodes the bytes of a safetensors file; `source` names the file in error messages.
    public static func decode(_ bytes: [UInt8], source: String) throws -> SafeTensorsFile {
        func failure(_ problem: String) -> SafeTensorsError {
            SafeTensorsError(source: source, problem: problem)
        }
        guard bytes.count >= 8 else {
            throw failure("file is \(bytes.count) bytes, too short for the 8-byte header length (truncated?)")
        }
        func headerFailure(_ problem: String) -> SafeTensorsError {
            failure(otherFormat(startingWith: Array(bytes[0..<8])) ?? problem)
        }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw headerFailure("header length \(headerLength) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= bytes.count else {
            throw headerFailure(
                "file is \(bytes.count) bytes, but the header length \(headerLength) says the header ends at byte "
                    + "\(dataStart) (truncated?)")
        }
        let headerBytes = Array(bytes[8..<dataStart])
        let (metadata, entries, dataEnd) = try decodeHeader(headerBytes, failure: headerFailure)
        try checkDataLength(
            dataEnd, available: bytes.count - dataStart, fileSize: bytes.count, dataStart: dataStart, failure: failure)

        let tensors = bytes.withUnsafeBytes { file in
            entries.map { entry in
                let raw = UnsafeRawBufferPointer(rebasing: file[(dataStart + entry.begin)..<(dataStart + entry.end)])
                let values = floats(from: raw, dataType: entry.dataType, count: entry.elementCount)
                return (name: entry.name, tensor: Tensor(shape: entry.shape, data: values))
            }
        }
        return SafeTensorsFile(
            source: source,
            tensors: tensors,
            dataTypes: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.dataType) }),
            metadata: metadata)
    }

    /// The bytes of a safetensors file holding `tensors` as F32 and `metadata` as its `__metadata__` map
    /// (omitted when empty). Names are sorted, in the header and in the data, so the same tensors always
    /// give the same bytes. Throws for a duplicate name, the reserved name `__metadata__`, or a tensor
    /// whose element count does not match its shape.
    public static func encode(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]
    ) throws -> [UInt8] {
        try encode(tensors, metadata: metadata, destination: "safetensors encoding")
    }

    /// Writes `tensors` and `metadata` (as `encode` lays them out) to `url` atomically: the bytes go to a
    /// temporary file in the same directory, which is flushed to disk and then renamed over `url`, so a
    /// crash mid-write leaves either the old file or the new one, never part of one.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
    ) throws {
        let destination = url.lastPathComponent
        let bytes = try encode(tensors, metadata: metadata, destination: destination)
        do {
            try AtomicFile.write(bytes, to: url)
        } catch let error as AtomicFileError {
            throw SafeTensorsError(source: destination, problem: error.problem)
        }
    }
}

/// The tensors and metadata of a decoded safetensors file, every tensor converted to Float32.
public struct SafeTensorsFile {
    /// The name of the file, used in error messages.
    public let source: String
    /// The tensors in the order their data lies in the file.
    public let tensors: [(name: String, tensor: Tensor)]
    /// The dtype each tensor was stored with, by name, before conversion to Float32.
    public let dataTypes: [String: SafeTensorsDataType]
    /// The header's `__metadata__` map; empty when the file has none.
    public let metadata: [String: String]
    private let indexByName: [String: Int]

    init(
        source: String, tensors: [(name: String, tensor: Tensor)], dataTypes: [String: SafeTensorsDataType],
        metadata: [String: String]
    ) {
        self.source = source
        self.tensors = tensors
        self.dataTypes = dataTypes
        self.metadata = metadata
        indexByName = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// The tensor stored under `name`, or nil when the file has none.
    public subscript(name: String) -> Tensor? {
        indexByName[name].map { tensors[$0].tensor }
    }

    /// Throws unless this file holds exactly the tensors named in `expected`, each with the expected
    /// shape, like PyTorch's `load_state_dict(strict=True)`; the error names every difference.
    public func checkStateDict(expected: [(name: String, shape: [Int])]) throws {
        try NN.checkStateDict(expected: expected, found: tensors, source: source)
    }
}

/// A tensor element type of the safetensors format, named by its header spelling.
public enum SafeTensorsDataType: String, CaseIterable, Sendable {
    /// Booleans, one byte each.
    case bool = "BOOL"
    /// Unsigned 8-bit integers.
    case uint8 = "U8"
    /// Signed 8-bit integers.
    case int8 = "I8"
    /// Unsigned 16-bit integers.
    case uint16 = "U16"
    /// Signed 16-bit integers.
    case int16 = "I16"
    /// Unsigned 32-bit integers.
    case uint32 = "U32"
    /// Signed 32-bit integers.
    case int32 = "I32"
    /// Unsigned 64-bit integers.
    case uint64 = "U64"
    /// Signed 64-bit integers.
    case int64 = "I64"
    /// IEEE 754 half-precision floats.
    case float16 = "F16"
    /// bfloat16: a Float32's sign and 8-bit exponent with a 7-bit fraction.
    case bfloat16 = "BF16"
    /// IEEE 754 single-precision floats.
    case float32 = "F32"
    /// IEEE 754 double-precision floats.
    case float64 = "F64"

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        }
    }
}

/// A safetensors file that could not be read, decoded, written or matched to a model.
public struct SafeTensorsError: Error, CustomStringConvertible, LocalizedError {
    /// The file concerned (its name), or what was being done when there is no file.
    public let source: String
    /// What is wrong, with the expected and found values.
    public let problem: String

    /// An error about `source` (a file's name, or what was being done) saying `problem`.
    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    /// `SOURCE: PROBLEM`.
    public var description: String { "\(source): \(problem)" }
    /// The same as `description`, for `LocalizedError`.
    public var errorDescription: String? { description }
}

// MARK: - Header

extension SafeTensors {
    /// The header key of the string-to-string metadata map.
    fileprivate static let metadataKey = "__metadata__"

    /// One validated tensor entry of a header.
    fileprivate struct HeaderEntry {
        let name: String
        let dataType: SafeTensorsDataType
        let shape: [Int]
        let elementCount: Int
        let begin: Int
        let end: Int
    }

    fileprivate static func parseMetadata(
        _ value: JSONValue, failure: (String) -> SafeTensorsError
    ) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw failure("'\(metadataKey)' must be an object of strings, found \(value.summary)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            guard case .string(let text) = value else {
                throw failure("'\(metadataKey)' value for '\(key)' must be a string, found \(value.summary)")
            }
            metadata[key] = text
        }
        return metadata
    }

    fileprivate static func parseEntry(
        named name: String, _ value: JSONValue, failure: (String) -> SafeTensorsError
    ) throws -> HeaderEntry {
        guard case .object(let members) = value else {
            throw failure(
                "tensor '\(name)' must be an object with dtype, shape and data_offsets, found \(value.summary)")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let member = members[key] else { throw failure("tensor '\(name)' has no '\(key)'") }
            return member
        }
        func nonNegativeIntegers(_ key: String) throws -> [Int] {
            let value = try field(key)
            guard case .array(let elements) = value else {
                throw failure("tensor '\(name)' \(key) must be an array, found \(value.summary)")
            }
            return try elements.enumerated().map { index, element in
                guard case .number(let literal) = element, let integer = Int(literal), integer >= 0 else {
                    throw failure(
                        "tensor '\(name)' \(key)[\(index)] is \(element.summary), but must be a non-negative integer "
                            + "that fits in Int")
                }
                return integer
            }
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtype) = dtypeValue else {
            throw failure("tensor '\(name)' dtype must be a string, found \(dtypeValue.summary)")
        }
        guard let dataType = SafeTensorsDataType(rawValue: dtype) else {
            let supported = SafeTensorsDataType.allCases.map(\.rawValue).joined(separator: ", ")
            throw failure("tensor '\(name)' has dtype '\(dtype)', which is not supported (supported: \(supported))")
        }
        let shape = try nonNegativeIntegers("shape")
        let offsets = try nonNegativeIntegers("data_offsets")
        guard offsets.count == 2 else {
            throw failure("tensor '\(name)' data_offsets must be [begin, end], found an array of \(offsets.count)")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw failure("tensor '\(name)' data_offsets [\(begin), \(end)) end before they begin")
        }

        // Tensor and the code using it multiply dimensions freely, so the product of the nonzero ones (and
        // hence every partial product) must fit in Int, as must the byte count.
        let nonzeroProduct = shape.filter { $0 != 0 }.reduce((value: 1, overflow: false)) { product, dimension in
            let next = product.value.multipliedReportingOverflow(by: dimension)
            return (next.partialValue, product.overflow || next.overflow)
        }
        let elementCount = shape.contains(0) ? 0 : nonzeroProduct.value
        let byteCount = elementCount.multipliedReportingOverflow(by: dataType.byteCount)
        guard !nonzeroProduct.overflow, !byteCount.overflow else {
            throw failure("tensor '\(name)' shape \(shape) of \(dtype) has too many elements to address")
        }
        guard end - begin == byteCount.partialValue else {
            throw failure(
                "tensor '\(name)' data_offsets [\(begin), \(end)) hold \(end - begin) bytes, but shape \(shape) of "
                    + "\(dtype) needs \(byteCount.partialValue)")
        }
        return HeaderEntry(
            name: name, dataType: dataType, shape: shape, elementCount: elementCount, begin: begin, end: end)
    }

    /// The metadata and tensor entries of a header (the JSON after the 8-byte length), checked: valid UTF-8
    /// JSON (`parseJSON`), well-formed entries, data offsets without gaps or overlaps. `dataEnd` is where the
    /// data ends.
    fileprivate static func decodeHeader(
        _ headerBytes: [UInt8], failure: (String) -> SafeTensorsError
    ) throws -> (metadata: [String: String], entries: [HeaderEntry], dataEnd: Int) {
        let isValidUTF8 = !transcode(
            headerBytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true, into: { _ in })
        guard isValidUTF8 else { throw failure("header is not valid UTF-8") }

        let document = try parseJSON(headerBytes, failure: failure)
        guard case .object(let members) = document else {
            throw failure("header must be a JSON object, found \(document.summary)")
        }

        var metadata: [String: String] = [:]
        var entries: [HeaderEntry] = []
        // In key order, so a header with several problems is always refused for the same one.
        for (key, value) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            if key == metadataKey {
                metadata = try parseMetadata(value, failure: failure)
            } else {
                entries.append(try parseEntry(named: key, value, failure: failure))
            }
        }

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previous: HeaderEntry?
        for entry in entries {
            let expectedBegin = previous?.end ?? 0
            guard entry.begin == expectedBegin else {
                let boundary = previous.map { "where tensor '\($0.name)' ends" } ?? "where the data section starts"
                let kind = entry.begin > expectedBegin ? "gap" : "overlap"
                throw failure(
                    "tensor '\(entry.name)' data_offsets [\(entry.begin), \(entry.end)) should begin at byte "
                        + "\(expectedBegin), \(boundary) (\(kind))")
            }
            previous = entry
        }
        return (metadata, entries, previous?.end ?? 0)
    }

    /// The `count` little-endian elements of `dataType` in `raw`, converted to Float.
    fileprivate static func floats(
        from raw: UnsafeRawBufferPointer, dataType: SafeTensorsDataType, count: Int
    ) -> [Float] {
        func convert<Element: FixedWidthInteger>(_: Element.Type, _ transform: (Element) -> Float) -> [Float] {
            let stride = MemoryLayout<Element>.size
            return (0..<count).map { index in
                transform(Element(littleEndian: raw.loadUnaligned(fromByteOffset: index * stride, as: Element.self)))
            }
        }
        switch dataType {
        case .bool: return convert(UInt8.self) { $0 == 0 ? 0 : 1 }
        case .uint8: return convert(UInt8.self) { Float($0) }
        case .int8: return convert(Int8.self) { Float($0) }
        case .uint16: return convert(UInt16.self) { Float($0) }
        case .int16: return convert(Int16.self) { Float($0) }
        case .uint32: return convert(UInt32.self) { Float($0) }
        case .int32: return convert(Int32.self) { Float($0) }
        case .uint64: return convert(UInt64.self) { Float($0) }
        case .int64: return convert(Int64.self) { Float($0) }
        case .float16: return convert(UInt16.self, floatFromHalf)
        case .bfloat16: return convert(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        case .float32: return convert(UInt32.self) { Float(bitPattern: $0) }
        case .float64: return convert(UInt64.self) { Float(Double(bitPattern: $0)) }
        }
    }

    /// The IEEE 754 half-precision number with bits `bits`, widened exactly to Float.
    fileprivate static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0: // Zero or subnormal: mantissa × 2⁻²⁴.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F: // Infinity or NaN.
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default: // Rebias the exponent from 15 to 127.
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

// MARK: - Encoding

extension SafeTensors {
    fileprivate static func encode(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String], destination: String
    ) throws -> [UInt8] {
        func failure(_ problem: String) -> SafeTensorsError {
            SafeTensorsError(source: destination, problem: problem)
        }
        // A Set, as the reader uses, so names equal as Unicode text but spelt differently count as duplicates.
        var names: Set<String> = []
        for (name, _) in tensors where !names.insert(name).inserted {
            throw failure("tensor name '\(name)' appears more than once")
        }
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            members.append(
                jsonString(metadataKey) + ":{"
                    + pairs.map { jsonString($0.key) + ":" + jsonString($0.value) }.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            guard name != metadataKey else {
                throw failure("'\(metadataKey)' is reserved for metadata and cannot name a tensor")
            }
            guard tensor.count == tensor.shape.reduce(1, *) else {
                throw failure(
                    "tensor '\(name)' has \(tensor.count) elements, but its shape \(tensor.shape) needs "
                        + "\(tensor.shape.reduce(1, *))")
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.count * SafeTensorsDataType.float32.byteCount
            members.append(
                jsonString(name) + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for (_, tensor) in sorted {
            tensor.data.map { $0.bitPattern.littleEndian }.withUnsafeBytes { bytes += $0 }
        }
        return bytes
    }

    /// `text` as a JSON string literal, escaped the way serde_json (the reference writer) escapes it.
    fileprivate static func jsonString(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            case "\u{08}": literal += "\\b"
            case "\u{0C}": literal += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}

// MARK: - JSON

extension SafeTensors {
    /// The deepest nesting of arrays and objects a header may have (a valid one has three levels).
    static let maximumNestingDepth = 64

    /// The header's JSON value, parsed by Foundation's `JSONSerialization`, then checked for what that parser
    /// lets through but this reader refuses (`checkKeysAndCommas`). Throws, naming the problem and where it is.
    fileprivate static func parseJSON(
        _ headerBytes: [UInt8], failure: (String) -> SafeTensorsError
    ) throws -> JSONValue {
        // JSON text holds neither: Foundation would take NUL bytes for UTF-16 or UTF-32 text and skip the mark.
        if let nul = headerBytes.firstIndex(of: 0) {
            throw failure("header is not valid JSON: a NUL byte at byte \(nul) of the header")
        }
        guard !headerBytes.starts(with: [0xEF, 0xBB, 0xBF]) else {
            throw failure("header is not valid JSON: it starts with a byte-order mark")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [.fragmentsAllowed])
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
            // Foundation's positions ("around character 3") count bytes from 0 at the header's start.
            throw failure("header is not valid JSON: \(reason.hasSuffix(".") ? String(reason.dropLast()) : reason)")
        }
        try checkKeysAndCommas(headerBytes, failure: failure)
        return JSONValue(object)
    }

    /// Refuses, in a header Foundation has parsed, what its parser accepts but JSON (RFC 8259) or this reader
    /// does not: a key repeated within one object (Foundation keeps the last; keys equal as Unicode text count
    /// as the same, as Swift compares strings), a comma before a closing bracket, and nesting deeper than
    /// `maximumNestingDepth`. It reads only brackets, commas and where strings begin and end; the syntax
    /// is Foundation's to check.
    private static func checkKeysAndCommas(_ bytes: [UInt8], failure: (String) -> SafeTensorsError) throws {
        // One per open bracket: whether it is an object, and the keys it has so far.
        var containers: [(isObject: Bool, keys: Set<String>)] = []
        // The last byte outside strings that is not whitespace.
        var previous: UInt8 = 0
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let start = position
                position += 1
                while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
                // A string right after an object's '{' or ',' is a key.
                let isKey =
                    containers.last?.isObject == true && [UInt8(ascii: "{"), UInt8(ascii: ",")].contains(previous)
                if isKey, position < bytes.count,
                    let key = try? JSONSerialization.jsonObject(
                        with: Data(bytes[start...position]), options: [.fragmentsAllowed]) as? String,
                    !containers[containers.count - 1].keys.insert(key).inserted
                {
                    throw failure("header is not valid JSON: duplicate key \"\(key)\" at byte \(start) of the header")
                }
                previous = UInt8(ascii: "\"")
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                containers.append((byte == UInt8(ascii: "{"), []))
                guard containers.count <= maximumNestingDepth else {
                    throw failure(
                        "header is not valid JSON: nesting deeper than \(maximumNestingDepth) levels at byte "
                            + "\(position) of the header")
                }
                previous = byte
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard previous != UInt8(ascii: ",") else {
                    throw failure(
                        "header is not valid JSON: a comma before '\(Character(Unicode.Scalar(byte)))' at byte "
                            + "\(position) of the header")
                }
                _ = containers.popLast()
                previous = byte
            case 0x20, 0x0A, 0x0D, 0x09: break
            default: previous = byte
            }
            position += 1
        }
    }
}

/// A JSON value as `JSONSerialization` returns it, sorted into JSON's kinds; numbers keep their text.
private indirect enum JSONValue {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(String)
    case boolean(Bool)
    case null

    /// `object`, one of the types `JSONSerialization` returns.
    init(_ object: Any) {
        switch object {
        case let dictionary as [String: Any]: self = .object(dictionary.mapValues(JSONValue.init))
        case let array as [Any]: self = .array(array.map(JSONValue.init))
        case let string as String: self = .string(string)
        case let decimal as NSDecimalNumber: self = .number(decimal.description) // beyond 64-bit integers
        case let number as NSNumber:
            // Booleans come as NSNumber of type "c"; integers as signed (or, past Int64, unsigned) integers;
            // a number with a fraction or an exponent as a double, so `Int(text)` refuses it.
            switch String(cString: number.objCType) {
            case "c": self = .boolean(number.boolValue)
            case "d", "f": self = .number("\(number.doubleValue)")
            case "Q", "L", "I", "S", "C": self = .number(String(number.uint64Value))
            default: self = .number(String(number.int64Value))
            }
        default: self = .null
        }
    }

    /// A short description for error messages: the value itself when it is a scalar, else its kind.
    var summary: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string(let text): text.count <= 40 ? "\"\(text)\"" : "a string"
        case .number(let literal): literal.count <= 40 ? literal : "a \(literal.count)-digit number"
        case .boolean(let value): "\(value)"
        case .null: "null"
        }
    }
}
