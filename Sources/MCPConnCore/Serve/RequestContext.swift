/// What the endpoint that received a request knows about it, decided there once and handed to the gateway with
/// it: the era it speaks, and (issue 26) who is calling.
package struct RequestContext: Sendable {
    /// The era to answer in: from the headers the HTTP endpoint checked, from the envelope on stdio.
    package var era: ProtocolEra
    /// Who is calling, from the HTTP endpoint's token check; nil until issue 26 names callers.
    package var caller: CallerIdentity?
    /// The handshake-era client to relay a connector's questions to (its session's); nil when there is none to ask.
    package var client: DownstreamClient?

    package init(era: ProtocolEra, caller: CallerIdentity? = nil, client: DownstreamClient? = nil) {
        self.era = era
        self.caller = caller
        self.client = client
    }

    /// A request that carries no headers (stdio): 2026-07-28 when its envelope (`_meta`) names a version of that
    /// era, else the handshake era.
    package static func fromEnvelope(_ params: JSONValue?, client: DownstreamClient? = nil) -> RequestContext {
        let version = params?["_meta"]?[MCPVocabulary.Meta.protocolVersion]?.stringValue
        let modern = version.map(MCPVocabulary.modernVersions.contains) == true
        return RequestContext(era: modern ? .modern : .handshake, client: modern ? nil : client)
    }
}

/// The caller behind a request, once `serve --http` tells callers apart (issue 26): a client id and the scopes
/// its token grants; for a client of `serve --http --clients`, the user whose connectors it reaches and its rules.
package struct CallerIdentity: Sendable, Equatable {
    package var clientID: String
    package var scopes: [String]
    /// The store user whose connectors the caller reaches; nil: every connector served.
    package var user: Int64?
    package var access: ClientAccess

    package init(clientID: String, scopes: [String], user: Int64? = nil, access: ClientAccess = ClientAccess()) {
        self.clientID = clientID
        self.scopes = scopes
        self.user = user
        self.access = access
    }

    /// A client of `serve --http --clients`.
    package init(_ client: GatewayClient) {
        self.init(clientID: client.name, scopes: [], user: client.user, access: client.access)
    }

    /// Whether the caller may use `connector` at all: its user's, and within its rules.
    func reaches(_ connector: Connector) -> Bool {
        (user.map { $0 == connector.userID } ?? true) && access.reaches(connector: connector.name)
    }

    /// Why the caller may not call `tool` of `connector`; nil when it may.
    func refusal(tool: String, of connector: Connector) -> String? {
        guard reaches(connector) else { return "connector '\(connector.name)' is not served to this client" }
        return access.refusal(tool: tool, connector: connector.name)
    }
}
