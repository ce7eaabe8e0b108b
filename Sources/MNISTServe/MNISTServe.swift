import ArgumentParser
import CommandLineLogging
import Foundation
import Hardware
import Hummingbird
import Kernels
import Logging
import Serving
import ServingHTTP

/// `mnist-serve`: the drawing page and the prediction API over HTTP. `mnist serve` runs this program.
@main
struct MNISTServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-serve",
        abstract: "Serve a page to draw a digit on and see it recognised, and the prediction API.",
        discussion: """
            Open http://HOST:PORT/ in a browser and draw a digit. The API: POST /predict with \
            {"pixels": [784 numbers from 0 to 255]} (28×28, row-major, white digit on black like MNIST) or \
            with a PNG image (Content-Type: image/png) answers {"digit", "probabilities", "input", "models"}; \
            GET /health answers {"status": "ok", "model", "models"}; GET /metrics, the request counts and latencies in Prometheus's \
            text format. Bad requests get a 4xx and {"error": "..."}. It logs on standard \
            error: the start, the address once listening, one line per request (method, path, status, \
            milliseconds) at info level, errors and the shutdown. With several weights files (`--weights A B C`, \
            any mix of models), every prediction is the mean of their models' probabilities.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "A weights file written by `mnist train` or by PyTorch; several make an ensemble, which averages their models' probabilities.",
            valueName: "file"),
        completion: .file(extensions: ["safetensors"]))
    var weights: [String]
    @Option(help: "The address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"
    @Option(help: "The port to listen on.")
    var port = 8080
    @Option(help: "Predictions computed at once (default: one per core).")
    var predictionWorkers: Int?
    @OptionGroup var loggingOptions: LoggingOptions

    static func main() async {
        // First, before any code compiled for the AVX2 baseline runs: a clear message on an older CPU.
        CPUBaseline.require(program: "mnist-serve")
        await main(nil)
    }

    func validate() throws {
        guard !weights.isEmpty else { throw ValidationError("name a weights file: --weights FILE [FILE…]") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        if let predictionWorkers, !(1...1024).contains(predictionWorkers) {
            throw ValidationError("--prediction-workers must be from 1 to 1024, not \(predictionWorkers)")
        }
    }

    func run() async throws {
        loggingOptions.bootstrap()
        let logger = Logger(label: "mnist-serve")
        // Errors are logged like the rest, then the exit status says the server failed.
        do {
            // Before listening: without it the first prediction would stop the server with a trap.
            if let failure = BLAS.loadingFailure { throw ServerStartError(description: failure) }
            let service = try PredictionService(weights: weights.map { URL(fileURLWithPath: $0) })
            for (name, path) in zip(service.ensemble.modelNames, weights) { logger.info("Loaded \(name) from \(path)") }
            if weights.count > 1 {
                logger.info("Answering with the mean of the \(weights.count) models' probabilities")
            }
            var limits = ServerLimits()
            if let predictionWorkers { limits.predictionWorkers = predictionWorkers }
            let descriptors = limits.fitDescriptorLimit()
            logger.info(
                "Limits: \(limits.maximumConnections) connections (\(descriptors) descriptors), \(limits.idleTimeout) idle timeout, \(limits.predictionWorkers) prediction workers"
            )
            try await ServingApplication.makeApplication(
                service: service, host: host, port: port, limits: limits, logger: logger
            )
            .run(shutdownDeadline: limits.shutdownDeadline)
            logger.info("Shut down")
        } catch {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}

/// Why the server cannot start, logged before it exits with status 1.
struct ServerStartError: Error, CustomStringConvertible {
    let description: String
}
