import CSodium
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client of the gateway (`client add`, issue 26): a name, the store user whose connectors it reaches, what it
/// may call of them, its rate, and the SHA-256 of its token (never the token).
public struct GatewayClient: Sendable, Equatable {
    public var name: String
    public var user: Int64
    public var access: ClientAccess
    /// Requests per minute; nil: no limit.
    public var ratePerMinute: Int?
    /// May read the gateway's metrics (issue 26's `/metrics`, not served yet).
    public var metrics: Bool
    /// Hex SHA-256 of the token.
    var tokenHash: String
    public var createdAt: Date

    public var json: JSONValue {
        var o: JSONObject = [
            "name": .string(name), "user": .int(user), "allow": .array(access.allow.map { .string($0.text) }),
            "deny": .array(access.deny.map { .string($0.text) }), "metrics": .bool(metrics),
            "created_at": .string(Timestamp.iso8601(createdAt)),
        ]
        o["rate_per_minute"] = ratePerMinute.map { .int(Int64($0)) } ?? .null
        return .object(o)
    }
}

/// A gateway client's token: `mcpc_` (so a leaked one is recognisable, by people and by secret scanners) and 32
/// random bytes, base64url.
public enum ClientToken {
    public static let prefix = "mcpc_"

    public static func generate() -> String { prefix + PKCE.randomToken(bytes: 32) }

    /// What the store keeps of a token. A plain SHA-256, not a password hash (bcrypt, Argon2): the token is 256
    /// random bits, so there is no dictionary to try and a slow hash would add nothing but a cost on every
    /// request; a stolen hash cannot be turned back into the token (a preimage of SHA-256).
    static func hash(_ token: some Sequence<UInt8>) -> [UInt8] { PinnedForm.sha256Bytes(ArraySlice(token)) }

    static func hashHex(_ token: String) -> String { hexEncode(hash(token.utf8)) }
}

/// What a client may call: `--allow CONNECTOR[:TOOL-GLOB]` and `--deny CONNECTOR[:TOOL-GLOB]` rules. CONNECTOR
/// and TOOL-GLOB are fnmatch(3) globs (a plain name matches itself); a rule without a tool glob covers the
/// whole connector. With no allow rule, every connector of the client's user is allowed. A connector is reached
/// when an allow rule names it (or there is none) and no deny rule names it whole; a tool of it passes when an
/// allow rule for its connector covers it (or there is none) and no deny rule does.
public struct ClientAccess: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var connector: String
        public var tool: String?

        public var text: String { tool.map { "\(connector):\($0)" } ?? connector }

        /// `CONNECTOR[:TOOL-GLOB]`, split at the first colon not escaped: the connector part is a glob too, where
        /// `\:` matches a colon, so a connector whose name has one is written `a\:b` (`a\:b:deploy`).
        init?(_ text: String) {
            var escaped = false
            var colon: String.Index?
            for i in text.indices {
                if escaped {
                    escaped = false
                } else if text[i] == "\\" {
                    escaped = true
                } else if text[i] == ":" {
                    colon = i
                    break
                }
            }
            let first = colon.map { text[..<$0] } ?? text[...]
            guard !first.isEmpty else { return nil }
            connector = String(first)
            tool = colon.map { String(text[text.index(after: $0)...]) }
            if tool?.isEmpty == true { return nil }
        }

        func covers(connector name: String) -> Bool { fnmatch(connector, name, 0) == 0 }
        func covers(tool name: String) -> Bool { tool.map { fnmatch($0, name, 0) == 0 } ?? true }
    }

    public var allow: [Rule] = []
    public var deny: [Rule] = []

    public init(allow: [Rule] = [], deny: [Rule] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// The rules given on the command line, checked (64 for a malformed one).
    public init(allow: [String], deny: [String]) throws(MCPConnError) {
        func rules(_ given: [String], _ flag: String) throws(MCPConnError) -> [Rule] {
            var out: [Rule] = []
            for text in try ToolFilter.globs(given, flag) {
                guard let rule = Rule(text) else {
                    throw .usage("\(flag) '\(TerminalText.escape(text))': want CONNECTOR or CONNECTOR:TOOL-GLOB")
                }
                out.append(rule)
            }
            return out
        }
        self.init(allow: try rules(allow, "--allow"), deny: try rules(deny, "--deny"))
    }

    /// Whether the client sees connector `name` at all (its tools, prompts and resources).
    public func reaches(connector name: String) -> Bool {
        (allow.isEmpty || allow.contains { $0.covers(connector: name) })
            && !deny.contains { $0.tool == nil && $0.covers(connector: name) }
    }

    /// Why the client may not call tool `tool` of connector `connector`, for a JSON-RPC error; nil when it may.
    /// The tool's name is the server's text: escaped.
    public func refusal(tool: String, connector: String) -> String? {
        let what = "tool '\(TerminalText.escape(tool))' of connector '\(connector)'"
        guard !tool.utf8.contains(0) else { return "\(what) is not allowed for this client (its name holds a NUL)" }
        if !allow.isEmpty, !allow.contains(where: { $0.covers(connector: connector) && $0.covers(tool: tool) }) {
            return "\(what) is not in this client's allow-list (client add --allow)"
        }
        if let rule = deny.first(where: { $0.covers(connector: connector) && $0.covers(tool: tool) }) {
            return "\(what) is denied to this client (client add --deny '\(rule.text)')"
        }
        return nil
    }

    /// The column's text: rules as given, keys in a fixed order so that the seal sees one form.
    var columnText: String {
        let o: JSONObject = [
            "allow": .array(allow.map { .string($0.text) }), "deny": .array(deny.map { .string($0.text) }),
        ]
        return JSONValue.object(o).compactText()
    }

    /// The rules a column holds; nil when it is not what mcpconn writes.
    init?(columnText: String) {
        guard let o = (try? JSONValue.parse(columnText))?.objectValue,
            let allow = o["allow"]?.arrayValue?.compactMap({ $0.stringValue.flatMap(Rule.init) }),
            let deny = o["deny"]?.arrayValue?.compactMap({ $0.stringValue.flatMap(Rule.init) })
        else { return nil }
        self.init(allow: allow, deny: deny)
    }
}
