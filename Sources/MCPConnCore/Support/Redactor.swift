/// Replaces a connector's secret values wherever server-sent text might echo them (errors, tool results,
/// server identity), before that text is stored, recorded in history or printed.
public struct Redactor: Sendable {
    public static let mark = "[redacted]"
    private let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.utf8.count > $1.utf8.count }
    }

    public static let none = Redactor(secrets: [])

    public var isEmpty: Bool { secrets.isEmpty }

    public func redact(_ text: String) -> String {
        var t = text
        for s in secrets where t.contains(s) { t = t.replacingOccurrences(of: s, with: Self.mark) }
        return t
    }

    public func redact(_ error: MCPConnError) -> MCPConnError {
        isEmpty ? error : MCPConnError(error.status, redact(error.message))
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
