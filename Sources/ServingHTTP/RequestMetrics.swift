import Hummingbird
import Prometheus

/// The server's request counts and latencies, served at `GET /metrics` in Prometheus's text format:
/// `http_requests_total{method, path, status}` and the histogram `http_request_duration_seconds{method, path}`.
/// A path that is none of the server's routes is counted as `path="other"`, so clients asking for random
/// paths cannot grow the number of series without end.
public struct RequestMetrics: Sendable {
    /// Where the series are kept; `GET /metrics` emits all of it.
    public let registry: PrometheusCollectorRegistry
    /// The paths counted under their own name.
    let routes: Set<String>

    /// The histogram's upper bounds: from a cached page (well under a millisecond) to a large PNG under load.
    static let latencyBuckets: [Duration] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500].map {
        .microseconds(Int64($0 * 1000))
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), routes: Set<String>) {
        self.registry = registry
        self.routes = routes
    }

    /// Counts one request and records its latency.
    func record(method: HTTPRequest.Method, path: String, status: Int, latency: Duration) {
        let path = routes.contains(path) ? path : "other"
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "http_requests", unitName: "total", helpText: "HTTP requests answered."),
            labels: [("method", method.rawValue), ("path", path), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "http_request_duration", unitName: "seconds",
                helpText: "Time from a request's arrival at the router to its response."),
            labels: [("method", method.rawValue), ("path", path)], buckets: Self.latencyBuckets
        ).record(latency)
    }

    /// Every series, as `GET /metrics` answers (Prometheus's text exposition format 0.0.4).
    var response: Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
