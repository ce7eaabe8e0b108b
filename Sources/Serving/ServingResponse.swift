import Foundation

/// An HTTP response, independent of any server: status, content type and body.
public struct ServingResponse: Equatable, Sendable {
    /// The content type of every JSON response.
    public static let jsonContentType = "application/json; charset=utf-8"

    /// The HTTP status code.
    public let status: Int
    /// The `Content-Type` header's value.
    public let contentType: String
    /// The body's bytes.
    public let body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A 200 response with a JSON body written by hand (see `JSONText`).
    static func json(_ text: String) -> ServingResponse {
        ServingResponse(status: 200, contentType: jsonContentType, body: Array(text.utf8))
    }
}

/// The few pieces of JSON the service writes by hand (small and fast for 784 numbers).
enum JSONText {
    /// `text` as a JSON string literal, quoted and escaped by Foundation's JSON writer.
    static func string(_ text: String) -> String {
        // A string is always valid JSON, so the writer does not fail; the fallback only keeps this total.
        let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: text, options: options) else {
            return "\"\""
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `texts` as a JSON array of strings: `["lenet5","cnn"]`.
    static func strings(_ texts: [String]) -> String {
        "[" + texts.map(string).joined(separator: ",") + "]"
    }
}
