import Foundation

/// The `--verbose` protocol trace on stderr, with every secret value redacted.
public final class ProtocolLog: Sendable {
    /// What replaces a redacted header's value.
    public static let mark = "[redacted]"
    private let redact: @Sendable (String) -> String
    private let redactedHeaders: Set<String>
    private let sink: @Sendable (String) -> Void
    /// Bodies longer than this are shortened in the trace.
    let bodyLimit = 4096

    /// `redact` replaces every secret value in a line of the trace (mcpconn's Redactor).
    public init(
        redact: @escaping @Sendable (String) -> String, redactedHeaders: [String],
        sink: @escaping @Sendable (String) -> Void
    ) {
        self.redact = redact
        self.redactedHeaders = Set(redactedHeaders.map { $0.lowercased() } + ["authorization", "cookie"])
        self.sink = sink
    }

    func request(_ r: HTTPRequest) {
        var lines = ["> \(r.method) \(r.url)"]
        for h in r.headers {
            lines.append("> \(h.name): \(redactedHeaders.contains(h.name.lowercased()) ? Self.mark : h.value)")
        }
        if let b = r.body, !b.isEmpty { lines.append("> " + shorten(String(decoding: b, as: UTF8.self))) }
        emit(lines)
    }

    func response(_ h: HTTPHead) {
        var lines = ["< HTTP \(h.status)"]
        for x in h.headers
        where ["content-type", "mcp-session-id", "location", "www-authenticate"].contains(x.name.lowercased()) {
            lines.append("< \(x.name): \(x.value)")
        }
        emit(lines)
    }

    func body(_ text: String, event: String? = nil) {
        emit([(event.map { "< event \($0): " } ?? "< ") + shorten(text)])
    }

    func note(_ text: String) { emit(["* " + text]) }

    /// A message mcpconn sends without HTTP (a line to a local server's stdin).
    func sent(_ text: String) { emit(["> " + shorten(text)]) }

    private func shorten(_ s: String) -> String {
        let one = s.replacingOccurrences(of: "\n", with: "\\n")
        return one.utf8.count > bodyLimit ? String(one.prefix(bodyLimit)) + "…(\(one.utf8.count) bytes)" : one
    }

    private func emit(_ lines: [String]) {
        sink(lines.map(redact).joined(separator: "\n"))
    }
}
