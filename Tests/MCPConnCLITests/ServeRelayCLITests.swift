import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `serve` relays what its connectors ask (elicitation, sampling, roots) to the client and the client's answers
/// back, in both eras on both sides: the official Python SDK client (legacy mode: the handshake era; auto: 2026-07-28)
/// over stdio and HTTP, in front of the SDK 2.3 reference server (2026-07-28: `input_required`) and the SDK 1.x one
/// (the handshake era: requests of the server's own).
@Suite("CLI: serve relays what connectors ask", .serialized, .timeLimit(.minutes(5)))
struct ServeRelayCLITests {
    /// `modern` (SDK 2.3) and `old` (SDK 1.x), both with the surface's asking tools, served together.
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let added = [
            await s.run(["add", "modern", try await SurfaceCLITests.server().base + "/mcp"]),
            await s.run(["add", "old", try await SurfaceCLITests.server(python: TestServer.python1).base + "/mcp"]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }

    /// The client answers every question: a form with these fields, a sample, a root.
    static let answering = [
        "--elicit", #"{"confirm": true, "reason": "relayed"}"#, "--sample", "short", "--root", "file:///work/relay",
    ]
    static let connectors = ["modern", "old"]
    static let steps = JSONValue.array(
        connectors.flatMap { c -> [JSONValue] in
            [
                ["call": .string(c + "__confirm_delete"), "arguments": ["path": "/tmp/x"]],
                ["call": .string(c + "__summarise"), "arguments": ["text": "a long text"]],
                ["call": .string(c + "__list_roots")],
            ]
        })

    /// Each step's text by tool name, and the questions the client was asked, in order.
    static func outcome(_ lines: [JSONValue]) -> (results: [String: JSONValue], asked: [String]) {
        var results: [String: JSONValue] = [:]
        for line in lines { if let name = line["name"]?.stringValue { results[name] = line } }
        return (results, lines.compactMap { $0["asked"]?.stringValue })
    }

    static func expectAnswered(_ lines: [JSONValue], _ era: String, _ transport: String) {
        let (results, asked) = outcome(lines)
        for c in connectors {
            let what = "\(c) behind serve over \(transport), \(era) client"
            #expect(results[c + "__confirm_delete"]?["text"] == "deleted /tmp/x (reason: relayed)", "\(what): \(lines)")
            #expect(results[c + "__summarise"]?["text"] == "summary: short (model: serve-client)", "\(what): \(lines)")
            #expect(results[c + "__list_roots"]?["text"] == "file:///work/relay", "\(what): \(lines)")
            for step in ["__confirm_delete", "__summarise", "__list_roots"] {
                #expect(results[c + step]?["isError"] == false, "\(what): \(lines)")
            }
        }
        // Each connector asked each question once; the client answered all six.
        #expect(asked.filter { $0 == "elicitation/create" }.count == 2, "\(lines)")
        #expect(asked.filter { $0 == "sampling/createMessage" }.count == 2, "\(lines)")
        #expect(asked.filter { $0 == "roots/list" }.count >= 2, "\(lines)")
    }

    /// Over stdio: a handshake-era client is asked with requests of serve's own (on stdout), whatever the
    /// connector's era; a 2026-07-28 client gets `input_required`, the connector's own (SDK 2.3) or serve's
    /// (SDK 1.x asked mid-request), and its retries answer them.
    @Test(arguments: ["legacy", "auto"])
    func overStdioBothErasAnswerEveryQuestion(mode: String) async throws {
        let s = try await Self.sandbox()
        let r = try await ServeCLITests.session(
            s, ["--all", "--verbose"], steps: Self.steps, mode: mode, options: Self.answering)
        let era = r.listed["protocolVersion"]?.stringValue
        #expect(era == (mode == "legacy" ? "2025-11-25" : "2026-07-28"), "\(r.listed)")
        Self.expectAnswered(r.calls, mode, "stdio")
        // The SDK 1.x connector's questions reached the 2026-07-28 client as serve's own input_required; the SDK 2.3
        // connector's went through as they came.
        let translated = r.stderr.components(separatedBy: "serve: asking the client for input").count - 1
        #expect(translated == (mode == "auto" ? 3 : 0), "\(r.stderr)")
        let passedDown = r.stderr.contains("serve: modern confirm_delete: input_required")
        #expect(passedDown == (mode == "auto"), "\(r.stderr)")
    }

    /// Over HTTP: a handshake-era client is asked on its call's own event stream and POSTs its answers in its
    /// session; a 2026-07-28 client as over stdio.
    @Test(arguments: ["legacy", "auto"])
    func overHTTPBothErasAnswerEveryQuestion(mode: String) async throws {
        let s = try await Self.sandbox()
        let serve = try await HTTPServe(s, ["--all"])
        let r = try await ServeHTTPCLITests.client(serve, steps: Self.steps, mode: mode, options: Self.answering)
        // Ended here, or it outlives the suite (it was the one serve every run left behind).
        await serve.stopCleanly()
        #expect(r.status == 0, "\(r.stderr)")
        Self.expectAnswered(r.calls, mode, "HTTP")
    }

    /// A client that declared nothing is not asked: a handshake-era connector's elicitation is declined and its
    /// sampling refused saying why; a 2026-07-28 connector's `input_required` becomes a clean `isError` result for a
    /// handshake-era client (never an empty success).
    @Test func aClientThatDeclaredNothingGetsCleanRefusals() async throws {
        let s = try await Self.sandbox()
        let r = try await ServeCLITests.session(s, ["--all"], steps: Self.steps, mode: "legacy")
        let (results, asked) = Self.outcome(r.calls)
        #expect(asked.isEmpty, "\(r.calls)")
        #expect(results["old__confirm_delete"]?["text"] == "declined", "\(r.calls)")
        #expect(results["old__list_roots"]?["text"] == "no roots", "\(r.calls)")
        let sampled = results["old__summarise"]?["text"]?.stringValue ?? ""
        #expect(sampled.contains("declared no sampling capability"), "\(r.calls)")
        let elicited = results["modern__confirm_delete"]
        #expect(elicited?["isError"] == true, "\(r.calls)")
        #expect(elicited?["text"]?.stringValue?.contains("asked for input") == true, "\(r.calls)")
        #expect(elicited?["text"]?.stringValue?.contains("elicitation") == true, "\(r.calls)")
    }

    static let envelope: JSONObject = [
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": [:],
        "io.modelcontextprotocol/clientInfo": ["name": "t", "version": "0"],
    ]

    static func updated(_ serve: RawServe, tagged id: JSONValue? = nil) -> Bool {
        serve.lines.contains {
            $0["method"] == "notifications/resources/updated" && $0["params"]?["uri"] == "counter://ticks"
                && (id == nil || $0["params"]?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == id)
        }
    }

    /// A handshake-era client's `resources/subscribe` through serve reaches a 2026-07-28 connector as
    /// `subscriptions/listen`, and its updates come back on stdout as `notifications/resources/updated`.
    @Test func aHandshakeEraSubscriptionHearsAModernConnectorsUpdates() async throws {
        let s = try await Self.sandbox()
        let serve = try await RawServe(s, ["modern"])
        try serve.initialize()
        try serve.send([
            "jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": ["uri": "counter://ticks"],
        ])
        #expect(try await eventually { serve.lines.contains { $0["id"] == 2 } }, "\(serve.output.text)")
        #expect(serve.lines.first { $0["id"] == 2 }?["result"] == .object([:]), "\(serve.output.text)")
        #expect(!Self.updated(serve))
        try serve.send(["jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": ["name": "bump"]])
        #expect(try await eventually { Self.updated(serve) }, "\(serve.output.text)")
        try serve.send([
            "jsonrpc": "2.0", "id": 4, "method": "resources/unsubscribe", "params": ["uri": "counter://ticks"],
        ])
        #expect(await serve.finish() == 0)
    }

    /// A 2026-07-28 client's `subscriptions/listen` through serve reaches a handshake-era connector as
    /// `resources/subscribe`: serve acknowledges what it took, and each update comes on the listen request's own
    /// stream, tagged with its id, until the client cancels it.
    @Test func aModernListenHearsAHandshakeEraConnectorsUpdates() async throws {
        let s = try await Self.sandbox()
        let serve = try await RawServe(s, ["old"])
        try serve.send([
            "jsonrpc": "2.0", "id": 10, "method": "subscriptions/listen",
            "params": [
                "notifications": ["resourceSubscriptions": ["counter://ticks"]], "_meta": .object(Self.envelope),
            ],
        ])
        let acknowledged = {
            serve.lines.first { $0["method"] == "notifications/subscriptions/acknowledged" }?["params"]
        }
        #expect(try await eventually { acknowledged() != nil }, "\(serve.output.text)")
        #expect(acknowledged()?["notifications"]?["resourceSubscriptions"] == ["counter://ticks"])
        #expect(acknowledged()?["_meta"]?["io.modelcontextprotocol/subscriptionId"] == 10)
        try serve.send([
            "jsonrpc": "2.0", "id": 11, "method": "tools/call",
            "params": ["name": "bump", "_meta": .object(Self.envelope)],
        ])
        #expect(try await eventually { Self.updated(serve, tagged: 10) }, "\(serve.output.text)")
        try serve.send(["jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 10]])
        #expect(await serve.finish() == 0)
        #expect(!serve.lines.contains { $0["id"] == 10 }, "a cancelled listen gets no answer")
    }

    /// The SDK client subscribes through serve in the era it speaks (the handshake era: `resources/subscribe`, the
    /// updates on its session's GET stream over HTTP, on stdout over stdio; 2026-07-28: `subscriptions/listen`, the
    /// updates on that request's own stream), to each era's connector, and hears the update a `bump` makes. One
    /// connector served at a time: both offer counter://ticks, which serve routes to one of them.
    @Test(arguments: ["HTTP", "stdio"])
    func theSDKClientSubscribesInBothErasToBothErasConnectors(transport: String) async throws {
        let s = try await Self.sandbox()
        let steps: JSONValue = [["subscribe": "counter://ticks"], ["call": "bump"], ["updated": "counter://ticks"]]
        for connector in Self.connectors {
            let serve = transport == "HTTP" ? try await HTTPServe(s, [connector]) : nil
            for mode in ["legacy", "auto"] {
                let what = "a \(mode) client over \(transport) subscribed to \(connector)"
                let lines: [JSONValue]
                if let serve {
                    let r = try await ServeHTTPCLITests.client(serve, steps: steps, mode: mode)
                    #expect(r.status == 0, "\(what): \(r.stderr)")
                    lines = r.calls
                } else {
                    lines = try await ServeCLITests.session(s, [connector], steps: steps, mode: mode).calls
                }
                #expect(lines.first?["honored"] == ["counter://ticks"], "\(what): \(lines)")
                #expect(lines.first { $0["name"] == "bump" }?["isError"] == false, "\(what): \(lines)")
                #expect(lines.last?["seen"] == true, "\(what): \(lines)")
            }
            await serve?.stopCleanly()
        }
    }
}
