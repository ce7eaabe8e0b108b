import Foundation
import Hummingbird
import Logging
import Prometheus
import Serving

/// The HTTP server around a `PredictionService`: the drawing page (`GET /`, `/app.js`, `/style.css`),
/// `GET /health`, `POST /predict` and `GET /metrics`, bodies collected up to 1 MB, every error answered as
/// `{"error": "..."}`; another method on one of these paths gets 405 and an `Allow` header. Every request
/// is logged in one line and counted (`RequestLogMiddleware`, `RequestMetrics`).
public enum ServingApplication {
    /// The router answering every route from `service`, counting the requests in `registry`.
    public static func makeRouter(
        service: PredictionService, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) -> Router<BasicRequestContext> {
        var allowed: [String: HTTPRequest.Method] = ["/health": .get, "/predict": .post, "/metrics": .get]
        for path in service.pages.keys { allowed[path] = .get }
        let metrics = RequestMetrics(registry: registry, routes: Set(allowed.keys))
        let router = Router()
        // First, so it times the whole request and sees the status the JSON errors end up with.
        router.add(middleware: RequestLogMiddleware(metrics: metrics))
        router.add(middleware: JSONErrorMiddleware())
        for (path, page) in service.pages {
            let response = page.hummingbirdResponse
            router.get(RouterPath(path)) { _, _ in response }
        }
        router.get("/health") { _, _ in service.health().hummingbirdResponse }
        router.get("/metrics") { _, _ in metrics.response }
        for (path, method) in allowed {
            for other in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where other != method {
                router.on(RouterPath(path), method: other) { request, _ in
                    var response = ServingError(
                        status: 405, message: "\(request.method) is not allowed on \(path): use \(method)"
                    ).response.hummingbirdResponse
                    response.headers[.allow] = method.rawValue
                    return response
                }
            }
        }
        router.post("/predict") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: PredictionService.maximumBodySize)
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                return ServingError.bodyTooLarge.response.hummingbirdResponse
            }
            let response = service.respondToPrediction(
                contentType: request.headers[.contentType], body: Array(body.readableBytesView))
            return response.hummingbirdResponse
        }
        return router
    }

    /// The application serving `service` on `host` and `port`, logging to `logger`: the requests, and
    /// `Serving on http://HOST:PORT/` once the socket is bound (with the port the system chose for port 0).
    public static func makeApplication(
        service: PredictionService, host: String, port: Int, logger: Logger = Logger(label: "mnist-serve")
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(service: service),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "mnist-serve"),
            onServerRunning: { channel in
                logger.info("Serving on http://\(host):\(channel.localAddress?.port ?? port)/")
            },
            logger: logger)
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

/// Answers the errors the router itself raises (no such route, a body too large) as `{"error": "..."}`,
/// like the service's own errors.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let message: String
            switch error.status {
            case .notFound: message = "no such resource: \(request.method) \(request.uri.path)"
            case .contentTooLarge: message = ServingError.bodyTooLarge.message
            default: message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            }
            return ServingError(status: error.status.code, message: message).response.hummingbirdResponse
        }
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
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        default: status >= 500 ? "Internal Server Error" : ""
        }
    }
}
