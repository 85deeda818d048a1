import Foundation

/// One server of a client's config file, as written there (variables not yet expanded).
struct ConfigEntry {
    enum Launch {
        /// A local server: the program, its arguments, its environment and where it runs.
        case stdio(Stdio)
        /// A server reached by URL, with the headers the client sends it.
        case remote(Remote)
    }

    struct Stdio {
        var command: String
        var args: [String]
        var env: [(name: String, value: String)]
        var cwd: String?
        /// VS Code's `envFile`: a dotenv file read at import.
        var envFile: String?
        /// Codex's `env_vars`: variables the client forwards from its own environment.
        var forwarded: [String]
    }

    struct Remote {
        var url: String
        var headers: [(name: String, value: String)]
        /// Codex's `env_http_headers`: header name → the variable holding its value.
        var environmentHeaders: [(name: String, variable: String)]
        /// Codex's `bearer_token_env_var`: the variable holding the bearer token.
        var bearerTokenVariable: String?
        /// For an `mcp-remote` entry: its `env`, from which (over the user's environment) mcp-remote itself fills
        /// `${VAR}` in its headers; nil for any other entry.
        var headerEnvironment: [(name: String, value: String)]? = nil
    }

    let name: String
    var launch: Launch?
    var description: String?
    var isActive = true
    /// The entry configures an OAuth client (`oauth`, Cursor's `auth`): the connector needs `mcpconn login`.
    var usesOAuth = false
    /// Why this entry cannot be imported as it is, when it cannot.
    var unsupported: String?
    /// What the summary line says about how it was read.
    var note: String?
    /// The tool filters the entry sets (`excludeTools`, `disabled_tools`…), which a connector has no place for.
    var toolFilters: [String] = []

    static let toolFilterKeys = ["includeTools", "excludeTools", "enabled_tools", "disabled_tools", "disabledTools"]

    /// The entries of a parsed file, in file order (TOML's are in key order). Claude Code's `~/.claude.json`
    /// gives its user scope and the local scope of `project` (the current directory), the latter winning, as in
    /// Claude Code.
    ///
    /// A key held twice is refused, with the line of the second: the clients take the last (JSON.parse), while a
    /// reader of the file may well stop at the first. The servers key (or a key on the way to it) held twice
    /// refuses the file, since which servers there are is in doubt; a server name or any key inside an entry
    /// held twice skips that entry, the others are imported.
    static func entries(of file: ConfigFile, format: ClientFormat, project: String) throws(MCPConnError)
        -> [ConfigEntry]
    {
        let document = file.document
        var scope = [format.rootKey]
        var servers = document[format.rootKey]?.objectValue
        if format == .vscode, servers == nil {
            scope = ["mcp", "servers"]
            servers = document["mcp"]?["servers"]?.objectValue
        }
        let localScope = ["projects", project, "mcpServers"]
        let local = format == .claudeCode ? document["projects"]?[project]?["mcpServers"]?.objectValue : nil
        let duplicates = file.duplicateKeys(at: local == nil ? [scope] : [scope, localScope])
        if let d = duplicates.first(where: { d in [scope, localScope].contains { $0.starts(with: d.path + [d.key]) } })
        {
            throw .data(
                "\(file.path), line \(d.line): '\(keyPath(d.path + [d.key]))' appears twice, and the client reads only the last: keep one"
            )
        }
        // Each name's entry and the scope it comes from (Claude Code's local one wins), in file order.
        var named: [(name: String, value: JSONValue, scope: [String])] = []
        var index: [String: Int] = [:]
        for (pairs, from) in [(servers?.pairs ?? [], scope), (local?.pairs ?? [], localScope)] {
            for (name, value) in pairs {
                if let i = index[name] {
                    if named[i].scope != from { named[i] = (name, value, from) }
                } else {
                    index[name] = named.count
                    named.append((name, value, from))
                }
            }
        }
        guard servers != nil || local != nil else {
            if document[format.rootKey] != nil { throw .data("'\(format.rootKey)' is not an object") }
            return []
        }
        return named.map { n in
            var e = entry(name: n.name, n.value, format: format)
            if let reason = duplicateReason(n.name, from: n.scope, duplicates) { e.unsupported = reason }
            return e
        }
    }

    /// `env.A`, `args[0].k`: keys as a message shows them.
    private static func keyPath(_ keys: some Sequence<String>) -> String {
        keys.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
    }

    /// Why the entry `name` of the servers at `scope` is ambiguous, if it is.
    private static func duplicateReason(_ name: String, from scope: [String], _ duplicates: [ConfigFile.DuplicateKey])
        -> String?
    {
        if let d = duplicates.first(where: { $0.path == scope && $0.key == name }) {
            return "defined twice (again on line \(d.line)), and the client runs the last: keep one"
        }
        let entry = scope + [name]
        guard let d = duplicates.first(where: { $0.path.starts(with: entry) }) else { return nil }
        let key = keyPath(d.path.dropFirst(entry.count) + [d.key])
        return "has '\(key)' twice (again on line \(d.line)), and the client takes the last: keep one"
    }

    static func entry(name: String, _ value: JSONValue, format: ClientFormat) -> ConfigEntry {
        var e = ConfigEntry(name: name)
        guard let o = value.objectValue else {
            e.unsupported = "not an object"
            return e
        }
        e.description = o["description"]?.stringValue
        e.toolFilters = toolFilterKeys.filter { o[$0] != nil }
        if o["enabled"]?.boolValue == false || o["disabled"]?.boolValue == true { e.isActive = false }
        e.usesOAuth =
            o["oauth"]?.objectValue != nil || o["auth"]?.objectValue != nil
            || (o["oauth"]?.boolValue ?? false) || o["authProviderType"] != nil
        if o["headersHelper"] != nil {
            e.unsupported = "uses headersHelper (a command run at each connection): add it with `mcpconn add`"
            return e
        }
        let type = o["type"]?.stringValue?.lowercased()
        if let command = o["command"]?.stringValue {
            let args = strings(o["args"])
            let env = pairs(o["env"])
            if let remote = mcpRemote(command, args, env: env) {
                // The stdio bridge clients without remote support use: the server it reaches is the connector.
                e.launch = .remote(remote)
                e.note = "was an mcp-remote bridge"
                return e
            }
            if type == nil || type == "stdio" {
                e.launch = .stdio(
                    Stdio(
                        command: command, args: args, env: env, cwd: o["cwd"]?.stringValue,
                        envFile: o["envFile"]?.stringValue, forwarded: forwarded(o["env_vars"])))
                return e
            }
        }
        let url =
            (format == .gemini ? o["httpUrl"]?.stringValue : nil) ?? o["url"]?.stringValue
            ?? o["serverUrl"]?.stringValue
        guard let url else {
            e.unsupported =
                o["tcp"] != nil ? "uses a websocket (tcp), which mcpconn does not speak" : "has neither command nor url"
            return e
        }
        if url.hasPrefix("unix:") || url.hasPrefix("pipe:") {
            e.unsupported = "reaches its server over a local socket (\(url.prefix(8))…), which mcpconn does not speak"
            return e
        }
        // `type: "sse"` needs nothing of its own: mcpconn finds the transport a server speaks when it first
        // reaches it, and remembers it.
        let headers = format == .codex ? pairs(o["http_headers"]) : pairs(o["headers"])
        let envHeaders = pairs(o["env_http_headers"]).map { (name: $0.name, variable: $0.value) }
        e.launch = .remote(
            Remote(
                url: url, headers: headers, environmentHeaders: envHeaders,
                bearerTokenVariable: o["bearer_token_env_var"]?.stringValue))
        return e
    }

    /// `npx -y mcp-remote URL [PORT] [--header "Name: Value"]… [--transport …] [--allow-http] …` (also
    /// `mcp-remote@latest`, bunx, pnpx, `pnpm dlx`, an installed `mcp-remote`, `node …/mcp-remote/dist/proxy.js`):
    /// the server at URL, the word right after the package, with those headers. Its other options (OAuth client
    /// settings, ports, logging) concern mcp-remote alone.
    static func mcpRemote(_ command: String, _ args: [String], env: [(name: String, value: String)]) -> Remote? {
        let program = command.split(separator: "/").last.map(String.init) ?? command
        var rest = args[...]
        switch program {
        case "mcp-remote":
            break
        case "npx", "bunx", "pnpx", "pnpm", "yarn", "node":
            rest = rest.drop { $0.hasPrefix("-") || $0 == "dlx" || $0 == "exec" }
            guard let package = rest.first else { return nil }
            let isPackage = package == "mcp-remote" || package.hasPrefix("mcp-remote@")
            let isScript = program == "node" && package.hasSuffix("/mcp-remote/dist/proxy.js")
            guard isPackage || isScript else { return nil }
            rest = rest.dropFirst()
        default:
            return nil
        }
        guard let url = rest.first, url.hasPrefix("https://") || url.hasPrefix("http://") else { return nil }
        var headers: [(name: String, value: String)] = []
        var words = Array(rest.dropFirst())[...]
        while let word = words.popFirst() {
            guard word == "--header", let h = words.first, let colon = h.firstIndex(of: ":") else { continue }
            words = words.dropFirst()
            headers.append(
                (
                    String(h[..<colon]).trimmingCharacters(in: .whitespaces),
                    String(h[h.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
        }
        return Remote(
            url: url, headers: headers, environmentHeaders: [], bearerTokenVariable: nil, headerEnvironment: env)
    }

    private static func strings(_ v: JSONValue?) -> [String] {
        (v?.arrayValue ?? []).compactMap { $0.stringValue ?? ($0.isNull ? nil : $0.compactText()) }
    }

    /// An object of names to values; numbers and booleans taken as their text (`PORT = 8080`).
    private static func pairs(_ v: JSONValue?) -> [(name: String, value: String)] {
        (v?.objectValue?.pairs ?? []).compactMap { p in
            switch p.value {
            case .string(let s): return (p.key, s)
            case .number(let n): return (p.key, n)
            case .bool(let b): return (p.key, b ? "true" : "false")
            default: return nil
            }
        }
    }

    /// Codex's `env_vars`: names, or `{ name = "X", source = "local" }` tables.
    private static func forwarded(_ v: JSONValue?) -> [String] {
        (v?.arrayValue ?? []).compactMap { $0.stringValue ?? $0["name"]?.stringValue }
    }
}
