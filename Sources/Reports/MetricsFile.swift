import Foundation
import MNIST

/// A metrics file line that is not an `EpochRecord`; names the file and the line (counting from 1).
public struct MetricsFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let problem: String
    public var description: String { "\(file):\(line): \(problem)" }
}

extension EpochRecord {
    /// The records of a metrics file as `mnist train` writes it: one JSON object per line (blank lines
    /// are skipped). Throws `MetricsFileError` for a line that is not a record.
    public static func readMetrics(from url: URL) throws -> [EpochRecord] {
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let decoder = JSONDecoder()
        var records = [EpochRecord]()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            do {
                records.append(try decoder.decode(EpochRecord.self, from: Data(line.utf8)))
            } catch let error as DecodingError {
                throw MetricsFileError(file: url.path, line: offset + 1, problem: Self.explain(error))
            }
        }
        return records
    }

    /// A short reason a line did not decode.
    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "not an epoch record: \"\(key.stringValue)\" is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "not an epoch record: \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
        case .dataCorrupted: "not valid JSON"
        @unknown default: "not an epoch record"
        }
    }
}
