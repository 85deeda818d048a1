import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Hosts sharing one PostgreSQL store: each "host" is a sandbox with its own HOME, the same store URL and the
/// same key, running the built binary.
private func hosts(_ n: Int, url: String, key: String = String(repeating: "cd", count: 32)) -> [CLISandbox] {
    (0..<n).map { _ in
        let s = CLISandbox()
        s.environment["MCPCONN_DB"] = url
        s.environment["TOKEN_ENCRYPTION_KEY"] = key
        return s
    }
}

private func newDatabase() async throws -> String {
    try await offPool { try PostgresServer.shared().createDatabase() }
}

private func psql(_ url: String, _ sql: String) async throws -> String {
    let db = String(url.split(separator: "/").last ?? "")
    return try await offPool { try PostgresServer.shared().psql(db, sql) }
}

@Suite("CLI: a store shared by several hosts on PostgreSQL", .timeLimit(.minutes(3)))
struct SharedStoreCLITests {
    @Test func everyVerbWorksAcrossHosts() async throws {
        let server = try await TestServer.start("reference_server.py", ["--require-header", "X-API-Key=k-123"])
        defer { server.stop() }
        let url = try await newDatabase()
        let h = hosts(2, url: url)
        let add = await h[0].run(
            ["add", "ref", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k-123\n")
        #expect(add.status == 0, "\(add)")
        #expect(await h[0].run(["verify", "ref"]).status == 0)
        // The other host sees the connector, its tools and its history, and uses its sealed key.
        let listed = json(await h[1].run(["list", "--json"])).arrayValue ?? []
        #expect(listed.count == 1 && listed.first?["is_verified"] == true && listed.first?["has_credentials"] == true)
        #expect((listed.first?["tool_count"]?.intValue ?? 0) > 0)
        let call = await h[1].run(["call", "ref", "echo", "--arg", "text=from host 2"])
        #expect(call.status == 0 && call.stdout == "from host 2\n", "\(call)")
        #expect(await h[1].run(["refresh", "--all"]).status == 0)
        #expect(await h[1].run(["health", "ref"]).status == 0)
        let history = json(await h[0].run(["history", "ref", "--json"]))
        #expect(
            history.arrayValue?.map { $0["kind"]?.stringValue ?? "" } == ["health", "refresh", "verify"], "\(history)")
        #expect(await h[0].run(["list"]).stdout.contains(" api_key "))
        // Names are unique per user across hosts; other users are apart.
        #expect(await h[1].run(["add", "ref", "https://b.example/mcp"]).status == 65)
        #expect(await h[1].run(["add", "ref", "https://b.example/mcp", "--user", "2"]).status == 0)
        #expect(await h[0].run(["update", "ref", "--description", "shared"]).status == 0)
        #expect(json(await h[1].run(["get", "ref", "--json"]))["description"] == "shared")
        #expect(await h[1].run(["delete", "ref"]).status == 0)
        #expect(json(await h[0].run(["list", "--json"])).arrayValue?.isEmpty == true)
        #expect(try await psql(url, "SELECT COUNT(*) FROM connector_history") == "0")
        // The secret is sealed in the database too.
        #expect(
            try await psql(url, "SELECT COUNT(*) FROM user_mcp_connections WHERE auth_config LIKE '%k-123%'") == "0")
    }

    @Test func serveOnASharedStoreRoutesAndHearsAnotherHostsRefresh() async throws {
        let url = try await newDatabase()
        let h = hosts(2, url: url)
        let tools = try await ChangingTools(h[0])
        let r = try await ServeCLITests.session(
            h[1], ["t"], steps: [["call": "echo", "arguments": ["text": "shared"]]])
        #expect(r.tools == ["echo"] && r.calls.first?["text"] == "shared", "\(r)")
        // Host 0 serves; host 1 finds a new tool: the change token moves and the client is told.
        let serve = try await RawServe(h[0], ["t"])
        try serve.initialize()
        #expect(try await eventually { serve.output.text.contains("\"listChanged\":true") })
        try "echo\nnew_tool\n".write(to: tools.file, atomically: true, encoding: .utf8)
        #expect(await h[1].run(["refresh", "t"]).stdout.contains("new_tool"))
        #expect(
            try await eventually { serve.output.text.contains("notifications/tools/list_changed") },
            "\(serve.output.text)")
        #expect(await serve.finish() == 0)
    }

    /// Prompts, resources and templates in a shared store migrated from schema 9: the row verified before keeps
    /// its first refresh quiet about them (nothing to compare against), then they drift as tools do, seen from
    /// both hosts; history written before reads as before.
    @Test func promptsAndResourcesDriftAcrossHostsFromAStoreOfSchema9() async throws {
        let url = try await newDatabase()
        let h = hosts(2, url: url)
        let file = h[0].dir.appendingPathComponent("surface.json")
        try Data(#"{"prompts": [{"name": "greet", "description": "Hi."}]}"#.utf8).write(to: file)
        let server = try await TestServer.start("fault_server.py", ["--surface-file", file.path])
        defer { server.stop() }
        #expect(await h[0].run(["add", "drift", server.base + "/mcp-slow?delay=0"]).status == 0)
        #expect(await h[0].run(["verify", "drift"]).status == 0)
        _ = try await psql(
            url,
            """
            ALTER TABLE user_mcp_connections DROP COLUMN discovered_prompts, DROP COLUMN discovered_resources, \
            DROP COLUMN discovered_resource_templates; \
            DELETE FROM grdb_migrations WHERE identifier = 'v10 discovered surface'; \
            UPDATE connector_history SET diff = '{"added":["echo"],"removed":[],"changed":[]}'
            """)
        let upgraded = await h[1].run(["refresh", "drift", "--fail-on-change"])
        #expect(upgraded.status == 0 && upgraded.stdout == "drift: 1 tools, unchanged\n", "\(upgraded)")
        #expect(try await psql(url, "SELECT discovered_prompts FROM user_mcp_connections").contains("greet"))

        try Data(
            #"{"prompts": [{"name": "greet", "description": "Hello."}], "resourceTemplates": [{"uriTemplate": "m://{id}", "name": "m"}]}"#
                .utf8
        ).write(to: file)
        let drifted = await h[1].run(["refresh", "drift", "--fail-on-change", "--json"])
        #expect(drifted.status == 1, "\(drifted)")
        let entry = json(drifted).arrayValue?.first
        #expect(entry?["prompts"]?["changed"] == ["greet"] && entry?["templates"]?["added"] == ["m://{id}"])
        let prompts = json(await h[0].run(["tools", "drift", "--kind", "prompts", "--json"]))
        #expect(prompts.arrayValue?.first?["description"] == "Hello.")
        #expect(await h[0].run(["tools", "drift", "--kind", "templates"]).stdout.contains("m://{id}"))
        let history = json(await h[0].run(["history", "drift", "--json"])).arrayValue ?? []
        #expect(history.map { $0["kind"]?.stringValue ?? "" } == ["refresh", "refresh", "verify"])
        #expect(history[0]["prompts"]?["changed"] == ["greet"])
        #expect(history[2]["added"] == ["echo"] && history[2]["prompts"]?["added"] == [], "\(history)")
        #expect(await h[0].run(["history", "drift"]).stdout.contains("prompt greet changed, template m://{id} added"))
    }

    @Test func pgpassAndSSLModeComeFromLibpq() async throws {
        let (url, user, password) = try await offPool { try PostgresServer.shared().createDatabaseWithPassword() }
        let s = hosts(1, url: url)[0]
        let port = url.split(separator: ":").last?.split(separator: "/").first ?? ""
        let pgpass = s.dir.appendingPathComponent(".pgpass")
        try "127.0.0.1:\(port):*:\(user):\(password)\n".write(to: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass.path, 0o600)
        #expect(await s.run(["add", "one", "https://a.example/mcp"]).status == 0)
        // The test server offers no TLS: a URL that requires it is refused, as libpq decides.
        let tls = await s.run(["list"], env: ["MCPCONN_DB": url + "?sslmode=require"])
        #expect(tls.status == 78 && tls.stderr.contains("SSL"), "\(tls)")
    }

    @Test func anotherKeyIsRefusedWithNothingWritten() async throws {
        let url = try await newDatabase()
        let a = hosts(1, url: url)[0]
        #expect(
            await a.run(["add", "one", "https://a.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "s1\n")
                .status == 0)
        let b = hosts(1, url: url, key: String(repeating: "ef", count: 32))[0]
        let r = await b.run(
            ["add", "two", "https://b.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "s2\n")
        #expect(r.status == 78 && r.stderr.contains("encrypted with another key"), "\(r)")
        #expect(try await psql(url, "SELECT string_agg(name, ',') FROM user_mcp_connections") == "one")
        #expect(await b.run(["get", "one", "--json"]).status == 0)  // nothing secret read: allowed
        #expect(await b.run(["call", "one", "x"]).status == 78)
    }

    @Test func passwordsStayOutOfEveryMessage() async throws {
        let (url, user, password) = try await offPool { try PostgresServer.shared().createDatabaseWithPassword() }
        let withPassword = url.replacingOccurrences(of: "://\(user)@", with: "://\(user):\(password)@")
        let s = hosts(1, url: withPassword)[0]
        #expect(await s.run(["add", "one", "https://a.example/mcp"]).status == 0)
        // From PGPASSWORD instead of the URL, as a cron line would.
        #expect(await s.run(["list"], env: ["MCPCONN_DB": url, "PGPASSWORD": password]).status == 0)
        let wrong = url.replacingOccurrences(of: "://\(user)@", with: "://\(user):not-\(password)@")
        let refused = await s.run(["list"], env: ["MCPCONN_DB": wrong])
        #expect(refused.status == 78, "\(refused)")
        #expect(refused.stderr.contains("127.0.0.1:") && refused.stderr.contains("password authentication failed"))
        #expect(!refused.stderr.contains(password) && refused.stderr.split(separator: "\n").count == 1)
        let closed = await s.run(["list"], env: ["MCPCONN_DB": "postgresql://u:\(password)@127.0.0.1:1/x"])
        #expect(
            closed.status == 78 && closed.stderr.contains("127.0.0.1:1/x") && !closed.stderr.contains(password),
            "\(closed)")
        // An export's bridge names the store without its password, and keeps its parameters (sslmode).
        #expect(
            await s.run(
                ["add", "keyed", "https://k.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "sk\n"
            ).status == 0)
        let tls = withPassword + "?sslmode=disable&application_name=cron"
        let exported = await s.run(["export", "--to", "claude-code"], env: ["MCPCONN_DB": tls])
        #expect(exported.status == 0 && !exported.stdout.contains(password), "\(exported)")
        #expect(exported.stdout.contains(url + "?sslmode=disable&application_name=cron"), "\(exported)")
        // serve --http hands the URL to mcpconn-serve-http in its environment, not on its command line.
        s.environment["MCPCONN_SERVE_TOKEN"] = String(repeating: "t", count: 40)
        let (p, exit) = try await s.start(["serve", "one", "--http", "127.0.0.1:0"])
        defer { kill(p.processIdentifier, SIGTERM) }
        var cmdline = ""
        _ = try await eventually {
            cmdline = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/cmdline", encoding: .utf8)) ?? ""
            return cmdline.contains("--plan")
        }
        #expect(
            cmdline.contains("--plan") && !cmdline.contains(password) && !cmdline.contains("postgresql://"),
            "\(cmdline)")
        kill(p.processIdentifier, SIGTERM)
        _ = await exit.wait()
    }

    @Test func datesStayUTCWhateverTheEnvironmentSays() async throws {
        let url = try await newDatabase()
        let s = hosts(1, url: url)[0]
        let env = ["PGTZ": "America/New_York", "PGDATESTYLE": "German", "TZ": "Asia/Tokyo"]
        #expect(await s.run(["add", "one", "https://a.example/mcp"], env: env).status == 0)
        let created = json(await s.run(["get", "one", "--json"], env: env))["created_at"]?.stringValue ?? ""
        // A UTC timestamp ("Z"), within two minutes of now: a time read in Tokyo or New York is hours off.
        let now = Date()
        let stored = Timestamp.parseAnyShape(created)
        #expect(created.hasSuffix("Z") && abs(stored.timeIntervalSince(now)) < 120, "stored \(created), now \(now)")
        #expect(
            try await psql(url, "SELECT abs(extract(epoch FROM now() - created_at)) < 120 FROM user_mcp_connections")
                == "t")
    }

    @Test func aHostWithoutTheKeyGetsNoKeyFileOfItsOwn() async throws {
        let url = try await newDatabase()
        let a = hosts(1, url: url)[0]
        #expect(
            await a.run(["add", "one", "https://a.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "s1\n")
                .status == 0)
        let b = CLISandbox()
        b.environment["MCPCONN_DB"] = url
        let r = await b.run(
            ["add", "two", "https://b.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "s2\n")
        #expect(r.status == 78 && r.stderr.contains("no encryption key"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: b.dir.appendingPathComponent("config/mcpconn/key").path))
        // A store with nothing sealed lets a host start its key.
        let fresh = try await newDatabase()
        b.environment["MCPCONN_DB"] = fresh
        #expect(
            await b.run(["add", "two", "https://b.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "s2\n")
                .status == 0)
    }

    @Test func importKnowsABridgeToThisStoreWhateverItsSpelling() async throws {
        let url = try await newDatabase()
        let s = hosts(1, url: url)[0]
        #expect(await s.run(["add", "a", "https://a.example/mcp"]).status == 0)
        let other = url.replacingOccurrences(of: "postgresql://", with: "postgres://") + "?sslmode=disable"
        let config = s.dir.appendingPathComponent("claude_desktop_config.json")
        try
            #"{"mcpServers": {"loop": {"command": "mcpconn", "args": ["serve", "a", "--db", "\#(other)"]}, "elsewhere": {"command": "mcpconn", "args": ["serve", "a", "--db", "postgresql://u@db.example:5433/other"]}}}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let r = await s.run(["import", config.path, "--json"])
        let actions = Dictionary(
            uniqueKeysWithValues: (json(r)["entries"]?.arrayValue ?? []).map {
                ($0["name"]?.stringValue ?? "", $0["action"]?.stringValue ?? "")
            })
        #expect(actions == ["loop": "unchanged", "elsewhere": "added"], "\(r)")
    }

    @Test func aDroppedConnectionIsReopenedAndALostStoreIs69() async throws {
        let url = try await newDatabase()
        let store = try await offPool { try Store.open(url) }
        let m = ConnectorManager(store: store, userID: 1, keys: KeyProvider(environment: [:], notice: { _ in }))
        _ = try m.storage.add(ConnectorInput(name: "a", serverURL: "https://a.example/mcp"))
        let db = String(url.split(separator: "/").last ?? "")
        let terminate =
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db)' AND pid <> pg_backend_pid()"
        // Dropped (a restart, an idle timeout, a proxy): the next transaction connects again and goes on.
        _ = try await psql(url, terminate)
        #expect(try m.storage.list().map(\.name) == ["a"])
        _ = try m.storage.add(ConnectorInput(name: "b", serverURL: "https://b.example/mcp"))
        // Gone for good: 69, naming the store. (The database is this test's own: it is left refusing.)
        _ = try await offPool {
            try PostgresServer.shared().psql("postgres", "ALTER DATABASE \(db) ALLOW_CONNECTIONS false")
        }
        _ = try await offPool { try PostgresServer.shared().psql("postgres", terminate) }
        do {
            _ = try m.storage.list()
            Issue.record("a lost store went unnoticed")
        } catch {
            #expect(error.status == .unavailable && error.message.contains("127.0.0.1:"), "\(error)")
        }
        #expect(store.lostError?.status == .unavailable)
    }

    @Test func aStoreLostMidFleetEndsTheRunOnceWith69() async throws {
        let server = try await privateSlowServer()
        defer { server.stop() }
        let url = try await newDatabase()
        let s = hosts(1, url: url)[0]
        for i in 1...12 { await s.run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.3&n=\(i)"]) }
        let db = String(url.split(separator: "/").last ?? "")
        let err = s.dir.appendingPathComponent("fleet.err")
        let (p, exit) = try await s.start(["refresh", "--all", "--concurrency", "2"], stderr: err)
        // Once the run has stored a result, the database (this test's own) refuses it, for good.
        var written = 0
        #expect(
            try await eventually {
                written = Int(try await psql(url, "SELECT COUNT(*) FROM connector_history")) ?? 0
                return written > 0
            })
        _ = try await offPool {
            try PostgresServer.shared().psql("postgres", "ALTER DATABASE \(db) ALLOW_CONNECTIONS false")
        }
        _ = try await offPool {
            try PostgresServer.shared().psql(
                "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db)'")
        }
        let status = await exit.wait()
        _ = p
        let lines = (try String(contentsOf: err, encoding: .utf8)).split(separator: "\n")
        #expect(
            status == 69 && lines.count == 1 && lines[0].contains("lost the PostgreSQL store"), "\(status) \(lines)")
        #expect(written < 12)
    }

    @Test func oddInputAndOddDatabasesAreClearErrors() async throws {
        let s = hosts(1, url: try await newDatabase())[0]
        // A typo is not a file to create.
        let typo = await s.run(["list"], env: ["MCPCONN_DB": "postgresql:/postgres@127.0.0.1/x"])
        #expect(typo.status == 64 && typo.stderr.contains("not a PostgreSQL URL"), "\(typo)")
        // A database that cannot hold any Unicode text.
        _ = try await offPool {
            try PostgresServer.shared().psql(
                "postgres", "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        }
        let port = try await offPool { try PostgresServer.shared().port }
        let latin = await s.run(["list"], env: ["MCPCONN_DB": "postgresql://postgres@127.0.0.1:\(port)/latin"])
        #expect(latin.status == 78 && latin.stderr.contains("LATIN1"), "\(latin)")
        // Four imports of one file at once: one after the other, none failing on the others' names.
        let config = s.dir.appendingPathComponent("claude_desktop_config.json")
        let servers = (1...20).map { #""s\#($0)": {"command": "/bin/true", "args": ["\#($0)"]}"# }.joined(
            separator: ", ")
        try #"{"mcpServers": {\#(servers), "nul": {"url": "https://a.example/m\u0000cp"}}}"#.write(
            to: config, atomically: true, encoding: .utf8)
        let runs = await withTaskGroup(of: CLIResult.self) { g in
            for _ in 0..<4 { g.addTask { await s.run(["import", config.path, "--from", "claude-code"]) } }
            return await g.reduce(into: []) { $0.append($1) }
        }
        for r in runs {
            #expect(
                r.status == 1 && r.stderr.contains("nul: invalid server URL") && !r.stderr.contains("duplicate"), "\(r)"
            )
        }
        #expect(json(await s.run(["list", "--json"])).arrayValue?.count == 20)
    }

    @Test func concurrentRefreshesOfOneGrantAcrossHosts() async throws {
        // Access tokens that live 30 s are always within the refresh margin: every call refreshes first, and
        // each refresh rotates the refresh token. Four hosts race for it.
        let server = try await TestServer.start("oauth_server.py", ["--access-ttl", "30"])
        defer { server.stop() }
        let url = try await newDatabase()
        let h = hosts(4, url: url)
        #expect(await h[0].run(["add", "secure", server.base + "/mcp", "--auth", "oauth"]).status == 0)
        #expect(await login(h[0], ["secure"]).status == 0)
        let results = await withTaskGroup(of: CLIResult.self) { g in
            for (i, s) in h.enumerated() {
                g.addTask { await s.run(["call", "secure", "echo", "--arg", "text=h\(i)"]) }
            }
            return await g.reduce(into: []) { $0.append($1) }
        }
        for r in results { #expect(r.status == 0, "\(r)") }
        let st = await stats(server)
        #expect(st["stale_refreshes"] == 0, "a host spent a rotated refresh token: \(st)")
        #expect(st["refreshes"] == 4)
        #expect(await h[3].run(["call", "secure", "echo", "--arg", "text=after"]).stdout == "after\n")
    }

    @Test func aHostKilledMidRefreshFreesTheGrant() async throws {
        // The token endpoint holds the first refresh until its client dies, and then drops it.
        let server = try await TestServer.start("oauth_server.py", ["--access-ttl", "30", "--hold-first-refresh"])
        defer { server.stop() }
        let url = try await newDatabase()
        let h = hosts(2, url: url)
        #expect(await h[0].run(["add", "secure", server.base + "/mcp", "--auth", "oauth"]).status == 0)
        #expect(await login(h[0], ["secure"]).status == 0)
        let db = String(url.split(separator: "/").last ?? "")
        let held =
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = '\(db)'"
        // While host 0 refreshes (its lock held, its token request waiting), host 1 waits for the lock.
        let (p, exit) = try await h[0].start(["call", "secure", "echo", "--arg", "text=killed"])
        #expect(try await eventually { try await psql(url, held) == "1" })
        let waiting = await h[1].run(["call", "secure", "echo", "--arg", "text=x", "--timeout", "0.5"])
        #expect(waiting.status == 75 && waiting.stderr.contains("refresh lock"), "\(waiting)")
        // Killed mid-refresh: the server ends its session and its lock; the grant is intact for the others.
        kill(p.processIdentifier, SIGKILL)
        _ = await exit.wait()
        let r = await h[1].run(["call", "secure", "echo", "--arg", "text=survivor"])
        #expect(r.status == 0 && r.stdout == "survivor\n", "\(r)")
        let st = await stats(server)
        #expect(st["stale_refreshes"] == 0 && st["refreshes"] == 1, "\(st)")
    }

    @Test func runnersSplitAFleetAndAKilledRunnersClaimsExpire() async throws {
        let server = try await privateSlowServer()
        defer { server.stop() }
        let url = try await newDatabase()
        let h = hosts(4, url: url)
        for i in 1...24 { await h[0].run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.3&n=\(i)"]) }
        let runs = await withTaskGroup(of: CLIResult.self) { g in
            for s in h {
                g.addTask { await s.run(["refresh", "--all", "--claim", "3600", "--json", "--concurrency", "4"]) }
            }
            return await g.reduce(into: []) { $0.append($1) }
        }
        var done: [String] = []
        for r in runs {
            #expect(r.status == 0, "\(r)")
            done += json(r).arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        #expect(done.count == 24 && Set(done).count == 24, "each connector once: \(done.sorted())")
        #expect(runs.filter { (json($0).arrayValue?.count ?? 0) > 0 }.count >= 2, "the work was split")
        // Within the window there is nothing left to claim.
        let again = await h[0].run(["refresh", "--all", "--claim", "3600", "--json"])
        #expect(again.status == 0 && json(again).arrayValue?.isEmpty == true, "\(again)")
        // Without --claim everything is refreshed as before.
        #expect(json(await h[1].run(["refresh", "--all", "--json"])).arrayValue?.count == 24)

        // A runner killed mid-fleet keeps its claims until their lease ends; then another takes them.
        _ = try await psql(url, "UPDATE connector_claims SET done_at = done_at - interval '2 hours'")
        let (p, exit) = try await h[2].start(["refresh", "--all", "--claim", "3600", "--concurrency", "2"])
        let live = "SELECT COUNT(*) FROM connector_claims WHERE lease_until > now()"
        #expect(try await eventually { Int(try await psql(url, live)) ?? 0 > 0 })
        kill(p.processIdentifier, SIGKILL)
        _ = await exit.wait()
        let held = Int(try await psql(url, live)) ?? 0
        #expect(held > 0)
        let rest = json(await h[3].run(["refresh", "--all", "--claim", "3600", "--json"])).arrayValue?.count ?? 0
        #expect(rest > 0 && rest <= 24 - held)
        _ = try await psql(
            url, "UPDATE connector_claims SET lease_until = now() - interval '1 second' WHERE lease_until > now()")
        let freed = json(await h[3].run(["refresh", "--all", "--claim", "3600", "--json"])).arrayValue?.count ?? 0
        #expect(freed == held, "the killed runner's connectors, once its lease ended")
    }

    @Test func aSingleTargetLeftToAnotherRunnerIsNoFailure() async throws {
        let server = try await TestServer.start("reference_server.py")
        defer { server.stop() }
        let s = CLISandbox()
        await s.run(["add", "ref", server.base + "/mcp"])
        #expect(await s.run(["verify", "ref", "--claim", "600"]).status == 0)
        let skipped = await s.run(["verify", "ref", "--claim", "600", "--json"])
        #expect(skipped.status == 0 && skipped.stdout == "null\n", "\(skipped)")
        #expect(await s.run(["health", "ref", "--claim", "600"]).status == 0)
    }

    @Test func claimsSplitProcessesOnOneMachineToo() async throws {
        let server = try await privateSlowServer()
        defer { server.stop() }
        let s = CLISandbox()
        for i in 1...12 { await s.run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.3&n=\(i)"]) }
        let runs = await withTaskGroup(of: CLIResult.self) { g in
            for _ in 0..<3 { g.addTask { await s.run(["health", "--all", "--claim", "600", "--json"]) } }
            return await g.reduce(into: []) { $0.append($1) }
        }
        let names = runs.flatMap { json($0).arrayValue?.compactMap { $0["name"]?.stringValue } ?? [] }
        #expect(names.count == 12 && Set(names).count == 12, "\(runs)")
    }
}

extension SharedStoreWriterCLITests {
    /// A shared store as an earlier mcpconn left it (schema 7: no row seals, a key in the old secretbox form),
    /// used by two hosts at once: one seals every row, the other finds it done, and no secret is lost.
    @Test func aStoreFromBeforeSealsIsSealedOnceWithNoSecretLost() async throws {
        let server = try await TestServer.start("reference_server.py", ["--require-header", "X-API-Key=k-123"])
        defer { server.stop() }
        let url = try await newDatabase()
        let key = String(repeating: "cd", count: 32)
        let h = hosts(2, url: url, key: key)
        #expect(
            await h[0].run(
                ["add", "ref", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k-123\n"
            )
            .status == 0)
        for i in 0..<5 { #expect(await h[0].run(["add", "c\(i)", "https://c\(i).example/mcp"]).status == 0) }
        let old = legacySeal(
            Credentials.apiKey("k-123", header: nil).fields.jsonBytes,
            key: try EncryptionKey.parse(key, source: "k").bytes)
        _ = try await psql(
            url,
            "UPDATE user_mcp_connections SET row_seal = NULL, auth_config = CASE WHEN name = 'ref' THEN '\(old)' END; DELETE FROM meta WHERE key = 'seal_format'"
        )
        async let first = h[0].run(["toggle", "c0", "--off"])
        async let second = h[1].run(["call", "ref", "echo", "--arg", "text=sealed"])
        let (a, b) = await (first, second)
        #expect(a.status == 0, "\(a)")
        #expect(b.status == 0 && b.stdout == "sealed\n", "\(b)")
        #expect(try await psql(url, "SELECT COUNT(*) FROM user_mcp_connections WHERE row_seal IS NULL") == "0")
        #expect(try await psql(url, "SELECT COUNT(*) FROM user_mcp_connections WHERE auth_config LIKE 'v1:%'") == "0")
        #expect(try await psql(url, "SELECT value FROM meta WHERE key = 'seal_format'") == SealMigration.current)
        #expect(await h[1].run(["call", "ref", "echo", "--arg", "text=again"]).stdout == "again\n")
    }
}

/// A TCP port that listens but never accepts: whether anything connected to it shows in its queue.
private final class TrapListener {
    let fd: Int32
    let port: Int

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether a connection is waiting (the kernel completes the handshake without an accept).
    var wasReached: Bool {
        let c = accept(fd, nil, nil)
        if c >= 0 { close(c) }
        return c >= 0
    }

    deinit { close(fd) }
}

/// A writer of the shared store without the key (another role of the database): issue 29's attacks, tried with
/// the real server and a local one. They may delete connectors or stop them from working, and nothing more.
@Suite("CLI: a writer of a shared store without the key", .timeLimit(.minutes(3)))
struct SharedStoreWriterCLITests {
    @Test func aWriterWithoutTheKeyGetsNoSecretAndRunsNothing() async throws {
        let server = try await TestServer.start("reference_server.py", ["--require-header", "X-API-Key=k-123"])
        defer { server.stop() }
        let url = try await newDatabase()
        let h = hosts(1, url: url)[0]
        let trap = TrapListener()
        let stolen = h.dir.appendingPathComponent("stolen").path
        #expect(
            await h.run(["add", "ref", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k-123\n")
                .status == 0)
        #expect(
            await h.run([
                "add", "local", "--env", "GITHUB_TOKEN=ghp-local-secret-1", "--", TestServer.python,
                StdioCLITests.server,
            ]).status == 0)
        #expect(await h.run(["add", "mine", "http://127.0.0.1:\(trap.port)/mcp", "--user", "2"]).status == 0)
        #expect(await h.run(["call", "ref", "echo", "--arg", "text=before"]).stdout == "before\n")

        // 1. The URL pointed at the writer's listener: nothing is sent there.
        _ = try await psql(
            url, "UPDATE user_mcp_connections SET server_url = 'http://127.0.0.1:\(trap.port)/mcp' WHERE name = 'ref'")
        // 2. The command changed to the writer's: it does not run, with or without the connector's secret.
        _ = try await psql(
            url,
            "UPDATE user_mcp_connections SET command = '/bin/sh', command_args = '[\"-c\",\"echo $GITHUB_TOKEN > \(stolen)\"]' WHERE name = 'local'"
        )
        // 3. The sealed key copied into another user's connector that points at the writer.
        _ = try await psql(
            url,
            "UPDATE user_mcp_connections SET (auth_type, auth_config) = (SELECT auth_type, auth_config FROM user_mcp_connections WHERE name = 'ref') WHERE name = 'mine'"
        )
        // A fleet reports each connector and exits 1, as for any failure of some of its connectors.
        for (args, column, status) in [
            (["call", "ref", "echo", "--arg", "text=x"], "server_url", 65), (["verify", "ref"], "server_url", 65),
            (["call", "local", "echo", "--arg", "text=x"], "command, command_args", 65),
            (["health", "--all"], "command, command_args", 1),
            (["call", "mine", "echo", "--user", "2"], "auth_type, auth_config", 65),
        ] {
            let r = await h.run(args)
            #expect(r.status == status && r.stderr.contains("changed outside mcpconn (\(column))"), "\(args): \(r)")
            #expect(r.stderr.contains("--accept-change"), "\(r)")
        }
        // serve refuses the call too, with the same reason (the client never gets a secret either way).
        let served = try await ServeCLITests.session(
            h, ["local"], steps: [["call": "echo", "arguments": ["text": "x"]]])
        #expect(served.calls.first?["isError"] == true, "\(served)")
        #expect(served.calls.first?.compactText().contains("changed outside mcpconn") == true, "\(served)")
        #expect(!trap.wasReached)
        #expect(!FileManager.default.fileExists(atPath: stolen))

        // The owner checks and accepts a change on the same origin: the key still opens and the call works.
        _ = try await psql(
            url, "UPDATE user_mcp_connections SET server_url = '\(server.base)/mcp?tenant=a' WHERE name = 'ref'")
        #expect(await h.run(["call", "ref", "echo", "--arg", "text=x"]).status == 65)
        let accept = await h.run(["update", "ref", "--accept-change"])
        #expect(accept.status == 0, "\(accept)")
        #expect(await h.run(["call", "ref", "echo", "--arg", "text=after"]).stdout == "after\n")
        // Accepting the writer's command does not hand it the sealed variables: they must be given again.
        let refused = await h.run(["update", "local", "--accept-change"])
        #expect(refused.status == 78 && refused.stderr.contains("needs them again"), "\(refused)")
        // What a writer may do: delete a connector, or stop it from working.
        _ = try await psql(url, "DELETE FROM user_mcp_connections WHERE name = 'mine'")
        #expect(await h.run(["get", "mine", "--user", "2"]).status == 66)
    }
}
