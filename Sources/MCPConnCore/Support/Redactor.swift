/// Replaces a connector's secret values wherever server-sent text might echo them (errors, tool results,
/// server identity), before that text is stored, recorded in history or printed.
public struct Redactor: Sendable {
    public static let mark = ProtocolLog.mark
    private let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.utf8.count > $1.utf8.count }
    }

    public static let none = Redactor(secrets: [])

    public var isEmpty: Bool { secrets.isEmpty }

    public func redact(_ text: String) -> String {
        var t = text.hasSuffix("…") ? redactCutSecret(text) : text
        for s in secrets where t.contains(s) { t = t.replacingOccurrences(of: s, with: Self.mark) }
        return t
    }

    /// Text shortened for a message (`…` at the end) may have been cut inside a secret, leaving its first
    /// characters: those go too.
    private func redactCutSecret(_ text: String) -> String {
        let body = text.dropLast()
        for s in secrets {
            for k in stride(from: min(s.count - 1, body.count), through: 1, by: -1) where body.hasSuffix(s.prefix(k)) {
                return body.dropLast(k) + Self.mark + "…"
            }
        }
        return text
    }

    /// The message is redacted as it stands: already one line and short, it is not shortened again.
    public func redact(_ error: MCPConnError) -> MCPConnError {
        var e = error
        if !isEmpty { e.message = redact(e.message) }
        return e
    }

    /// Every string in a JSON value, object keys included.
    public func redact(_ value: JSONValue) -> JSONValue {
        if isEmpty { return value }
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let a): return .array(a.map(redact))
        case .object(let o):
            return .object(JSONObject(o.pairs.map { (redact($0.key), redact($0.value)) }))
        default: return value
        }
    }

    public func redact(_ id: ServerIdentity) -> ServerIdentity {
        if isEmpty { return id }
        var r = id
        r.name = id.name.map(redact)
        r.version = id.version.map(redact)
        r.instructions = id.instructions.map(redact)
        r.capabilities = id.capabilities.map(redact)
        return r
    }
}

extension ProtocolLog {
    /// A trace that redacts these secret values wherever they appear.
    public convenience init(secrets: [String], redactedHeaders: [String], sink: @escaping @Sendable (String) -> Void) {
        let redactor = Redactor(secrets: secrets)
        self.init(redact: { redactor.redact($0) }, redactedHeaders: redactedHeaders, sink: sink)
    }
}
