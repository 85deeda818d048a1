import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The redirect target of a login (RFC 8252 §7.3): an HTTP listener on 127.0.0.1 that waits for one request
/// to its callback path on a dedicated thread, so no Swift task blocks on `accept`.
final class LoopbackListener: Sendable {
    let port: Int
    let path = "/callback"
    private let fd: Int32

    /// The redirect URI to register and send.
    var redirectURI: String { "http://127.0.0.1:\(port)\(path)" }

    /// Listens on `preferredPort` if given and free, else on a port the system picks; with `required`, on
    /// `preferredPort` or not at all (a pre-registered client's redirect URI names its port).
    init(preferredPort: Int? = nil, required: Bool = false) throws(MCPConnError) {
        var failure = "no socket"
        for candidate in (required ? [preferredPort] : [preferredPort, 0]).compactMap({ $0 }) {
            guard let s = Self.socket() else { break }
            // The last login's connections may linger in TIME_WAIT on the port its registration names.
            var one: Int32 = 1
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(candidate).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if bound == 0, listen(s, 8) == 0 {
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                _ = withUnsafeMutablePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
                }
                fd = s
                port = Int(UInt16(bigEndian: addr.sin_port))
                return
            }
            failure = "port \(candidate): " + String(cString: strerror(errno))
            close(s)
        }
        throw .init(.unavailable, "cannot listen on 127.0.0.1 for the login redirect (\(failure))")
    }

    deinit { close(fd) }

    /// Waits for the redirect and returns its query parameters; nil when `timeout` seconds pass first.
    func waitForRedirect(timeout: Double) async -> [String: String]? {
        await withCheckedContinuation { (c: CheckedContinuation<[String: String]?, Never>) in
            let thread = Thread { [self] in
                c.resume(returning: self.acceptLoop(until: Date().addingTimeInterval(timeout)))
            }
            thread.name = "mcpconn-login"
            thread.start()
        }
    }

    /// Serves requests until one reaches the callback path (other paths, such as a browser's favicon
    /// request, get 404).
    private func acceptLoop(until deadline: Date) -> [String: String]? {
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(min(left, 1) * 1000) + 1)
            if n <= 0 { continue }
            let client = accept(fd, nil, nil)
            if client < 0 { continue }
            defer { close(client) }
            Self.noSigPipe(client)
            guard let target = readRequestTarget(client) else { continue }
            let (p0, query) = split(target)
            guard p0 == path else {
                respond(client, status: "404 Not Found", body: "Not found.")
                continue
            }
            let params = FormEncoding.parseQuery(query)
            let ok = params["code"] != nil && params["error"] == nil
            respond(
                client, status: "200 OK",
                body: ok
                    ? "mcpconn: login complete. You can close this window."
                    : "mcpconn: login failed (\(params["error"] ?? "no code")). You can close this window.")
            return params
        }
    }

    /// Reads the request head (at most 16 KiB, 5 s) and returns its target (`/callback?code=…`).
    private func readRequestTarget(_ client: Int32) -> String? {
        var buffer: [UInt8] = []
        let deadline = Date().addingTimeInterval(5)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buffer.count < 16384 {
            var p = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let left = deadline.timeIntervalSinceNow
            guard left > 0, poll(&p, 1, Int32(left * 1000) + 1) > 0 else { return nil }
            let n = read(client, &chunk, chunk.count)
            if n <= 0 { break }
            buffer.append(contentsOf: chunk[..<n])
            if let line = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let parts = String(decoding: buffer[..<line], as: UTF8.self).split(separator: " ")
                guard parts.count >= 2, parts[0] == "GET" else { return nil }
                return String(parts[1])
            }
        }
        return nil
    }

    private func split(_ target: String) -> (String, Substring) {
        guard let q = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<q]), target[target.index(after: q)...])
    }

    private func respond(_ client: Int32, status: String, body: String) {
        // The body may echo the redirect's `error`: escape it, the page is rendered by a browser.
        let escaped = body.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        let html = "<!doctype html><meta charset=utf-8><title>mcpconn</title><p>\(escaped)</p>\n"
        let text =
            "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(html.utf8.count)\r\nConnection: close\r\n\r\n"
            + html
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Self.noSignal) }
    }

    /// A TCP socket closed on exec: atomically where the system can (Linux), else right after creation.
    private static func socket() -> Int32? {
        #if os(Linux)
            let s = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let s = Darwin.socket(AF_INET, SOCK_STREAM, 0)
            if s >= 0 { _ = fcntl(s, F_SETFD, FD_CLOEXEC) }
        #endif
        return s >= 0 ? s : nil
    }

    /// A browser that closed the connection must make `send` fail, not end mcpconn with SIGPIPE: Linux takes a
    /// flag per send; Darwin has none and takes a socket option on the accepted socket instead (`noSigPipe`).
    #if os(Linux)
        private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
        private static let noSignal: Int32 = 0
    #endif

    /// SO_NOSIGPIPE on an accepted socket where the system has it (Darwin); elsewhere nothing.
    static func noSigPipe(_ fd: Int32) {
        #if !os(Linux)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }
}
