import Foundation

/// A whole HTTP response, read into memory up to a size cap.
struct HTTPResponse: Sendable {
    var head: HTTPHead
    var body: [UInt8]

    var status: Int { head.status }

    /// The body as a JSON object, if it is one.
    var jsonObject: JSONObject? { (try? JSONValue.parse(body))?.objectValue }
}

/// One plain HTTP exchange on the shared curl loop (OAuth metadata, registration, tokens), its answer capped so a
/// hostile endpoint cannot bloat the process. GETs (metadata) follow redirects by the rule of the MCP channels
/// (``RedirectState``: five hops, no loop, only http(s), never https→http); POSTs never do (they carry a client
/// secret, a code or a token, which a redirect must not carry elsewhere: RFC 6749 §3.2 has no redirects), so a 3xx
/// is their answer.
enum HTTPFetch {
    /// Sends `request` and reads the whole answer, or fails with a transport failure.
    static func run(_ request: HTTPRequest, timeout: Double, maxBytes: Int = 1 << 20) async -> Result<
        HTTPResponse, TransportFailure
    > {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        var request = request
        var redirects = RedirectState(start: request.url)
        while true {
            let r = await once(request, deadline: deadline, maxBytes: maxBytes)
            guard request.method == "GET", case .success(let response) = r,
                [301, 302, 303, 307, 308].contains(response.status), let location = response.head.value("Location")
            else { return r }
            do throws(MCPClientError) {
                request.url = try redirects.follow(location, from: request.url)
            } catch .badRedirect(let why) {
                return .failure(.unreachable(why))
            } catch {
                return .failure(.unreachable("a redirect that cannot be followed"))
            }
        }
    }

    private static func once(_ request: HTTPRequest, deadline: ContinuousClock.Instant, maxBytes: Int) async
        -> Result<HTTPResponse, TransportFailure>
    {
        let consumer = BufferConsumer()
        let transfer = CurlTransfer(request: request, deadline: deadline, maxBytes: maxBytes, consumer: consumer)
        return await CurlLoop.perform(transfer) { consumer.continuation = $0 }
    }

    /// A GET with `Accept: application/json`.
    static func getJSON(_ url: String, tls: TLSSettings?, timeout: Double) async -> Result<
        HTTPResponse, TransportFailure
    > {
        await run(
            HTTPRequest(method: "GET", url: url, headers: [("Accept", "application/json")], tls: tls), timeout: timeout)
    }

    /// A POST of `application/x-www-form-urlencoded` fields (RFC 6749's token and RFC 7009's revocation
    /// requests).
    static func postForm(
        _ url: String, _ fields: [(String, String)], headers: [(name: String, value: String)] = [],
        tls: TLSSettings?, timeout: Double
    ) async -> Result<HTTPResponse, TransportFailure> {
        let body = fields.map { FormEncoding.escape($0.0) + "=" + FormEncoding.escape($0.1) }.joined(separator: "&")
        let request = HTTPRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")] + headers,
            body: Array(body.utf8), tls: tls)
        return await run(request, timeout: timeout)
    }

    /// A POST of a JSON object (RFC 7591's registration request).
    static func postJSON(_ url: String, _ object: JSONObject, tls: TLSSettings?, timeout: Double) async -> Result<
        HTTPResponse, TransportFailure
    > {
        let request = HTTPRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
            body: JSONValue.object(object).compactBytes(), tls: tls)
        return await run(request, timeout: timeout)
    }
}

/// Collects a response on the curl thread.
// @unchecked Sendable: `continuation` is set before the transfer starts, and the rest is touched by one thread at
// a time as `TransferConsumer` promises: the curl thread (head, body, finished), or, for a transfer that never
// reached libcurl, the thread that started or cancelled it (finished only); the loop's and the transfer's locks
// order these.
private final class BufferConsumer: TransferConsumer, @unchecked Sendable {
    var continuation: CheckedContinuation<Result<HTTPResponse, TransportFailure>, Never>?
    private var response = HTTPResponse(head: HTTPHead(), body: [])

    func head(_ head: HTTPHead) -> TransferVerdict {
        response.head = head
        return .more
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict {
        response.body.append(contentsOf: bytes)
        return .more
    }

    func finished(_ failure: TransportFailure?) {
        continuation?.resume(returning: failure.map { .failure($0) } ?? .success(response))
        continuation = nil
    }
}

/// `application/x-www-form-urlencoded` and URL query encoding.
enum FormEncoding {
    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// Decodes a query component (`+` is a space).
    static func unescape(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            let b = u[i]
            if b == UInt8(ascii: "%"), let h = u.index(i, offsetBy: 2, limitedBy: u.endIndex), h < u.endIndex,
                let v = UInt8(String(decoding: u[u.index(after: i)...h], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i = u.index(after: h)
                continue
            }
            bytes.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i = u.index(after: i)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `key=value` pairs of a query string.
    static func parseQuery(_ query: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for part in query.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = unescape(kv[0])
            if out[key] == nil { out[key] = kv.count > 1 ? unescape(kv[1]) : "" }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String {
        count >= n ? self : String(repeating: "0", count: n - count) + self
    }
}
