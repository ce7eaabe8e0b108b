/// Why a request was refused: the HTTP status to answer with and a message naming the problem, sent as
/// `{"error": "..."}`.
public struct ServingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The HTTP status code, 4xx for a bad request.
    public let status: Int
    /// What was wrong with the request, in a sentence.
    public let message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    /// 400: the body is not the JSON the API takes.
    public static func badRequest(_ message: String) -> ServingError { ServingError(status: 400, message: message) }
    /// 413: the body is larger than `PredictionService.maximumBodySize`.
    public static let bodyTooLarge = ServingError(
        status: 413, message: "the body is larger than \(PredictionService.maximumBodySize) bytes (1 MB)")
    /// 408: the body did not all arrive within `timeout` of the request's headers.
    public static func bodyTimedOut(_ timeout: Duration) -> ServingError {
        ServingError(status: 408, message: "the body did not all arrive within \(timeout) of the headers")
    }
    /// 415: the body is neither JSON nor a PNG image.
    public static func unsupportedMediaType(_ contentType: String?) -> ServingError {
        let given = contentType.map { "\"\($0)\"" } ?? "missing"
        return ServingError(
            status: 415,
            message: "Content-Type \(given): send application/json ({\"pixels\": [784 numbers]}) or image/png")
    }
    /// 422: the body is an image that cannot be used (not a PNG, corrupt, too large, blank).
    public static func unprocessableImage(_ message: String) -> ServingError {
        ServingError(status: 422, message: message)
    }

    /// 503: the server is at one of its limits (`reason`); the client may retry shortly.
    public static func serverBusy(_ reason: String) -> ServingError {
        ServingError(status: 503, message: "the server is busy (\(reason)): retry in a second")
    }

    public var description: String { "\(status): \(message)" }

    /// The response carrying this error: `{"error": "..."}`.
    public var response: ServingResponse {
        ServingResponse(
            status: status, contentType: ServingResponse.jsonContentType,
            body: Array("{\"error\":\(JSONText.string(message))}".utf8))
    }
}
