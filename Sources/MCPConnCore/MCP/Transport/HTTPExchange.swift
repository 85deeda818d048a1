import Foundation

/// The outcome of one POST of a JSON-RPC message.
struct ExchangeResult: Sendable {
    var head: HTTPHead
    /// The answer to our request, when one was expected and found.
    var answer: JSONRPCMessage?
    /// A short snippet of a non-MCP body, for error messages.
    var snippet: String
    /// Why the body could not be read as MCP, if it could not.
    var bodyProblem: String?
}

/// Reads a POST answer on the curl thread: a JSON body, or an SSE stream in which it looks for the
/// answer to `expectedID`, skipping notifications and answering server requests via `onServerRequest`.
final class ExchangeConsumer: TransferConsumer, @unchecked Sendable {
    private let expectedID: JSONValue?
    private let log: ProtocolLog?
    private let onServerRequest: @Sendable (JSONValue, String) -> Void
    private var continuation: CheckedContinuation<Result<ExchangeResult, TransportFailure>, Never>?
    private var result = ExchangeResult(head: HTTPHead(), answer: nil, snippet: "", bodyProblem: nil)
    private enum Mode { case json, sse, other }
    private var mode = Mode.other
    private var buffer: [UInt8] = []
    private var sse = SSEParser()

    init(expectedID: JSONValue?, log: ProtocolLog?, onServerRequest: @escaping @Sendable (JSONValue, String) -> Void) {
        self.expectedID = expectedID
        self.log = log
        self.onServerRequest = onServerRequest
    }

    /// Runs `request` and waits for its answer.
    func run(_ request: HTTPRequest, deadline: ContinuousClock.Instant, maxBytes: Int) async -> Result<
        ExchangeResult, TransportFailure
    > {
        let transfer = CurlTransfer(request: request, deadline: deadline, maxBytes: maxBytes, consumer: self)
        return await CurlLoop.perform(transfer) { continuation = $0 }
    }

    private func resume(_ r: Result<ExchangeResult, TransportFailure>) {
        continuation?.resume(returning: r)
        continuation = nil
    }

    func head(_ head: HTTPHead) -> TransferVerdict {
        result.head = head
        log?.response(head)
        if (200..<300).contains(head.status) {
            switch head.mediaType {
            case "application/json": mode = .json
            case "text/event-stream": mode = .sse
            default: mode = .other
            }
        }
        return .more
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict {
        switch mode {
        case .json:
            buffer.append(contentsOf: bytes)
            return .more
        case .other:
            // Enough of an error body to read a JSON-RPC error from; the rest is not worth keeping.
            if buffer.count < 65536 { buffer.append(contentsOf: bytes.prefix(65536 - buffer.count)) }
            return .more
        case .sse:
            for event in sse.feed(bytes) {
                log?.body(event.data, event: event.event)
                guard event.event == "message" else { continue }
                if take(Array(event.data.utf8)) { return .done }
            }
            if sse.overflowed {
                result.bodyProblem = "an event exceeded the size cap"
                return .stop
            }
            return .more
        }
    }

    /// Handles one JSON-RPC payload; true when it held our answer.
    private func take(_ bytes: [UInt8]) -> Bool {
        guard let messages = JSONRPCMessage.parseAll(bytes) else {
            result.bodyProblem = "the server sent something that is not JSON-RPC 2.0"
            return false
        }
        var found = false
        for m in messages {
            switch m {
            case .request(let id, let method, _):
                onServerRequest(id, method)
            case .notification:
                break
            case .response, .errorResponse:
                if let expectedID, m.responseID == expectedID {
                    result.answer = m
                    found = true
                }
            }
        }
        if found { resume(.success(result)) }
        return found
    }

    func finished(_ failure: TransportFailure?) {
        guard continuation != nil else { return }
        if let failure {
            resume(.failure(failure))
            return
        }
        switch mode {
        case .json:
            log?.body(String(decoding: buffer, as: UTF8.self))
            if !buffer.isEmpty, !take(buffer), result.bodyProblem == nil, expectedID != nil {
                result.bodyProblem = "the JSON answer holds no response to request \(expectedID!.compactText())"
            }
        case .sse:
            if result.bodyProblem == nil, expectedID != nil {
                result.bodyProblem = "the event stream ended before the response"
            }
        case .other:
            result.snippet = String(decoding: buffer, as: UTF8.self)
            if !buffer.isEmpty { log?.body(result.snippet) }
        }
        resume(.success(result))
    }
}
