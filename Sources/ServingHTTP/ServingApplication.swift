import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus
import Serving
import ServiceLifecycle

/// The HTTP server around a `PredictionService`: the drawing page (`GET /`, `/app.js`, `/style.css`),
/// `GET /health`, `POST /predict` and `GET /metrics`, bodies collected up to 1 MB, every error answered as
/// `{"error": "..."}`; another method on one of these paths gets 405 and an `Allow` header. Every request
/// is logged in one line and counted (`RequestLogMiddleware`, `RequestMetrics`).
public enum ServingApplication {
    /// The router answering every route from `service`, counting the requests in `registry`; predictions run
    /// on a pool of `limits.predictionWorkers`, bodies held within `limits.bodyBudget`.
    public static func makeRouter(
        service: PredictionService, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        limits: ServerLimits = ServerLimits()
    ) -> Router<BasicRequestContext> {
        var allowed: [String: HTTPRequest.Method] = ["/health": .get, "/predict": .post, "/metrics": .get]
        for path in service.pages.keys { allowed[path] = .get }
        let metrics = RequestMetrics(registry: registry, routes: Set(allowed.keys))
        let pool = WorkerPool(workers: limits.predictionWorkers, queueLimit: limits.predictionQueueLimit)
        let budget = ByteBudget(capacity: limits.bodyBudget)
        // HEAD wherever GET works: the GET response's status and headers without its body.
        let router = Router(options: .autoGenerateHeadEndpoints)
        // First, so it times the whole request and sees the status the JSON errors end up with.
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware(allowed: allowed))
        for (path, page) in service.pages {
            let response = page.hummingbirdResponse
            router.get(RouterPath(path)) { _, _ in response }
        }
        router.get("/health") { _, _ in service.health().hummingbirdResponse }
        router.get("/metrics") { _, _ in metrics.response }
        router.post("/predict") { request, _ -> Response in
            let maximum = PredictionService.maximumBodySize
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            // Refused unread: the connection closes (lingering) rather than read a body only to drop it.
            if let declared, declared > maximum { return refusal(.bodyTooLarge) }
            let reservation = declared ?? maximum
            guard budget.reserve(reservation) else {
                return refusal(.serverBusy("request bodies already fill the server's memory budget"))
            }
            defer { budget.release(reservation) }
            let body: ByteBuffer
            do {
                guard let collected = try await collect(request.body, upTo: maximum, within: limits.bodyTimeout)
                else { return refusal(.bodyTimedOut(limits.bodyTimeout)) }
                body = collected
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                return refusal(.bodyTooLarge)
            }
            let contentType = request.headers[.contentType]
            let response = await pool.run {
                service.respondToPrediction(contentType: contentType, body: Array(body.readableBytesView))
            }
            guard let response else {
                return refusal(
                    .serverBusy("\(pool.queueLimit) predictions are already waiting"), closesConnection: false)
            }
            return response.hummingbirdResponse
        }
        return router
    }

    /// `body` collected up to `maximum` bytes, or nil when it has not all arrived within `timeout`; the
    /// collection is then cancelled.
    static func collect(_ body: RequestBody, upTo maximum: Int, within timeout: Duration) async throws -> ByteBuffer? {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: maximum) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// The response refusing a request with `error`: a 503 says when to retry (`Retry-After: 1`), and
    /// `closesConnection` (for a body left unread) adds `Connection: close`, which `LingeringCloseHandler`
    /// carries out.
    static func refusal(_ error: ServingError, closesConnection: Bool = true) -> Response {
        var response = error.response.hummingbirdResponse
        if error.status == 503 { response.headers[.retryAfter] = "1" }
        if closesConnection { response.headers[.connection] = "close" }
        return response
    }

    /// The application serving `service` on `host` and `port` within `limits`, logging to `logger`: the
    /// requests, and `Serving on http://HOST:PORT/` once the socket is bound (with the port the system chose
    /// for port 0).
    public static func makeApplication(
        service: PredictionService, host: String, port: Int, limits: ServerLimits = ServerLimits(),
        logger: Logger = Logger(label: "mnist-serve")
    ) -> some ApplicationProtocol {
        let lingerTimeout = TimeAmount(limits.lingerTimeout)
        let channel = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ParseErrorHandler(), LingeringCloseHandler(timeout: lingerTimeout)],
            idleTimeout: TimeAmount(limits.idleTimeout))
        return Application(
            router: makeRouter(service: service, limits: limits),
            server: .http1(configuration: channel),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "mnist-serve",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections)),
            onServerRunning: { channel in
                logger.info("Serving on http://\(host):\(channel.localAddress?.port ?? port)/")
            },
            logger: logger)
    }
}

extension ApplicationProtocol {
    /// Runs the server until SIGTERM or SIGINT, then shuts it down gracefully: no new connections, requests in
    /// progress finished, within `deadline`; past it, whatever is left (a client stalled mid-body) is cancelled
    /// and its connection closed.
    public func run(shutdownDeadline deadline: Duration) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = deadline
        configuration.maximumCancellationDuration = .seconds(1)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Logs one line per request at info level: method, path, status and latency in milliseconds, e.g.
/// `POST /predict 200 1.42 ms`, with the request's id from Hummingbird as metadata, and counts it in
/// `metrics`. A request whose error escapes the router is logged and counted with that error's status (500
/// when it has none) before it goes on up.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            observe(request, status: response.status.code, latency: .now - start, logger: context.logger)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            observe(request, status: status, latency: .now - start, logger: context.logger)
            throw error
        }
    }

    /// Logs `request`'s line and counts it.
    func observe(_ request: Request, status: Int, latency: Duration, logger: Logger) {
        let path = request.uri.path
        logger.info("\(Self.line(method: request.method, path: path, status: status, latency: latency))")
        metrics.record(method: request.method, path: path, status: status, latency: latency)
    }

    /// `METHOD PATH STATUS LATENCY ms`, the latency with two decimals.
    static func line(method: HTTPRequest.Method, path: String, status: Int, latency: Duration) -> String {
        let (seconds, attoseconds) = latency.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        return "\(method) \(path) \(status) \(String(format: "%.2f", milliseconds)) ms"
    }
}

/// Answers the errors the router itself raises as `{"error": "..."}`, like the service's own errors: no such
/// route (404), a route that exists for another method (405 with `Allow`, whatever the method, OPTIONS and
/// TRACE included), a body too large (413). The answer to HEAD has the headers and no body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The method each path answers (GET paths answer HEAD too).
    let allowed: [String: HTTPRequest.Method]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let path = request.uri.path
            if error.status == .notFound, let method = allowed[path] {
                response = Self.methodNotAllowed(request.method, path: path, allowed: method)
            } else {
                let message: String
                switch error.status {
                case .notFound: message = "no such resource: \(request.method) \(path)"
                case .contentTooLarge: message = ServingError.bodyTooLarge.message
                default: message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
                }
                response = ServingError(status: error.status.code, message: message).response.hummingbirdResponse
            }
        }
        return request.method == .head ? response.createHeadResponse() : response
    }

    /// 405 for `method` on `path`, which answers `allowed` (and HEAD when that is GET), with `Allow`.
    static func methodNotAllowed(_ method: HTTPRequest.Method, path: String, allowed: HTTPRequest.Method) -> Response {
        var response = ServingError(status: 405, message: "\(method) is not allowed on \(path): use \(allowed)")
            .response.hummingbirdResponse
        response.headers[.allow] = allowed == .get ? "GET, HEAD" : allowed.rawValue
        return response
    }
}

extension ServingResponse {
    /// This response as Hummingbird's.
    var hummingbirdResponse: Response {
        Response(
            status: HTTPResponse.Status(code: status, reasonPhrase: Self.reasonPhrase(of: status)),
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The standard reason phrase of the statuses the service answers with.
    static func reasonPhrase(of status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 503: "Service Unavailable"
        default: status >= 500 ? "Internal Server Error" : ""
        }
    }
}
