import Foundation
import GRDB
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// The hostile strings of fault_server.py's `/hostile/ansi` (its `ANSI`), raw and as text output shows them.
private enum Hostile {
    static let raw = "\u{1B}]52;c;cHduZWQ=\u{07}\u{1B}]0;pwned\u{07}\u{1B}[2J\r\u{7F}\u{9B}31m\u{202E}\u{200B}\u{0}"
    /// In a one-line field (name, version, table cell).
    static let line = #"\e]52;c;cHduZWQ=\x07\e]0;pwned\x07\e[2J\r\x7f\u{9b}31m\u{202e}\u{200b}\x00"#
    /// In an error message, whose whitespace (the CR) was already folded to a space.
    static let error = #"\e]52;c;cHduZWQ=\x07\e]0;pwned\x07\e[2J \x7f\u{9b}31m\u{202e}\u{200b}\x00"#
    /// In multi-line call result text: controls escaped, bidi and zero-width characters kept.
    static let block = #"\e]52;c;cHduZWQ=\x07\e]0;pwned\x07\e[2J\r\x7f\u{9b}31m"# + "\u{202E}\u{200B}" + #"\x00"#
    /// As JSON output carries it (C1 and format characters need no JSON escape and stay as they are).
    static let json =
        #"\u001b]52;c;cHduZWQ=\u0007\u001b]0;pwned\u0007\u001b[2J\r\u007f"# + "\u{9B}31m\u{202E}\u{200B}" + #"\u0000"#

    /// What a stored column keeps: a NUL becomes U+FFFD (SQLite text, as GRDB binds it, would end there).
    static let storedRaw = String(raw.dropLast()) + "\u{FFFD}"
    static let storedLine = String(line.dropLast(4)) + "\u{FFFD}"
    static let storedError = String(error.dropLast(4)) + "\u{FFFD}"
    /// What a test's own GRDB write keeps: SQLite text, as GRDB binds it, ends at the NUL.
    static let writtenRaw = String(raw.dropLast())
    static let writtenLine = String(line.dropLast(4))
}

/// Records an issue for any byte a terminal would act on: C0 controls but newline (and tab where `tabs`),
/// DEL, C1 controls in UTF-8; in one-line output also the bidi override and zero-width space.
private func expectInert(
    _ text: String, _ what: String, tabs: Bool = false, oneLine: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let b = Array(text.utf8)
    for (i, x) in b.enumerated() {
        let c0: Bool = x < 0x20 && x != 0x0A && !(tabs && x == 0x09)
        let c1: Bool = x == 0xC2 && i + 1 < b.count && b[i + 1] >= 0x80 && b[i + 1] <= 0x9F
        if c0 || c1 || x == 0x7F {
            Issue.record(
                "\(what): raw byte 0x\(String(b[x == 0xC2 ? i + 1 : i], radix: 16)) at \(i): \(text.debugDescription)",
                sourceLocation: sourceLocation)
            return
        }
    }
    if oneLine {
        #expect(
            !text.contains("\u{202E}") && !text.contains("\u{200B}"), "\(what): \(text.debugDescription)",
            sourceLocation: sourceLocation)
    }
}

private func expectInert(_ r: CLIResult, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    expectInert(r.stdout, what + " stdout", sourceLocation: sourceLocation)
    expectInert(r.stderr, what + " stderr", sourceLocation: sourceLocation)
}

@Suite("CLI: server text never drives the terminal", .timeLimit(.minutes(3)))
struct TerminalSafetyCLITests {
    /// A sandbox with connector `h` on the hostile server, verified.
    private func verified() async throws -> CLISandbox {
        let s = CLISandbox()
        #expect(await s.run(["add", "h", (try await CLIServers.faults()).base + "/hostile/ansi"]).status == 0)
        let v = await s.run(["verify", "h"])
        #expect(v.status == 0 && v.stdout.isEmpty && v.stderr.isEmpty, "\(v)")
        return s
    }

    @Test func toolsGetAndHealthShowServerStringsEscaped() async throws {
        let s = try await verified()
        let tools = await s.run(["tools", "h"])
        expectInert(tools, "tools")
        #expect(tools.stdout.contains("echo" + Hostile.line))
        // The description's first line: its CR ends the line.
        #expect(tools.stdout.contains(#"Echoes\e]52;c;cHduZWQ=\x07\e]0;pwned\x07\e[2J"#), "\(tools)")
        let get = await s.run(["get", "h"])
        expectInert(get, "get")
        #expect(get.stdout.contains("        evil\(Hostile.storedLine)server 6.6\(Hostile.storedLine)\n"), "\(get)")
        let health = await s.run(["health", "h"])
        expectInert(health, "health")
        #expect(health.stdout.contains("evil\(Hostile.line)server 6.6\(Hostile.line), protocol"), "\(health)")
    }

    @Test func jsonCarriesTheRawCharactersJSONEscaped() async throws {
        let s = try await verified()
        let tools = await s.run(["tools", "h", "--json"])
        #expect(tools.stdout.contains(#""name": "echo"# + Hostile.json + "\""), "\(tools)")
        #expect(json(tools).arrayValue?.first?["name"]?.stringValue == "echo" + Hostile.raw)
        let get = json(await s.run(["get", "h", "--json"]))
        #expect(get["server_version"]?.stringValue?.hasPrefix("6.6" + Hostile.storedRaw) == true)
        let call = await s.run(["call", "h", "echo", "--json"])
        #expect(call.stdout.contains(#""text": "text"# + Hostile.json + #"\nline two\tend""#), "\(call)")
        #expect(json(call)["content"]?.arrayValue?[1]["mimeType"]?.stringValue == "image/png" + Hostile.raw)
    }

    @Test func callTextAndAgentFormatEscapeControlsButKeepLines() async throws {
        let s = try await verified()
        let text = await s.run(["call", "h", "echo"])
        #expect(text.status == 0, "\(text)")
        expectInert(text.stdout, "call stdout", tabs: true, oneLine: false)
        #expect(
            text.stdout == """
                text\(Hostile.block)
                line two\tend
                [image: image/png\(Hostile.line), 3 bytes]
                [resource link: file:///link\(Hostile.line) (name\(Hostile.line))]
                [resource: res:\(Hostile.line), text/x\(Hostile.line)]

                """)
        let agent = await s.run(["call", "h", "echo", "--format", "agent"])
        expectInert(agent.stdout, "agent stdout", tabs: true, oneLine: false)
        #expect(
            agent.stdout.hasPrefix("[h:echo] text\(Hostile.block)\n[h:echo] line two\tend\n[h:echo] [image: "),
            "\(agent)")
    }

    @Test func errorMessagesAreOneEscapedLine() async throws {
        let s = try await verified()
        for tool in ["fail", "rpc-error"] {
            let r = await s.run(["call", "h", tool])
            #expect(r.status == 1, "\(r)")
            expectInert(r, "call \(tool)")
            #expect(r.stderr.contains(Hostile.error + (tool == "fail" ? "\n" : "message")), "\(r)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }

    @Test func failedVerifyLastErrorAndHistoryAreEscaped() async throws {
        let s = CLISandbox()
        await s.run(["add", "e", (try await CLIServers.faults()).base + "/hostile/ansi-error"])
        let v = await s.run(["verify", "e"])
        #expect(v.status == 76, "\(v)")
        expectInert(v, "verify")
        #expect(v.stderr.contains("error" + Hostile.error + "message"), "\(v)")
        let vj = await s.run(["verify", "e", "--json"])
        expectInert(vj.stderr, "verify --json stderr")
        #expect(
            json(vj)["error"]?.stringValue?.contains("error" + Hostile.raw.replacingOccurrences(of: "\r", with: " "))
                == true, "\(vj)")
        let get = await s.run(["get", "e"])
        expectInert(get, "get")
        #expect(
            get.stdout.contains(
                "last error:    connector 'e': server error -32603: error\(Hostile.storedError)message\n"), "\(get)")
        let history = await s.run(["history", "e"])
        expectInert(history, "history")
        #expect(history.stdout.contains("error\(Hostile.storedError)message\n"), "\(history)")
    }

    @Test func theVerboseTraceEscapesWhatTheServerSent() async throws {
        let s = CLISandbox()
        await s.run(["add", "x", (try await CLIServers.faults()).base + "/hostile/ansi-http"])
        let v = await s.run(["verify", "x", "--verbose"])
        #expect(v.status != 0, "\(v)")
        expectInert(v.stderr, "verify --verbose stderr", oneLine: false)
        #expect(v.stderr.contains("< error" + Hostile.block + #"\nbody"#), "\(v)")
    }

    /// The gateway's log (issue 26's threat model, "log injection through tool names"): neither a tool name a
    /// client sends nor one a server lists can forge a line of serve's log or reach the terminal raw.
    @Test func theGatewaysLogTakesNoLinesNorControlsFromToolNames() async throws {
        let s = try await verified()
        let token = ClientsCLITests.token(await s.run(["client", "add", "ide", "--deny", "h:add"]))
        let serve = try await HTTPServe(s, ["h", "--clients", "--verbose"])
        let opened = try await serve.post(HTTPServe.initialize("2025-06-18"), token: token)
        let session = ["Mcp-Session-Id": try #require(opened.header("mcp-session-id"), "\(opened)")]
        let forged = "x\nmcpconn serve: listening on http://evil.example/mcp" + Hostile.raw
        for name in [forged, "add", "evil" + Hostile.raw] {
            let call: JSONValue = [
                "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": ["name": .string(name), "arguments": [:]],
            ]
            let r = try await serve.post(call.compactText(), token: token, headers: session)
            #expect(r.status == 200, "\(r)")
        }
        _ = try await serve.post(#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#, token: token, headers: session)
        await serve.stopCleanly()
        let log = serve.stderr
        expectInert(log, "serve --verbose log", oneLine: false)
        #expect(!log.contains("\nmcpconn serve: listening on http://evil"), "\(log)")
        #expect(log.contains("refused (client ide)"), "\(log)")
    }

    @Test func driftLinesAndHistoryEscapeToolNames() async throws {
        let s = CLISandbox()
        let base = (try await CLIServers.faults()).base
        await s.run(["add", "d", base + "/mcp-slow?delay=0"])
        #expect(await s.run(["verify", "d"]).status == 0)
        #expect(await s.run(["update", "d", "--url", base + "/hostile/ansi"]).status == 0)
        let r = await s.run(["refresh", "d"])
        #expect(r.status == 0, "\(r)")
        expectInert(r, "refresh")
        #expect(r.stdout == "d: 3 tools, +echo\(Hostile.line) +fail +rpc-error -echo\n", "\(r)")
        let history = await s.run(["history", "d"])
        expectInert(history, "history")
        #expect(history.stdout.contains("+echo\(Hostile.line) +fail"), "\(history)")
    }

    @Test func listEscapesWhatAStoreHolds() async throws {
        // Names are checked on input; a store written by anything else may still hold controls.
        let s = CLISandbox()
        await s.run(["add", "plain", "https://a.example/mcp"])
        await s.run(["add", "other", "https://b.example/mcp"])
        let queue = try DatabaseQueue(path: s.databasePath)
        try await queue.write { db in
            try db.execute(
                sql: "UPDATE user_mcp_connections SET name = ?, server_url = CAST(? AS TEXT) WHERE name = 'other'",
                arguments: ["x" + Hostile.raw, Data("https://b.example/\u{1B}[2J".utf8) + Data([0xFF, 0xC2])])
        }
        let list = await s.run(["list"])
        expectInert(list, "list")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(list)")
        #expect(
            lines.count == 3
                && lines[1] == "1   plain" + String(repeating: " ", count: Hostile.writtenLine.count + 1 - 5 + 2)
                    + "generic  none  yes     no        0      https://a.example/mcp",
            "\(list)")
        #expect(list.stdout.contains("x\(Hostile.writtenLine)  generic"), "\(list)")
        #expect(list.stdout.hasSuffix(#"https://b.example/\e[2J"# + "\u{FFFD}\u{FFFD}\n"), "\(list)")
        let j = json(await s.run(["list", "--json"]))
        #expect(j.arrayValue?[1]["name"]?.stringValue?.hasPrefix("x" + Hostile.writtenRaw) == true)
    }
}
