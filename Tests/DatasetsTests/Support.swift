import CZlib
import Foundation
import Testing

@testable import Datasets

/// The bundled MNIST splits, loaded once for all tests (decoding the training set takes a while in debug).
enum Bundled {
    static let directory = MNISTDataset.defaultDirectory()
    static let train = Result { try MNISTDataset.load(directory: try #require(directory), split: .train) }
    static let test = Result { try MNISTDataset.load(directory: try #require(directory), split: .test) }
}

/// The bytes of an IDX file with the given header fields (free to be wrong) and data.
func idxBytes(type: UInt8 = 0x08, dimensions: [Int], data: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for size in dimensions { bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: size >> $0) } }
    return bytes + data
}

/// `bytes` as a single-member gzip file.
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    // 15 + 16: a gzip wrapper rather than zlib's.
    let started = deflateInit2_(
        &stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
        Int32(MemoryLayout<z_stream>.size))
    precondition(started == Z_OK)
    defer { deflateEnd(&stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
    let status = input.withUnsafeMutableBufferPointer { input in
        output.withUnsafeMutableBufferPointer { output in
            stream.next_in = input.baseAddress
            stream.avail_in = UInt32(input.count)
            stream.next_out = output.baseAddress
            stream.avail_out = UInt32(output.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    precondition(status == Z_STREAM_END)
    return Array(output[0..<Int(stream.total_out)])
}

func write(_ bytes: [UInt8], to directory: URL, as name: String) throws {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
}

/// Expects `body` to throw a `DatasetError` of `kind` whose description contains each of `fragments`.
func expectDatasetError(
    _ kind: DatasetError.Kind, containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let error = #expect(throws: DatasetError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.description.contains(fragment), "\(error) lacks \(fragment)", sourceLocation: sourceLocation)
    }
}
