import ArgumentParser
import Logging
import Testing
@testable import CommandLineLogging

/// `--log-level`: info by default, every swift-log level by name, and a clear error naming the levels for
/// anything else.
@Suite struct LoggingOptionsTests {
    @Test func theDefaultIsInfo() throws {
        #expect(try LoggingOptions.parse([]).logLevel == .info)
    }

    @Test func everyLevelParsesByName() throws {
        #expect(LoggingOptions.levelNames == ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        for level in Logger.Level.allCases {
            #expect(try LoggingOptions.parse(["--log-level", level.rawValue]).logLevel == level)
        }
    }

    @Test(arguments: ["verbose", "INFO", "", "3"])
    func anUnknownLevelIsAClearError(name: String) {
        do {
            let options = try LoggingOptions.parse(["--log-level", name])
            Issue.record("--log-level '\(name)' was accepted as \(options.logLevel)")
        } catch {
            let message = LoggingOptions.message(for: error)
            #expect(message.contains("'\(name)' is invalid for '--log-level <level>'"), "\(message)")
            #expect(message.contains("use one of trace, debug, info, notice, warning, error, critical"), "\(message)")
            #expect(LoggingOptions.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func theHelpNamesTheLevelsAndTheDefault() {
        let help = LoggingOptions.helpMessage(columns: 400)
        #expect(help.contains("--log-level <level>"), "\(help)")
        #expect(help.contains("trace, debug, info, notice, warning, error, critical"), "\(help)")
        #expect(help.contains("(default info)"), "\(help)")
    }
}
