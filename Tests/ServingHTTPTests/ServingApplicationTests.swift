import Foundation
import Hummingbird
import HummingbirdTesting
import Imaging
import MNIST
import Serving
import Testing
@testable import ServingHTTP

/// The HTTP server through Hummingbird's real router: the page, /health, good JSON and PNG predictions, and
/// every bad request answered with its 4xx and `{"error": "..."}` while the server goes on serving.
@Suite struct ServingApplicationTests {
    static let service = Result {
        let url = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        return try PredictionService(weights: url)
    }
    static let testSet = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test)
    }

    static func application(limits: ServerLimits = ServerLimits()) throws -> some ApplicationProtocol {
        try ServingApplication.makeApplication(service: service.get(), host: "127.0.0.1", port: 0, limits: limits)
    }

    /// `{"pixels": [...]}` for MNIST test digit `index`.
    static func jsonBody(ofTestDigit index: Int) throws -> ByteBuffer {
        let pixels = try testSet.get().pixels(at: index).map(String.init).joined(separator: ",")
        return ByteBuffer(string: "{\"pixels\": [\(pixels)]}")
    }

    /// `{"pixels": [...]}` with `count` zeros, the one at `index` replaced by `value`.
    static func pixelsBody(count: Int = 784, replacing index: Int? = nil, with value: String = "0") -> ByteBuffer {
        var values = [String](repeating: "0", count: count)
        if let index { values[index] = value }
        return ByteBuffer(string: "{\"pixels\":[\(values.joined(separator: ","))]}")
    }

    /// The JSON object of a response body.
    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any],
            "\(String(buffer: response.body))")
    }

    static let json: HTTPFields = [.contentType: "application/json"]
    static let png: HTTPFields = [.contentType: "image/png"]

    /// Checks a good prediction response: 200, JSON, the digit, ten probabilities summing to 1, the input.
    static func expectPrediction(_ response: TestResponse, digit: Int) throws {
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        let object = try object(response)
        #expect(object["digit"] as? Int == digit)
        let probabilities = try #require(object["probabilities"] as? [Double])
        #expect(probabilities.count == 10)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        #expect(probabilities.indices.max { probabilities[$0] < probabilities[$1] } == digit)
        #expect((object["input"] as? [Int])?.count == 784)
    }

    @Test func thePageIsServed() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains("<canvas id=\"pad\""))
            }
            try await client.execute(uri: "/app.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
            try await client.execute(uri: "/style.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
        }
    }

    @Test func healthAnswersOK() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            let object = try Self.object(response)
            #expect(object["status"] as? String == "ok" && object["model"] as? String == "lenet5")
            #expect(object["models"] as? [String] == ["lenet5"] && object.count == 3)
        }
    }

    /// Two models behind the server on one prediction worker: /health lists them, and concurrent predictions
    /// all wait their turn and answer with both models' mean.
    @Test func anEnsembleIsServedWithinTheWorkerLimit() async throws {
        let lenet5 = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serving-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A second LeNet5, its weights halved: a different model of the same kind.
        let (kind, model, _) = try WeightsFile.read(from: lenet5)
        for (_, tensor) in model.stateDict { tensor.data = tensor.data.map { $0 / 2 } }
        let halved = directory.appendingPathComponent("halved.safetensors")
        try WeightsFile.write(model: model, kind: kind, to: halved)
        let service = try PredictionService(weights: [lenet5, halved])
        var limits = ServerLimits()
        limits.predictionWorkers = 1
        let application = ServingApplication.makeApplication(
            service: service, host: "127.0.0.1", port: 0, limits: limits)
        let labels = try Self.testSet.get().labels
        let bodies = try (0..<6).map { try Self.jsonBody(ofTestDigit: $0) }
        try await application.test(.live) { client in
            let health = try Self.object(try await client.execute(uri: "/health", method: .get))
            #expect(health["model"] as? String == "ensemble" && health["models"] as? [String] == ["lenet5", "lenet5"])
            let answers = try await withThrowingTaskGroup(of: (Int, TestResponse).self) { group in
                for (index, body) in bodies.enumerated() {
                    group.addTask {
                        (
                            index,
                            try await client.execute(uri: "/predict", method: .post, headers: Self.json, body: body)
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == bodies.count)
            for (index, response) in answers {
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["models"] as? [String] == ["lenet5", "lenet5"])
                #expect(object["digit"] as? Int == Int(labels[index]))
                let expected = try service.predict(
                    contentType: "application/json", body: Array(bodies[index].readableBytesView))
                let probabilities = try #require(object["probabilities"] as? [Double])
                // Within JSON's round trip of a Float through a Double; false for NaN.
                #expect(
                    probabilities.count == 10
                        && zip(probabilities, expected.probabilities).allSatisfy { abs($0 - Double($1)) <= 1e-7 },
                    "\(probabilities) against \(expected.probabilities)")
            }
        }
    }

    @Test func testDigitsSentAsJSONAreRecognised() async throws {
        let labels = try Self.testSet.get().labels
        try await Self.application().test(.router) { client in
            for index in 0..<5 {
                let response = try await client.execute(
                    uri: "/predict", method: .post, headers: Self.json, body: Self.jsonBody(ofTestDigit: index))
                try Self.expectPrediction(response, digit: Int(labels[index]))
            }
        }
    }

    @Test func aTestDigitSentAsPNGIsRecognised() async throws {
        let digit = try Self.testSet.get().pixels(at: 0)
        #expect(try Self.testSet.get().labels[0] == 7)
        // Dark ink on white paper, 6 times larger, as a person would send it.
        var page = GrayImage(width: 200, height: 200)
        for y in 0..<168 {
            for x in 0..<168 { page[x + 16, y + 10] = 255 - digit[digit.startIndex + (y / 6) * 28 + x / 6] }
        }
        let body = ByteBuffer(bytes: PNGEncoder.encode(page))
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/predict", method: .post, headers: Self.png, body: body)
            try Self.expectPrediction(response, digit: 7)
        }
    }

    /// A bad request: its content type, body, the status expected and words the error must contain.
    struct BadRequest: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: HTTPFields
        let body: ByteBuffer
        let status: HTTPResponse.Status
        let message: String
        var testDescription: String { name }
    }

    static let badRequests: [BadRequest] = [
        BadRequest(
            name: "malformed JSON", headers: json, body: ByteBuffer(string: "{\"pixels\": ["), status: .badRequest,
            message: "malformed JSON"),
        BadRequest(
            name: "empty body", headers: json, body: ByteBuffer(), status: .badRequest, message: "the body is empty"),
        BadRequest(
            name: "no pixels", headers: json, body: ByteBuffer(string: "{}"), status: .badRequest,
            message: "no \"pixels\""),
        BadRequest(
            name: "wrong length", headers: json, body: pixelsBody(count: 100), status: .badRequest,
            message: "has 100 values; it needs 784"),
        BadRequest(
            name: "a non-number", headers: json, body: pixelsBody(replacing: 3, with: "\"white\""), status: .badRequest,
            message: "pixels[3] is a string"),
        BadRequest(
            name: "out of range", headers: json, body: pixelsBody(replacing: 4, with: "300"), status: .badRequest,
            message: "pixels[4] is 300, outside 0…255"),
        BadRequest(
            name: "negative", headers: json, body: pixelsBody(replacing: 5, with: "-0.5"), status: .badRequest,
            message: "pixels[5] is -0.5, outside 0…255"),
        BadRequest(
            name: "non-finite", headers: json, body: pixelsBody(replacing: 6, with: "NaN"), status: .badRequest,
            message: "malformed JSON"),
        BadRequest(
            name: "too large a number", headers: json, body: pixelsBody(replacing: 7, with: "1e400"),
            status: .badRequest, message: "pixels[7]"),
        BadRequest(
            name: "body over 1 MB", headers: json,
            body: ByteBuffer(repeating: 0x20, count: PredictionService.maximumBodySize + 1),
            status: .contentTooLarge, message: "larger than 1048576 bytes"),
        BadRequest(
            name: "PNG over 1 MB", headers: png,
            body: ByteBuffer(repeating: 0x89, count: 3 * PredictionService.maximumBodySize),
            status: .contentTooLarge, message: "larger than 1048576 bytes"),
        BadRequest(
            name: "wrong content type", headers: [.contentType: "text/plain"], body: pixelsBody(),
            status: .unsupportedMediaType, message: "Content-Type \"text/plain\""),
        BadRequest(
            name: "no content type", headers: [:], body: pixelsBody(), status: .unsupportedMediaType,
            message: "Content-Type missing"),
        BadRequest(
            name: "not a PNG", headers: png, body: ByteBuffer(string: "GIF89a"), status: .unprocessableContent,
            message: "not a PNG image"),
        BadRequest(
            name: "truncated PNG", headers: png,
            body: ByteBuffer(bytes: PNGEncoder.encode(GrayImage(width: 30, height: 30)).prefix(30)),
            status: .unprocessableContent, message: "corrupt or truncated PNG"),
        BadRequest(
            name: "blank PNG", headers: png,
            body: ByteBuffer(bytes: PNGEncoder.encode(GrayImage(width: 30, height: 30))),
            status: .unprocessableContent, message: "blank"),
    ]

    @Test(arguments: badRequests) func aBadRequestGetsItsStatusAndAJSONErrorAndTheServerGoesOn(
        _ request: BadRequest
    ) async throws {
        let good = try Self.jsonBody(ofTestDigit: 0)
        try await Self.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/predict", method: .post, headers: request.headers, body: request.body)
            #expect(response.status == request.status)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let object = try Self.object(response)
            let message = try #require(object["error"] as? String)
            #expect(message.contains(request.message), "\(message)")
            #expect(object.count == 1)
            try Self.expectPrediction(
                try await client.execute(uri: "/predict", method: .post, headers: Self.json, body: good), digit: 7)
        }
    }

    @Test func anUnknownRouteGetsA404JSONError() async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: "/predictions", method: .get)
            #expect(response.status == .notFound)
            let object = try Self.object(response)
            #expect(object["error"] as? String == "no such resource: GET /predictions")
        }
    }

    @Test(arguments: [
        ("/health", HTTPRequest.Method.post, "GET"), ("/predict", .get, "POST"), ("/", .delete, "GET"),
        ("/metrics", .options, "GET"), ("/predict", .trace, "POST"), ("/health", .patch, "GET"),
    ])
    func aWrongMethodGets405WithTheAllowedOne(path: String, method: HTTPRequest.Method, allowed: String) async throws {
        try await Self.application().test(.router) { client in
            let response = try await client.execute(uri: path, method: method)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == (allowed == "GET" ? "GET, HEAD" : allowed))
            let object = try Self.object(response)
            #expect(object["error"] as? String == "\(method) is not allowed on \(path): use \(allowed)")
        }
    }

    /// HEAD wherever GET works, over a real socket (a body after a HEAD response would corrupt the connection):
    /// GET's status and `Content-Length`, no body; HEAD on POST's route and on no route get their error's
    /// status and headers, no body, and the connection goes on serving.
    @Test func headAnswersWhereGetDoesWithoutABody() async throws {
        try await Self.application().test(.live) { client in
            for path in ["/health", "/", "/metrics"] {
                let get = try await client.execute(uri: path, method: .get)
                let head = try await client.execute(uri: path, method: .head)
                #expect(head.status == .ok, "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                if path != "/metrics" { // The metrics grow between the two requests.
                    #expect(head.headers[.contentLength] == String(get.body.readableBytes), "\(path)")
                }
            }
            let predict = try await client.execute(uri: "/predict", method: .head)
            #expect(predict.status == .methodNotAllowed)
            #expect(predict.headers[.allow] == "POST")
            #expect(predict.body.readableBytes == 0)
            let missing = try await client.execute(uri: "/nothing", method: .head)
            #expect(missing.status == .notFound)
            #expect(missing.body.readableBytes == 0)
            try Self.expectPrediction(
                try await client.execute(
                    uri: "/predict", method: .post, headers: Self.json, body: Self.jsonBody(ofTestDigit: 0)),
                digit: 7)
        }
    }

    /// A method the HTTP parser does not know is refused below the router: 400, a JSON error and the
    /// connection closed (Hummingbird alone answers these with an empty body).
    @Test func anUnknownMethodGets400WithAJSONError() async throws {
        try await Self.application().test(.live) { client in
            let response = try await client.execute(uri: "/health", method: HTTPRequest.Method("BREW")!)
            #expect(response.status == .badRequest)
            #expect(response.headers[.connection] == "close")
            let object = try Self.object(response)
            let message = try #require(object["error"] as? String)
            #expect(message.hasPrefix("the request is not HTTP/1.1 this server can read"), "\(message)")
        }
    }

    /// Over a real connection: bad requests in between good ones on one keep-alive connection.
    @Test func aLiveServerKeepsServingAfterBadRequests() async throws {
        let good = try Self.jsonBody(ofTestDigit: 0)
        try await Self.application().test(.live) { client in
            try Self.expectPrediction(
                try await client.execute(uri: "/predict", method: .post, headers: Self.json, body: good), digit: 7)
            let bad = try await client.execute(
                uri: "/predict", method: .post, headers: Self.json, body: Self.pixelsBody(replacing: 0, with: "true"))
            #expect(bad.status == .badRequest)
            let unsupported = try await client.execute(
                uri: "/predict", method: .post, headers: [.contentType: "text/csv"], body: ByteBuffer(string: "1,2"))
            #expect(unsupported.status == .unsupportedMediaType)
            try Self.expectPrediction(
                try await client.execute(uri: "/predict", method: .post, headers: Self.json, body: good), digit: 7)
        }
    }

    /// A body over the limit sent whole, over a real socket (as urllib sends it, without waiting for
    /// `100 Continue`): the client gets the 413 with `Connection: close` rather than a reset or a hang, whether
    /// the body declares its length or comes in chunks.
    @Test(arguments: [true, false]) func aBodyOverTheLimitGets413AndTheConnectionCloses(declared: Bool) async throws {
        let size = 20 * PredictionService.maximumBodySize
        let headers: HTTPFields =
            declared ? Self.json : [.contentType: "application/json", .transferEncoding: "chunked"]
        try await Self.application().test(.live) { client in
            let response = try await client.execute(
                uri: "/predict", method: .post, headers: headers, body: ByteBuffer(repeating: 0x20, count: size))
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.connection] == "close")
            #expect(try Self.object(response)["error"] as? String == ServingError.bodyTooLarge.message)
        }
    }

    /// Bodies beyond the shared budget are refused before they are read: 503, `Retry-After`, a JSON error and
    /// `Connection: close`.
    @Test func aBodyBeyondTheBudgetGets503WithRetryAfter() async throws {
        var limits = ServerLimits()
        limits.bodyBudget = 100
        let body = try Self.jsonBody(ofTestDigit: 0)
        try await Self.application(limits: limits).test(.live) { client in
            let response = try await client.execute(uri: "/predict", method: .post, headers: Self.json, body: body)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "1")
            let message = try #require(try Self.object(response)["error"] as? String)
            #expect(message.contains("memory budget"), "\(message)")
            #expect(response.headers[.connection] == "close")
        }
    }
}
