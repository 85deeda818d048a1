import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// What a server says while `call` runs: its log messages from `--log-level` up (a 2026-07-28 server is asked for
/// them in the request's `_meta`; a handshake-era one sends its own and mcpconn filters), and its progress, on
/// stderr only. The reference servers' tool notify_then_echo logs "working on it" at info and reports 1/2.
@Suite("CLI: server log messages and progress", .timeLimit(.minutes(3)))
struct ServerMessagesCLITests {
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let added = [
            await s.run(["add", "modern", try await CLIServers.reference().base + "/mcp"]),
            await s.run(["add", "old", try await CLIServers.handshake().base + "/mcp"]),
            await s.run(["add", "stdio", "--", TestServer.python, SurfaceCLITests.stdioServer]),
            await s.run(["add", "stdio1", "--", TestServer.python1, SurfaceCLITests.stdioServer]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }
    /// Both eras over HTTP and stdio once (SDK 1.x over stdio in the terminal test): each call of a stdio connector
    /// starts a Python server, a second of CPU.
    static let kinds = ["modern", "old", "stdio"]

    @Test func logMessagesFromTheLevelAskedGoToStderr() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let call = ["call", ref, "notify_then_echo", "--arg", "text=hi"]
            let quiet = await s.run(call)
            #expect(quiet.status == 0 && quiet.stdout == "hi\n" && quiet.stderr.isEmpty, "\(ref): \(quiet)")
            let info = await s.run(call + ["--log-level", "info"])
            #expect(info.stdout == "hi\n" && info.stderr == "[\(ref)] info: working on it\n", "\(ref): \(info)")
            #expect(await s.run(call + ["--log-level", "error"]).stderr.isEmpty, "\(ref)")
            #expect(await s.run(call + ["--log-level", "off"]).stderr.isEmpty, "\(ref)")
        }
        // A 2026-07-28 server is asked for its messages in the request, at the level given.
        let trace = await s.run([
            "call", "modern", "notify_then_echo", "--arg", "text=hi", "--log-level", "info", "--verbose",
        ])
        #expect(trace.stderr.contains(#""io.modelcontextprotocol/logLevel":"info""#), "\(trace)")
        #expect(await s.run(["call", "modern", "echo", "--arg", "text=x", "--log-level", "loud"]).status == 64)
    }

    @Test func jsonGivesTheLogAndProgressAsJSONLinesOnStderr() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let r = await s.run(["call", ref, "notify_then_echo", "--arg", "text=hi", "--json", "--log-level", "info"])
            #expect(r.status == 0 && json(r)["content"] != nil, "\(ref): \(r)")
            let lines = r.stderr.split(separator: "\n").map { try? JSONValue.parse(String($0)) }
            #expect(lines.count == 2 && lines.allSatisfy { $0?["connector"] == .string(ref) }, "\(ref): \(r.stderr)")
            #expect(lines.first??["params"]?["data"] == "working on it", "\(ref): \(r.stderr)")
            #expect(lines.last??["method"] == "notifications/progress", "\(ref): \(r.stderr)")
            #expect(lines.last??["params"]?["total"]?.doubleValue == 2, "\(ref): \(r.stderr)")
        }
    }

    /// On a terminal the progress is one line on stderr, overwritten in place and erased before the result.
    @Test func aTerminalShowsProgressInPlace() async throws {
        let s = try await Self.sandbox()
        for ref in ["modern", "stdio1"] {
            let r = try await s.onTerminal("call \(ref) notify_then_echo --arg text=hi")
            #expect(r.status == 0, "\(ref): \(r.output)")
            #expect(r.output.contains("\r\u{1B}[K[\(ref)] 1"), "\(ref): \(r.output)")
            #expect(r.output.hasSuffix("\r\u{1B}[Khi\r\n"), "\(ref): \(r.output)")
        }
    }
}
