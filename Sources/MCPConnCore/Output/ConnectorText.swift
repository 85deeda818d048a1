extension Connector {
    /// The key/value block of `mcpconn get`, each value one escaped line; `tokenPresent` (from the decrypted credentials, when readable)
    /// tells a logged-out connector from one holding a static token.
    public func details(tokenPresent: Bool?) -> String {
        var lines: [(String, String)] = [
            ("id", String(id ?? 0)),
            ("name", name),
            ("description", description ?? "-"),
            isStdio ? ("command", serverURL) : ("url", serverURL),
            ("type", connectorType),
            ("auth", authType.rawValue),
            ("credentials", hasCredentials ? "set" : "none"),
            ("active", isActive ? "yes" : "no"),
            ("verified", isVerified ? "yes" : "no"),
            ("tools", String(toolCount)),
            ("last verified", lastVerifiedAt.map(Timestamp.iso8601) ?? "never"),
        ]
        if isStdio {
            if let workingDirectory { lines.append(("cwd", workingDirectory)) }
            let names = environmentNames
            if !names.isEmpty { lines.append(("env", names.joined(separator: " "))) }
        }
        let tls = self.tls
        if let ca = tls.caFile { lines.append(("ca file", ca)) }
        if let cert = tls.clientCert { lines.append(("client cert", cert + " (key sealed)")) }
        if !tls.pins.isEmpty { lines.append(("pinned keys", tls.pins.map { "sha256//" + $0 }.joined(separator: " "))) }
        if authType == .oauth {
            lines.append(("token", tokenPresent == false ? noToken : tokenState))
        }
        if let lastError { lines.append(("last error", lastError)) }
        if let protocolVersion {
            lines.append(("protocol", "\(protocolVersion) (\(protocolEra ?? "?"), \(transport ?? "?"))"))
        }
        let server = [serverName, serverVersion].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        if !server.isEmpty { lines.append(("server", server)) }
        lines.append(("created", Timestamp.iso8601(createdAt)))
        lines.append(("updated", Timestamp.iso8601(updatedAt)))
        let w = lines.map(\.0.count).max() ?? 0
        return lines.map {
            $0.0 + ":" + String(repeating: " ", count: w - $0.0.count + 1) + TerminalText.escape($0.1, .line)
        }
        .joined(separator: "\n") + "\n"
    }

    /// The OAuth token state, never the token: `expires 2026-11-25T10:00:00Z (in 59 min), refreshable`.
    public var tokenState: String {
        guard hasCredentials else { return noToken }
        var parts: [String] = []
        if let e = tokenExpiresAt {
            let left = Int(e.timeIntervalSinceNow)
            let when =
                left <= 0
                ? "expired" : left < 120 ? "in \(left) s" : left < 7200 ? "in \(left / 60) min" : "in \(left / 3600) h"
            parts.append("expires \(Timestamp.iso8601(e)) (\(when))")
        } else {
            parts.append("no expiry known")
        }
        parts.append(tokenRefreshable ? "refreshable" : "not refreshable")
        return parts.joined(separator: ", ")
    }

    private var noToken: String { "none (run `mcpconn login \(name)`)" }
}
