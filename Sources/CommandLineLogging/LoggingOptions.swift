import ArgumentParser
import Logging

/// `--log-level`, shared by `mnist` and `mnist-serve`: how much the program logs on standard error. Log lines
/// are diagnostics; a command's results (such as `mnist train`'s epoch lines) stay on standard output.
public struct LoggingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How much to log on standard error: \(Self.levelNames.joined(separator: ", ")) (default info).",
            valueName: "level"),
        completion: .list(Self.levelNames),
        transform: LoggingOptions.level(named:))
    public var logLevel: Logger.Level = .info

    public init() {}

    /// The level names `--log-level` accepts, from the most to the least verbose.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    /// The level called `name`, or an error naming the levels there are.
    static func level(named name: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: name) else {
            // ArgumentParser puts "The value 'NAME' is invalid for '--log-level <level>': " before this.
            throw ValidationError("use one of \(levelNames.joined(separator: ", "))")
        }
        return level
    }

    /// Sends every logger's lines at `logLevel` and above to standard error. Call once, before any logger is made.
    public func bootstrap() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
