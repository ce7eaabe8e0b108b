import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
@testable import ServingHTTP

/// Every request gets one info line, `METHOD PATH STATUS LATENCY ms`, with Hummingbird's request id, whether
/// the route answered, the JSON error middleware did, or an error escaped the router.
@Suite struct RequestLogMiddlewareTests {
    /// The log lines a `RecordingLogHandler` received.
    final class LogRecorder: Sendable {
        struct Entry: Sendable {
            let level: Logger.Level
            let message: String
            let metadata: Logger.Metadata
        }
        private let storage = Mutex<[Entry]>([])
        var entries: [Entry] { storage.withLock { $0 } }
        func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }

        /// A logger writing into this recorder, every level included.
        var logger: Logger { Logger(label: "test") { _ in RecordingLogHandler(recorder: self) } }
    }

    struct RecordingLogHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(
                .init(
                    level: event.level, message: event.message.description,
                    metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }

    /// The request lines among `entries`: those the middleware wrote, matched as `METHOD PATH STATUS N.NN ms`.
    static func requestLines(_ entries: [LogRecorder.Entry]) -> [LogRecorder.Entry] {
        entries.filter { $0.message.wholeMatch(of: /[A-Z]+ \S+ \d{3} \d+\.\d{2} ms/) != nil }
    }

    @Test func theServiceLogsEveryRequestWithItsStatus() async throws {
        let recorder = LogRecorder()
        let application = ServingApplication.makeApplication(
            service: try ServingApplicationTests.service.get(), host: "127.0.0.1", port: 0, logger: recorder.logger)
        try await application.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/predict", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "7")
            ) { #expect($0.status == .unsupportedMediaType) }
            try await client.execute(uri: "/nowhere", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/health", method: .delete) { #expect($0.status == .methodNotAllowed) }
        }
        let lines = Self.requestLines(recorder.entries)
        #expect(lines.count == 4, "\(recorder.entries.map(\.message))")
        let expected = ["GET /health 200 ", "POST /predict 415 ", "GET /nowhere 404 ", "DELETE /health 405 "]
        for (line, prefix) in zip(lines, expected) {
            #expect(line.message.hasPrefix(prefix), "\(line.message)")
            #expect(line.level == .info)
            #expect(line.metadata["hb.request.id"] != nil, "\(line.metadata)")
        }
    }

    @Test func anErrorEscapingTheRouterIsLoggedWithItsStatus() async throws {
        struct Failure: Error {}
        let recorder = LogRecorder()
        let router = Router()
        let metrics = RequestMetrics(routes: ["/fails", "/refuses"])
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.get("/fails") { _, _ -> Response in throw Failure() }
        router.get("/refuses") { _, _ -> Response in throw HTTPError(.forbidden) }
        try await Application(router: router, logger: recorder.logger).test(.router) { client in
            try await client.execute(uri: "/fails", method: .get) { #expect($0.status == .internalServerError) }
            try await client.execute(uri: "/refuses", method: .get) { #expect($0.status == .forbidden) }
        }
        let messages = Self.requestLines(recorder.entries).map(\.message)
        #expect(messages.count == 2, "\(recorder.entries.map(\.message))")
        #expect(messages.first?.hasPrefix("GET /fails 500 ") == true, "\(messages)")
        #expect(messages.last?.hasPrefix("GET /refuses 403 ") == true, "\(messages)")
    }

    @Test func metricsCountEveryRequestInPrometheusFormat() async throws {
        let application = Application(
            router: ServingApplication.makeRouter(service: try ServingApplicationTests.service.get()),
            logger: LogRecorder().logger)
        try await application.test(.router) { client in
            for _ in 0..<2 { try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) } }
            try await client.execute(uri: "/no/such/page", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/elsewhere", method: .post) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/metrics", method: .post) { #expect($0.status == .methodNotAllowed) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
                for expected in [
                    #"http_requests_total{method="GET",path="/health",status="200"} 2"#,
                    // Unknown paths share one series, whatever the path.
                    #"http_requests_total{method="GET",path="other",status="404"} 1"#,
                    #"http_requests_total{method="POST",path="other",status="404"} 1"#,
                    #"http_requests_total{method="POST",path="/metrics",status="405"} 1"#,
                    "# TYPE http_request_duration_seconds histogram",
                    #"http_request_duration_seconds_count{method="GET",path="/health"} 2"#,
                ] {
                    #expect(lines.contains(expected), "\(expected) missing from:\n\(lines.joined(separator: "\n"))")
                }
                #expect(!lines.contains { $0.contains("/no/such/page") || $0.contains("/elsewhere") })
            }
        }
    }

    @Test func theLineHasMethodPathStatusAndMilliseconds() {
        let line = RequestLogMiddleware<BasicRequestContext>.line(
            method: .post, path: "/predict", status: 200, latency: .milliseconds(1) + .microseconds(420))
        #expect(line == "POST /predict 200 1.42 ms")
        let instant = RequestLogMiddleware<BasicRequestContext>.line(
            method: .get, path: "/", status: 304, latency: .zero)
        #expect(instant == "GET / 304 0.00 ms")
        let slow = RequestLogMiddleware<BasicRequestContext>.line(
            method: .get, path: "/health", status: 200, latency: .seconds(2) + .microseconds(40))
        #expect(slow == "GET /health 200 2000.04 ms")
    }
}
