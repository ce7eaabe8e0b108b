import Foundation
import Imaging
import MNIST

/// The prediction API and the drawing page, without any HTTP server: each method takes what a request
/// carries and gives the response to send. Never traps on what a client sends; every bad request becomes a
/// `ServingError` with its 4xx status. Safe to share between concurrent requests.
///
/// `POST /predict` takes either JSON, `{"pixels": [784 numbers from 0 to 255]}` (28×28, row-major, white
/// digit on black as in MNIST), or a PNG image (`Content-Type: image/png`), prepared the way `mnist predict`
/// prepares one (`PNGDecoder.decode`, then `MNISTPreprocessing.prepare`). It answers
/// `{"digit": 7, "probabilities": [10 numbers], "input": [784 whole numbers], "models": ["lenet5"]}`, `input`
/// being the 28×28 image the model saw, rounded to whole gray levels, and `models` the models answering:
/// with several (an ensemble), the probabilities are the mean of theirs.
public final class PredictionService: Sendable {
    /// The largest request body accepted, in bytes (1 MB).
    public static let maximumBodySize = 1 << 20
    /// The number of pixels in an input image (28×28).
    public static let pixelCount = 784
    /// The values a JSON pixel may take: 0 (background) to 255 (ink).
    static let pixelValues: ClosedRange<Double> = 0...255
    /// The longest side of a PNG accepted, in pixels.
    public static let maximumImageSide = 4096
    /// The most pixels a PNG may have (4 megapixels, 2048×2048), read from its header before anything is
    /// decoded. A 1 MB body of PNG can hold a gigapixel of zeros, and decoding costs about 15 ns and 5 bytes a
    /// pixel (a 20000×2000 image took 0.6 s of CPU): this bound keeps one image under about 60 ms and 21 MB,
    /// ample for a digit the model sees at 28×28 (the drawing page sends its canvas, well under a megapixel).
    public static let maximumImagePixelCount = 2048 * 2048

    /// The models answering requests: one, or several whose probabilities are averaged.
    public let ensemble: Ensemble
    /// The drawing page's files by request path (`/`, `/app.js`, `/style.css`), each a 200 response.
    public let pages: [String: ServingResponse]

    /// The files of the drawing page, from the `Page` resources: request path, file name, content type.
    static let pageFiles = [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "style.css", "text/css; charset=utf-8"),
    ]

    /// A service answering with `ensemble`: the mean of its members' probabilities.
    /// - Throws: when the page's files are missing from the bundle (a broken installation).
    public init(ensemble: Ensemble) throws {
        self.ensemble = ensemble
        var pages: [String: ServingResponse] = [:]
        for (path, file, contentType) in Self.pageFiles {
            guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Page") else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Page/\(file)"])
            }
            pages[path] = ServingResponse(
                status: 200, contentType: contentType, body: [UInt8](try Data(contentsOf: url)))
        }
        self.pages = pages
    }

    /// A service answering with `predictor` alone.
    public convenience init(predictor: Predictor) throws {
        try self.init(ensemble: Ensemble(members: [predictor]))
    }

    /// A service answering with the model in a weights file (see `Predictor(weights:)`).
    public convenience init(weights url: URL) throws {
        try self.init(weights: [url])
    }

    /// A service answering with the ensemble of the models in `urls` (see `Ensemble(weights:)`).
    public convenience init(weights urls: [URL]) throws {
        try self.init(ensemble: Ensemble(weights: urls))
    }

    /// `GET /health`: `{"status": "ok", "model": "lenet5", "models": ["lenet5"]}`; with several models,
    /// `"model": "ensemble"` and each of them in `models`.
    public func health() -> ServingResponse {
        let names = ensemble.modelNames
        let model = names.count == 1 ? names[0] : "ensemble"
        return .json(
            "{\"status\":\"ok\",\"model\":\(JSONText.string(model)),\"models\":\(JSONText.strings(names))}")
    }

    /// `POST /predict`: the prediction as JSON, or the error as JSON with its 4xx status.
    public func respondToPrediction(contentType: String?, body: [UInt8]) -> ServingResponse {
        do {
            return try predict(contentType: contentType, body: body).response
        } catch {
            return error.response
        }
    }

    /// What the model says about the image in a request body.
    /// - Parameters:
    ///   - contentType: the request's `Content-Type` (parameters such as `charset` are ignored).
    ///   - body: the request's body.
    /// - Throws: `ServingError`: 413 for a body over `maximumBodySize`, 415 for a content type other than
    ///   JSON or PNG, 400 for JSON that is not `{"pixels": [784 numbers from 0 to 255]}`, 422 for an image
    ///   that is not a usable PNG or is over `maximumImageSide` or `maximumImagePixelCount`; 500 if the
    ///   model's probabilities are not finite (broken weights).
    public func predict(contentType: String?, body: [UInt8]) throws(ServingError) -> PredictionResult {
        guard body.count <= Self.maximumBodySize else { throw .bodyTooLarge }
        let mediaType = contentType?.split(separator: ";", maxSplits: 1).first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let pixels: [Float]
        switch mediaType {
        case "application/json": pixels = try Self.pixels(fromJSON: body)
        case "image/png": pixels = try Self.pixels(fromPNG: body)
        default: throw .unsupportedMediaType(contentType)
        }
        let prediction = ensemble.predict(image: pixels)
        guard prediction.probabilities.allSatisfy({ $0.isFinite }) else {
            throw ServingError(
                status: 500, message: "the model gave non-finite probabilities; its weights may be broken")
        }
        return PredictionResult(prediction: prediction, input: pixels, models: ensemble.modelNames)
    }

    /// How a JSON body should be, for the error messages.
    static let jsonExample = "send {\"pixels\": [784 numbers from 0 to 255]}"

    /// The 784 pixels of a JSON body `{"pixels": [...]}`, checked one by one.
    static func pixels(fromJSON body: [UInt8]) throws(ServingError) -> [Float] {
        let example = jsonExample
        guard !body.isEmpty else { throw .badRequest("the body is empty: \(example)") }
        // The usual body in one pass; anything else through JSONDecoder, which also words the errors.
        if let pixels = PixelsJSON.parse(body, count: pixelCount) { return pixels }
        return try decodedPixels(fromJSON: body)
    }

    /// The 784 pixels of a JSON body through `JSONDecoder`: any JSON `{"pixels": [...]}`, and every error.
    static func decodedPixels(fromJSON body: [UInt8]) throws(ServingError) -> [Float] {
        let example = jsonExample
        let request: PixelsRequest
        do {
            request = try JSONDecoder().decode(PixelsRequest.self, from: Data(body))
        } catch DecodingError.keyNotFound {
            throw .badRequest("the JSON object has no \"pixels\": \(example)")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw .badRequest("the JSON is not an object: \(example)")
        } catch DecodingError.typeMismatch, DecodingError.valueNotFound {
            throw .badRequest("\"pixels\" is not an array: \(example)")
        } catch {
            throw .badRequest("malformed JSON (\(Self.syntaxError(in: body, otherwise: error))): \(example)")
        }
        guard request.pixels.count == pixelCount else {
            throw .badRequest(
                "\"pixels\" has \(request.pixels.count) values; it needs \(pixelCount) (28×28, row-major)")
        }
        var pixels = [Float](repeating: 0, count: pixelCount)
        for (index, value) in request.pixels.enumerated() {
            let problem: String
            switch value {
            case .number(let number) where !number.isFinite:
                problem = "not finite"
            case .number(let number) where !pixelValues.contains(number):
                let written = number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : "\(number)"
                problem = "\(written), outside 0…255"
            case .number(let number):
                pixels[index] = Float(number)
                continue
            case .other(let kind):
                problem = "\(kind), not a number"
            }
            throw .badRequest(
                "pixels[\(index)] is \(problem): each pixel must be a number from 0 (background) to 255 (ink)")
        }
        return pixels
    }

    /// The 784 pixels of a PNG body, prepared as `mnist predict` prepares an image file.
    static func pixels(fromPNG body: [UInt8]) throws(ServingError) -> [Float] {
        do {
            let image = try PNGDecoder.decode(
                body, file: "the image", maximumSide: maximumImageSide, maximumPixelCount: maximumImagePixelCount)
            return try MNISTPreprocessing.prepare(image, file: "the image")
        } catch let error as ImageError {
            throw .unprocessableImage(error.description)
        } catch {
            throw .unprocessableImage("the image: \(error)")
        }
    }

    /// Why `body` is not JSON, in the words of `JSONSerialization`, which says where ("Unexpected end of file",
    /// "Invalid value around character 12"); `JSONDecoder` only says that it is not.
    private static func syntaxError(in body: [UInt8], otherwise fallback: any Error) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        }
        guard case DecodingError.dataCorrupted(let context) = fallback else { return "\(fallback)" }
        return context.debugDescription
    }
}

/// A prediction made for a request: the digit, its ten probabilities, the 28×28 input the model saw and the
/// models that answered.
public struct PredictionResult: Equatable, Sendable {
    /// The most probable digit.
    public let digit: Int
    /// The probability of each digit, 0 to 9, summing to 1.
    public let probabilities: [Float]
    /// The 784 pixels the model saw, 0 (background) to 255 (ink), row-major.
    public let input: [Float]
    /// The models whose probabilities were averaged, e.g. `["lenet5", "cnn"]`.
    public let models: [String]

    public init(prediction: Prediction, input: [Float], models: [String]) {
        digit = prediction.digit
        probabilities = prediction.probabilities
        self.input = input
        self.models = models
    }

    /// `{"digit": 7, "probabilities": [...], "input": [...], "models": [...]}`, the input rounded to whole gray
    /// levels.
    public var response: ServingResponse {
        let probabilityList = probabilities.map { "\($0)" }.joined(separator: ",")
        let inputList = input.map { String(Int($0.rounded())) }.joined(separator: ",")
        return .json(
            "{\"digit\":\(digit),\"probabilities\":[\(probabilityList)],\"input\":[\(inputList)],\"models\":\(JSONText.strings(models))}"
        )
    }
}

/// The JSON body of `POST /predict`.
struct PixelsRequest: Decodable {
    let pixels: [JSONScalar]
}

/// One value of the `pixels` array: a number, or a description of what it is instead.
enum JSONScalar: Decodable {
    case number(Double)
    /// What the value is when it is not a number: "a string", "null", "true"…
    case other(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            // The common case first, so a valid request throws nothing.
            self = .number(try container.decode(Double.self))
        } catch DecodingError.valueNotFound {
            self = .other("null")
        } catch DecodingError.typeMismatch {
            if let flag = try? container.decode(Bool.self) {
                self = .other(flag ? "true" : "false")
            } else if (try? container.decode(String.self)) != nil {
                self = .other("a string")
            } else {
                self = .other("an array or object")
            }
        } catch {
            self = .other("a number too large for a Double")
        }
    }
}
