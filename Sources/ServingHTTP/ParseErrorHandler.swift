import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Serving

/// Answers a request that is not HTTP/1.1 the parser can read (an unknown method such as `BREW`, a malformed
/// request line, headers over NIO's limits) with 400, `{"error": "..."}` and `Connection: close`, then closes
/// the connection. Without it Hummingbird answers these with 400 and an empty body.
///
/// Only between requests: when a response is still owed on the connection, the error goes on to Hummingbird,
/// which must not have two responses interleaved.
final class ParseErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests whose head was read and whose response has not been written to its end.
    private var requestsUnanswered = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { requestsUnanswered += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { requestsUnanswered -= 1 }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, requestsUnanswered == 0 else {
            context.fireErrorCaught(error)
            return
        }
        let body = ServingError.badRequest("the request is not HTTP/1.1 this server can read (\(parseError))")
            .response.body
        let head = HTTPResponse(
            status: .badRequest,
            headerFields: [
                .contentType: ServingResponse.jsonContentType, .contentLength: String(body.count),
                .connection: "close",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        // Closed once the response is out: closing at once could drop it unwritten.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
