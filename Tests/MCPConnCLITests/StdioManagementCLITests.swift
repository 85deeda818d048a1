import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Adding, showing and changing stdio connectors: nothing here starts a process.
@Suite("CLI: stdio connectors, management", .timeLimit(.minutes(5)))
struct StdioManagementCLITests {
    @Test func addTakesTheCommandAfterTheTerminatorAndShowsItWhereTheURLWouldBe() async throws {
        let s = CLISandbox()
        let add = await s.run([
            "add", "gh", "--env", "GITHUB_TOKEN=ghp_abcdefgh123", "--", "npx", "-y", "@scope/github-mcp-server", "a b",
        ])
        #expect(add.status == 0 && add.stdout == "1\n" && !add.stderr.contains("ghp_"), "\(add)")
        let list = await s.run(["list"]).stdout
        #expect(list.contains("npx -y @scope/github-mcp-server 'a b'"), "\(list)")
        let j = json(await s.run(["get", "gh", "--json"]))
        #expect(j["transport"] == "stdio" && j["command"] == "npx" && j["connector_type"] == "github")
        #expect(j["args"] == .array(["-y", "@scope/github-mcp-server", "a b"]) && j["env"] == .array(["GITHUB_TOKEN"]))
        #expect(j["cwd"] == .null && j["has_credentials"] == true)
        // list --json has the same keys and values as get --json (but the tool list).
        let listed = json(await s.run(["list", "--json"])).arrayValue?.first
        #expect(listed?["args"] == j["args"] && listed?["env"] == j["env"] && listed?["command"] == j["command"])
        let text = await s.run(["get", "gh"]).stdout
        #expect(text.contains("command:") && text.contains("env:") && text.contains("GITHUB_TOKEN"))
        // The value is sealed: in no output and not in the database file in clear.
        for out in [list, text, j.compactText()] { #expect(!out.contains("ghp_abcdefgh123")) }
        let db = try Data(contentsOf: URL(fileURLWithPath: s.databasePath))
        #expect(db.range(of: Data("ghp_abcdefgh123".utf8)) == nil)
        // An HTTP connector has the stdio keys, null.
        let http = json(await s.run(["add", "h", "https://a.example/mcp", "--json"]))
        #expect(http["command"] == .null && http["args"] == .null && http["env"] == .null)
    }

    @Test func environmentFromAFileAndUpdatesMergeAndRemove() async throws {
        let s = CLISandbox()
        let envFile = s.dir.appendingPathComponent("server.env")
        try """
        # a comment
        export API_TOKEN="tok-en\\"x"
        LEVEL=debug # trailing comment

        SINGLE='a b #c'
        """.write(to: envFile, atomically: true, encoding: .utf8)
        let add = await s.run(["add", "srv", "--env-file", envFile.path, "--env", "LEVEL=info", "--", "/bin/true"])
        #expect(add.status == 0, "\(add)")
        #expect(json(await s.run(["get", "srv", "--json"]))["env"] == .array(["API_TOKEN", "SINGLE", "LEVEL"]))
        let upd = await s.run(["update", "srv", "--unset-env", "SINGLE", "--env", "NEW=1", "--cwd", s.dir.path])
        #expect(upd.status == 0, "\(upd)")
        let j = json(await s.run(["get", "srv", "--json"]))
        #expect(j["env"] == .array(["API_TOKEN", "LEVEL", "NEW"]) && j["cwd"]?.stringValue == s.dir.path)
        // The values as sealed, read back through the core.
        let m = ConnectorManager(
            store: try Store(path: s.databasePath), userID: 1,
            keys: KeyProvider(environment: s.environment, notice: { _ in }))
        let creds = try #require(try m.storage.credentials(of: try m.storage.get("srv")))
        #expect(creds.launchEnvironment == ["API_TOKEN": "tok-en\"x", "LEVEL": "info", "NEW": "1"])
        // A new command line marks the connector unverified and keeps the environment.
        #expect(await s.run(["update", "srv", "--", "/bin/echo", "x"]).status == 0)
        let k = json(await s.run(["get", "srv", "--json"]))
        #expect(k["command"] == "/bin/echo" && k["args"] == .array(["x"]) && k["env"] == j["env"])
    }

    @Test func theKeyOfALocalServerGoesInTheVariableItNames() async throws {
        let s = CLISandbox()
        let add = await s.run(
            ["add", "k", "--auth", "api_key", "--key-env", "SERVICE_KEY", "--secret-stdin", "--", "./server.py"],
            stdin: "sk-live-0123456789\n")
        #expect(add.status == 0, "\(add)")
        let j = json(await s.run(["get", "k", "--json"]))
        // A relative program is made absolute: a cron job starts it from elsewhere.
        #expect(j["command"]?.stringValue?.hasPrefix("/") == true && j["env"] == .array(["SERVICE_KEY"]))
        let m = ConnectorManager(
            store: try Store(path: s.databasePath), userID: 1,
            keys: KeyProvider(environment: s.environment, notice: { _ in }))
        let creds = try #require(try m.storage.credentials(of: try m.storage.get("k")))
        #expect(creds.launchEnvironment == ["SERVICE_KEY": "sk-live-0123456789"])
        #expect(creds.secretValues.contains("sk-live-0123456789"))
    }

    /// 17 processes one after the other: at the loaded suite's start each took 4 to 15 s (the suite's bound is 5
    /// minutes for it: a bound on a hang, not a speed claim).
    @Test func badLaunchesAreUsageErrors() async throws {
        let s = CLISandbox()
        await s.run(["add", "h", "https://a.example/mcp"])
        await s.run(["add", "l", "--", "/bin/true"])
        for (args, status) in [
            (["add", "a", "https://a.example/mcp", "--", "/bin/true"], 64),  // both a URL and a command
            (["add", "a"], 64),  // neither
            (["add", "a", "--"], 64),
            (["add", "a", "--env", "TOKEN_ENCRYPTION_KEY=x", "--", "/bin/true"], 64),
            (["add", "a", "--env", "MCPCONN_DB=/x", "--", "/bin/true"], 64),
            (["add", "a", "--env", "1BAD=x", "--", "/bin/true"], 64),
            (["add", "a", "--env", "NOEQUALS", "--", "/bin/true"], 64),
            (["add", "a", "--auth", "oauth", "--", "/bin/true"], 64),
            (["add", "a", "--auth", "api_key", "--secret-env", "HOME", "--", "/bin/true"], 64),  // no --key-env
            (["add", "a", "--key-header", "X-K", "--", "/bin/true"], 64),
            (["add", "a", "https://a.example/mcp", "--env", "A=1"], 64),  // env on an HTTP connector
            (["add", "a", "--cwd", "/nonexistent-dir", "--", "/bin/true"], 66),
            (["add", "a", "--env-file", "/nonexistent.env", "--", "/bin/true"], 66),
            (["update", "h", "--", "/bin/true"], 64),
            (["update", "l", "--url", "https://a.example/mcp"], 64),
        ] {
            let r = await s.run(args)
            #expect(r.status == Int32(status), "\(args): \(r)")
            #expect(r.stderr.hasPrefix("mcpconn: ") && r.stderr.filter { $0 == "\n" }.count == 1, "\(args): \(r)")
        }
        #expect(json(await s.run(["list", "--json"])).arrayValue?.count == 2)
    }

    @Test func addsHelpShowsBothForms() async {
        let help = await CLISandbox().run(["add", "--help"])
        #expect(help.status == 0)
        #expect(
            help.stdout.contains(
                "USAGE: mcpconn add <name> <url> [<options>]\n       mcpconn add <name> [<options>] -- <command> [<args> ...]\n"
            ), "\(help)")
        for option in ["--env <NAME=VALUE>", "--env-file <path>", "--cwd <dir>", "--key-env <VAR>"] {
            #expect(help.stdout.contains(option), "\(option)")
        }
        let update = await CLISandbox().run(["update", "--help"])
        #expect(
            update.stdout.contains("USAGE: mcpconn update <ref> [<options>] [-- <command> [<args> ...]]"), "\(update)")
        #expect(update.stdout.contains("--unset-env <NAME>"))
    }

    @Test func theTypeIsDetectedFromThePackageOrBinary() {
        let cases: [([String], String)] = [
            (["npx", "-y", "@notionhq/notion-mcp-server"], "notion"),
            (["github-mcp-server", "stdio"], "github"),
            (["uvx", "mcp-server-slack"], "slack"),
            (["docker", "run", "-i", "--rm", "-e", "GITHUB_TOKEN", "ghcr.io/github/github-mcp-server"], "github"),
            (["docker", "run", "-i", "-e", "SLACK_TOKEN", "mcp/sentry:1.2"], "sentry"),
            (["python", "/srv/linear_mcp.py"], "linear"),
            (["npx", "-y", "@modelcontextprotocol/server-everything"], "generic"),
        ]
        for (words, type) in cases {
            #expect(Registry.detect(commandLine: words, name: "x").id == type, "\(words)")
        }
        #expect(Registry.detect(commandLine: ["./server"], name: "my-jira").id == "atlassian")
    }
}
