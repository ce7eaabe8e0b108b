import FuzzingDriver
import MNIST
import Serving

/// The service under test, built once.
enum Harness {
    /// An untrained MLP (the cheapest model) behind the service. The request parsing does not depend on the
    /// weights; a request that parses is answered by the model, as the server would.
    static let service: PredictionService = {
        var generator = RandomGenerator(seed: 0)
        let predictor = Predictor(kind: .mlp, model: ModelKind.mlp.makeModel(generator: &generator))
        do {
            return try PredictionService(predictor: predictor)
        } catch {
            fatalError("the drawing page's resources are missing: \(error)")
        }
    }()
}

/// libFuzzer's entry point: a `POST /predict` request as `mnist-serve` hands it to `PredictionService`.
///
/// The first byte chooses the `Content-Type`: 0 is `application/json`, 1 is `image/png`, anything else means
/// the bytes up to the first newline are the content type, sent as is. The rest is the body. Error responses
/// are expected; a trap, a crash, a hang or runaway memory is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    guard let selector = bytes.first else { return 0 }
    let contentType: String
    let body: ArraySlice<UInt8>
    switch selector {
    case 0: (contentType, body) = ("application/json", bytes.dropFirst())
    case 1: (contentType, body) = ("image/png", bytes.dropFirst())
    default:
        let line = bytes.dropFirst().prefix { $0 != 0x0A }
        (contentType, body) = (String(decoding: line, as: UTF8.self), bytes.dropFirst(1 + line.count + 1))
    }
    _ = Harness.service.respondToPrediction(contentType: contentType, body: Array(body))
    return 0
}

runLibFuzzer(fuzz)
