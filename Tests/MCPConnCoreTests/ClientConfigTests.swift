import Foundation
import Testing

@testable import MCPConnCore

/// The pieces of `import`/`export` that need no process: variable expansion per client, format detection,
/// JSONC, the TOML edit that keeps comments, and the bridge and header rules.
@Suite("Client config files")
struct ClientConfigTests {
    static let env = ["KEY": "k1", "EMPTY": "", "HOME": "/home/u"]

    func expand(_ text: String, _ format: ClientFormat, inputs: [String: String] = [:]) -> Result<
        String, Substitution.Failure
    > {
        let s = Substitution(
            syntax: format.substitution, environment: Self.env, inputs: inputs, workspaceFolder: "/proj")
        return Result { () throws(Substitution.Failure) in try s.expand(text) }
    }

    @Test func eachClientExpandsOnlyItsOwnForms() {
        #expect(expand("a ${KEY} b", .claudeCode) == .success("a k1 b"))
        #expect(expand("${MISSING:-dflt}/x", .claudeCode) == .success("dflt/x"))
        #expect(expand("${EMPTY:-dflt}", .claudeCode) == .success("dflt"))
        #expect(
            expand("${MISSING}", .claudeCode) == .failure(.init(reason: "the environment variable MISSING is not set")))
        #expect(expand("$KEY", .claudeCode) == .success("$KEY"))  // bare $VAR is Gemini's only
        #expect(expand("$KEY-${KEY}", .gemini) == .success("k1-k1"))
        #expect(expand("pa$$", .gemini) == .success("pa$$"))
        #expect(expand("${env:KEY} ${userHome} ${workspaceFolder}", .cursor) == .success("k1 /home/u /proj"))
        #expect(expand("${KEY}", .cursor) == .failure(.init(reason: "uses ${KEY}, which mcpconn cannot expand")))
        #expect(expand("Bearer ${input:tok}", .vscode, inputs: ["tok": "KEY"]) == .success("Bearer k1"))
        #expect(
            expand("${input:tok}", .vscode, inputs: ["tok": "NOPE"])
                == .failure(.init(reason: "the environment variable NOPE is not set")))
        #expect(
            expand("${input:tok}", .vscode)
                == .failure(.init(reason: "needs a secret for ${input:tok}: give it with --input tok=VAR")))
        #expect(
            expand("${command:pick}", .vscode)
                == .failure(.init(reason: "uses ${command:pick}, which mcpconn cannot expand")))
        for literal in [ClientFormat.claudeDesktop, .codex] {
            #expect(expand("${KEY} $KEY ${env:KEY}", literal) == .success("${KEY} $KEY ${env:KEY}"))
        }
    }

    @Test func theFormatIsToldByNameThenByShape() throws {
        #expect(ClientFormat.detect(path: "/a/claude_desktop_config.json") == .claudeDesktop)
        #expect(ClientFormat.detect(path: "/p/.mcp.json") == .claudeCode)
        #expect(ClientFormat.detect(path: "/home/u/.claude.json") == .claudeCode)
        #expect(ClientFormat.detect(path: "/p/.vscode/mcp.json") == .vscode)
        #expect(ClientFormat.detect(path: "/p/.cursor/mcp.json") == .cursor)
        #expect(ClientFormat.detect(path: "/home/u/.codex/config.toml") == .codex)
        #expect(ClientFormat.detect(path: "/p/.gemini/settings.json") == .gemini)
        #expect(ClientFormat.detect(path: "/p/mcp.json") == nil)
        func shape(_ text: String) throws -> ClientFormat? { ClientFormat.detect(document: try JSONValue.parse(text)) }
        #expect(try shape(#"{"servers": {}}"#) == .vscode)
        #expect(try shape(#"{"mcp": {"servers": {}}}"#) == .vscode)
        #expect(try shape(#"{"mcpServers": {"a": {"httpUrl": "https://x"}}}"#) == .gemini)
        #expect(try shape(#"{"mcpServers": {"a": {"type": "http", "url": "https://x"}}}"#) == .claudeCode)
        #expect(try shape(#"{"mcpServers": {"a": {"url": "https://x"}}}"#) == .cursor)
        #expect(try shape(#"{"editor": 1}"#) == nil)
    }

    @Test func jsoncLosesCommentsAndTrailingCommasButNotLinesOrStrings() throws {
        let text = "{\n  // a comment with \"quotes\"\n  \"a\": \"http://x//y\", /* b */\n  \"c\": [1, 2,],\n}\n"
        let plain = JSONComments.strip(text)
        #expect(plain.utf8.count == text.utf8.count)
        #expect(plain.filter { $0 == "\n" }.count == 5)
        #expect(try JSONValue.parse(plain) == ["a": "http://x//y", "c": [1, 2]])
        #expect(JSONComments.strip("{\"a\": \"/* not a comment */\"}") == "{\"a\": \"/* not a comment */\"}")
    }

    /// Where import looks for keys held twice: Claude Code's local scope overrides a user-scope name held twice
    /// (the client runs the local one); a name twice in the local scope is skipped; lines count in the file's
    /// text, JSONC comments and all; a duplicate elsewhere in the file (another project's servers) is not import's.
    @Test func aKeyHeldTwiceIsFoundWhereImportReadsIt() throws {
        func entries(_ text: String, _ format: ClientFormat) throws -> [String: String?] {
            let file = ConfigFile(
                path: "f", text: text, document: try JSONValue.parse(JSONComments.strip(text)), mode: 0o600,
                hadComments: false)
            let found = try ConfigEntry.entries(of: file, format: format, project: "/p")
            return Dictionary(uniqueKeysWithValues: found.map { ($0.name, $0.unsupported) })
        }
        let claude = """
            {"numStartups": 1, "numStartups": 2,
             "mcpServers": {"x": {"command": "a"}, "x": {"command": "b"}, "u": {"command": "u"}},
             "projects": {"/other": {"mcpServers": {"o": {"command": "o", "command": "p"}}},
                          "/p": {"mcpServers": {"x": {"command": "c"}, "y": {"command": "d"},
                                                "y": {"command": "e"}}}}}
            """
        let e = try entries(claude, .claudeCode)
        #expect(e.keys.sorted() == ["u", "x", "y"])
        #expect(e["x"] == .some(nil) && e["u"] == .some(nil))
        #expect(e["y"] == "defined twice (again on line 5), and the client runs the last: keep one")
        let vscode =
            "{\n  // servers\n  \"servers\": {\"s\": {\"command\": \"a\",\n /* x */ \"args\": [{\"k\": 1, \"k\": 2}]}}}"
        #expect(
            try entries(vscode, .vscode)["s"]
                == "has 'args[0].k' twice (again on line 4), and the client takes the last: keep one")
        #expect(throws: MCPConnError.self) {
            try entries(#"{"mcp": {"servers": {}, "servers": {"a": {"command": "a"}}}}"#, .vscode)
        }
        #expect(try entries(#"{"a": 1, "a": 2, "mcpServers": {"b": {"command": "b"}}}"#, .cursor) == ["b": nil])
    }

    @Test func tomlHeadersAreReadWithQuotedKeys() {
        #expect(TOMLTableHeader.path("[mcp_servers.docs]") == ["mcp_servers", "docs"])
        #expect(TOMLTableHeader.path("  [ mcp_servers . \"my.server\" ]  # c") == ["mcp_servers", "my.server"])
        #expect(TOMLTableHeader.path("[mcp_servers.'lit'.env]") == ["mcp_servers", "lit", "env"])
        #expect(TOMLTableHeader.path("[[profiles]]") == ["profiles"])
        #expect(TOMLTableHeader.path("model = \"[x]\"") == nil)
        #expect(TOMLTableHeader.path("[unterminated") == nil)
    }

    @Test func theTOMLEditKeepsCommentsAndFallsBackWhenItCannotFindAServer() throws {
        let entry = ExportedEntry(
            name: "docs", entry: ["command": "mcpconn", "args": ["serve", "docs"]], bridged: "x")
        func merged(_ text: String) throws -> (String, Bool) {
            let file = ConfigFile(
                path: "c.toml", text: text, document: try TOMLDocument.parse(text, path: "c.toml"), mode: 0o600,
                hadComments: false)
            let m = try ConfigExport.merged([entry], into: file, format: .codex)
            return (m.text, m.rewritten)
        }
        let (kept, rewrittenKept) = try merged(
            "# top\nmodel = \"o3\"\n\n[mcp_servers.docs]\ncommand = \"old\"\n# about b\n[mcp_servers.b]\ncommand = \"b\"\n"
        )
        #expect(!rewrittenKept)
        #expect(
            kept.hasPrefix(
                "# top\nmodel = \"o3\"\n\n# about b\n[mcp_servers.b]\ncommand = \"b\"\n\n[mcp_servers.docs]\n"),
            "\(kept)")
        #expect(!kept.contains("old"))
        // A server given as a dotted key is not a table header: the edit cannot find it, the check sees that,
        // and the file is rewritten whole (comments lost, said so).
        let (whole, rewritten) = try merged(
            "# top\nwhen = 1979-05-27T07:32:00Z\nratio = 10.5\nmcp_servers.docs.command = \"old\"\n")
        #expect(rewritten && !whole.contains("old") && !whole.contains("# top"))
        #expect(whole.contains("when = 1979-05-27T07:32:00Z\n") && whole.contains("ratio = 10.5\n"), "\(whole)")
        #expect(try TOMLDocument.parse(whole, path: "w")["mcp_servers"]?["docs"]?["command"] == "mcpconn")
    }

    @Test func headersSplitIntoTheCredentialAndSealedExtras() {
        #expect(ImportResolver.isKeyHeader("X-API-Key") && ImportResolver.isKeyHeader("X-Goog-Api-Key"))
        #expect(ImportResolver.isKeyHeader("Api-Token") && !ImportResolver.isKeyHeader("X-Tenant"))
        var c = Credentials.bearer("tok")
        c.fields["headers"] = ["X-Tenant": "t1", "Authorization": "Basic ignored"]
        let sent = c.headers(for: .oauth)
        #expect(sent.map(\.name) == ["Authorization", "X-Tenant"])
        #expect(sent.map(\.value) == ["Bearer tok", "t1"])
    }

    @Test func templatesAreFilledOnlyWhereTheyAreWhole() {
        #expect(StdioLaunch.argument("p${q", environment: ["q": "x"]) == "p${q")
        #expect(StdioLaunch.argument("--x=${A} and ${", environment: ["A": "1"]) == "--x=1 and ${")
        #expect(StdioLaunch.argument("${A}${B}-${C}", environment: ["A": "1", "B": "${A}"]) == "1${A}-${C}")
        var c = Credentials(fields: ["env": ["T": "s3"]])
        #expect(c.launchArguments(["${T}", "${T}"]) == ["${T}", "${T}"])  // not a template: passed as written
        c.fields["arg_templates"] = [1]
        #expect(c.launchArguments(["${T}", "--t=${T}"]) == ["${T}", "--t=s3"])
    }

    @Test func onlyARealMCPRemoteEntryIsReadAsItsServer() throws {
        func remote(_ command: String, _ args: [String]) -> ConfigEntry.Remote? {
            ConfigEntry.mcpRemote(command, args, env: [])
        }
        let r = try #require(
            remote(
                "npx",
                [
                    "-y", "mcp-remote@latest", "https://h/mcp", "9696", "--header", "Authorization:${AUTH}", "--header",
                    "X-T: a:b",
                ]))
        #expect(
            r.url == "https://h/mcp" && r.headers.map(\.name) == ["Authorization", "X-T"]
                && r.headers.map(\.value) == ["${AUTH}", "a:b"])
        #expect(
            remote("/usr/bin/node", ["/opt/lib/node_modules/mcp-remote/dist/proxy.js", "http://h/sse"])?.url
                == "http://h/sse")
        #expect(remote("pnpm", ["dlx", "mcp-remote", "https://h"])?.url == "https://h")
        #expect(remote("mcp-remote", ["https://h"]) != nil)
        #expect(remote("docker", ["run", "-i", "ghcr.io/acme/mcp-remote", "--upstream", "https://api"]) == nil)
        #expect(remote("npx", ["-y", "@acme/mcp-remote", "--api", "https://api"]) == nil)
        #expect(remote("uvx", ["my-server", "--client-name", "mcp-remote", "--homepage", "https://e"]) == nil)
        #expect(remote("npx", ["-y", "mcp-remote", "--help"]) == nil)
    }
}
