import Foundation
import Imaging
import MNIST
import Testing
@testable import Serving

/// The prediction API without HTTP: real MNIST test digits as JSON and as PNG, every kind of bad request
/// refused with its 4xx and a message naming the problem, concurrent requests, the page's files.
@Suite struct PredictionServiceTests {
    static let service = Result {
        let url = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        return try PredictionService(weights: url)
    }
    static let testSet = Result {
        try MNISTDataset.load(directory: try #require(MNISTDataset.defaultDirectory()), split: .test)
    }

    /// `{"pixels": [...]}` for MNIST test digit `index`.
    static func jsonBody(ofTestDigit index: Int) throws -> [UInt8] {
        let pixels = try testSet.get().pixels(at: index).map(String.init).joined(separator: ",")
        return Array("{\"pixels\": [\(pixels)]}".utf8)
    }

    /// The 784 pixels of `body` as JSON numbers, with the value at `index` replaced by `value`.
    static func pixelsBody(count: Int = 784, replacing index: Int? = nil, with value: String = "0") -> [UInt8] {
        var values = [String](repeating: "0", count: count)
        if let index { values[index] = value }
        return Array("{\"pixels\":[\(values.joined(separator: ","))]}".utf8)
    }

    /// MNIST test digit `index` as a person's PNG: dark ink on white, 8 times larger, off-centre on a page.
    static func pngBody(ofTestDigit index: Int) throws -> [UInt8] {
        let digit = try testSet.get().pixels(at: index).map { $0 }
        var page = GrayImage(width: 300, height: 260)
        for y in 0..<(28 * 8) {
            for x in 0..<(28 * 8) {
                page[x + 40, y + 20] = 255 - digit[(y / 8) * 28 + x / 8]
            }
        }
        return PNGEncoder.encode(page)
    }

    @Test func testDigitsSentAsJSONAreRecognised() throws {
        let service = try Self.service.get()
        let testSet = try Self.testSet.get()
        var correct = 0
        for index in 0..<50 {
            let result = try service.predict(contentType: "application/json", body: Self.jsonBody(ofTestDigit: index))
            #expect(result.probabilities.count == 10)
            #expect(abs(result.probabilities.reduce(0, +) - 1) < 1e-4)
            #expect(result.input == testSet.pixels(at: index).map(Float.init))
            if result.digit == Int(testSet.labels[index]) { correct += 1 }
        }
        #expect(correct >= 48, "\(correct) of 50 test digits recognised")
    }

    @Test func aTestDigitSentAsPNGIsPreparedAndRecognised() throws {
        let service = try Self.service.get()
        #expect(try Self.testSet.get().labels[0] == 7)
        let result = try service.predict(contentType: "image/png", body: Self.pngBody(ofTestDigit: 0))
        #expect(result.digit == 7)
        #expect(result.input.count == 784)
        #expect(result.input.max() == 255)
    }

    @Test func theResponseIsJSONWithTheDigitTheProbabilitiesAndTheInput() throws {
        let service = try Self.service.get()
        let testSet = try Self.testSet.get()
        let response = service.respondToPrediction(
            contentType: "application/json; charset=utf-8", body: try Self.jsonBody(ofTestDigit: 1))
        #expect(response.status == 200)
        #expect(response.contentType == ServingResponse.jsonContentType)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(object["digit"] as? Int == Int(testSet.labels[1]))
        let probabilities = try #require(object["probabilities"] as? [Double])
        #expect(probabilities.count == 10)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        let input = try #require(object["input"] as? [Int])
        #expect(input == testSet.pixels(at: 1).map(Int.init))
        #expect(object["models"] as? [String] == ["lenet5"])
    }

    /// A bad request: what is sent, the status expected and words the error message must contain.
    struct BadRequest: Sendable, CustomTestStringConvertible {
        let name: String
        let contentType: String?
        let body: [UInt8]
        let status: Int
        let message: String
        var testDescription: String { name }

        init(_ name: String, _ contentType: String?, _ body: [UInt8], _ status: Int, _ message: String) {
            self.name = name
            self.contentType = contentType
            self.body = body
            self.status = status
            self.message = message
        }
        init(_ name: String, _ contentType: String?, _ text: String, _ status: Int, _ message: String) {
            self.init(name, contentType, Array(text.utf8), status, message)
        }
    }

    static let json = "application/json"

    static let badRequests: [BadRequest] = [
        BadRequest("empty body", json, "", 400, "the body is empty"),
        BadRequest("malformed JSON", json, "{\"pixels\": [1, 2", 400, "malformed JSON"),
        BadRequest("not JSON at all", json, "pixels=1,2,3", 400, "malformed JSON"),
        BadRequest("NaN is not JSON", json, "{\"pixels\": [NaN]}", 400, "malformed JSON"),
        BadRequest("an array, not an object", json, "[1, 2, 3]", 400, "not an object"),
        BadRequest("no pixels key", json, "{\"pixel\": []}", 400, "no \"pixels\""),
        BadRequest("pixels not an array", json, "{\"pixels\": 5}", 400, "\"pixels\" is not an array"),
        BadRequest("pixels null", json, "{\"pixels\": null}", 400, "\"pixels\" is not an array"),
        BadRequest("no pixels", json, pixelsBody(count: 0), 400, "has 0 values; it needs 784"),
        BadRequest("783 pixels", json, pixelsBody(count: 783), 400, "has 783 values; it needs 784"),
        BadRequest("785 pixels", json, pixelsBody(count: 785), 400, "has 785 values; it needs 784"),
        BadRequest(
            "a string", json, pixelsBody(replacing: 5, with: "\"12\""), 400, "pixels[5] is a string, not a number"),
        BadRequest("null", json, pixelsBody(replacing: 6, with: "null"), 400, "pixels[6] is null, not a number"),
        BadRequest("a boolean", json, pixelsBody(replacing: 7, with: "true"), 400, "pixels[7] is true, not a number"),
        BadRequest(
            "a nested array", json, pixelsBody(replacing: 8, with: "[1]"), 400, "pixels[8] is an array or object"),
        BadRequest("an object", json, pixelsBody(replacing: 9, with: "{}"), 400, "pixels[9] is an array or object"),
        BadRequest(
            "above 255", json, pixelsBody(replacing: 10, with: "255.5"), 400, "pixels[10] is 255.5, outside 0…255"),
        BadRequest("negative", json, pixelsBody(replacing: 783, with: "-1"), 400, "pixels[783] is -1, outside 0…255"),
        BadRequest("too large for a Double", json, pixelsBody(replacing: 11, with: "1e999"), 400, "pixels[11]"),
        BadRequest(
            "body over 1 MB", json, [UInt8](repeating: 0x20, count: PredictionService.maximumBodySize + 1), 413,
            "larger than 1048576 bytes"),
        BadRequest("text/plain", "text/plain", pixelsBody(), 415, "Content-Type \"text/plain\""),
        BadRequest("form encoding", "application/x-www-form-urlencoded", pixelsBody(), 415, "send application/json"),
        BadRequest("no content type", nil, pixelsBody(), 415, "Content-Type missing"),
        BadRequest("JPEG", "image/jpeg", [0xFF, 0xD8, 0xFF, 0xE0], 415, "image/png"),
        BadRequest("not a PNG", "image/png", "<!DOCTYPE html>", 422, "not a PNG image"),
        BadRequest("empty PNG", "image/png", [], 422, "the file is empty"),
        BadRequest(
            "truncated PNG", "image/png", Array(PNGEncoder.encode(GrayImage(width: 40, height: 40)).prefix(40)), 422,
            "corrupt or truncated PNG"),
        BadRequest("blank PNG", "image/png", PNGEncoder.encode(GrayImage(width: 40, height: 40)), 422, "blank"),
    ]

    @Test(arguments: badRequests) func aBadRequestIsRefusedWithItsStatusAndAMessage(_ request: BadRequest) throws {
        let service = try Self.service.get()
        let response = service.respondToPrediction(contentType: request.contentType, body: request.body)
        #expect(response.status == request.status)
        #expect(response.contentType == ServingResponse.jsonContentType)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let message = try #require(object?["error"] as? String, "\(String(decoding: response.body, as: UTF8.self))")
        #expect(message.contains(request.message), "\(message)")
        #expect(object?.count == 1)
    }

    /// Image bombs: a small body that decodes to many pixels is refused from its header with 422. The
    /// issue's 20000×2000 of zeros is 40 KB of PNG; 2049×2048 is one column over the budget; 2048×2048 is
    /// within it and gets as far as the blank-image check.
    @Test(arguments: [(20_000, 2_000, true), (2_049, 2_048, true), (5_000, 10, true), (2_048, 2_048, false)])
    func anImageOverThePixelBudgetIsRefusedBeforeDecoding(width: Int, height: Int, refused: Bool) throws {
        let body = PNGEncoder.encode(GrayImage(width: width, height: height), fast: true)
        let response = try Self.service.get().respondToPrediction(contentType: "image/png", body: body)
        #expect(response.status == 422)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let message = try #require(object?["error"] as? String)
        if refused {
            #expect(
                message
                    == "the image: image too large (\(width)×\(height) pixels; the limit is 4096 pixels a side and 4194304 pixels in all)"
            )
        } else {
            #expect(message.contains("blank"), "\(message)")
        }
    }

    @Test func anErrorMessageIsEscapedAsAJSONString() throws {
        let error = ServingError.badRequest("a \"quoted\" word, a back\\slash,\na new line and a \u{1} control")
        let object = try JSONSerialization.jsonObject(with: Data(error.response.body)) as? [String: String]
        #expect(object == ["error": error.message])
    }

    @Test func concurrentRequestsGetTheSameAnswersAsOneAtATime() throws {
        let service = try Self.service.get()
        let bodies = try (0..<32).map { try Self.jsonBody(ofTestDigit: $0) }
        let expected = try bodies.map { try service.predict(contentType: "application/json", body: $0) }
        // Shared unchecked: concurrentPerform returns after every call, each writing its own element.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<PredictionResult?>.allocate(
            capacity: bodies.count * 4)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: results.count) { index in
            results[index] = try? service.predict(contentType: "application/json", body: bodies[index % bodies.count])
        }
        for (index, result) in results.enumerated() {
            #expect(result == expected[index % bodies.count])
        }
    }

    @Test func healthNamesTheModel() throws {
        let response = try Self.service.get().health()
        #expect(response.status == 200)
        #expect(
            String(decoding: response.body, as: UTF8.self) == #"{"status":"ok","model":"lenet5","models":["lenet5"]}"#)
    }

    /// A freshly initialised MLP (seed 1) written as a weights file into a new temporary folder.
    static func writeFreshMLP() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serving-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var generator = RandomGenerator(seed: 1)
        let url = directory.appendingPathComponent("mlp.safetensors")
        try WeightsFile.write(model: ModelKind.mlp.makeModel(generator: &generator), kind: .mlp, to: url)
        return url
    }

    @Test func anEnsembleAnswersWithTheMeanOfItsModelsAndNamesThem() throws {
        let lenet5 = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let mlp = try Self.writeFreshMLP()
        defer { try? FileManager.default.removeItem(at: mlp.deletingLastPathComponent()) }
        let service = try PredictionService(weights: [lenet5, mlp])
        #expect(service.ensemble.modelNames == ["lenet5", "mlp"])
        #expect(
            String(decoding: service.health().body, as: UTF8.self)
                == #"{"status":"ok","model":"ensemble","models":["lenet5","mlp"]}"#)

        let (single, other) = (try PredictionService(weights: lenet5), try PredictionService(weights: [mlp]))
        for index in 0..<5 {
            let body = try Self.jsonBody(ofTestDigit: index)
            let result = try service.predict(contentType: "application/json", body: body)
            let (first, second) = (
                try single.predict(contentType: "application/json", body: body),
                try other.predict(contentType: "application/json", body: body)
            )
            #expect(result.models == ["lenet5", "mlp"] && first.models == ["lenet5"] && second.models == ["mlp"])
            #expect(result.input == first.input)
            for digit in 0..<10 {
                let mean = (first.probabilities[digit] + second.probabilities[digit]) / 2
                #expect(abs(result.probabilities[digit] - mean) <= 1e-6, "digit \(digit): \(result.probabilities)")
            }
            #expect(
                result.digit == result.probabilities.indices.max { result.probabilities[$0] < result.probabilities[$1] }
            )
        }
        let response = service.respondToPrediction(
            contentType: "application/json", body: try Self.jsonBody(ofTestDigit: 0))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(object["models"] as? [String] == ["lenet5", "mlp"])
        #expect(Set(object.keys) == ["digit", "probabilities", "input", "models"])
    }

    @Test func aWeightsFileThatDoesNotLoadIsNamed() throws {
        let lenet5 = try #require(
            Bundle.module.url(forResource: "lenet5-3epochs", withExtension: "safetensors", subdirectory: "Fixtures"))
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString)")
        let error = #expect(throws: EnsembleError.self) { try PredictionService(weights: [lenet5, missing]) }
        #expect(error?.description.hasPrefix("cannot load weights file 2 of 2, \(missing.path): ") == true)
        #expect(throws: EnsembleError.self) { try PredictionService(weights: [lenet5, lenet5]) }
    }

    @Test func thePageFilesAreServedWithTheirContentTypes() throws {
        let service = try Self.service.get()
        #expect(Set(service.pages.keys) == ["/", "/app.js", "/style.css"])
        let page = try #require(service.pages["/"])
        #expect(page.contentType == "text/html; charset=utf-8")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("<canvas id=\"pad\""))
        #expect(html.contains("src=\"/app.js\"") && html.contains("href=\"/style.css\""))
        #expect(service.pages["/app.js"]?.contentType == "text/javascript; charset=utf-8")
        let script = try #require(service.pages["/app.js"]).body
        #expect(String(decoding: script, as: UTF8.self).contains("pointerdown"))
        #expect(service.pages["/style.css"]?.contentType == "text/css; charset=utf-8")
        let style = try #require(service.pages["/style.css"]).body
        #expect(String(decoding: style, as: UTF8.self).contains("touch-action: none"))
    }
}
