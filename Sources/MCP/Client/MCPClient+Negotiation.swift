import Foundation

/// Connecting: which era and transport a server speaks, remembered or negotiated (`server/discover`, then the
/// `initialize` handshake, then legacy HTTP+SSE), over HTTP or over a local server's one stream.
extension MCPClient {
    /// Connects, over HTTP or over a local server's stream (opened first), by one negotiation: with a remembered
    /// modern era nothing is sent until the first request (one POST, or one line, per call); a remembered
    /// handshake era goes straight to `initialize`; otherwise the client probes `server/discover` at the newest
    /// version and falls back to the handshake when refused (over HTTP, `/sse` URLs go straight to the legacy
    /// transport, and a refused handshake POST falls back to it).
    public func connect(hint: ServerIdentity? = nil) async throws(MCPClientError) -> ServerIdentity {
        self.hint = hint
        if let makeStream {
            let t = makeStream(newSettings())
            stream = t
            transport = t
            try await t.open(deadline: options.deadline)
        }
        if let hint, hint.era == .modern, MCPVocabulary.modernVersions.contains(hint.protocolVersion) {
            adoptModern(version: hint.protocolVersion, identity: hint)
            return hint
        }
        if let hint, hint.era == .handshake {
            do {
                return try await handshake(legacyFirst: hint.transport == "sse")
            } catch let e where Self.isEraRefusal(e) {
                options.log?.note("the remembered handshake era was refused: negotiating again")
                renegotiated = true
            }
        }
        return try await negotiate()
    }

    /// The handshake era on the channel the server needs: a stream's own (a server that refused the probe keeps
    /// running and takes the handshake), else streamable HTTP or legacy HTTP+SSE.
    func handshake(legacyFirst: Bool) async throws(MCPClientError) -> ServerIdentity {
        if let stream { return try await initialize(over: stream, transportName: stream.name) }
        return try await connectHandshake(legacyFirst: legacyFirst)
    }

    /// True when the URL's path ends in /sse: the legacy HTTP+SSE transport's usual endpoint.
    var urlNamesSSE: Bool {
        let path = URLComponents(string: url)?.path ?? ""
        return path.hasSuffix("/sse") || path.hasSuffix("/sse/")
    }

    /// Probes the modern era, else runs the handshake.
    func negotiate() async throws(MCPClientError) -> ServerIdentity {
        if stream == nil, urlNamesSSE {
            return try await connectLegacy()
        }
        if let modern = try await probeModern(over: stream, transportName: stream?.name ?? "streamable-http") {
            return modern
        }
        return try await handshake(legacyFirst: false)
    }

    /// True for answers that say "not this era" (as opposed to outages or refused credentials).
    static func isEraRefusal(_ e: MCPClientError) -> Bool {
        switch e {
        case .rpc: return true
        case .http(let status, _): return (400..<500).contains(status) && status != 401 && status != 403
        case .notMCP, .sessionExpired: return true
        case .transport, .badRedirect: return false
        }
    }

    /// Sends `server/discover` at the newest modern version; nil when the server belongs to the handshake era.
    /// Over HTTP it gets a transport of its own; a stream is kept whatever the answer.
    func probeModern(over stream: StreamChannel? = nil, transportName: String = "streamable-http")
        async throws(MCPClientError) -> ServerIdentity?
    {
        let version = MCPVocabulary.modernVersions[0]
        let t: any MessageChannel = stream ?? modernTransport(version: version)
        transport = t
        modernVersion = version
        let result: Discover.Result
        do {
            result = Discover.Result(try await send(Discover.name, nil, over: t))
        } catch {
            modernVersion = nil
            transport = stream
            if case .rpc(let e) = error, e.code == JSONRPCError.unsupportedProtocolVersion {
                let supported = (e.data?["supported"]?.arrayValue ?? []).compactMap(\.stringValue)
                if !supported.isEmpty, !supported.contains(where: MCPVocabulary.handshakeVersions.contains) {
                    throw .notMCP(
                        "the server supports only protocol versions \(supported.joined(separator: ", ")), which mcpconn does not"
                    )
                }
            }
            guard Self.isEraRefusal(error) else { throw error }
            options.log?.note("server/discover refused: using the initialize handshake")
            return nil
        }
        guard result.supportedVersions.contains(version) else {
            modernVersion = nil
            transport = stream
            return nil
        }
        let info = result.serverInfo
        let id = ServerIdentity(
            name: info?["name"]?.stringValue, version: info?["version"]?.stringValue, protocolVersion: version,
            instructions: result.string("instructions"), capabilities: result.json["capabilities"],
            transport: transportName, era: .modern)
        identity = id
        return id
    }

    func modernTransport(version: String) -> StreamableHTTPTransport {
        let t = StreamableHTTPTransport(url: url, settings: newSettings()) { message in
            MCPVocabulary.modernHeaders(for: message)
        }
        t.setProtocolVersion(version)
        return t
    }

    func adoptModern(version: String, identity: ServerIdentity) {
        transport = stream ?? modernTransport(version: version)
        modernVersion = version
        self.identity = identity
    }

    /// The handshake era: streamable HTTP, or legacy HTTP+SSE when the URL says so or the POST is refused.
    func connectHandshake(legacyFirst: Bool) async throws(MCPClientError) -> ServerIdentity {
        if legacyFirst || urlNamesSSE {
            return try await connectLegacy()
        }
        let t = StreamableHTTPTransport(url: url, settings: newSettings())
        transport = t
        do {
            return try await initialize(over: t, transportName: "streamable-http")
        } catch .http(let status, let detail) where [400, 404, 405].contains(status) {
            options.log?.note("POST initialize answered HTTP \(status): trying the legacy HTTP+SSE transport")
            do {
                return try await connectLegacy()
            } catch .notMCP {
                throw .http(status: status, detail: detail)
            }
        }
    }

    func connectLegacy() async throws(MCPClientError) -> ServerIdentity {
        let t = LegacySSETransport(url: url, settings: newSettings())
        transport = t
        try await t.connect(deadline: options.deadline)
        return try await initialize(over: t, transportName: "sse")
    }

    func initialize(over t: any MessageChannel, transportName: String) async throws(MCPClientError)
        -> ServerIdentity
    {
        var offer = MCPVocabulary.handshakeVersions[0]
        for attempt in 0..<2 {
            let params = Initialize.Params(
                protocolVersion: offer, capabilities: session.capabilities, clientInfo: Self.clientInfo)
            let result: Initialize.Result
            do {
                result = Initialize.Result(try await send(Initialize.name, params.value, over: t))
            } catch .rpc(let e) where attempt == 0 {
                // A server may name the versions it supports; retry once with the newest we share.
                let supported = (e.data?["supported"]?.arrayValue ?? []).compactMap(\.stringValue)
                guard let shared = MCPVocabulary.handshakeVersions.first(where: supported.contains), shared != offer
                else {
                    throw .rpc(e)
                }
                offer = shared
                continue
            }
            guard let version = result.protocolVersion else {
                throw .notMCP("the initialize result has no protocolVersion")
            }
            guard MCPVocabulary.handshakeVersions.contains(version) else {
                throw .notMCP("the server wants protocol version \(version), which mcpconn does not support")
            }
            t.setProtocolVersion(version)
            // The initialized notification has no answer to wait for: it goes out in the background, and the
            // next request (if any) waits for it, so the server still sees them in order. A health check,
            // which needs no next request, saves that round trip. Alongside it goes the GET stream on which
            // a streamable HTTP server sends requests of its own, open before the next request starts.
            let deadline = options.deadline
            let listenUntil = options.streamDeadline ?? deadline
            pendingNotification = Task {
                async let listened: Void = t.listen(deadline: listenUntil)
                try? await t.send(
                    JSONRPC.notification(method: "notifications/initialized"), requestID: nil, deadline: deadline)
                await listened
            }
            let info = result.serverInfo
            let id = ServerIdentity(
                name: info?["name"]?.stringValue, version: info?["version"]?.stringValue, protocolVersion: version,
                instructions: result.instructions, capabilities: result.json["capabilities"],
                transport: transportName, era: .handshake)
            identity = id
            return id
        }
        throw .notMCP("initialize failed")
    }
}
