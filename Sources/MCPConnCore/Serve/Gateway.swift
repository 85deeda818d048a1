import Foundation

/// mcpconn as an MCP server in front of connectors (`serve`): a client sees one server whose tools and prompts
/// are its connectors' (named as they are for one connector, `<connector>__<name>` for several), whose resources
/// are theirs under their own URIs, and never a credential. Speaks both eras to clients: `initialize`, or
/// 2026-07-28's `server/discover` and per-request envelopes (stdio carries no headers, so nothing else differs).
public final class Gateway: Sendable {
    private let upstreams: [Upstream]
    private let manager: ConnectorManager
    private let routes: [String: RouteTable]
    /// Every connector's resource templates, replaced whole at each listing (see `resourceRoute`).
    private let templates = Locked<[TemplateRoute]>([])
    private let log: (@Sendable (String) -> Void)?
    /// How long serve waits for a client's answer to what a connector asked: the connector's request's timeout.
    private let timeout: Duration
    /// Forwarded requests whose 2026-07-28 clients were asked questions, waiting for their retries.
    private let exchanges = InputExchanges()
    /// The resource subscriptions held for clients, and the settings their sessions use.
    private let watches = ResourceWatches()
    private let settings: NetworkSettings
    /// Tool allow-lists and pinned mode: the tools withheld from clients.
    private let pinned: PinnedTools
    /// 2026-07-28 `subscriptions/listen` streams that asked for `toolsListChanged`, by listener.
    private let toolListeners = Locked<[String: @Sendable () -> Void]>([:])
    /// What gets a record of each `tools/call` (the audit trail, the metrics); none: no record is made.
    private let recorders: [CallRecorder]
    private let recordedCalls = RecordedCalls()
    /// The values sealed in the store, refused in requests and cut out of results (issue 26, secrets kept in).
    private let secrets: KeptSecrets
    private let warn: @Sendable (String) -> Void

    /// Tool names clients may use: letters, digits, `_`, `-`, `.`; at most 128 characters (the MCP spec's rule).
    static let maxToolName = 128

    /// `warn` gets what an operator must see whatever the verbosity (a withheld tool): one line each.
    package init(
        manager: ConnectorManager, connectors: [Connector], settings: NetworkSettings,
        log: (@Sendable (String) -> Void)? = nil, warn: @escaping @Sendable (String) -> Void = { _ in },
        recorders: [CallRecorder] = []
    ) {
        var relaying = settings
        relaying.answers.relaying = Relay.standing
        upstreams = connectors.map { Upstream($0, sessions: manager.sessions, settings: relaying) }
        timeout = .milliseconds(Int(settings.timeout * 1000))
        self.settings = settings
        self.manager = manager
        routes = Dictionary(uniqueKeysWithValues: Catalog.all.map { ($0.key, RouteTable()) })
        self.log = log
        pinned = PinnedTools(connectors: connectors, storage: manager.storage, warn: warn)
        self.recorders = recorders
        self.warn = warn
        let storage = manager.storage
        secrets = KeptSecrets(load: { () throws(MCPConnError) in try storage.storedSecrets() }, warn: warn)
    }

    private var several: Bool { upstreams.count > 1 }

    /// Sends the client a notification about its request (a line on stdout, an event on the request's stream).
    public typealias Notify = @Sendable (JSONValue) -> Void

    /// Answers one request from the client, in the era its endpoint decided (`context`): a 2026-07-28 request
    /// gets its result in that era's shape. While a forwarded request runs, what its connector says about it goes
    /// to `notify`, all before this returns: progress when the request asked for it (`_meta.progressToken`, which
    /// the relayed progress carries), and log messages (see `NotificationRelay`).
    package func handle(_ request: JSONRPCRequest, context: RequestContext, notify: Notify? = nil) async -> JSONValue {
        switch await answer(request, context, notify) {
        case .success(let result): return JSONRPC.result(id: request.id, result)
        case .failure(let error): return JSONRPC.error(id: request.id, error)
        }
    }

    /// A request's result (already in its era's shape) or its error, before the id is put on.
    private typealias Answer = Result<JSONValue, JSONRPCError>

    private func answer(_ request: JSONRPCRequest, _ context: RequestContext, _ notify: Notify?) async -> Answer {
        let params = request.params
        if context.era == .modern, let missing = Self.missingEnvelopeField(params) { return .failure(missing) }
        switch request.method {
        case ListTools.name: return reply(ListTools.self, Page(items: await list(.tools, for: context.caller)), context)
        case ListPrompts.name:
            return reply(ListPrompts.self, Page(items: await list(.prompts, for: context.caller)), context)
        case ListResources.name:
            return reply(ListResources.self, Page(items: await list(.resources, for: context.caller)), context)
        case ListResourceTemplates.name:
            return reply(ListResourceTemplates.self, Page(items: await list(.templates, for: context.caller)), context)
        case Initialize.name: return reply(Initialize.self, initializeResult(Initialize.Params(params)), context)
        case Discover.name: return discover(Discover.Params(params), context)
        case Ping.name: return reply(Ping.self, EmptyObject(), context)
        // Accepted, not kept: a connector's log messages reach a handshake-era client from info up.
        case SetLogLevel.name: return reply(SetLogLevel.self, EmptyObject(), context)
        case CallTool.name: return await recordedCall(params, context, notify)
        case GetPrompt.name:
            let route = await promptRoute(Self.name(at: ["name"], in: params))
            return await forward(GetPrompt.self, params, to: route, at: ["name"], context, notify)
        case ReadResource.name:
            let route = await resourceRoute(Self.name(at: ["uri"], in: params))
            return await forward(ReadResource.self, params, to: route, at: ["uri"], context, notify)
        case SubscribeResource.name: return await subscribe(ResourceURI(params).uri, context)
        case UnsubscribeResource.name:
            if let client = context.client, let uri = ResourceURI(params).uri {
                watches.unsubscribe(client: client.id, uri: uri)
            }
            return reply(UnsubscribeResource.self, EmptyObject(), context)
        case ListenSubscriptions.name: return await listen(request, context, notify)
        case Complete.name:
            switch Complete.Params(params).refType {
            case "ref/prompt":
                let path = ["ref", "name"]
                let route = await promptRoute(Self.name(at: path, in: params))
                return await forward(Complete.self, params, to: route, at: path, context, notify)
            case "ref/resource":
                let route = await resourceRoute(Self.name(at: ["ref", "uri"], in: params), completing: true)
                return await forward(Complete.self, params, to: route, at: ["ref", "uri"], context, notify)
            default:
                return .failure(
                    JSONRPCError(
                        code: JSONRPCError.invalidParams, message: "completion/complete needs a prompt or resource ref")
                )
            }
        default:
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.methodNotFound,
                    message: "method '\(request.method)' is not offered by mcpconn serve"))
        }
    }

    /// A method's typed result, in the shape of the request's era.
    private func reply<M: MCPMethod>(_: M.Type, _ result: M.Result, _ context: RequestContext) -> Answer {
        switch context.era {
        case .modern:
            return .success(Self.modern(result, cachingTerms: M.carriesCachingTerms, serverInfo: serverInfo).value)
        case .handshake: return .success(Self.handshake(result).value)
        }
    }

    /// A result as 2026-07-28 requires: `resultType` on every one, on lists their caching terms (none kept: what
    /// a connector offers can change with any refresh), and the identity of the server the client talks to,
    /// mcpconn (not the connector's, which an upstream of that era put there).
    static func modern<R: MCPObject>(_ result: R, cachingTerms: Bool, serverInfo: JSONValue) -> R {
        var r = result
        if r.json["resultType"] == nil { r.set("resultType", "complete") }
        if cachingTerms {
            r.set("cacheScope", "private")
            r.set("ttlMs", .int(0))
        }
        var meta = r.meta ?? JSONObject()
        meta[MCPVocabulary.Meta.serverInfo] = serverInfo
        r.meta = meta
        return r
    }

    /// A result for a handshake-era client: without what a 2026-07-28 connector added for its own era.
    static func handshake<R: MCPObject>(_ result: R) -> R {
        var r = result
        for key in ["resultType", "cacheScope", "ttlMs"] { r.set(key, nil) }
        if var meta = r.meta {
            meta[MCPVocabulary.Meta.serverInfo] = nil
            r.meta = meta.isEmpty ? nil : meta
        }
        return r
    }

    /// Calls `changed` each time what clients are offered may have changed: a connector's stored tool list changed
    /// (a `refresh` or `verify` in another process found new tools), or in pinned mode an approval, a connector's
    /// mode or the store's (``PinnedTools``); until cancelled. Checks the store's change token every `interval`
    /// (see ``Store/changeToken(userID:)``) and reads the rest only when it moved.
    public func watchStoredTools(every interval: Duration = .seconds(1), _ changed: @Sendable () -> Void) async {
        let ids = upstreams.compactMap(\.connector.id)
        let storage = manager.storage
        var (version, known) = await Blocking.run { [pinned] in
            _ = pinned.reload()
            return (try? storage.storeVersion(), (try? storage.storedTools(ids)) ?? [:])
        }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            // The store is read off the pool (and off serve --http's event loops): a slow database stalls this
            // check, not the requests.
            let seen = version
            let check = await Blocking.run { [pinned, secrets] () -> (String, Bool, [Int64: String]?)? in
                guard let now = try? storage.storeVersion(), now != seen else { return nil }
                secrets.reload()
                return (now, pinned.reload(), try? storage.storedTools(ids))
            }
            guard let (now, approvals, tools) = check else { continue }
            version = now
            let stored = tools != nil && tools != known
            if let tools { known = tools }
            guard approvals || stored else { continue }
            log?(
                "serve: \(approvals ? "approvals, pinned mode or a tool allow-list" : "a connector's stored tools") changed: telling the client (notifications/tools/list_changed)"
            )
            changed()
            for listener in toolListeners.withLock({ Array($0.values) }) { listener() }
        }
    }

    /// Returns once every `tools/call` under way was answered and recorded, or after `bound`: serve's end waits
    /// for it before the audit trail writes its last rows.
    package func recordedCallsEnded(within bound: Duration = .seconds(5)) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.recordedCalls.none() }
            group.addTask { try? await Task.sleep(for: bound) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Ends every upstream session (local servers' processes with them).
    public func close() async {
        exchanges.abandonAll()
        watches.cancelAll()
        await withTaskGroup(of: Void.self) { group in
            for u in upstreams { group.addTask { await u.close() } }
        }
    }

    /// The 2026-07-28 era: `server/discover` at a version mcpconn speaks names its versions and capabilities;
    /// the client's requests then carry their envelope in `_meta`, which `serve` needs nothing from. Asked at
    /// a version it does not speak, the answer is the spec's -32022 with the versions it does. Its result is
    /// 2026-07-28's whatever the era of the request that asked.
    private func discover(_ params: Discover.Params, _ context: RequestContext) -> Answer {
        guard let asked = params.protocolVersion, MCPVocabulary.modernVersions.contains(asked) else {
            return .failure(Self.unsupportedVersion(params.protocolVersion))
        }
        let result = Discover.Result(supportedVersions: MCPVocabulary.modernVersions, capabilities: capabilities)
        return reply(Discover.self, result, RequestContext(era: .modern, caller: context.caller))
    }

    /// 2026-07-28's UnsupportedProtocolVersionError (-32022): every version mcpconn serves, and the one asked.
    static func unsupportedVersion(_ requested: String?) -> JSONRPCError {
        let versions = MCPVocabulary.modernVersions + MCPVocabulary.handshakeVersions
        var data: JSONObject = ["supported": .array(versions.map { .string($0) })]
        data["requested"] = requested.map { .string($0) }
        return JSONRPCError(
            code: JSONRPCError.unsupportedProtocolVersion, message: "unsupported protocol version", data: .object(data))
    }

    /// A 2026-07-28 request without the envelope fields the spec requires (basic/index, "Per-request protocol
    /// fields"): "A request missing any required field is malformed; the server MUST reject it with JSON-RPC
    /// error code `-32602` (Invalid params). On HTTP, the response status MUST be `400 Bad Request`." For every
    /// transport. The version is there (it made the request 2026-07-28's); the client's capabilities must be
    /// too, an object.
    static func missingEnvelopeField(_ params: JSONValue?) -> JSONRPCError? {
        let meta = params?["_meta"]
        guard
            meta?[MCPVocabulary.Meta.protocolVersion]?.stringValue == nil
                || meta?[MCPVocabulary.Meta.clientCapabilities]?.objectValue == nil
        else { return nil }
        return JSONRPCError(
            code: JSONRPCError.invalidParams,
            message: "a 2026-07-28 request needs params._meta with \(MCPVocabulary.Meta.protocolVersion) and "
                + "\(MCPVocabulary.Meta.clientCapabilities) (an object)")
    }

    private var serverInfo: JSONValue { .object(["name": "mcpconn", "version": .string(MCPConnVersion.string)]) }

    private var capabilities: JSONObject {
        [
            "tools": .object(["listChanged": .bool(true)]), "prompts": .object(["listChanged": .bool(false)]),
            "resources": .object(["listChanged": .bool(false), "subscribe": .bool(true)]),
            "completions": .object([:]), "logging": .object([:]),
        ]
    }

    private func initializeResult(_ params: Initialize.Params) -> Initialize.Result {
        let asked = params.protocolVersion ?? ""
        let version = MCPVocabulary.handshakeVersions.contains(asked) ? asked : MCPVocabulary.handshakeVersions[0]
        return Initialize.Result(protocolVersion: version, capabilities: capabilities, serverInfo: serverInfo)
    }

    // MARK: Subscriptions

    /// Handshake era: `resources/subscribe` watches the URI on its connector for the client (in a session of its
    /// own), whose updates reach the client's stream for notifications about no request (stdout, the session's GET
    /// stream). Answered once the connector took the subscription.
    private func subscribe(_ uri: String?, _ context: RequestContext) async -> Answer {
        guard let client = context.client, let hear = client.hear else {
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.invalidRequest, message: "resources/subscribe needs a session to send updates on"
                ))
        }
        return await watch(uri ?? "", for: client.id, context.caller) { params in
            hear(JSONRPC.notification(method: "notifications/resources/updated", params: params))
        }.flatMap { _ in reply(SubscribeResource.self, EmptyObject(), context) }
    }

    /// 2026-07-28: `subscriptions/listen` watches the resources it names, acknowledges those its connectors took
    /// (`notifications/subscriptions/acknowledged`), and sends their updates on its own stream, each tagged with the
    /// request's id, until the client cancels it (closing the connection, `notifications/cancelled`). Asked for
    /// `toolsListChanged`, the stream carries `notifications/tools/list_changed` too (see ``watchStoredTools``).
    private func listen(_ request: JSONRPCRequest, _ context: RequestContext, _ notify: Notify?) async -> Answer {
        guard let notify else {
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.invalidRequest,
                    message: "subscriptions/listen needs a stream to answer on (Accept: text/event-stream)"))
        }
        let tag: JSONObject = ["io.modelcontextprotocol/subscriptionId": request.id]
        let asked = request.params?["notifications"]?["resourceSubscriptions"]?.arrayValue?.compactMap(\.stringValue)
        let listener = "listen-" + BearerToken.generate()
        var honored: [JSONValue] = []
        for uri in asked ?? [] {
            let taken = await watch(uri, for: listener, context.caller) { params in
                var p = params.objectValue ?? [:]
                p["_meta"] = .object(tag)
                notify(JSONRPC.notification(method: "notifications/resources/updated", params: .object(p)))
            }
            if case .success = taken {
                honored.append(.string(uri))
            } else {
                log?("serve: could not subscribe to \(uri)")
            }
        }
        var filter: JSONObject = ["resourceSubscriptions": .array(honored)]
        if request.params?["notifications"]?["toolsListChanged"]?.boolValue == true {
            filter["toolsListChanged"] = .bool(true)
            toolListeners.withLock {
                $0[listener] = {
                    notify(
                        JSONRPC.notification(
                            method: "notifications/tools/list_changed", params: .object(["_meta": .object(tag)])))
                }
            }
        }
        notify(
            JSONRPC.notification(
                method: ListenSubscriptions.acknowledged,
                params: .object(["_meta": .object(tag), "notifications": .object(filter)])))
        // Until the client cancels: the sleep ends at once, then the watches.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        watches.unsubscribe(client: listener)
        toolListeners.withLock { $0[listener] = nil }
        return reply(ListenSubscriptions.self, EmptyObject(), context)
    }

    /// Watches `uri` on the connector it routes to, for `client`.
    private func watch(
        _ uri: String, for client: String, _ caller: CallerIdentity?,
        _ hear: @escaping @Sendable (JSONValue) -> Void
    ) async -> Result<Void, JSONRPCError> {
        let route: RouteTable.Route
        switch await resourceRoute(uri) {
        case .success(let r): route = r
        case .failure(let e): return .failure(e)
        }
        let u = upstreams[route.upstream]
        if let caller, !caller.reaches(u.connector) { return .failure(Self.notFound(Catalog.resources, uri)) }
        return await watches.subscribe(
            client: client, uri: route.name, connector: u.connector, sessions: manager.sessions, settings: settings,
            hear: hear)
    }

    /// Ends what a client's session held (its subscriptions).
    package func clientLeft(_ id: String) { watches.unsubscribe(client: id) }

    /// Every connector's items of a catalog, listed concurrently. A connector that fails is left out (and
    /// logged), never the others; one that does not offer the catalog (method not found) adds nothing. For a
    /// `caller` of `serve --http --clients`, only what it may use (``CallerIdentity/reaches(_:)``).
    private func list(_ catalog: Catalog, for caller: CallerIdentity? = nil) async -> [JSONValue] {
        let lists = await withTaskGroup(of: (Int, [JSONValue]).self) { group in
            for (i, u) in upstreams.enumerated() {
                group.addTask {
                    switch await u.list(catalog) {
                    case .success(let items): return (i, items)
                    case .failure(let e):
                        self.log?("serve: \(e.message)")
                        return (i, [])
                    }
                }
            }
            var out = [[JSONValue]](repeating: [], count: upstreams.count)
            for await (i, items) in group { out[i] = items }
            return out
        }
        var listed: [JSONValue] = []
        var table: [String: RouteTable.Route] = [:]
        for (i, items) in lists.enumerated() {
            // Routed all the same, so that a call to one is refused saying why.
            let withheld = catalog.key == Catalog.tools.key ? pinned.withheld(items, of: i) : []
            let reached = caller?.reaches(upstreams[i].connector) ?? true
            for item in items {
                guard let name = item[catalog.nameKey]?.stringValue, var object = item.objectValue else { continue }
                guard catalog.prefixed else {
                    if table[name] == nil { table[name] = .init(upstream: i, name: name) }  // a URI: the first wins
                    if reached { listed.append(item) }
                    continue
                }
                let exposed = uniqueName(several ? Self.prefixedName(upstreams[i].name, name) : name, in: table)
                table[exposed] = .init(upstream: i, name: name)
                if withheld.contains(name) || !reached { continue }
                if catalog.key == Catalog.tools.key, caller?.refusal(tool: name, of: upstreams[i].connector) != nil {
                    continue
                }
                object[catalog.nameKey] = .string(exposed)
                listed.append(.object(object))
            }
        }
        routes[catalog.key]?.replace(table)
        if catalog.key == Catalog.templates.key {
            let found = lists.enumerated().flatMap { i, items in
                items.compactMap { $0[catalog.nameKey]?.stringValue }.map { TemplateRoute(text: $0, upstream: i) }
            }
            templates.withLock { $0 = found }
        }
        return listed
    }

    /// The connector and its own name behind an exposed name; with one connector, any name goes to it.
    private func route(_ name: String, in catalog: Catalog) async -> RouteTable.Route? {
        guard let table = routes[catalog.key] else { return nil }
        if table.isEmpty { _ = await list(catalog) }  // a client may call without listing first
        if let r = table[name] { return r }
        return several ? nil : .init(upstream: 0, name: name)
    }

    /// Where a request for a resource goes: to the connector that lists its URI, else to the one whose resource
    /// template matches it (RFC 6570, `URITemplate`). `completing` (completion's `ref/resource`, whose `uri` is
    /// a template's own text, or a resource's URI): to the connector that lists that template first. Templates
    /// of two connectors that fit are an error (-32602) naming both: a guess could read another connector's
    /// resource.
    private func resourceRoute(_ uri: String, completing: Bool = false) async -> Routing {
        guard several else { return .success(.init(upstream: 0, name: uri)) }
        if completing, let owner = await templateOwner(uri, { $0.text == uri }) { return owner }
        if let route = await route(uri, in: .resources) { return .success(route) }
        if let owner = await templateOwner(uri, { $0.template?.matches(uri) == true }) { return owner }
        return .failure(Self.notFound(Catalog.resources, uri))
    }

    /// The one connector whose resource templates include one that fits; nil when none does.
    private func templateOwner(_ uri: String, _ fits: (TemplateRoute) -> Bool) async -> Routing? {
        if templates.withLock({ $0.isEmpty }) { _ = await list(.templates) }
        let owners = Set(templates.withLock { $0.filter(fits).map(\.upstream) }).sorted()
        guard let first = owners.first else { return nil }
        guard owners.count == 1 else {
            let names = owners.map { "'\(upstreams[$0].name)'" }.joined(separator: " and ")
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.invalidParams,
                    message:
                        "'\(uri)' fits resource templates of the connectors \(names): serve one of them alone to read it"
                )
            )
        }
        return .success(.init(upstream: first, name: uri))
    }

    /// A route found by name, or the error for a name no connector offers.
    private typealias Routing = Result<RouteTable.Route, JSONRPCError>

    private func promptRoute(_ name: String) async -> Routing {
        guard let route = await route(name, in: .prompts) else { return .failure(Self.notFound(.prompts, name)) }
        return .success(route)
    }

    private static func notFound(_ catalog: Catalog, _ name: String) -> JSONRPCError {
        JSONRPCError(code: JSONRPCError.invalidParams, message: "no \(catalog.noun) '\(name)' behind mcpconn serve")
    }

    /// The name (or URI) at `path` in a request's params; empty when there is none.
    private static func name(at path: [String], in params: JSONValue?) -> String {
        path.reduce(params) { $0?[$1] }?.stringValue ?? ""
    }

    /// A `tools/call` answered (``callTool(_:_:_:_:_:)``), and its record handed to the recorders.
    private func recordedCall(_ params: JSONValue?, _ context: RequestContext, _ notify: Notify?) async -> Answer {
        recordedCalls.started()
        defer { recordedCalls.ended() }
        let call = CallTool.Params(params)
        // A name no connector has is recorded as asked, cut to the longest a tool may have.
        var record = CallRecord(
            time: Date(), client: context.caller?.clientID, connector: "",
            tool: String((call.name ?? "").prefix(Self.maxToolName)),
            arguments: params?["arguments"], outcome: .refused, milliseconds: 0, answer: nil)
        let start = ContinuousClock.now
        let answer = await callTool(call, params, context, notify, &record)
        guard !recorders.isEmpty else { return answer }
        // A name no connector has is the client's text: a credential there stays out of the record too.
        if record.connector.isEmpty { record.tool = secrets.current.redacted(record.tool) ?? record.tool }
        record.milliseconds = ConnectorSessions.milliseconds(since: start)
        switch answer {
        case .success(let result): record.answer = result
        case .failure(let error): record.answer = JSONRPC.error(id: .null, error)["error"]
        }
        for recorder in recorders { recorder(record) }
        return answer
    }

    /// A tool's result, or its failure as a result with `isError` (the model reads it); `record` gets the
    /// connector, the tool and the outcome.
    private func callTool(
        _ call: CallTool.Params, _ params: JSONValue?, _ context: RequestContext, _ notify: Notify?,
        _ record: inout CallRecord
    ) async -> Answer {
        func failure(_ text: String) -> Answer { reply(CallTool.self, .failure(text), context) }
        guard let name = call.name else { return failure("tools/call needs a tool name") }
        guard let route = await route(name, in: .tools) else {
            return failure("no tool '\(name)' behind mcpconn serve")
        }
        let u = upstreams[route.upstream]
        record.connector = u.name
        record.tool = route.name
        if let refused = clientRefusal(route, context.caller) { return .failure(refused) }
        if let refused = await pinnedRefusal(route) { return .failure(refused) }
        let scanner = secrets.current
        if let refused = secretRefusal(params, scanner, u.name, route.name) {
            record.outcome = .secretRefused
            // Not even sealed (`--audit-args`): `audit --show-args` would show the credential.
            record.arguments = record.arguments.map { scanner.redacted($0) ?? $0 }
            return .failure(refused)
        }
        let start = ContinuousClock.now
        let sent = await send(CallTool.self, params, at: ["name"], route, context, notify)
        let ms = ConnectorSessions.milliseconds(since: start)
        let (outcome, cut) = redacting(sent, scanner, u.name, route.name)
        defer { if cut { record.outcome = .redacted } }
        switch outcome {
        case .success(let result):
            let asked = CallResultText.inputRequired(result)
            if context.era == .handshake, let asked {
                log?("serve: \(u.name) \(route.name): asked for input in \(ms) ms: \(asked)")
                record.outcome = .toolError
                return failure(Self.inputNotRelayed(u.name, asked))
            }
            let failed = result["isError"]?.boolValue == true
            record.outcome = asked != nil ? .inputRequired : failed ? .toolError : .ok
            log?(
                "serve: \(u.name) \(route.name): \(asked != nil ? "input_required" : failed ? "isError" : "ok") in \(ms) ms"
            )
            return typed(CallTool.self, result, context)
        case .failure(let e):
            log?("serve: \(u.name) \(route.name): failed in \(ms) ms: \(e.message)")
            record.outcome = .toolError
            record.upstreamFailed = true
            return failure(e.message)
        }
    }

    /// The refusal of a call outside what the client of `serve --http --clients` may use: a connector it does not
    /// reach is as good as absent; a tool outside its rules is refused saying so. Nil for any other caller.
    private func clientRefusal(_ route: RouteTable.Route, _ caller: CallerIdentity?) -> JSONRPCError? {
        guard let caller else { return nil }
        let connector = upstreams[route.upstream].connector
        let data: JSONObject = [
            "tool": .string(route.name), "connector": .string(connector.name), "client": .string(caller.clientID),
        ]
        guard caller.reaches(connector) else {
            return JSONRPCError(
                code: JSONRPCError.invalidParams, message: "no tool behind mcpconn serve for this client",
                data: .object(["client": .string(caller.clientID)]))
        }
        guard let reason = caller.refusal(tool: route.name, of: connector) else { return nil }
        log?("serve: \(connector.name) \(TerminalText.escape(route.name)): refused (client \(caller.clientID))")
        return JSONRPCError(code: JSONRPCError.invalidParams, message: reason, data: .object(data))
    }

    /// The refusal of a call to a tool withheld from clients, by its connector's allow-list or pinned mode (listing
    /// the connector's tools first when pinned and the last listing did not have it); nil when the call may go on.
    private func pinnedRefusal(_ route: RouteTable.Route) async -> JSONRPCError? {
        var verdict = pinned.verdict(route.name, of: route.upstream, listed: false)
        if case .unlisted = verdict {
            _ = await list(.tools)
            verdict = pinned.verdict(route.name, of: route.upstream, listed: true)
        }
        guard case .refused(let error) = verdict else { return nil }
        log?(
            "serve: \(upstreams[route.upstream].name) \(route.name): refused (\(error.data?["filtered"] == true ? "tool allow-list" : "pinned mode"))"
        )
        return error
    }

    /// The refusal of a request whose params (but `_meta`, which is not sent on) carry a value sealed in the store:
    /// -32602, naming neither the value nor whose it is (the refusal tells a caller that a guess is a credential;
    /// naming the connector would tell whose). Nothing is sent to the connector. Nil when the request may go on.
    private func secretRefusal(_ params: JSONValue?, _ scanner: SecretScanner, _ connector: String, _ name: String)
        -> JSONRPCError?
    {
        guard !scanner.isEmpty, var object = params?.objectValue else { return nil }
        object["_meta"] = nil
        guard scanner.contains(.object(object)) else { return nil }
        warn("\(connector) \(TerminalText.escape(name)): refused: the request carries a value sealed in the store")
        return JSONRPCError(
            code: JSONRPCError.invalidParams,
            message:
                "refused by mcpconn serve: the request carries a credential sealed in its store; nothing was sent to the connector"
        )
    }

    /// A connector's answer with every value sealed in the store cut out (results and error messages alike), and
    /// whether one was.
    private func redacting(
        _ answer: Result<JSONValue, JSONRPCError>, _ scanner: SecretScanner, _ connector: String, _ name: String
    ) -> (Result<JSONValue, JSONRPCError>, Bool) {
        guard !scanner.isEmpty else { return (answer, false) }
        switch answer {
        case .success(let result):
            guard let cut = scanner.redacted(result) else { return (answer, false) }
            warn(
                "\(connector) \(TerminalText.escape(name)): a credential sealed in the store was cut out of the answer")
            return (.success(cut), true)
        case .failure(var error):
            let message = scanner.redacted(error.message)
            let data = error.data.flatMap { scanner.redacted($0) }
            guard message != nil || data != nil else { return (answer, false) }
            error.message = message ?? error.message
            error.data = data ?? error.data
            warn("\(connector) \(TerminalText.escape(name)): a credential sealed in the store was cut out of the error")
            return (.failure(error), true)
        }
    }

    /// A connector's result, typed and shaped for the era; one that is not an object goes on as it came.
    private func typed<M: MCPMethod>(_ method: M.Type, _ result: JSONValue, _ context: RequestContext) -> Answer {
        guard let typed = M.Result(object: result) else { return .success(result) }
        return reply(method, typed, context)
    }

    /// A request routed to its connector (see ``send(_:_:at:_:_:_:)``); the connector's answer as it is, or its
    /// failure as a JSON-RPC error with the CLI's one-line text.
    private func forward<M: MCPMethod>(
        _ method: M.Type, _ params: JSONValue?, to routing: Routing, at path: [String], _ context: RequestContext,
        _ notify: Notify?
    ) async -> Answer {
        let route: RouteTable.Route
        switch routing {
        case .success(let r): route = r
        case .failure(let e): return .failure(e)
        }
        if let caller = context.caller, !caller.reaches(upstreams[route.upstream].connector) {
            return .failure(
                JSONRPCError(code: JSONRPCError.invalidParams, message: "no such item behind mcpconn serve"))
        }
        let u = upstreams[route.upstream]
        let scanner = secrets.current
        if let refused = secretRefusal(params, scanner, u.name, route.name) { return .failure(refused) }
        let start = ContinuousClock.now
        let (outcome, _) = redacting(
            await send(M.self, params, at: path, route, context, notify), scanner, u.name, route.name)
        let ms = ConnectorSessions.milliseconds(since: start)
        log?("serve: \(u.name) \(M.name) \(route.name): \(outcome.isSuccess ? "ok" : "failed") in \(ms) ms")
        switch outcome {
        case .success(let result):
            if context.era == .handshake, let asked = CallResultText.inputRequired(result) {
                return .failure(
                    JSONRPCError(code: JSONRPCError.internalError, message: Self.inputNotRelayed(u.name, asked)))
            }
            return typed(method, result, context)
        case .failure(let e): return .failure(e)
        }
    }

    /// Sends a request on to its connector: `params` with the connector's own name at `path`, without the client's
    /// `_meta` (the connector's session makes its own), everything else as it came (a 2026-07-28 client's retry
    /// carries `inputResponses` and the connector's `requestState` back up unchanged). What the connector asks
    /// meanwhile is relayed to the client, in the client's era:
    /// - a handshake-era client is asked on its request's channel, for what it declared; a 2026-07-28 connector's
    ///   `input_required` is answered that way, and retried, within the engine's bounds;
    /// - a 2026-07-28 client gets a connector's `input_required` as it came, and a handshake-era connector's
    ///   questions as an `input_required` of serve's own (``InputExchange``).
    private func send<M: MCPMethod>(
        _ method: M.Type, _ params: JSONValue?, at path: [String], _ route: RouteTable.Route,
        _ context: RequestContext, _ notify: Notify?
    ) async -> Result<JSONValue, JSONRPCError> {
        let u = upstreams[route.upstream]
        var upward = Self.replacing(params ?? .object([:]), at: path, with: .string(route.name)).objectValue ?? [:]
        upward["_meta"] = nil
        let forwarded = upward
        // What the connector says goes to this request's client until it is answered; an exchange's request
        // answered with `input_required` runs on, and what it says later has no request to go with.
        let open = Locked<Notify?>(notify)
        let forwardWhileOpen: Notify = { note in
            let current = open.withLock { $0 }
            current?(note)
        }
        let gated = notify == nil ? nil : forwardWhileOpen
        let run: @Sendable (Relay) async -> Result<JSONValue, JSONRPCError> = { relay in
            await self.relaying(params, to: gated) {
                await u.request(M.name, .object(forwarded), notifications: $0, relay: relay)
            }.mapError { JSONRPCError(code: JSONRPCError.internalError, message: $0.message) }
        }
        switch context.era {
        case .handshake:
            guard let client = context.client, let ask = client.ask else {
                return await run(.nobody(inputRounds: true))
            }
            let deadline = ContinuousClock.now + timeout
            return await run(
                Relay(
                    declared: client.capabilities, ask: { await ask($0, Relay.forHandshakeClient($0, $1), deadline) },
                    inputRounds: true))
        case .modern:
            if let state = upward["requestState"]?.stringValue, state.hasPrefix(InputExchange.prefix) {
                return await resume(state, answers: upward["inputResponses"]?.objectValue, M.name, route)
            }
            let declared = params?["_meta"]?[MCPVocabulary.Meta.clientCapabilities]?.objectValue ?? [:]
            guard Relay.methods.contains(where: { declared[$0.capability] != nil }) else {
                return await run(.nobody(inputRounds: false))
            }
            let exchange = InputExchange(method: M.name, name: route.name, deadline: .now + timeout)
            exchange.start { await run(Relay(declared: declared, ask: exchange.ask, inputRounds: false)) }
            defer { open.withLock { $0 = nil } }
            return await step(exchange)
        }
    }

    /// A 2026-07-28 client's retry with serve's `requestState`: its answers go to the exchange's questions, and it
    /// hears the next step. A state that is unknown, expired, or for another request is refused.
    private func resume(_ state: String, answers: JSONObject?, _ method: String, _ route: RouteTable.Route) async
        -> Result<JSONValue, JSONRPCError>
    {
        guard let exchange = exchanges.take(state), exchange.method == method, exchange.name == route.name else {
            return .failure(
                JSONRPCError(
                    code: JSONRPCError.invalidParams,
                    message:
                        "the requestState is unknown or expired (mcpconn serve keeps a request waiting for its client's answers up to --timeout)"
                ))
        }
        exchange.answer(answers ?? [:])
        return await step(exchange)
    }

    /// The next step of an exchange for the client: the connector's outcome, or its questions as `input_required`
    /// (the exchange then waits for the client's retry).
    private func step(_ exchange: InputExchange) async -> Result<JSONValue, JSONRPCError> {
        switch await exchange.next() {
        case .done(let outcome): return outcome
        case .questions(let questions):
            log?("serve: asking the client for input: \(questions.map(\.method).joined(separator: ", "))")
            exchanges.keep(exchange)
            return .success(exchange.inputRequired(questions))
        }
    }

    /// Runs a forwarded request with what its connector says about it relayed to the client, as far as the
    /// client's request asked (its `_meta`) and there is a `notify` to relay to.
    private func relaying<T: Sendable>(
        _ params: JSONValue?, to notify: Notify?, _ body: (RequestNotifications?) async -> T
    ) async -> T {
        let relay = NotificationRelay(params)
        guard let notify, relay.wantsAny else { return await body(nil) }
        return await relay.run(to: notify) { await body($0) }
    }

    static func replacing(_ value: JSONValue, at path: [String], with new: JSONValue) -> JSONValue {
        guard let key = path.first, var object = value.objectValue else { return value }
        let inner = object[key] ?? .object([:])
        object[key] = path.count == 1 ? new : replacing(inner, at: Array(path.dropFirst()), with: new)
        return .object(object)
    }

    /// `<connector>__<tool>` with characters outside the allowed set replaced by `_`, cut to the limit.
    static func prefixedName(_ connector: String, _ tool: String) -> String {
        let safe = (connector + "__" + tool).unicodeScalars.map { s -> Character in
            let ok =
                s.isASCII
                && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_-.".unicodeScalars.contains(s))
            return ok ? Character(s) : "_"
        }
        return String(String(safe).prefix(maxToolName))
    }

    /// A name no earlier tool took: `name`, else `name_2`, `name_3`… (kept within the limit).
    private func uniqueName(_ name: String, in table: [String: RouteTable.Route]) -> String {
        guard table[name] != nil else { return name }
        var n = 2
        while true {
            let suffix = "_\(n)"
            let candidate = String(name.prefix(Self.maxToolName - suffix.count)) + suffix
            if table[candidate] == nil { return candidate }
            n += 1
        }
    }

    /// Why a connector's `input_required` (2026-07-28) reaches a handshake-era client as a failure: it asked for
    /// what the client did not declare (or could not be asked for: a batch, a POST whose answer is no event
    /// stream), or the client's answers did not satisfy it within the rounds answered. Passed on as it is, such a
    /// client would read it as an empty success.
    static func inputNotRelayed(_ connector: String, _ asked: String) -> String {
        "connector '\(connector)' asked for input that the client of mcpconn serve did not give: \(asked)"
    }
}

/// What a client lists, then reaches by name: tools, prompts, resources (by URI), resource templates.
struct Catalog: Sendable {
    /// The list method and the key of its items.
    let list: String
    let key: String
    let nameKey: String
    /// Names get `<connector>__` when there are several connectors; URIs stay as they are.
    let prefixed: Bool
    let noun: String
    /// Every item of the catalog from one connector's client (all pages).
    let fetchAll: @Sendable (MCPClient) async throws(MCPClientError) -> [JSONValue]

    init<M: PagedList>(_ method: M.Type, nameKey: String, prefixed: Bool, noun: String) {
        list = M.name
        key = M.itemKey
        fetchAll = { client throws(MCPClientError) in try await client.listAll(M.self) }
        self.nameKey = nameKey
        self.prefixed = prefixed
        self.noun = noun
    }

    static let tools = Catalog(ListTools.self, nameKey: "name", prefixed: true, noun: "tool")
    static let prompts = Catalog(ListPrompts.self, nameKey: "name", prefixed: true, noun: "prompt")
    static let resources = Catalog(ListResources.self, nameKey: "uri", prefixed: false, noun: "resource")
    static let templates = Catalog(
        ListResourceTemplates.self, nameKey: "uriTemplate", prefixed: false, noun: "resource template")
    static let all = [tools, prompts, resources, templates]
}

/// A resource template one connector lists, parsed once (nil when its text is not an RFC 6570 template).
struct TemplateRoute: Sendable {
    let text: String
    let template: URITemplate?
    let upstream: Int

    init(text: String, upstream: Int) {
        self.text = text
        template = URITemplate(text)
        self.upstream = upstream
    }
}

/// Which connector and own name an exposed name leads to, replaced whole at each listing.
final class RouteTable: Sendable {
    struct Route: Sendable {
        var upstream: Int
        var name: String
    }

    private let table = Locked<[String: Route]>([:])

    var isEmpty: Bool { table.withLock { $0.isEmpty } }
    subscript(name: String) -> Route? { table.withLock { $0[name] } }
    func replace(_ t: [String: Route]) { table.withLock { $0 = t } }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
