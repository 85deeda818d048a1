import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// One tool of the Swift SDK's conformance server and what `mcpconn call` must make of it.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    var tool: String
    var args: [String] = []
    var status: Int32 = 0
    /// Text the output (stdout on success, stderr on failure) must hold.
    var output: String
    var testDescription: String { tool }
}

/// Every tool of a server no one here wrote (modelcontextprotocol/swift-sdk 0.12.1's `mcp-everything-server`,
/// built by `make swift-sdk-server`), called through the mcpconn binary. It resumes a cut event stream with
/// Last-Event-ID (SEP-1699) and sends its elicitation and sampling requests on the session's GET stream,
/// which mcpconn must open and answer at once: without answers, elicitation declined and sampling not offered;
/// with `--answer` and `--sampling-command`, answered.
@Suite(
    "CLI: the Swift SDK's conformance server", .enabled(if: TestServer.swiftSDKServer != nil), .timeLimit(.minutes(3)))
struct SwiftSDKServerCLITests {
    static let cases: [ConformanceCase] = [
        .init(tool: "test_simple_text", output: "This is a simple text response for testing.\n"),
        .init(tool: "test_image_content", output: "[image: image/png, 70 bytes]\n"),
        .init(tool: "test_audio_content", output: "[audio: audio/wav, 44 bytes]\n"),
        .init(tool: "test_embedded_resource", output: "This is an embedded resource content.\n"),
        .init(
            tool: "test_multiple_content_types",
            output: "Multiple content types test:\n[image: image/png, 70 bytes]\n{\"test\":\"data\",\"value\":123}\n"),
        // A tool's own failure (isError) is exit 1 with its text.
        .init(tool: "test_error_handling", status: 1, output: "An error occurred during tool execution"),
        .init(tool: "test_logging", output: "Logging test completed\n"),
        .init(tool: "test_progress", args: ["--arg", "duration_ms=10"], output: "Progress test completed\n"),
        .init(tool: "add_numbers", args: ["--arg", "a=2", "--arg", "b=40"], output: "42\n"),
        .init(tool: "test_tool_with_progress", output: "This is a simple text response for testing.\n"),
        .init(tool: "test_tool_with_logging", output: "Logging test completed\n"),
        .init(
            tool: "json_schema_2020_12_tool", args: ["--arg", "name=x"],
            output: "This is a simple text response for testing.\n"),
        // The answer comes only on the GET that resumes the stream the server cut after its priming event.
        .init(tool: "test_reconnection", output: "the client properly reconnected after stream closure"),
        // The server asks on its GET stream; mcpconn declines, and the tool reports that it saw the decline.
        .init(
            tool: "test_elicitation", args: ["--arg", "message=name?"], output: "Elicitation completed: action=decline"),
        .init(tool: "test_elicitation_sep1034_defaults", output: "Elicitation completed: action=decline"),
        .init(tool: "test_elicitation_sep1330_enums", output: "Elicitation completed: action=decline"),
        // This tool wants accepted defaults: after a decline it fails, as it does for any client that declines.
        .init(
            tool: "test_client_elicitation_defaults", status: 1,
            output: "Client did not provide all required fields with defaults"),
        // Without --sampling-command mcpconn offers no sampling: the server gets "method not found", with the
        // flag that would answer, and fails the call with it.
        .init(
            tool: "test_sampling", args: ["--arg", "prompt=hi"], status: 1,
            output: "mcpconn declared no sampling capability (run it with --sampling-command CMD to answer sampling)"),
        // Answered (issue 24): the same tools accept what --answer and --sampling-command give.
        .init(
            tool: "test_elicitation",
            args: ["--arg", "message=name?", "--answer", "email=ann@example.com", "--answer", "username=ann"],
            output: "action=accept"),
        .init(
            tool: "test_elicitation_sep1330_enums",
            args: ["--answer", "untitledSingle=option2", "--answer", "titledMulti=Titled One,Titled Three"],
            output: #"action=accept, content=["#),
        // Its defaults are filled in for the fields no answer names.
        .init(
            tool: "test_client_elicitation_defaults", args: ["--answer", "verified=yes"],
            output: "Client correctly applied all default values"),
        .init(
            tool: "test_sampling", args: ["--arg", "prompt=hi", "--sampling-command", "echo sampled"], output: "sampled"
        ),
    ]

    static func server() async throws -> TestServer {
        try await TestServer.binary(TestServer.swiftSDKServer ?? "")
    }

    @Test func verifyFindsExactlyTheToolsTestedHere() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "sw", try await Self.server().base + "/mcp"]).status == 0)
        let v = await s.run(["verify", "sw"])
        #expect(v.status == 0, "\(v)")
        let got = json(await s.run(["get", "sw", "--json"]))
        #expect(got["protocol_version"] == "2025-11-25")
        let names = Set((got["discovered_tools"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        #expect(names == Set(Self.cases.map(\.tool)))
    }

    /// Issue 30's defect: a session `serve` keeps refused the 65th server request of its whole life (the flood
    /// bound of 64 counted per session, not per request), so the 65th elicitation hung to the timeout.
    @Test func aKeptSessionAnswersTheServersRequestsOfEveryCall() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "sw", try await Self.server().base + "/mcp"]).status == 0)
        let call: JSONValue = ["call": "test_elicitation", "arguments": ["message": "name?"]]
        let r = try await ServeCLITests.session(s, ["sw"], steps: .array(Array(repeating: call, count: 70)))
        #expect(r.calls.count == 70, "\(r.stderr)")
        let answered = r.calls.filter { $0["text"]?.stringValue?.contains("action=decline") == true }
        #expect(answered.count == 70, "\(r.calls.filter { $0["isError"] != false }.prefix(2))")
    }

    @Test(arguments: cases)
    func callTool(_ c: ConformanceCase) async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "sw", try await Self.server().base + "/mcp"]).status == 0)
        #expect(await s.run(["verify", "sw"]).status == 0)
        // The timeout only bounds a failure (a request never answered); passing never depends on it.
        let r = await s.run(["call", "sw", c.tool, "--timeout", "30"] + c.args)
        #expect(r.status == c.status, "\(r)")
        if c.status == 0 {
            #expect(r.stdout.contains(c.output), "\(r)")
            #expect(r.stderr.isEmpty, "\(r)")
        } else {
            #expect(r.stdout.isEmpty, "\(r)")
            #expect(r.stderr.contains(c.output), "\(r)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
        }
    }
}
