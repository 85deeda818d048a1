import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// A fault server of one's own (its request statistics and tool file are not shared with other tests).
func privateSlowServer(toolsFile: String? = nil) async throws -> TestServer {
    try await TestServer.start("fault_server.py", toolsFile.map { ["--tools-file", $0] } ?? [])
}

func getJSON(_ url: String) async throws -> JSONValue {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "-X", "POST", url]
    let out = await Pipe.closeOnExec()
    p.standardOutput = out
    try await p.runOffPool()
    let data = await out.readToEnd()
    return try JSONValue.parse(Array(data))
}

/// Opens the sandbox's store directly, as another process would.
func openStore(_ s: CLISandbox) throws -> Store { try Store(path: s.databasePath) }

@Suite("CLI: fleets, drift, history, many processes", .timeLimit(.minutes(3)))
struct FleetCLITests {
    @Test func concurrencyIsBoundedAndResultsKeepIdOrder() async throws {
        let server = try await privateSlowServer()
        let s = CLISandbox()
        for i in 1...12 {
            await s.run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.3&era=modern&n=\(i)"])
        }
        _ = try await getJSON("\(server.base)/stats")  // POST resets the counters
        let r = await s.run(["health", "--all", "--concurrency", "4", "--json"])
        #expect(r.status == 0, "\(r)")
        #expect(json(r).arrayValue?.map { $0["name"]?.stringValue ?? "" } == (1...12).map { "c\($0)" })
        let stats = try await getJSON("\(server.base)/stats")
        let peak = stats["max_in_flight"]?.intValue ?? 0
        #expect(peak <= 4, "peak \(peak)")
        #expect(peak >= 2, "no two connectors ran at once")
        #expect(!r.stderr.contains("\r"))  // no progress line when stderr is not a terminal
    }

    @Test func aTerminalShowsProgressAndQuietHidesIt() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.reference()
        await s.run(["add", "down", "http://127.0.0.1:9/mcp"])
        for i in 1...3 { await s.run(["add", "c\(i)", server.base + "/mcp"]) }
        let shown = try await s.onTerminal("health --all --concurrency 1").output
        #expect(shown.contains("[1/4, 1 failed]") && shown.contains("[3/4, 1 failed]"), "\(shown)")

        let quiet = try await s.onTerminal("health --all --quiet").output
        #expect(!quiet.contains("[1/4]"))
        #expect(!quiet.contains("c1: healthy"))
        #expect(quiet.contains("down"))
    }

    @Test func refreshReportsDriftAndFailOnChangeExits1() async throws {
        let s = CLISandbox()
        let file = s.dir.appendingPathComponent("tools.json")
        func tools(_ list: [(String, String)]) throws {
            let v = JSONValue.array(
                list.map {
                    .object(["name": .string($0.0), "description": .string($0.1), "inputSchema": ["type": "object"]])
                })
            try Data(v.compactText().utf8).write(to: file)
        }
        try tools([("search", "Search."), ("fetch", "Fetch a page."), ("old", "Old.")])
        let server = try await privateSlowServer(toolsFile: file.path)
        await s.run(["add", "drift", "\(server.base)/mcp-slow?delay=0"])
        #expect(await s.run(["verify", "drift"]).status == 0)
        #expect(await s.run(["refresh", "drift", "--fail-on-change"]).status == 0)
        try tools([("search", "Search better."), ("fetch", "Fetch a page."), ("new", "New.")])
        let r = await s.run(["refresh", "drift", "--json", "--fail-on-change"])
        #expect(r.status == 1)
        let entry = json(r).arrayValue?.first
        #expect(entry?["added"] == ["new"] && entry?["removed"] == ["old"] && entry?["changed"] == ["search"])
        #expect(r.stderr == "mcpconn: tools changed on drift\n")
        #expect(await s.run(["refresh", "drift", "--quiet"]).stdout.isEmpty)
        try tools([("search", "Search better."), ("fetch", "Fetch a page.")])
        #expect(await s.run(["refresh", "drift", "--quiet"]).stdout == "drift: 2 tools, -new\n")
        let history = json(await s.run(["history", "drift", "--json"])).arrayValue ?? []
        #expect(
            history.map { $0["kind"]?.stringValue ?? "" } == ["refresh", "refresh", "refresh", "refresh", "verify"])
        #expect(history[0]["removed"] == ["new"])
        #expect(history[2]["changed"] == ["search"])
        #expect(json(await s.run(["history", "drift", "--json", "--limit", "2"])).arrayValue?.count == 2)
        let text = await s.run(["history", "drift"])
        #expect(text.stdout.hasPrefix("TIME"))
        #expect(text.stdout.contains("-new"))
    }

    /// Prompts, resources and templates drift as tools do, on both eras: the handshake sends the server's
    /// capabilities afresh on every refresh; a remembered 2026-07-28 session knows none, so it asks and takes
    /// "Method not found" as none.
    /// A server whose tools list but whose prompts fail to (a JSON-RPC error other than "method not found"):
    /// the check passes on the tools, the prompts stay as stored, without drift, and the rest is stored.
    @Test func aListThatFailsBesideTheToolsKeepsWhatWasStored() async throws {
        let s = CLISandbox()
        let file = s.dir.appendingPathComponent("surface.json")
        func surface(_ v: JSONValue) throws { try Data(v.compactText().utf8).write(to: file) }
        let server = try await TestServer.start("fault_server.py", ["--surface-file", file.path])
        await s.run(["add", "flaky", "\(server.base)/mcp-slow?delay=0&era=modern"])
        try surface(["prompts": [["name": "greet"]], "resources": []])
        #expect(await s.run(["verify", "flaky"]).status == 0)
        try surface(["prompts": "error", "resources": [["uri": "memo://a", "name": "a"]]])
        let r = await s.run(["refresh", "flaky", "--json", "--fail-on-change"])
        #expect(r.status == 1 && r.stderr == "mcpconn: resources changed on flaky\n", "\(r)")
        let entry = json(r).arrayValue?.first
        #expect(entry?["ok"] == true && entry?["prompt_count"] == .null && entry?["resource_count"] == 1, "\(r)")
        #expect(entry?["prompts"]?["removed"] == [], "\(r)")
        let got = json(await s.run(["get", "flaky", "--json"]))
        #expect(got["discovered_prompts"]?.arrayValue?.first?["name"] == "greet", "\(got)")
        #expect(got["discovered_resources"]?.arrayValue?.count == 1)
    }

    @Test(arguments: ["handshake", "modern"]) func refreshReportsPromptResourceAndTemplateDrift(era: String)
        async throws
    {
        let s = CLISandbox()
        let file = s.dir.appendingPathComponent("surface.json")
        func surface(_ v: JSONValue) throws { try Data(v.compactText().utf8).write(to: file) }
        func prompt(_ description: String) -> JSONValue {
            ["name": "greet", "description": .string(description), "arguments": [["name": "name", "required": true]]]
        }
        func resource(_ uri: String) -> JSONValue { ["uri": .string(uri), "name": "memo", "mimeType": "text/plain"] }
        let server = try await TestServer.start("fault_server.py", ["--surface-file", file.path])
        await s.run(["add", "drift", "\(server.base)/mcp-slow?delay=0&era=\(era)"])
        // A server with neither prompts nor resources stores empty lists.
        #expect(await s.run(["verify", "drift"]).status == 0)
        for kind in ["prompts", "resources", "templates"] {
            let t = await s.run(["tools", "drift", "--kind", kind])
            #expect(t.status == 0 && t.stdout.isEmpty && t.stderr.isEmpty, "\(kind): \(t)")
        }
        #expect(json(await s.run(["get", "drift", "--json"]))["discovered_prompts"] == [])

        // Prompts and resources from nothing: a change.
        try surface(["prompts": [prompt("Say hello.")], "resources": [resource("memo://a"), resource("memo://b")]])
        let gained = await s.run(["refresh", "drift", "--json", "--fail-on-change"])
        #expect(gained.status == 1, "\(gained)")
        #expect(gained.stderr == "mcpconn: prompts, resources changed on drift\n")
        let entry = json(gained).arrayValue?.first
        #expect(entry?["prompts"]?["added"] == ["greet"] && entry?["prompt_count"] == 1, "\(gained)")
        #expect(entry?["resources"]?["added"] == ["memo://a", "memo://b"] && entry?["added"] == [])

        // A prompt's description changed, a resource removed, a template added.
        try surface([
            "prompts": [prompt("Say hello warmly.")], "resources": [resource("memo://a")],
            "resourceTemplates": [["uriTemplate": "memo://{id}", "name": "memo"]],
        ])
        let drifted = await s.run(["refresh", "drift", "--fail-on-change"])
        #expect(drifted.status == 1 && drifted.stderr == "mcpconn: prompts, resources, templates changed on drift\n")
        #expect(
            drifted.stdout
                == "drift: 1 tools, prompt greet changed, resource memo://b removed, template memo://{id} added\n")
        let unchanged = await s.run(["refresh", "drift", "--fail-on-change"])
        #expect(unchanged.status == 0 && unchanged.stdout == "drift: 1 tools, unchanged\n", "\(unchanged)")

        let history = json(await s.run(["history", "drift", "--json"])).arrayValue ?? []
        #expect(history.count == 4)
        #expect(history[0]["prompts"] == ["added": [], "removed": [], "changed": []])
        #expect(history[1]["prompts"]?["changed"] == ["greet"] && history[1]["resources"]?["removed"] == ["memo://b"])
        #expect(history[1]["templates"]?["added"] == ["memo://{id}"] && history[1]["changed"] == [])
        #expect(history[2]["prompts"]?["added"] == ["greet"])
        #expect(await s.run(["history", "drift"]).stdout.contains("prompt greet changed, resource memo://b removed"))

        // What was stored, by kind.
        let prompts = await s.run(["tools", "drift", "--kind", "prompts"])
        #expect(prompts.stdout.hasPrefix("PROMPT") && prompts.stdout.contains("\ngreet   name "))
        #expect(prompts.stdout.hasSuffix(" Say hello warmly.\n"), "\(prompts)")
        #expect(json(await s.run(["tools", "drift", "--kind", "resources", "--json"])) == [resource("memo://a")])
        #expect(await s.run(["tools", "drift", "--kind", "templates"]).stdout.contains("memo://{id}  memo"))
        #expect(await s.run(["tools", "drift", "--kind", "tools"]).stdout.contains("echo"))
    }

    @Test func historyRecordsFailuresAndHealth() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.reference()
        await s.run(["add", "ok", server.base + "/mcp"])
        await s.run(["add", "down", "http://127.0.0.1:9/mcp"])
        await s.run(["health", "--all"])
        await s.run(["refresh", "down"])
        let down = json(await s.run(["history", "down", "--json"])).arrayValue ?? []
        #expect(down.map { $0["kind"]?.stringValue ?? "" } == ["refresh", "health"])
        #expect(down.allSatisfy { $0["ok"] == false && $0["error"]?.stringValue?.contains("unavailable") == true })
        let ok = json(await s.run(["history", "ok", "--json"])).arrayValue ?? []
        #expect(ok.first?["ok"] == true && ok.first?["latency_ms"]?.intValue != nil)
        #expect(await s.run(["history", "ghost"]).status == 66)
        #expect(await s.run(["history", "ok", "--limit", "0"]).status == 64)
    }

    @Test func eightConcurrentRefreshesLoseNothing() async throws {
        let s = CLISandbox()
        let server = try await privateSlowServer()
        for i in 1...6 { await s.run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.05&n=\(i)"]) }
        let results = await withTaskGroup(of: CLIResult.self) { group in
            for _ in 1...8 { group.addTask { await s.run(["refresh", "--all", "--quiet"]) } }
            var all: [CLIResult] = []
            for await r in group { all.append(r) }
            return all
        }
        for r in results {
            #expect(r.status == 0, "\(r)")
            #expect(!r.stderr.contains("locked"))
        }
        let store = try openStore(s)
        #expect(try store.integrityCheck() == "ok")
        let entries = try store.read { db in try db.int("SELECT COUNT(*) FROM connector_history") ?? 0 }
        #expect(entries == 8 * 6)
        #expect(
            json(await s.run(["list", "--json"])).arrayValue?.allSatisfy {
                $0["tool_count"] == 1 && $0["is_verified"] == true
            } == true)
    }

    @Test func aKilledRefreshLeavesASoundStore() async throws {
        let s = CLISandbox()
        let server = try await privateSlowServer()
        for i in 1...30 { await s.run(["add", "c\(i)", "\(server.base)/mcp-slow?delay=0.2&n=\(i)"]) }
        let (p, exit) = try await s.start(["refresh", "--all", "--concurrency", "2"])
        // Wait (bounded) until the run has written some results, then kill it mid-flight.
        let store = try openStore(s)
        #expect(
            try await eventually {
                try store.read { db in try db.int("SELECT COUNT(*) FROM connector_history") }.map(Int.init) ?? 0 >= 3
            })
        kill(p.processIdentifier, SIGKILL)
        #expect(await exit.wait() == 128 + SIGKILL)
        #expect(try store.integrityCheck() == "ok")
        let r = await s.run(["refresh", "--all", "--quiet", "--concurrency", "16"])
        #expect(r.status == 0, "\(r)")
        #expect(try openStore(s).integrityCheck() == "ok")
    }
}
