import MCPConnCore
import NIOCore
import NIOHTTP1

/// One client connection: each request checked at its head (Host, Origin, token, path, method) before any
/// body is read (a connection without a head carrying the token within `HTTPServer.headDeadline` is closed),
/// its body collected up to the limit, then answered by the endpoint on Swift's pool; the answer is written
/// back on the connection's event loop. A GET becomes a long-lived event stream. The connection closing cancels
/// what it was waiting for. All state is touched on the event loop only (NIO's rule for a handler).
final class MCPChannelHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case reading(HTTPRequestHead, IncomingRequest, NIOCore.ByteBuffer)
        /// Its token under check (an OAuth access token): the body is held (up to the limit) meanwhile; `ended`
        /// once all of it came.
        case verifying(HTTPRequestHead, IncomingRequest, NIOCore.ByteBuffer, ended: Bool)
        /// A request for `/healthz` or `/metrics`, answered at its head: the answer goes once its end is read.
        case monitoring(HTTPRequestHead, HTTPReply)
        /// A refused request: its answer is written, the connection closes after it.
        case refused
        /// A request under way; `streaming` once its answer became an event stream (a notification came first).
        case answering(Task<Void, Never>, streaming: Bool)
        case streaming(stop: @Sendable () -> Void, keepalive: RepeatedTask)
    }

    private let endpoint: HTTPEndpoint
    private let maxBodyBytes: Int
    private let connections: OpenConnections
    private var state = State.idle
    /// Closes the connection unless a request head with the token comes first; nil once one came.
    private var headDeadline: Scheduled<Void>?

    /// A comment line that keeps an idle event stream open through proxies, as the reference SDK sends it.
    static let keepaliveInterval = TimeAmount.seconds(15)

    init(endpoint: HTTPEndpoint, maxBodyBytes: Int, connections: OpenConnections) {
        self.endpoint = endpoint
        self.maxBodyBytes = maxBodyBytes
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        headDeadline = context.eventLoop.scheduleTask(in: HTTPServer.headDeadline) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let request = IncomingRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) })
            switch endpoint.monitoring(request) {
            case .refused(let refusal)?:
                refuse(refusal, head, context)
                return
            case .answer(let reply, let holder)?:
                if holder { authenticated(context) }
                state = .monitoring(head, reply)
                return
            case nil: break
            }
            let empty = context.channel.allocator.buffer(capacity: 0)
            switch endpoint.admission(request) {
            case .refused(let refusal): refuse(refusal, head, context)
            case .admitted(let caller):
                var request = request
                request.caller = caller
                admitted(head, request, empty, ended: false, context)
            case .verify(let check):
                state = .verifying(head, request, empty, ended: false)
                // Nothing more is read from a caller not yet known: the body waits in the socket, not in memory.
                _ = context.channel.setOption(ChannelOptions.autoRead, value: false)
                let loop = context.eventLoop
                let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
                Task {
                    let verdict = await check()
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.verified(verdict, context)
                    }
                }
            }
        case .body(var chunk):
            switch state {
            case .reading(let head, let request, var body):
                guard fits(body, chunk, head, context) else { return }
                state = .idle  // lets `body` be extended in place
                body.writeBuffer(&chunk)
                state = .reading(head, request, body)
            case .verifying(let head, let request, var body, let ended):
                guard fits(body, chunk, head, context) else { return }
                state = .idle
                body.writeBuffer(&chunk)
                state = .verifying(head, request, body, ended: ended)
            default: return
            }
        case .end:
            switch state {
            case .monitoring(let head, let reply):
                state = .idle
                write(reply, head, context)
            case .reading(let head, let request, let body): answer(head, request, body, context)
            case .verifying(let head, let request, let body, _): state = .verifying(head, request, body, ended: true)
            default: return
            }
        }
    }

    /// False (and the request refused with 413) when `chunk` would take the body over the limit.
    private func fits(
        _ body: NIOCore.ByteBuffer, _ chunk: NIOCore.ByteBuffer, _ head: HTTPRequestHead,
        _ context: ChannelHandlerContext
    ) -> Bool {
        guard body.readableBytes + chunk.readableBytes > maxBodyBytes else { return true }
        refuse(.refusal(413, -32600, "request body larger than \(maxBodyBytes) bytes"), head, context)
        return false
    }

    /// The token's check is done: the request goes on as its holder's, or is refused.
    private func verified(_ verdict: Verified, _ context: ChannelHandlerContext) {
        guard case .verifying(let head, var request, let body, let ended) = state else { return }  // closed meanwhile
        _ = context.channel.setOption(ChannelOptions.autoRead, value: true)
        switch verdict {
        case .refused(let refusal): refuse(refusal, head, context)
        case .caller(let caller):
            request.caller = caller
            admitted(head, request, body, ended: ended, context)
        }
    }

    /// A request whose sender is known: routed, then read to its end and answered.
    private func admitted(
        _ head: HTTPRequestHead, _ request: IncomingRequest, _ body: NIOCore.ByteBuffer, ended: Bool,
        _ context: ChannelHandlerContext
    ) {
        authenticated(context)
        if let refusal = endpoint.route(request) {
            refuse(refusal, head, context)
        } else if ended {
            answer(head, request, body, context)
        } else {
            state = .reading(head, request, body)
        }
    }

    private func answer(
        _ head: HTTPRequestHead, _ request: IncomingRequest, _ body: NIOCore.ByteBuffer,
        _ context: ChannelHandlerContext
    ) {
        switch head.method {
        case .POST: post(head, request, body, context)
        case .GET: listen(head, request, context)
        default: write(endpoint.delete(request), head, context)
        }
    }

    /// A request head carried the token: the connection is no longer counted apart, nor closed at the deadline.
    private func authenticated(_ context: ChannelHandlerContext) {
        guard let deadline = headDeadline else { return }
        deadline.cancel()
        headDeadline = nil
        connections.authenticated(context.channel)
    }

    private func refuse(_ reply: HTTPReply, _ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        state = .refused
        write(reply, head, context, close: true)
    }

    private func post(
        _ head: HTTPRequestHead, _ request: IncomingRequest, _ body: NIOCore.ByteBuffer,
        _ context: ChannelHandlerContext
    ) {
        let bytes = Array(body.readableBytesView)
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        let endpoint = self.endpoint
        let notify: Gateway.Notify = { message in
            loop.execute {
                let (handler, context) = bound.value
                handler.notify(message, head, context)
            }
        }
        state = .answering(
            Task {
                let reply = await endpoint.post(request, body: bytes, notify: notify)
                loop.execute {
                    let (handler, context) = bound.value
                    guard case .answering(_, let streaming) = handler.state else { return }  // the connection closed
                    handler.state = .idle
                    if streaming {
                        handler.endStream(with: reply, head, context)
                    } else {
                        handler.write(reply, head, context)
                    }
                }
            }, streaming: false)
    }

    /// A notification about the request under way: the answer becomes an event stream (its head written now),
    /// and the notification one of its events. Notifications all come before the answer (Gateway's promise), and
    /// on this event loop in the order they were sent.
    private func notify(_ message: JSONValue, _ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        guard case .answering(let task, let streaming) = state else { return }
        if !streaming {
            writeEventStreamHead(head, context)
            state = .answering(task, streaming: true)
        }
        writeBody(HTTPReply.event(message), context, flush: true)
    }

    /// The answer as the stream's last event (its HTTP status is the stream's, 200, already sent).
    private func endStream(with reply: HTTPReply, _ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        writeBody(HTTPReply.event(json: reply.body), context, flush: false)
        writeEnd(context, keepAlive: head.isKeepAlive)
    }

    /// A 200 whose body is an event stream (chunked: no length).
    private func writeEventStreamHead(_ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        let headers = HTTPHeaders(HTTPReply.eventStreamHeaders.map { ($0.name, $0.value) })
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil
        )
    }

    private func writeBody(_ bytes: [UInt8], _ context: ChannelHandlerContext, flush: Bool) {
        let part = wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes))))
        if flush { context.writeAndFlush(part, promise: nil) } else { context.write(part, promise: nil) }
    }

    /// The end of a response; the connection closes after it unless it is kept alive.
    private func writeEnd(_ context: ChannelHandlerContext, keepAlive: Bool) {
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func listen(_ head: HTTPRequestHead, _ request: IncomingRequest, _ context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        let stop: @Sendable () -> Void
        switch endpoint.listen(
            request,
            send: { message in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.send(HTTPReply.event(message), context)
                }
            })
        {
        case .refused(let reply):
            write(reply, head, context)
            return
        case .streaming(let end): stop = end
        }
        writeEventStreamHead(head, context)
        // A first comment, so the head leaves now (the chunked encoder holds it until a body part).
        writeBody(Array(": stream open\n\n".utf8), context, flush: true)
        let keepalive = loop.scheduleRepeatedTask(initialDelay: Self.keepaliveInterval, delay: Self.keepaliveInterval) {
            _ in
            let (handler, context) = bound.value
            handler.send(Array(": ping\n\n".utf8), context)
        }
        state = .streaming(stop: stop, keepalive: keepalive)
    }

    private func send(_ bytes: [UInt8], _ context: ChannelHandlerContext) {
        guard case .streaming = state else { return }
        writeBody(bytes, context, flush: true)
    }

    /// A whole answer; the connection stays open when the client keeps it alive and nothing went wrong.
    private func write(
        _ reply: HTTPReply, _ head: HTTPRequestHead, _ context: ChannelHandlerContext, close: Bool = false
    ) {
        let keepAlive = head.isKeepAlive && !close
        var headers = HTTPHeaders(reply.headers.map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(reply.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(
            version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !reply.body.isEmpty { writeBody(reply.body, context, flush: false) }
        writeEnd(context, keepAlive: keepAlive)
    }

    /// The client went away: whatever it was waiting for is cancelled (the upstream request with it).
    func channelInactive(context: ChannelHandlerContext) {
        headDeadline?.cancel()
        headDeadline = nil
        switch state {
        case .answering(let task, _): task.cancel()
        case .streaming(let stop, let keepalive):
            stop()
            keepalive.cancel()
        default: break
        }
        state = .idle
        context.fireChannelInactive()
    }

    /// An idle connection (no request under way, no stream) is closed after the read timeout.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        switch state {
        case .idle, .reading, .verifying, .monitoring, .refused: context.close(promise: nil)
        case .answering, .streaming: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
