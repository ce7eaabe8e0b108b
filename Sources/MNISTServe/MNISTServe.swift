import ArgumentParser
#if canImport(Glibc)
// C's stdout is a mutable global; these programs touch it from the main thread only (buffering, flushing).
@preconcurrency import Glibc
#endif
import Foundation
import Hardware
import Hummingbird
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
            with a PNG image (Content-Type: image/png) answers {"digit", "probabilities", "input"}; \
            GET /health answers {"status": "ok"}. Bad requests get a 4xx and {"error": "..."}.
            """)

    @Option(help: ArgumentHelp("A weights file written by `mnist train` or by PyTorch.", valueName: "file"))
    var weights: String
    @Option(help: "The address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"
    @Option(help: "The port to listen on.")
    var port = 8080

    static func main() async {
        // First, before any code compiled for the AVX2 baseline runs: a clear message on an older CPU.
        CPUBaseline.require(program: "mnist-serve")
        // Line-buffered even into a pipe or file, so a log shows the address as soon as the server listens.
        setvbuf(stdout, nil, _IOLBF, 0)
        await main(nil)
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        let service = try PredictionService(weights: URL(fileURLWithPath: weights))
        print("Serving \(service.predictor.kind.rawValue) from \(weights) on http://\(host):\(port)/")
        try await ServingApplication.makeApplication(service: service, host: host, port: port).runService()
    }
}
