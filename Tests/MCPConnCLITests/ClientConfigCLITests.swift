import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// `import` and `export` of the six clients' config files (Tests/Fixtures/client-configs), against the real
/// test servers: an open one, one that needs `X-Team-Key`, one that needs a bearer token and `X-Tenant`, and
/// the SDK's stdio server.
@Suite("CLI: import and export of client config files", .timeLimit(.minutes(5)))
struct ClientConfigCLITests {
    static let fixtures = TestServer.repoRoot.appendingPathComponent("Tests/Fixtures/client-configs")
    static let teamKey = "cli-s3cret-key"
    static let bearerToken = "imp-t0ken-value"

    static func bearer() async throws -> TestServer {
        try await TestServer.shared(
            "reference_server.py",
            ["--require-header", "Authorization=Bearer \(bearerToken)", "--require-header", "X-Tenant=tenant-7"])
    }

    /// Where each client keeps its file (relative to the sandbox), so that the format is told by the name.
    static let places: [ClientFormat: (fixture: String, path: String)] = [
        .claudeDesktop: ("claude_desktop_config.json", "claude_desktop_config.json"),
        .claudeCode: ("claude-code.mcp.json", "proj/.mcp.json"),
        .vscode: ("vscode.mcp.json", "proj/.vscode/mcp.json"),
        .cursor: ("cursor.mcp.json", "proj/.cursor/mcp.json"),
        .codex: ("codex.config.toml", ".codex/config.toml"),
        .gemini: ("gemini.settings.json", "proj/.gemini/settings.json"),
    ]

    /// Writes a fixture into the sandbox with the servers' addresses filled in; its path.
    static func place(_ format: ClientFormat, in s: CLISandbox) async throws -> String {
        let (fixture, relative) = places[format]!
        var text = try String(contentsOf: fixtures.appendingPathComponent(fixture), encoding: .utf8)
        let values = [
            "@REF_URL@": try await CLIServers.reference().base + "/mcp",
            "@KEYED_URL@": try await CLIServers.keyed().base + "/mcp",
            "@BEARER_URL@": try await bearer().base + "/mcp",
            "@PYTHON@": TestServer.python, "@STDIO_SERVER@": ServeCLITests.stdioServer, "@DIR@": s.dir.path,
        ]
        for (k, v) in values { text = text.replacingOccurrences(of: k, with: v) }
        let url = s.dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The variables the fixtures read at import.
    static func environment(token: String) async throws -> [String: String] {
        [
            "REF_URL": try await CLIServers.reference().base + "/mcp", "TEAM_KEY": teamKey,
            "BEARER_TOKEN": bearerToken, "TOKEN": token,
        ]
    }

    /// Every byte of the store's files: a secret must be in none of them.
    static func storeBytes(_ s: CLISandbox) -> String {
        ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: s.databasePath + $0) }
            .map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    static func summary(_ r: CLIResult) -> [String: String] {
        var out: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.count >= 2 { out[String(words[1]).trimmingCharacters(in: [":"])] = String(words[0]) }
        }
        return out
    }

    @Test(arguments: ClientFormat.allCases)
    func eachFormatImportsConnectorsThatReachTheRealServers(_ format: ClientFormat) async throws {
        let s = CLISandbox()
        let path = try await Self.place(format, in: s)
        // Short: values of 8 characters or more are secrets that mcpconn redacts from everything it prints.
        let token = "t-" + String(format.rawValue.prefix(5))
        if format == .vscode {
            try "TOKEN=\(token)\n".write(
                toFile: s.dir.appendingPathComponent("proj/.env").path, atomically: true, encoding: .utf8)
        }
        var args = ["import", path]
        if format == .vscode { args += ["--input", "team-key=TEAM_KEY"] }
        let r = await s.run(args, env: try await Self.environment(token: token))
        let expected: [String: String] =
            switch format {
            case .claudeDesktop: ["local": "added", "plain": "added", "bearer": "added"]
            case .claudeCode:
                ["ref": "added", "keyed": "added", "bearer": "added", "local": "added", "helper": "skipped"]
            case .vscode, .cursor, .gemini: ["ref": "added", "keyed": "added", "local": "added"]
            case .codex: ["ref": "added", "keyed": "added", "bearer": "added", "local": "added", "off": "added"]
            }
        #expect(Self.summary(r) == expected, "\(r)")
        #expect(r.status == (expected.values.contains("skipped") ? 1 : 0), "\(r)")

        // --timeout bounds a hang: local servers start slowly on a loaded machine.
        let verify = await s.run(["verify", "--all", "--timeout", "60"])
        #expect(verify.status == 0, "\(format): \(verify)")
        for name in expected.filter({ $0.value == "added" }).keys where name != "off" {
            #expect(json(await s.run(["get", name, "--json"]))["is_verified"] == true, "\(format) \(name)")
        }
        let shown = await s.run(["call", "local", "env_var", "--arg", "name=TOKEN", "--timeout", "60"])
        #expect(shown.stdout == (format == .claudeDesktop ? "d-lit\n" : token + "\n"), "\(shown)")
        if format == .claudeDesktop {
            // Claude Desktop expands nothing: what the file says is what the server gets.
            #expect(await s.run(["call", "local", "env_var", "--arg", "name=LITERAL"]).stdout == "${X}\n")
        }
        if expected["keyed"] != nil {
            let keyed = json(await s.run(["get", "keyed", "--json"]))
            #expect(keyed["auth_type"] == "api_key")
        }
        if expected["bearer"] != nil {
            // The token became the oauth connector's static token; X-Tenant went along, sealed. Claude Desktop's
            // entry is the mcp-remote bridge: imported as the server it reaches.
            let bearer = json(await s.run(["get", "bearer", "--json"]))
            let bearerURL = try await Self.bearer().base + "/mcp"
            #expect(bearer["auth_type"] == "oauth" && bearer["server_url"]?.stringValue == bearerURL, "\(bearer)")
            if format == .claudeDesktop {
                #expect(r.stdout.contains("added       bearer (was an mcp-remote bridge)"), "\(r)")
            }
            #expect(await s.run(["call", "bearer", "echo", "--arg", "text=tenant ok"]).stdout == "tenant ok\n")
        }
        let stored = Self.storeBytes(s)
        for secret in [Self.teamKey, Self.bearerToken, "desktop-s3cret-literal"] {
            #expect(!stored.contains(secret), "\(format): \(secret) in the store")
        }
        if format == .codex {
            #expect(json(await s.run(["get", "off", "--json"]))["is_active"] == false)
            #expect(json(await s.run(["get", "local", "--json"]))["cwd"]?.stringValue == s.dir.path)
        }
        if format == .gemini {
            let local = json(await s.run(["get", "local", "--json"]))
            #expect(local["description"] == "the local reference server")
            #expect(local["cwd"]?.stringValue == s.dir.appendingPathComponent("proj").path)
        }
    }

    @Test func aMissingVariableSkipsItsEntryAndTheOthersGoIn() async throws {
        let s = CLISandbox()
        let path = try await Self.place(.cursor, in: s)
        let r = await s.run(["import", path], env: ["TOKEN": "t"])
        #expect(r.status == 1)
        #expect(Self.summary(r) == ["ref": "added", "keyed": "skipped", "local": "added"], "\(r)")
        #expect(r.stdout.contains("skipped     keyed: the environment variable TEAM_KEY is not set"), "\(r)")
        #expect(
            r.stderr.hasSuffix(
                "\nmcpconn: keyed: the environment variable TEAM_KEY is not set\nmcpconn: 1 of 3 entries of \(path) were not imported\n"
            ),
            "\(r)")
        // VS Code's ${input:…} without --input: reported, skipped.
        let v = try await Self.place(.vscode, in: s)
        try "TOKEN=x\n".write(toFile: s.dir.appendingPathComponent("proj/.env").path, atomically: true, encoding: .utf8)
        let vr = await s.run(["import", v, "--dry-run"])
        #expect(
            vr.stdout.contains("keyed: needs a secret for ${input:team-key}: give it with --input team-key=VAR"),
            "\(vr)")
    }

    @Test func reimportingChangesNothingAndAChangedEntryIsAConflictUntilReplace() async throws {
        let s = CLISandbox()
        let path = try await Self.place(.claudeCode, in: s)
        let env = try await Self.environment(token: "first")
        #expect(await s.run(["import", path], env: env).status == 1)  // headersHelper is skipped
        let before = json(await s.run(["list", "--json"]))
        let again = await s.run(["import", path], env: env)
        #expect(Self.summary(again).filter { $0.value != "unchanged" } == ["helper": "skipped"], "\(again)")
        #expect(json(await s.run(["list", "--json"])) == before)

        // A new secret for `local`: a conflict, kept as stored, until --replace.
        let changed = try await Self.environment(token: "second")
        let dry = await s.run(["import", path, "--dry-run", "--replace"], env: changed)
        #expect(dry.stdout.contains("would update local"), "\(dry)")
        let conflict = await s.run(["import", path], env: changed)
        #expect(
            conflict.status == 1 && conflict.stdout.contains("conflict    local: differs from the stored connector"),
            "\(conflict)")
        #expect(await s.run(["call", "local", "env_var", "--arg", "name=TOKEN"]).stdout == "first\n")
        let replaced = await s.run(["import", path, "--replace"], env: changed)
        #expect(Self.summary(replaced)["local"] == "updated", "\(replaced)")
        #expect(await s.run(["call", "local", "env_var", "--arg", "name=TOKEN"]).stdout == "second\n")
        #expect(
            json(await s.run(["get", "local", "--json"]))["id"]
                == before.arrayValue?.first { $0["name"] == "local" }?["id"])
    }

    @Test func aDryRunWritesNothing() async throws {
        let s = CLISandbox()
        let path = try await Self.place(.codex, in: s)
        let r = await s.run(["import", path, "--dry-run", "--json"], env: try await Self.environment(token: "t"))
        let report = json(r)
        #expect(report["format"] == "codex" && report["dryRun"] == true)
        #expect(
            report["entries"]?.arrayValue?.map { $0["action"]?.stringValue ?? "" }
                == Array(repeating: "added", count: 5))
        #expect(json(await s.run(["list", "--json"])) == [])
        #expect(!FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("config/mcpconn/key").path))
    }

    @Test func badFilesFailWithOneLineAndTheirStatus() async throws {
        let s = CLISandbox()
        func write(_ name: String, _ text: String) -> String {
            let p = s.dir.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
            return p
        }
        let badJSON = write(
            "claude_desktop_config.json", "{\n  \"mcpServers\": {\n    \"a\": { \"command\": }\n  }\n}\n")
        let r1 = await s.run(["import", badJSON])
        #expect(r1.status == 65 && r1.stderr.hasPrefix("mcpconn: \(badJSON), line 3: invalid JSON"), "\(r1)")
        let badTOML = write("config.toml", "[mcp_servers.a]\ncommand = \"x\"\nargs = [\n")
        let r2 = await s.run(["import", badTOML])
        #expect(r2.status == 65 && r2.stderr.contains("config.toml, line 3: invalid TOML"), "\(r2)")
        let r3 = await s.run(["import", s.dir.appendingPathComponent("missing.json").path])
        #expect(r3.status == 66 && r3.stderr.contains("No such file or directory"), "\(r3)")
        let r4 = await s.run(["import", s.dir.path])
        #expect(r4.status == 66 && r4.stderr.contains("Is a directory"), "\(r4)")
        let unknown = write("other.json", "{\"editor.fontSize\": 12}")
        let r5 = await s.run(["import", unknown])
        #expect(r5.status == 65 && r5.stderr.contains("--from"), "\(r5)")
        #expect(await s.run(["import", unknown, "--from", "emacs"]).status == 64)
        let notObject = write("settings.json", "{\"mcpServers\": [1, 2]}")
        #expect(await s.run(["import", notObject, "--from", "gemini"]).status == 65)
        for r in [r1, r2, r3, r4, r5] { #expect(r.stderr.split(separator: "\n").count == 1 && r.stdout.isEmpty) }
        if geteuid() == 0 {
            let foreign = write("foreign.json", "{\"mcpServers\": {\"a\": {\"command\": \"/bin/true\"}}}")
            chown(foreign, 65534, 65534)
            let r6 = await s.run(["import", foreign])
            #expect(r6.status == 66 && r6.stderr.contains("belongs to another user"), "\(r6)")
        }
    }

    /// A FIFO is refused at once wherever import or export reads a file: open(2) of a FIFO that has no writer
    /// waits for one, forever. `timeout` bounds each run, so that a hang fails the test instead of stalling it.
    @Test func aFIFOIsRefusedAtOnceAndNotWaitedFor() async throws {
        let s = CLISandbox()
        let bounded = ["/usr/bin/timeout", "-s", "KILL", "60"]
        let fifo = s.dir.appendingPathComponent("claude_desktop_config.json").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = await s.run(["import", fifo], wrapper: bounded)
        #expect(r.status == 66 && r.stderr == "mcpconn: cannot read \(fifo): not a regular file (a FIFO)\n", "\(r)")
        // A symlink to it is no different.
        let link = s.dir.appendingPathComponent("p/.mcp.json")
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: fifo)
        let viaLink = await s.run(["import", link.path], wrapper: bounded)
        #expect(viaLink.status == 66 && viaLink.stderr.contains("not a regular file (a FIFO)"), "\(viaLink)")
        // export --write reads the file it merges into.
        await s.run(["add", "a", "https://a.example/mcp"])
        let w = await s.run(["export", "--to", "claude-desktop", "a", "--write", fifo], wrapper: bounded)
        #expect(w.status == 66 && w.stderr.contains("cannot read \(fifo): not a regular file"), "\(w)")
        // An entry whose envFile is a FIFO is skipped; the others go in.
        #expect(mkfifo(s.dir.appendingPathComponent("p/fifo.env").path, 0o600) == 0)
        let vscode = try Self.file(
            s, "p/.vscode/mcp.json",
            #"{"servers": {"e": {"command": "/bin/true", "envFile": "fifo.env"}, "f": {"command": "/bin/true"}}}"#)
        let v = await s.run(["import", vscode], wrapper: bounded)
        #expect(v.status == 1 && Self.summary(v) == ["e": "skipped", "f": "added"], "\(v)")
        #expect(v.stdout.contains("e: cannot read the env file \(s.dir.path)/p/fifo.env: not a regular file"), "\(v)")
    }

    /// A key held twice in one object: the clients (JSON.parse) take the last, so which one a reader of the file
    /// sees first is not what runs. An entry with a duplicate is skipped with the line of the second one; a
    /// servers key held twice refuses the file.
    @Test func aKeyHeldTwiceSkipsItsEntryWithTheLine() async throws {
        let s = CLISandbox()
        let path = try Self.file(
            s, "p/.mcp.json",
            """
            {"mcpServers": {
              "ok": {"command": "/bin/true"},
              "twice": {"command": "/bin/echo", "args": ["first"]},
              "inner": {"command": "/bin/true", "command": "/bin/false"},
              "envs": {"command": "/bin/true", "env": {"A": "1", "A": "2"}},
              "twice": {"command": "/bin/echo", "args": ["second"]}
            }}
            """)
        let r = await s.run(["import", path])
        #expect(
            r.status == 1
                && Self.summary(r) == ["ok": "added", "twice": "skipped", "inner": "skipped", "envs": "skipped"],
            "\(r)")
        #expect(r.stdout.split(separator: "\n").count == 4, "\(r)")
        #expect(
            r.stdout.contains("twice: defined twice (again on line 6), and the client runs the last: keep one"), "\(r)")
        #expect(
            r.stdout.contains("inner: has 'command' twice (again on line 4), and the client takes the last"), "\(r)")
        #expect(r.stdout.contains("envs: has 'env.A' twice (again on line 5)"), "\(r)")
        #expect(await s.run(["get", "twice"]).status == 66)

        let servers = try Self.file(
            s, "q/.mcp.json",
            "{\"mcpServers\": {\"a\": {\"command\": \"/bin/true\"}},\n \"mcpServers\": {\"b\": {\"command\": \"/bin/true\"}}}\n"
        )
        let f = await s.run(["import", servers])
        #expect(
            f.status == 65
                && f.stderr
                    == "mcpconn: \(servers), line 2: 'mcpServers' appears twice, and the client reads only the last: keep one\n",
            "\(f)")
        #expect(await s.run(["get", "b"]).status == 66)
    }

    /// A document parsed by Python's own json or tomllib, as JSON.
    static func parsedByPython(_ text: String, toml: Bool) async throws -> JSONValue {
        let s = CLISandbox()
        let file = s.dir.appendingPathComponent(toml ? "doc.toml" : "doc.json")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestServer.python)
        let reader =
            toml ? "import tomllib; d = tomllib.load(open(sys.argv[1], 'rb'))" : "d = json.load(open(sys.argv[1]))"
        p.arguments = ["-c", "import json, sys\n\(reader)\nprint(json.dumps(d))", file.path]
        let out = await Pipe.closeOnExec()
        p.standardOutput = out
        let watch = ExitWatch(p)
        try await p.runOffPool()
        let data = await out.readToEnd()
        #expect(await watch.wait() == 0, "Python could not parse: \(text)")
        return try JSONValue.parse(String(decoding: data, as: UTF8.self))
    }

    /// A store holding the Codex fixture's connectors: ref (open), keyed (api_key), bearer (token and a sealed
    /// header), local (sealed environment, a working directory) and off (disabled).
    static func importedStore() async throws -> CLISandbox {
        let s = CLISandbox()
        let path = try await place(.codex, in: s)
        let r = await s.run(["import", path], env: try await environment(token: "t-codex"))
        #expect(r.status == 0, "\(r)")
        return s
    }

    @Test func exportWritesNoSecretAndBridgesWhatNeedsOne() async throws {
        let s = try await Self.importedStore()
        for format in ClientFormat.allCases {
            let r = await s.run(["export", "--to", format.rawValue])
            #expect(r.status == 0 && r.stderr.isEmpty, "\(format): \(r)")
            for secret in [Self.teamKey, Self.bearerToken, "tenant-7", "t-codex"] {
                #expect(!r.stdout.contains(secret), "\(format) wrote \(secret)")
            }
            let doc = try await Self.parsedByPython(r.stdout, toml: format == .codex)
            let servers = try #require(doc[format.rootKey]?.objectValue, "\(format): \(r.stdout)")
            // Disabled connectors are left out unless named.
            #expect(Set(servers.keys) == ["ref", "keyed", "bearer", "local"], "\(format)")
            for name in ["keyed", "bearer", "local"] {
                #expect(servers[name]?["command"] == "mcpconn", "\(format) \(name)")
                #expect(servers[name]?["args"]?.arrayValue?.prefix(2) == ["serve", .string(name)], "\(format) \(name)")
            }
            if format == .claudeDesktop {
                #expect(servers["ref"]?["command"] == "mcpconn")  // Claude Desktop's file reaches no URL
            } else {
                #expect(servers["ref"]?["url"]?.stringValue == (try await CLIServers.reference()).base + "/mcp")
                #expect(servers["ref"]?["command"] == nil)
            }
            #expect(
                servers["ref"]?["type"]
                    == (format == .claudeCode || format == .vscode || format == .gemini ? "http" : nil))
        }
        let named = await s.run(["export", "--to", "codex", "off"])
        #expect(named.stdout.contains("enabled = false"), "\(named)")
    }

    @Test func aBridgeEntryServesTheConnectorToTheSDKClient() async throws {
        let s = try await Self.importedStore()
        let r = await s.run([
            "export", "--to", "claude-desktop", "keyed", "--bridge-command", CLISandbox.binary, "--json",
        ])
        let exported = try #require(json(r)["servers"]?.arrayValue?.first, "\(r)")
        #expect(exported["reason"] == "it has credentials")
        let entry = try #require(exported["entry"])
        let program: [String] = [entry["command"]?.stringValue ?? ""]
        let command = program + (entry["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(command.contains("--db") && command.contains(s.databasePath), "\(command)")
        // The client's environment has no MCPCONN_DB: the entry alone names the store.
        let client = CLISandbox()
        client.environment["XDG_CONFIG_HOME"] = s.environment["XDG_CONFIG_HOME"]
        client.environment["MCPCONN_DB"] = "/nonexistent/elsewhere.db"
        let session = try await ServeCLITests.session(
            client, [], steps: [["call": "echo", "arguments": ["text": "through the bridge"]]], command: command)
        #expect(session.tools.contains("echo"))
        #expect(session.calls.first?["text"] == "through the bridge", "\(session.calls) \(session.stderr)")
    }

    @Test(arguments: [ClientFormat.claudeCode, .codex, .gemini])
    func aRoundTripIntoAFreshStoreGivesConnectorsThatWork(_ format: ClientFormat) async throws {
        let a = try await Self.importedStore()
        let exported = await a.run(["export", "--to", format.rawValue, "--bridge-command", CLISandbox.binary])
        #expect(exported.status == 0, "\(exported)")
        // Another store of the same user: same home, same key file, another database.
        let b = CLISandbox()
        b.environment["XDG_CONFIG_HOME"] = a.environment["XDG_CONFIG_HOME"]
        let file = b.dir.appendingPathComponent(format == .codex ? "config.toml" : "mcp.json")
        try exported.stdout.write(to: file, atomically: true, encoding: .utf8)
        let imported = await b.run(["import", file.path, "--from", format.rawValue])
        #expect(imported.status == 0 && Self.summary(imported).values.allSatisfy { $0 == "added" }, "\(imported)")
        let verify = await b.run(["verify", "--all"])
        #expect(verify.status == 0, "\(verify)")
        #expect(await b.run(["call", "keyed", "echo", "--arg", "text=round trip"]).stdout == "round trip\n")
        #expect(await b.run(["call", "bearer", "echo", "--arg", "text=tenant"]).stdout == "tenant\n")
        // Importing the same export into the store it came from adds nothing: its bridges are that store's own.
        let back = await a.run(["import", file.path, "--from", format.rawValue])
        #expect(Self.summary(back).values.allSatisfy { $0 == "unchanged" }, "\(back)")
    }

    @Test func writeMergesIntoAnExistingFileAndKeepsEverythingElse() async throws {
        let s = try await Self.importedStore()
        // A JSON file reached through a symlink (a dotfile manager's), with its own keys and another server.
        let real = s.dir.appendingPathComponent("dotfiles/claude.json")
        try FileManager.default.createDirectory(at: real.deletingLastPathComponent(), withIntermediateDirectories: true)
        let original =
            #"{"numStartups": 7, "mcpServers": {"mine": {"command": "my-server"}, "ref": {"command": "old"}}, "tipsHistory": {"a": 1}}"#
        try original.write(to: real, atomically: true, encoding: .utf8)
        chmod(real.path, 0o640)
        let link = s.dir.appendingPathComponent(".claude.json")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        let r = await s.run(["export", "--to", "claude-code", "ref", "keyed", "--write", link.path, "--json"])
        #expect(r.status == 0, "\(r)")
        let written = try await Self.parsedByPython(try String(contentsOf: real, encoding: .utf8), toml: false)
        #expect(written["numStartups"] == .int(7) && written["tipsHistory"] == .object(["a": .int(1)]))
        #expect(written["mcpServers"]?.objectValue?.keys == ["mine", "ref", "keyed"])
        #expect(written["mcpServers"]?["mine"] == ["command": "my-server"])
        #expect(written["mcpServers"]?["ref"]?["type"] == "http")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == real.path)
        #expect(((try FileManager.default.attributesOfItem(atPath: real.path))[.posixPermissions] as? Int) == 0o640)
        let backup = try #require(json(r)["backup"]?.stringValue)
        #expect(try String(contentsOfFile: backup, encoding: .utf8) == original)
        #expect(((try FileManager.default.attributesOfItem(atPath: backup))[.posixPermissions] as? Int) == 0o600)
        let after = try String(contentsOf: real, encoding: .utf8)
        #expect(!after.contains(Self.teamKey))

        // Codex's TOML: comments and other tables stay; the same export again changes nothing.
        let toml = s.dir.appendingPathComponent(".codex/config.toml")
        let again = await s.run(["export", "--to", "codex", "--write", toml.path, "--json"])
        #expect(json(again)["commentsKept"] == true, "\(again)")
        let text = try String(contentsOf: toml, encoding: .utf8)
        #expect(text.hasPrefix("# Codex settings: the comments and the other tables must survive an export --write."))
        #expect(text.contains("# Profiles come after the servers.\n[profiles.fast]"), "\(text)")
        let parsed = try await Self.parsedByPython(text, toml: true)
        #expect(parsed["model"] == "o3" && parsed["profiles"]?["fast"]?["model"] == "o4-mini")
        #expect(parsed["mcp_servers"]?["keyed"]?["command"] == "mcpconn")
        #expect(parsed["mcp_servers"]?["keyed"]?["env_http_headers"] == nil)
        // `off` was not exported (disabled), so the file's own definition of it stays.
        #expect(parsed["mcp_servers"]?["off"]?["enabled"] == false)
        let third = await s.run(["export", "--to", "codex", "--write", toml.path, "--json"])
        #expect(json(third)["unchanged"] == true && json(third)["backup"] == .null, "\(third)")
    }

    /// A symlink whose target does not exist is refused: writing through it would create that file wherever the
    /// link points (a link in a cloned project can point anywhere). Also a link on the way (the client's
    /// folder) and a loop; nothing is created, the links stay as they were.
    @Test func writeRefusesALinkToNothing() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", "https://ref.example/mcp"])
        let elsewhere = s.dir.appendingPathComponent("elsewhere")
        let cursorLink = s.dir.appendingPathComponent("proj/.cursor/mcp.json")
        try FileManager.default.createDirectory(
            at: cursorLink.deletingLastPathComponent(), withIntermediateDirectories: true)
        let pending = elsewhere.appendingPathComponent("autostart/cursor.json")
        try FileManager.default.createSymbolicLink(at: cursorLink, withDestinationURL: pending)
        let r = await s.run(["export", "--to", "cursor", "ref", "--write", cursorLink.path])
        #expect(
            r.status == 66
                && r.stderr
                    == "mcpconn: cannot write \(cursorLink.path): it is a symlink to \(pending.path), which does not exist; export --write follows a link only to an existing file\n",
            "\(r)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: cursorLink.path)) == pending.path)
        // The client's folder a link to nothing.
        let geminiFolder = s.dir.appendingPathComponent("proj/.gemini")
        try FileManager.default.createSymbolicLink(at: geminiFolder, withDestinationURL: elsewhere)
        let file = geminiFolder.appendingPathComponent("settings.json").path
        let g = await s.run(["export", "--to", "gemini", "ref", "--write", file])
        #expect(
            g.status == 66
                && g.stderr.hasPrefix(
                    "mcpconn: cannot write \(file): \(geminiFolder.path) is a symlink to \(elsewhere.path), which does not exist"
                ),
            "\(g)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
        // A loop.
        let loop = s.dir.appendingPathComponent("proj/.mcp.json")
        try FileManager.default.createSymbolicLink(atPath: loop.path, withDestinationPath: loop.path)
        let l = await s.run(["export", "--to", "claude-code", "ref", "--write", loop.path])
        #expect(l.status == 66 && l.stderr.contains("is a symlink to \(loop.path), which "), "\(l)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: loop.path)) == loop.path)
        for run in [r, g, l] { #expect(run.stderr.split(separator: "\n").count == 1 && run.stdout.isEmpty) }
    }

    @Test func helpNamesTheFormatsAndOptions() async throws {
        let imp = await CLISandbox().run(["import", "--help"])
        #expect(
            imp.status == 0
                && imp.stdout.contains("USAGE: mcpconn import <file> [--from <format>] [--replace] [--dry-run]"),
            "\(imp)")
        for text in ["The client whose file it is: claude-desktop,", "--input <ID=VAR>", "skipped (with why)"] {
            #expect(imp.stdout.contains(text), "\(text)")
        }
        let exp = await CLISandbox().run(["export", "--help"])
        #expect(
            exp.status == 0 && exp.stdout.contains("USAGE: mcpconn export --to <format> [<refs> ...] [--write <path>]"),
            "\(exp)")
        for text in ["--bridge-command <path>", "which opens the sealed store", "timestamped backup"] {
            #expect(exp.stdout.contains(text), "\(text)")
        }
    }

    /// Writes `text` as the file `name` in the sandbox; its path.
    static func file(_ s: CLISandbox, _ name: String, _ text: String) throws -> String {
        let url = s.dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func anEntryCannotReadMcpconnsOwnVariables() async throws {
        let s = CLISandbox()
        let path = try Self.file(
            s, "p/.mcp.json",
            """
            {"mcpServers": {
              "x": {"command": "/bin/true", "args": ["--k", "${TOKEN_ENCRYPTION_KEY}"]},
              "y": {"type": "http", "url": "https://evil.example/mcp", "headers": {"X-K": "${MCPCONN_SERVE_TOKEN}"}},
              "z": {"command": "/bin/true", "env": {"ALIAS": "${MCPCONN_SERVE_TOKEN:-none}"}}
            }}
            """)
        let r = await s.run(["import", path], env: ["MCPCONN_SERVE_TOKEN": "serve-t0ken-value-123"])
        #expect(r.status == 1 && Self.summary(r) == ["x": "skipped", "y": "skipped", "z": "skipped"], "\(r)")
        #expect(r.stdout.contains("x: reads TOKEN_ENCRYPTION_KEY, which is mcpconn's own and never imported"), "\(r)")
        let toml = try Self.file(
            s, "c.toml",
            "[mcp_servers.w]\nurl = \"https://evil.example/mcp\"\nbearer_token_env_var = \"MCPCONN_SERVE_TOKEN\"\n")
        let c = await s.run(["import", toml], env: ["MCPCONN_SERVE_TOKEN": "serve-t0ken-value-123"])
        #expect(c.status == 1 && c.stdout.contains("w: reads MCPCONN_SERVE_TOKEN"), "\(c)")
        #expect(json(await s.run(["list", "--json"])) == [])
    }

    @Test func aSecretInArgumentsIsSealedAndPutBackWhenTheServerStarts() async throws {
        let s = CLISandbox()
        let secret = "Zq7-xv9"  // under 8 characters: not redacted from output, so the test can see it arrive
        let path = try Self.file(
            s, "p/.mcp.json",
            """
            {"mcpServers": {
              "local": {"command": "\(TestServer.python)", "args": ["\(ServeCLITests.stdioServer)", "--token=${ARG_TOKEN}", "${HOME_ONLY:-plain}", "${HOME}/x"]},
              "query": {"type": "http", "url": "https://api.example/mcp?api_key=${ARG_TOKEN}"}
            }}
            """)
        let r = await s.run(["import", path], env: ["ARG_TOKEN": secret])
        #expect(Self.summary(r) == ["local": "added", "query": "skipped"], "\(r)")
        #expect(r.stdout.contains("query: its URL's query reads a variable"), "\(r)")
        let local = json(await s.run(["get", "local", "--json"]))
        // HOME is no secret (every server inherits it): expanded in place, not sealed.
        #expect(
            local["args"]?.arrayValue?.compactMap(\.stringValue).suffix(3) == [
                "--token=${ARG_TOKEN}", "plain", s.dir.path + "/x",
            ], "\(local)")
        #expect(local["env"]?.arrayValue == ["ARG_TOKEN"], "\(local)")
        #expect(local["env"]?.arrayValue?.contains("ARG_TOKEN") == true, "\(local)")
        #expect(!Self.storeBytes(s).contains(secret))
        let argv = await s.run(["call", "local", "argv"])
        #expect(argv.stdout == "--token=\(secret) plain \(s.dir.path)/x\n", "\(argv)")
        // An argument `add` stored is passed as written, `${…}` and all: the server (a shell, say) may expand it.
        await s.run([
            "add", "literal", "--env", "ARG_TOKEN=other", "--", TestServer.python, ServeCLITests.stdioServer,
            "lit-${ARG_TOKEN}",
        ])
        #expect(await s.run(["call", "literal", "argv"]).stdout == "lit-${ARG_TOKEN}\n")
        // Export: the sealed variable makes it a bridge; the value is nowhere in the file.
        let e = await s.run(["export", "--to", "claude-code"])
        #expect(!e.stdout.contains(secret) && e.stdout.contains("\"serve\""), "\(e)")
    }

    @Test func everyFormOfABridgeToThisStoreIsRecognised() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        await s.run(["add", "b", "https://b.example/mcp"])
        let db = s.databasePath
        let path = try Self.file(
            s, "claude_desktop_config.json",
            """
            {"mcpServers": {
              "all": {"command": "mcpconn", "args": ["serve", "--all"]},
              "two": {"command": "mcpconn", "args": ["serve", "a", "b", "--db", "\(db)"]},
              "timed": {"command": "/usr/local/bin/mcpconn", "args": ["serve", "a", "--timeout", "60", "--db=\(db)"]},
              "gone": {"command": "mcpconn", "args": ["serve", "c"]},
              "self": {"command": "\(CLISandbox.binary)", "args": ["--db", "\(db)", "serve", "b", "--verbose"]},
              "other": {"command": "mcpconn", "args": ["serve", "a", "--db", "/elsewhere/other.db"]}
            }}
            """)
        let r = await s.run(["import", path])
        #expect(
            Self.summary(r) == [
                "all": "unchanged", "two": "unchanged", "timed": "unchanged", "gone": "skipped",
                "self": "unchanged", "other": "added",
            ], "\(r)")
        #expect(r.stdout.contains("gone: a bridge to 'c', which this store does not have"), "\(r)")
        // A relative --db, as the client would resolve it from the project (the file's folder here).
        let relative = try Self.file(
            s, "data/.mcp.json",
            #"{"mcpServers": {"rel": {"command": "mcpconn", "args": ["--db", "mcpconn.db", "serve", "a"]}}}"#)
        #expect(Self.summary(await s.run(["import", relative])) == ["rel": "unchanged"])
        let again = await s.run(["import", path, "--replace"])
        #expect(Self.summary(again)["timed"] == "unchanged", "\(again)")
        #expect(json(await s.run(["list", "--json"])).arrayValue?.count == 3)
    }

    @Test func updateAndLogoutKeepSealedHeaders() async throws {
        let s = try await Self.importedStore()
        // bearer: its token and X-Tenant came from the Codex file; a new token keeps X-Tenant.
        let u = await s.run(["update", "bearer", "--secret-stdin"], stdin: Self.bearerToken)
        #expect(u.status == 0, "\(u)")
        #expect(await s.run(["call", "bearer", "echo", "--arg", "text=still"]).stdout == "still\n")
        #expect(await s.run(["logout", "bearer"]).status == 0)
        #expect(await s.run(["update", "bearer", "--secret-stdin"], stdin: Self.bearerToken).status == 0)
        #expect(await s.run(["call", "bearer", "echo", "--arg", "text=after logout"]).stdout == "after logout\n")
    }

    @Test func anMCPRemoteEntryWithoutEnvTakesItsVariablesFromTheEnvironment() async throws {
        let s = CLISandbox()
        let url = try await Self.bearer().base + "/mcp"
        let path = try Self.file(
            s, ".codex/config.toml",
            """
            [mcp_servers.bearer]
            command = "npx"
            args = ["-y", "mcp-remote", "\(url)", "--header", "Authorization: Bearer ${BEARER_TOKEN}", "--header", "X-Tenant:tenant-7"]
            """)
        let r = await s.run(["import", path], env: ["BEARER_TOKEN": Self.bearerToken])
        #expect(r.stdout == "added       bearer (was an mcp-remote bridge)\n", "\(r)")
        #expect(await s.run(["call", "bearer", "echo", "--arg", "text=bridged"]).stdout == "bridged\n")
    }
}
