import ArgumentParser
import CommandLineLogging
#if canImport(Glibc)
// C's stdout is a mutable global; these programs touch it from the main thread only (buffering, flushing).
@preconcurrency import Glibc
#endif
import Foundation
import Logging

/// `mnist serve`: runs the `mnist-serve` program built next to this one, which holds the HTTP server, so
/// that `mnist train` never needs the server's dependencies built.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a page to draw a digit on and see it recognised, and the prediction API.",
        discussion: """
            Runs `mnist-serve` from the folder this program is in, with these options; build it with \
            `swift build -c release --product mnist-serve`. Open http://HOST:PORT/ and draw. The API: POST \
            /predict with {"pixels": [784 numbers from 0 to 255]} or a PNG image; GET /health. With several \
            weights files (`--weights A B C`), the answers are the mean of their models' probabilities.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "A weights file written by `mnist train` or by PyTorch; several make an ensemble, which averages their models' probabilities.",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var weights: [String]
    @Option(help: "The address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
    var host: String?
    @Option(help: "The port to listen on (default 8080).")
    var port: Int?
    @OptionGroup var loggingOptions: LoggingOptions

    /// The server's name, next to `mnist`.
    static let serverName = "mnist-serve"

    /// The arguments `mnist-serve` gets: the options given here, the others left to its defaults.
    var serverArguments: [String] {
        let level = loggingOptions.logLevel
        return ["--weights"] + weights + (host.map { ["--host", $0] } ?? [])
            + (port.map { ["--port", String($0)] } ?? [])
            + (level == .info ? [] : ["--log-level", level.rawValue])
    }

    func validate() throws {
        guard !weights.isEmpty else { throw ValidationError("name a weights file: --weights FILE [FILE…]") }
    }

    func run() throws {
        guard let tool = Bundle.main.executableURL?.resolvingSymlinksInPath() else {
            throw ServeError(description: "cannot tell where this program is, to find \(Self.serverName) next to it")
        }
        let server = tool.deletingLastPathComponent().appendingPathComponent(Self.serverName)
        guard FileManager.default.isExecutableFile(atPath: server.path) else {
            throw ServeError(
                description: """
                    \(server.path) is missing: build the server with `swift build -c release --product \(Self.serverName)` \
                    (then run `mnist serve` again), or run it directly with \
                    `swift run -c release \(Self.serverName) --weights FILE`
                    """)
        }
        fflush(stdout)
        let arguments = [server.path] + serverArguments
        var pointers = arguments.map { strdup($0) } + [nil]
        execv(server.path, &pointers)
        // execv returns only when it failed.
        let reason = String(cString: strerror(errno))
        pointers.forEach { free($0) }
        throw ServeError(description: "cannot run \(server.path): \(reason)")
    }
}

/// Why `mnist serve` could not start the server; ArgumentParser prints it as `Error: ...` and exits with 1.
struct ServeError: Error, CustomStringConvertible {
    let description: String
}
