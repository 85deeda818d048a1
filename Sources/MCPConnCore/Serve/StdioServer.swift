import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `serve` over stdio: one JSON-RPC message a line on stdin, answers a line each on stdout, until stdin ends.
/// Requests are answered concurrently (a slow tool of one connector does not hold up another's), at most
/// `maxInFlight` at once; stdout carries nothing but answers and notifications (a request's progress and log
/// messages, each before its answer; list changes).
public enum StdioServer {
    static let maxInFlight = 64

    public static func run(_ gateway: Gateway, maxLineBytes: Int) async {
        let out = LineWriter(fd: 1)
        let inFlight = InFlight()
        // What a connector asks mid-request goes to the client as a request of serve's own on stdout; its answer
        // comes back on stdin. The client declares at `initialize` what it answers.
        let asked = DownstreamRequests()
        let declared = Locked(JSONObject())
        let client = DownstreamClient(
            capabilities: [:],
            ask: { method, params, deadline in await asked.ask(method, params, until: deadline, send: out.write) },
            hear: { out.write($0) })
        let watcher = Task {
            await gateway.watchStoredTools {
                out.write(JSONRPC.notification(method: "notifications/tools/list_changed"))
            }
        }
        defer { watcher.cancel() }
        for await line in lines(fd: 0, maxLineBytes: maxLineBytes) {
            guard let message = decode(line, out) else { continue }
            switch message {
            case .notification("notifications/cancelled", let params):
                // The client gave up on a request: its task is cancelled, which cancels the upstream request
                // (and tells that server); the spec wants no answer to it.
                if let id = params?["requestId"] { inFlight.cancel(id) }
            case .response, .errorResponse:
                _ = asked.receive(message)
            case .request(let id, let method, let params):
                // stdio carries no headers: the request's own envelope tells its era.
                let request = JSONRPCRequest(id: id, method: method, params: params)
                if method == Initialize.name {
                    declared.withLock { $0 = params?["capabilities"]?.objectValue ?? [:] }
                }
                var client = client
                client.capabilities = declared.withLock { $0 }
                let context = RequestContext.fromEnvelope(params, client: client)
                if inFlight.count >= maxInFlight { await inFlight.oldest?.value }
                inFlight.start(id) {
                    // A cancelled request gets neither an answer nor more notifications.
                    let notify: Gateway.Notify = { note in if !Task.isCancelled { out.write(note) } }
                    let reply = await gateway.handle(request, context: context, notify: notify)
                    if !Task.isCancelled { out.write(reply) }
                }
            default:
                break  // other notifications, and answers: none needs anything of the gateway
            }
        }
        // The client closed its input: the spec's shutdown. A request still in flight gets half a second (a client
        // may close its input right after its last request and read on), then is cancelled, whatever its timeout,
        // and the connectors' servers are ended: their stdin closed at once.
        asked.close()
        await inFlight.finish(within: shutdownGrace)
        await gateway.close()
    }

    /// How long requests in flight when stdin ends may still run.
    static let shutdownGrace: Duration = .milliseconds(500)

    /// A line as a JSON-RPC message; invalid JSON and non-JSON-RPC are answered with the spec's errors.
    private static func decode(_ line: Line, _ out: LineWriter) -> JSONRPCMessage? {
        switch line {
        case .tooLong:
            out.write(
                JSONRPC.error(id: .null, code: JSONRPCError.invalidRequest, message: "message larger than the limit"))
        case .text(let bytes):
            guard let value = try? JSONValue.parse(bytes) else {
                out.write(JSONRPC.error(id: .null, code: JSONRPCError.parseError, message: "not JSON"))
                return nil
            }
            guard let message = JSONRPCMessage.fromClient(value) else {
                out.write(JSONRPC.invalidRequest(value))
                return nil
            }
            return message
        }
        return nil
    }

    enum Line: Sendable {
        case text([UInt8])
        case tooLong
    }

    /// The lines of `fd`, read on a thread of its own (a blocking read must not hold one of the cooperative
    /// pool's two threads). A line past `maxLineBytes` is dropped up to its end and reported once.
    static func lines(fd: Int32, maxLineBytes: Int) -> AsyncStream<Line> {
        AsyncStream { continuation in
            Thread {
                var pending: [UInt8] = []
                var skipping = false
                var chunk = [UInt8](repeating: 0, count: 64 * 1024)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    var start = 0
                    for i in 0..<n where chunk[i] == 0x0A {
                        if !skipping { pending.append(contentsOf: chunk[start..<i]) }
                        if !skipping && !pending.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                            continuation.yield(.text(pending))
                        }
                        pending.removeAll(keepingCapacity: true)
                        skipping = false
                        start = i + 1
                    }
                    if !skipping { pending.append(contentsOf: chunk[start..<n]) }
                    if pending.count > maxLineBytes {
                        pending.removeAll()
                        skipping = true
                        continuation.yield(.tooLong)
                    }
                }
                if !skipping, !pending.isEmpty { continuation.yield(.text(pending)) }
                continuation.finish()
            }.start()
        }
    }
}

/// Whole lines to a file descriptor, one writer at a time (answers finish concurrently).
public final class LineWriter: Sendable {
    /// The descriptor, behind the lock each line is written under: one writer at a time. The write may block
    /// on a slow reader (so only threads that may block write: a request's task writes its answer once).
    private let fd: Locked<Int32>

    public init(fd: Int32) { self.fd = Locked(fd) }

    /// A JSON value (a JSON-RPC message) as one line.
    public func write(_ message: JSONValue) {
        var bytes = message.compactBytes()
        bytes.append(0x0A)
        write(bytes)
    }

    /// A line of text, made safe for a terminal first (stderr's lines).
    public func write(line text: String) { write(Array((TerminalText.escape(text, .block) + "\n").utf8)) }

    /// A failure means the reader is gone (serve's client: its stdin's end ends the loop).
    private func write(_ bytes: [UInt8]) { _ = fd.withLock { WriteAll.write($0, bytes) } }
}
