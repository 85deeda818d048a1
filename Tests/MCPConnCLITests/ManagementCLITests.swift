import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

@Suite("CLI: add, list, get, update, delete, toggle, tools", .timeLimit(.minutes(3)))
struct ManagementCLITests {
    static let connectorKeys: Set<String> = [
        "id", "user_id", "name", "description", "server_url", "connector_type", "auth_type", "is_active",
        "is_verified", "tool_count", "last_verified_at", "created_at", "updated_at",
    ]

    @Test func addPrintsTheIdAndJSONHasTheContractKeys() async throws {
        let s = CLISandbox()
        let add = await s.run(["add", "docs", "https://mcp.notion.com/mcp", "--description", "Team docs"])
        // Every connector is sealed under the store's key (docs/security.md): the first one creates it, once.
        #expect(add.status == 0 && add.stdout == "1\n", "\(add)")
        #expect(add.stderr.hasPrefix("mcpconn: created a new encryption key at "), "\(add)")
        let j = json(await s.run(["add", "chat", "https://example.com/slack/mcp", "--json"]))
        #expect(Self.connectorKeys.isSubset(of: Set(j.objectValue?.keys ?? [])))
        #expect(j["id"] == 2 && j["connector_type"] == "slack" && j["auth_type"] == "none")
        #expect(j["is_active"] == true && j["is_verified"] == false && j["last_verified_at"] == .null)
        let created = try #require(j["created_at"]?.stringValue)
        #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil)
        let list = json(await s.run(["list", "--json"]))
        #expect(list.arrayValue?.map { $0["name"]?.stringValue ?? "" } == ["docs", "chat"])
        let get = json(await s.run(["get", "docs", "--json"]))
        #expect(get["description"] == "Team docs" && get["discovered_tools"] == [])
        #expect(Self.connectorKeys.union(["discovered_tools"]).isSubset(of: Set(get.objectValue?.keys ?? [])))
        #expect(json(await s.run(["list", "--json", "--user", "2"])) == [])
    }

    @Test func humanListIsAnAlignedTable() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://mcp.notion.com/mcp"])
        await s.run(["add", "longer-name", "https://mcp.linear.app/mcp"])
        let out = await s.run(["list"]).stdout
        let lines = out.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(out)")
        #expect(lines[0].hasPrefix("ID  NAME         TYPE    AUTH  ACTIVE  VERIFIED  TOOLS  URL"))
        let urlColumn = lines[0].range(of: "URL")!.lowerBound.utf16Offset(in: lines[0])
        #expect(lines.dropFirst().allSatisfy { $0.dropFirst(urlColumn).hasPrefix("https://") })
        #expect(await s.run(["list", "--user", "5"]).stdout.isEmpty)
        #expect(await s.run(["list", "--type", "linear"]).stdout.contains("longer-name"))
        #expect(await !s.run(["list", "--type", "linear"]).stdout.contains(" a "))
    }

    @Test func usageErrorsExit64() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        for args in [
            ["add", "b", "ftp://a.example"], ["add", "b", "https://a.example", "--auth", "basic"],
            ["add", "b", "https://a.example", "--type", "myspace"], ["toggle", "a", "--on", "--off"],
            ["list", "--active", "--inactive"], ["list", "--bogus"], ["add", "123", "https://a.example"],
            ["get", "a", "--user", "0"], ["add", "c", "https://a.example", "--secret-stdin", "--secret-env", "X"],
        ] {
            let r = await s.run(args)
            #expect(r.status == 64, "\(args): \(r)")
        }
        let env = await s.run(["list"], env: ["MCPCONN_USER": "abc"])
        #expect(env.status == 64 && env.stderr == "mcpconn: MCPCONN_USER must be a positive integer, not 'abc'\n")
    }

    @Test func notFoundIsScopedToTheUser() async throws {
        let s = CLISandbox()
        await s.run(["add", "mine", "https://a.example/mcp"])
        for args in [
            ["get", "mine"], ["get", "1"], ["delete", "mine"], ["toggle", "mine"], ["tools", "1"],
            ["update", "mine", "--description", "x"],
        ] {
            #expect(await s.run(args + ["--user", "2"]).status == 66, "\(args)")
            #expect(await s.run(args, env: ["MCPCONN_USER": "2"]).status == 66, "\(args)")
        }
        let r = await s.run(["get", "ghost"])
        #expect(r.status == 66 && r.stderr == "mcpconn: no connector 'ghost' for user 1\n")
        #expect(await s.run(["get", "mine"]).status == 0)
    }

    @Test func duplicateNamesExit65() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        let r = await s.run(["add", "a", "https://b.example/mcp"])
        #expect(r.status == 65)
        #expect(r.stderr == "mcpconn: a connector named 'a' already exists for user 1\n")
        #expect(await s.run(["add", "a", "https://b.example/mcp", "--user", "2"]).status == 0)
    }

    @Test func toggleFlipsAndSets() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        #expect(await s.run(["toggle", "a"]).stdout == "inactive\n")
        #expect(await s.run(["toggle", "a"]).stdout == "active\n")
        #expect(await s.run(["toggle", "a", "--on"]).stdout == "active\n")
        #expect(json(await s.run(["toggle", "a", "--off", "--json"]))["is_active"] == false)
        #expect(json(await s.run(["get", "a", "--json"]))["is_active"] == false)
    }

    @Test func updateAndDeleteAreQuiet() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        let u = await s.run(["update", "a", "--name", "b", "--description", "new"])
        #expect(u.status == 0 && u.stdout.isEmpty && u.stderr.isEmpty)
        #expect(json(await s.run(["get", "b", "--json"]))["description"] == "new")
        let d = await s.run(["delete", "b"])
        #expect(d.status == 0 && d.stdout.isEmpty && d.stderr.isEmpty)
        #expect(await s.run(["get", "b"]).status == 66)
        let t = await s.run(["tools", "1"])
        #expect(t.status == 66)
    }

    @Test func toolsOfANeverVerifiedConnectorPrintNothing() async throws {
        let s = CLISandbox()
        await s.run(["add", "a", "https://a.example/mcp"])
        let t = await s.run(["tools", "a"])
        #expect(t.status == 0 && t.stdout.isEmpty)
        #expect(t.stderr.contains("mcpconn verify a"))
        #expect(json(await s.run(["tools", "a", "--json"])) == [])
        for kind in ["prompts", "resources", "templates"] {
            let k = await s.run(["tools", "a", "--kind", kind])
            #expect(k.status == 0 && k.stdout.isEmpty, "\(kind): \(k)")
            #expect(k.stderr == "mcpconn: connector 'a' has no discovered \(kind) yet: run `mcpconn verify a`\n")
            #expect(json(await s.run(["tools", "a", "--kind", kind, "--json"])) == [])
        }
        #expect(await s.run(["tools", "a", "--kind", "widgets"]).status == 64)
    }

    @Test func secretsFromEverySourceNeverReachOutputOrTheDatabase() async throws {
        let s = CLISandbox()
        let secrets = ["stdin-s3cret-value", "env-s3cret-value", "file-s3cret-value"]
        let file = s.dir.appendingPathComponent("secret.txt")
        try Data((secrets[2] + "\n").utf8).write(to: file)
        var outputs: [CLIResult] = []
        outputs.append(
            await s.run(
                ["add", "a", "https://a.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: secrets[0]))
        outputs.append(
            await s.run(
                ["add", "b", "https://b.example/mcp", "--auth", "oauth", "--secret-env", "MY_TOKEN", "--json"],
                env: ["MY_TOKEN": secrets[1]]))
        outputs.append(
            await s.run([
                "add", "c", "https://c.example/mcp", "--auth", "api_key", "--key-header", "X-Key", "--secret-file",
                file.path,
            ]))
        #expect(outputs.allSatisfy { $0.status == 0 })
        #expect(outputs[0].stderr.contains("created a new encryption key"))
        #expect(!outputs[2].stderr.contains("created a new encryption key"))
        for args in [
            ["list"], ["list", "--json"], ["get", "a"], ["get", "b", "--json"], ["get", "c"], ["tools", "c"],
            ["toggle", "a"], ["update", "a", "--description", "x", "--json"],
        ] {
            outputs.append(await s.run(args))
        }
        #expect(outputs[3].stdout.contains("api_key"))
        #expect(await s.run(["get", "a"]).stdout.contains("credentials:   set"))
        for o in outputs {
            for secret in secrets {
                #expect(!o.stdout.contains(secret) && !o.stderr.contains(secret), "\(o)")
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            if let raw = FileManager.default.contents(atPath: s.databasePath + suffix) {
                for secret in secrets { #expect(raw.range(of: Data(secret.utf8)) == nil) }
            }
        }
        let dbMode = try FileManager.default.attributesOfItem(atPath: s.databasePath)[.posixPermissions] as? Int
        #expect(dbMode == 0o600)
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: s.dir.appendingPathComponent("config/mcpconn/key").path)[
                .posixPermissions] as? Int
        #expect(keyMode == 0o600)
        // Bad secret sources.
        #expect(
            await s.run(["add", "d", "https://d.example/mcp", "--auth", "api_key", "--secret-env", "UNSET_VAR"]).status
                == 65)
        #expect(
            await s.run(["add", "d", "https://d.example/mcp", "--auth", "api_key", "--secret-file", "/no/such"]).status
                == 66)
        #expect(
            await s.run(["add", "d", "https://d.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "").status
                == 65)
        #expect(await s.run(["add", "d", "https://d.example/mcp", "--auth", "api_key"]).status == 64)
    }

    @Test func keysMalformedOrDifferentExit78() async throws {
        let s = CLISandbox()
        let k1 = String(repeating: "ab", count: 32)
        #expect(
            await s.run(
                ["add", "a", "https://a.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "x1",
                env: ["TOKEN_ENCRYPTION_KEY": k1]
            ).status == 0)
        let bad = await s.run(
            ["add", "b", "https://b.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "x2",
            env: ["TOKEN_ENCRYPTION_KEY": "nope"])
        #expect(bad.status == 78 && bad.stderr.contains("TOKEN_ENCRYPTION_KEY is malformed"))
        let other = await s.run(
            ["add", "b", "https://b.example/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "x2",
            env: ["TOKEN_ENCRYPTION_KEY": String(repeating: "cd", count: 32)])
        #expect(other.status == 78 && other.stderr.contains("encrypted with another key"))
        #expect(json(await s.run(["list", "--json"])).arrayValue?.count == 1)
        // The key file (no env key) is yet another key: refused too.
        #expect(await s.run(["update", "a", "--secret-stdin"], stdin: "x3").status == 78)
        // Listing needs no key at all.
        #expect(await s.run(["list"]).status == 0)
    }

    @Test func anUnopenableDatabaseExits78() async throws {
        let s = CLISandbox()
        let file = s.dir.appendingPathComponent("plain-file")
        try Data(String(repeating: "not a database ", count: 300).utf8).write(to: file)
        let r = await s.run(["list", "--db", file.path + "/sub/db.sqlite"])
        #expect(r.status == 78)
        #expect(r.stderr.hasPrefix("mcpconn: ") && r.stderr.split(separator: "\n").count == 1)
        let notDB = await s.run(["list", "--db", file.path])
        #expect(notDB.status == 78)
    }
}
