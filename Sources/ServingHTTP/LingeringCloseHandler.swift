import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Closes a connection after a response with `Connection: close` (a 413 for a body over the limit, a 503)
/// the way production servers do ("lingering close"): the response is sent, the connection's sending side is
/// shut, and what the client still sends is read and thrown away until it has sent its whole request, closes,
/// or `timeout` passes. Closing at once with unread bytes makes the kernel send a reset, and a client that
/// sends its whole body before reading (Python's urllib, without `Expect: 100-continue`) sees "connection
/// reset" instead of the 413; not closing leaves it hanging. The discarded bytes cost no memory.
final class LingeringCloseHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The longest time spent discarding a refused request's bytes.
    let timeout: TimeAmount
    /// Whether the response being written closes the connection.
    private var closesConnection = false
    /// Whether the response is out and what the client sends is being discarded.
    private var lingering = false
    private var closeTask: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closesConnection = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closesConnection else {
                context.write(data, promise: promise)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in self.linger(context: context) }
        }
    }

    /// Shuts the sending side, then reads and discards until the request ends, the client leaves, or
    /// `timeout`.
    private func linger(context: ChannelHandlerContext) {
        guard context.channel.isActive, !lingering else { return }
        lingering = true
        context.close(mode: .output, promise: nil)
        closeTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
        // Hummingbird's stream may have stopped reading (its buffer full of the refused body): read anyway.
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard lingering else {
            context.fireChannelRead(data)
            return
        }
        if case .end = unwrapInboundIn(data) { context.close(promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if lingering { context.read() } else { context.fireChannelReadComplete() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Whatever the discarded bytes were (not HTTP, a reset), the response is out: just close.
        if lingering { context.close(promise: nil) } else { context.fireErrorCaught(error) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeTask?.cancel()
        context.fireChannelInactive()
    }
}
