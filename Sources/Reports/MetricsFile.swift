import FileInput
import Foundation
import MNIST

/// A metrics file line that is not an `EpochRecord`, or a file that cannot be read as one; names the file and the
/// line (counting from 1; 0 for the whole file).
public struct MetricsFileError: Error, CustomStringConvertible, Equatable {
    /// The file's path.
    public let file: String
    /// The line, from 1; 0 when the problem is the whole file's.
    public let line: Int
    /// What is wrong, in a sentence.
    public let problem: String
    /// `FILE:LINE: PROBLEM`, or `FILE: PROBLEM` for the whole file.
    public var description: String { line > 0 ? "\(file):\(line): \(problem)" : "\(file): \(problem)" }
}

extension EpochRecord {
    /// The records of a metrics file as `mnist train` writes it: one JSON object per line (blank lines
    /// are skipped). Throws `MetricsFileError` for a line that is not a record.
    public static func readMetrics(from url: URL) throws -> [EpochRecord] {
        let text = String(decoding: try readMetricsBytes(from: url), as: UTF8.self)
        let decoder = JSONDecoder()
        var records = [EpochRecord]()
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            let record: EpochRecord
            do {
                record = try decoder.decode(EpochRecord.self, from: Data(line.utf8))
            } catch let error as DecodingError {
                throw MetricsFileError(file: url.path, line: offset + 1, problem: Self.explain(error))
            }
            if let problem = Self.problem(with: record) {
                throw MetricsFileError(file: url.path, line: offset + 1, problem: problem)
            }
            records.append(record)
        }
        return records
    }

    /// The largest metrics file read: 64 MiB, a quarter of a million epochs' lines.
    public static let maximumMetricsFileSize = 64 << 20

    /// The file's bytes, read only from a regular file (a FIFO or a device is refused, not waited on or read
    /// without end) of at most `maximumMetricsFileSize` bytes.
    private static func readMetricsBytes(from url: URL) throws -> [UInt8] {
        func failure(_ problem: String) -> MetricsFileError {
            MetricsFileError(file: url.path, line: 0, problem: problem)
        }
        let file: RegularFile
        do {
            file = try RegularFile(path: url.path)
        } catch {
            switch error {
            case .cannotOpen(let reason): throw failure("cannot open: \(reason)")
            case .cannotInspect(let reason): throw failure("cannot read: \(reason)")
            case .notRegular(let kind): throw failure("is \(kind), not a regular file: only regular files are read")
            }
        }
        guard file.size <= maximumMetricsFileSize else {
            throw failure("file is \(file.size) bytes, over the \(maximumMetricsFileSize)-byte limit for metrics files")
        }
        do {
            return try file.read(exactly: file.size)
        } catch {
            switch error {
            case .endedEarly(let done):
                throw failure("the file ended after \(done) of \(file.size) bytes while being read")
            case .failed(let reason): throw failure("cannot read: \(reason)")
            }
        }
    }

    /// What is wrong with a decoded record's values, or nil: the learning curves are drawn from them, and values
    /// no training run writes (a loss of 10³⁰⁷, a denormal, a negative time) have no axis to be drawn on.
    private static func problem(with record: EpochRecord) -> String? {
        func outside(_ name: String, _ value: Double, _ range: ClosedRange<Double>) -> String? {
            range.contains(value) ? nil : "\"\(name)\" is \(value), expected \(range.lowerBound) to \(range.upperBound)"
        }
        guard record.epoch >= 1, record.epochs >= 1 else {
            return "\"epoch\" and \"epochs\" must be at least 1, found \(record.epoch) and \(record.epochs)"
        }
        // Bounds far beyond any run (a loss of 10¹² is a diverged one, 10¹² seconds 30,000 years), so that the
        // axes' arithmetic stays finite.
        return outside("testAccuracy", record.testAccuracy, 0...1)
            ?? outside("trainingAccuracy", record.trainingAccuracy, 0...1)
            ?? outside("trainingLoss", record.trainingLoss, 0...1e12)
            ?? outside("seconds", record.seconds, 0...1e12)
            ?? outside("learningRate", Double(record.learningRate), 0...1e12)
            ?? record.testSeconds.flatMap { outside("testSeconds", $0, 0...1e12) }
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
