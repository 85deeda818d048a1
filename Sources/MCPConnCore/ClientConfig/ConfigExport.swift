import Foundation

/// How `export` writes a connector that the client must reach through mcpconn.
public struct BridgeCommand: Sendable {
    /// The program the client starts (`mcpconn`, or a path when the client's PATH lacks it).
    public var program: String
    /// What follows `serve NAME`: the `--db`/`--user` the export ran with, so the bridge opens the same store.
    public var options: [String]
    /// Variables the bridge needs (`MCPCONN_KEY_FILE` when the export's key file is not the default one);
    /// never a secret.
    public var environment: [(name: String, value: String)]

    public init(program: String = "mcpconn", options: [String] = [], environment: [(name: String, value: String)] = [])
    {
        self.program = program
        self.options = options
        self.environment = environment
    }
}

/// One server written for a client.
public struct ExportedEntry: Sendable {
    public var name: String
    public var entry: JSONValue
    /// Why the connector is written as a bridge (`mcpconn serve NAME`), when it is.
    public var bridged: String?
}

/// The entries `export` writes and the documents that hold them. No secret is ever written: a connector with
/// any (a key, a token, sealed headers or environment values), or one the client cannot reach by itself, is
/// written as a bridge through `mcpconn serve`, which opens the sealed store.
public enum ConfigExport {
    public static func entry(for c: Connector, format: ClientFormat, bridge: BridgeCommand) -> ExportedEntry {
        if let reason = bridgeReason(c, format) {
            var o = local(bridge.program, ["serve", c.name] + bridge.options, format)
            if !bridge.environment.isEmpty {
                o["env"] = .object(JSONObject(bridge.environment.map { ($0.name, .string($0.value)) }))
            }
            return ExportedEntry(name: c.name, entry: finished(o, c, format), bridged: reason)
        }
        var o: JSONObject
        if let words = c.commandLine {
            o = local(words[0], Array(words.dropFirst()), format)
            if let cwd = c.workingDirectory { o["cwd"] = .string(cwd) }
        } else {
            o = JSONObject()
            if [.claudeCode, .vscode, .gemini].contains(format) { o["type"] = isSSE(c) ? "sse" : "http" }
            o["url"] = .string(c.serverURL)
        }
        return ExportedEntry(name: c.name, entry: finished(o, c, format), bridged: nil)
    }

    /// A local server's entry: its program and arguments (with `type: "stdio"` where the client writes one).
    private static func local(_ program: String, _ arguments: [String], _ format: ClientFormat) -> JSONObject {
        var o = JSONObject()
        if format == .claudeCode || format == .vscode { o["type"] = "stdio" }
        o["command"] = .string(program)
        o["args"] = .array(arguments.map { .string($0) })
        return o
    }

    /// Adds what every entry may carry: a description (Gemini) and, for a disabled connector, Codex's switch.
    private static func finished(_ o: JSONObject, _ c: Connector, _ format: ClientFormat) -> JSONValue {
        var o = o
        if format == .gemini, let d = c.description { o["description"] = .string(d) }
        if format == .codex, !c.isActive { o["enabled"] = false }
        return .object(o)
    }

    static func isSSE(_ c: Connector) -> Bool {
        c.transport == "sse" || (c.transport == nil && URL(string: c.serverURL)?.path.hasSuffix("/sse") == true)
    }

    /// Why the client must go through mcpconn to reach `c`; nil when it can reach it as written.
    static func bridgeReason(_ c: Connector, _ format: ClientFormat) -> String? {
        if c.hasCredentials { return c.isStdio ? "its environment is sealed" : "it has credentials" }
        if c.authType == .oauth { return "it signs in with mcpconn's OAuth login" }
        // No client config format carries a CA bundle or a pin per server: the client would trust less (and
        // fail) or check less (no pin) than mcpconn does.
        if !c.tls.isEmpty { return "its TLS settings (CA file, pins) are mcpconn's" }
        if c.isStdio {
            if c.workingDirectory != nil, !format.hasWorkingDirectory {
                return "\(format.rawValue) cannot set its working directory"
            }
            return nil
        }
        if !format.reachesRemote { return "\(format.rawValue) reaches no server by URL" }
        if isSSE(c), !format.reachesSSE { return "\(format.rawValue) does not speak HTTP+SSE" }
        return nil
    }

    /// A whole config document holding `entries`.
    public static func document(_ entries: [ExportedEntry], format: ClientFormat) -> String {
        let servers = JSONObject(entries.map { ($0.name, $0.entry) })
        let root: JSONObject = [format.rootKey: .object(servers)]
        return format.isTOML ? TOMLDocument.render(root) : JSONValue.object(root).prettyText() + "\n"
    }

    /// `file`'s text with `entries` put in: same-named servers replaced where they stand, others and every
    /// unrelated key kept. A TOML file keeps its comments unless its servers are written in a way the text
    /// edit does not find; then it is rewritten whole and `rewritten` says so.
    static func merged(_ entries: [ExportedEntry], into file: ConfigFile, format: ClientFormat)
        throws(MCPConnError) -> (text: String, rewritten: Bool)
    {
        guard var root = file.document.objectValue else { throw .data("\(file.path): the top level is not an object") }
        var servers = JSONObject()
        if let existing = root[format.rootKey] {
            guard let o = existing.objectValue else {
                throw .data("\(file.path): '\(format.rootKey)' is not an object")
            }
            servers = o
        }
        // Claude Code's local scope (`projects.<cwd>.mcpServers` in ~/.claude.json) wins over its user scope:
        // a server defined there is replaced there, or the old definition would hide the new one.
        let project = FileManager.default.currentDirectoryPath
        var local = format == .claudeCode ? root["projects"]?[project]?["mcpServers"]?.objectValue : nil
        for e in entries {
            if local?[e.name] != nil { local?[e.name] = e.entry } else { servers[e.name] = e.entry }
        }
        root[format.rootKey] = .object(servers)
        if let local, var projects = root["projects"]?.objectValue, var scope = projects[project]?.objectValue {
            scope["mcpServers"] = .object(local)
            projects[project] = .object(scope)
            root["projects"] = .object(projects)
        }
        guard format.isTOML else { return (JSONValue.object(root).prettyText() + "\n", file.hadComments) }
        let sections = document(entries, format: format)
        let edited = TOMLDocument.replacingServers(Set(entries.map(\.name)), in: file.text, with: sections)
        if let check = try? TOMLDocument.parse(edited, path: file.path), canonical(check) == canonical(.object(root)) {
            return (edited, false)
        }
        let written = entries.map { (name: $0.name, entry: $0.entry.objectValue ?? JSONObject()) }
        return (TOMLDocument.rewritten(file.text, servers: written) ?? TOMLDocument.render(root), true)
    }

    /// The value with every object's keys sorted: TOML tables have no order to compare.
    static func canonical(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            return .object(JSONObject(o.pairs.sorted { $0.key < $1.key }.map { ($0.key, canonical($0.value)) }))
        case .array(let a): return .array(a.map(canonical))
        default: return v
        }
    }
}

extension ConnectorStorage {
    /// The connectors to export: those named, or every active one.
    public func exportEntries(_ refs: [String], format: ClientFormat, bridge: BridgeCommand) throws(MCPConnError)
        -> [ExportedEntry]
    {
        let connectors = try refs.isEmpty ? list(active: true) : refs.map { r throws(MCPConnError) in try get(r) }
        // What the client will run or reach by itself must be what mcpconn stored (a bridge checks at each call).
        for c in connectors where ConfigExport.bridgeReason(c, format) == nil { try authenticate(c) }
        return connectors.map { ConfigExport.entry(for: $0, format: format, bridge: bridge) }
    }

    /// Merges `entries` into the client's file at `path` (created when missing): a backup of the old file
    /// beside it, the new one written to a temporary file and renamed over it, its mode kept.
    public func write(_ entries: [ExportedEntry], format: ClientFormat, to path: String) throws(MCPConnError)
        -> ConfigWriter.Written
    {
        let target = try ConfigWriter.resolved(path)
        // The client may rewrite its file meanwhile: the merge is made again from what it wrote.
        for _ in 0..<5 {
            let before = ConfigWriter.version(target)
            guard before != nil else {
                let text = ConfigExport.document(entries, format: format)
                if let w = try ConfigWriter.replace(target, with: text, mode: 0o600, previous: nil, expected: nil) {
                    return w
                }
                continue
            }
            let file = try ConfigFile.read(target, toml: format.isTOML)
            let (text, rewritten) = try ConfigExport.merged(entries, into: file, format: format)
            if text == file.text { return ConfigWriter.Written(path: target, backup: nil, unchanged: true) }
            if var written = try ConfigWriter.replace(
                target, with: text, mode: file.mode, previous: file.text, expected: before)
            {
                written.commentsLost = rewritten
                return written
            }
        }
        throw MCPConnError(.timeout, "\(target) kept changing while it was being written; nothing was changed")
    }
}
