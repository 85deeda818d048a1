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
