import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

@Suite("CLI: doctor")
struct DoctorCLITests {
    private func findings(_ r: CLIResult) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for f in json(r)["findings"]?.arrayValue ?? [] {
            out[f["check"]?.stringValue ?? "", default: []].append(f["level"]?.stringValue ?? "")
        }
        return out
    }

    @Test func aFreshSetUpHasWarningsOnlyAndNothingIsCreated() async throws {
        let s = CLISandbox()
        let r = await s.run(["doctor", "--json"])
        #expect(r.status == 0, "\(r)")
        let f = findings(r)
        #expect(f["key"] == ["warning"] && f["store"] == ["warning"] && f["libcurl"] == ["ok"], "\(r)")
        #expect(!FileManager.default.fileExists(atPath: s.databasePath))
        #expect(!FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("config/mcpconn/key").path))
        let text = await s.run(["doctor"])
        #expect(text.status == 0 && text.stdout.contains("libcurl") && text.stdout.contains("warning"), "\(text)")
    }

    @Test func aSoundSetUpIsAllOKAndProblemsGiveTheirExitCodes() async throws {
        let server = try await TestServer.start("reference_server.py")
        defer { server.stop() }
        let s = CLISandbox()
        #expect(
            await s.run(["add", "ref", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k\n")
                .status == 0)
        let good = await s.run(["doctor", "--json", "--connectors"])
        #expect(good.status == 0, "\(good)")
        #expect(
            findings(good)["key/store"] == ["ok"] && findings(good)["integrity"] == ["ok"]
                && findings(good)["connector"] == ["ok"] && findings(good)["seals"] == ["ok"], "\(good)")

        // A row changed outside mcpconn: 65, naming it and what changed.
        try await offPool {
            try Store(path: s.databasePath).write { db in
                try db.execute("UPDATE user_mcp_connections SET server_url = 'http://127.0.0.1:9/mcp'", [])
            }
        }
        let changed = await s.run(["doctor", "--json"])
        #expect(changed.status == 65 && findings(changed)["seals"] == ["problem"], "\(changed)")
        #expect(changed.stderr.contains("'ref' of user 1 (server_url)"), "\(changed)")
        // The owner puts the URL back while accepting: the credentials still open for it.
        let back = await s.run(["update", "ref", "--url", server.base + "/mcp", "--accept-change"])
        #expect(back.status == 0, "\(back)")

        // The store's pinned-mode setting rewritten by plain SQL: 65, said; set again through mcpconn: ok.
        #expect(await s.run(["policy", "--pinned"]).status == 0)
        #expect(findings(await s.run(["doctor", "--json"]))["pinned mode"] == ["ok"])
        try await offPool {
            try Store(path: s.databasePath).write { db in
                try db.execute("UPDATE meta SET value = 'open' || substr(value, 7) WHERE key = 'pin_policy'", [])
            }
        }
        let unpinned = await s.run(["doctor", "--json"])
        #expect(unpinned.status == 65 && findings(unpinned)["pinned mode"] == ["problem"], "\(unpinned)")
        #expect(await s.run(["policy"]).stdout.hasPrefix("pinned (the setting was changed outside mcpconn"))
        #expect(await s.run(["policy", "--unpinned"]).status == 0)

        // A connector that does not answer: 69, the worst problem, one line on stderr.
        server.stop()
        let down = await s.run(["doctor", "--connectors"])
        #expect(
            down.status == 69 && down.stderr.split(separator: "\n").count == 1 && down.stdout.contains("problem"),
            "\(down)")

        // Another key than the store's: 78.
        let wrong = await s.run(
            ["doctor", "--json"], env: ["TOKEN_ENCRYPTION_KEY": String(repeating: "ef", count: 32)])
        #expect(wrong.status == 78 && findings(wrong)["key/store"] == ["problem"], "\(wrong)")

        // A key file others can read: refused, 78.
        let keyFile = s.dir.appendingPathComponent("config/mcpconn/key").path
        chmod(keyFile, 0o644)
        let open = await s.run(["doctor", "--json"])
        #expect(open.status == 78 && findings(open)["key"] == ["problem"], "\(open)")
        chmod(keyFile, 0o600)

        // A store file others can read: a warning (the secrets in it are sealed).
        chmod(s.databasePath, 0o644)
        let loose = await s.run(["doctor", "--json"])
        #expect(loose.status == 0 && findings(loose)["store file"] == ["warning"], "\(loose)")

        // A store a newer mcpconn migrated further: a warning.
        try Store(path: s.databasePath).write { db in
            try db.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v99 from the future')", [])
        }
        let ahead = await s.run(["doctor", "--json"])
        #expect(ahead.status == 0 && findings(ahead)["schema"] == ["warning"], "\(ahead)")

        // A damaged database: 78.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: s.databasePath))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(repeating: 0x41, count: 200))
        try handle.close()
        let broken = await s.run(["doctor", "--json"])
        #expect(broken.status == 78 && findings(broken)["store"] == ["problem"], "\(broken)")
    }
}
