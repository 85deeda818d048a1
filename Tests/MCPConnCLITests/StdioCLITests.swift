import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Local servers (stdio connectors) through every network verb, against the official Python SDK's stdio servers
/// (2.x: 2026-07-28; 1.x: the handshake era) and a fault server of our own. Every test counts the processes it
/// left behind, by a marker on their command lines.
// Serialized: each test starts and ends server processes and checks none is left; run all at once on two
// cores (and under ThreadSanitizer) they starve each other's shutdown timers.
@Suite("CLI: stdio connectors, network verbs", .serialized, .timeLimit(.minutes(5)))
struct StdioCLITests {
    static let server = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_server.py").path
    static let faultServer = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_fault_server.py").path

    /// A sandbox and a marker that every server command line it adds carries.
    struct Local {
        let s = CLISandbox()
        let marker = "mcpconn-test-" + UUID().uuidString

        @discardableResult
        func add(
            _ name: String, python: String = TestServer.python, _ script: String = StdioCLITests.server,
            _ args: [String] = [], options: [String] = [], stdin: String? = nil
        ) async -> CLIResult {
            await s.run(["add", name] + options + ["--", python, script] + args + ["--marker", marker], stdin: stdin)
        }

        /// Processes alive with the marker on their command line or in their environment (for a server that
        /// refuses unknown arguments).
        func leftovers() -> [String] { Self.processes(with: marker) }

        /// Live processes with `marker` on their command line or in their environment.
        static func processes(with marker: String) -> [String] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
                let files = ["cmdline", "environ"].compactMap {
                    FileManager.default.contents(atPath: "/proc/\(pid)/\($0)")
                }
                let text = files.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                return text.contains(marker) && !isZombie(pid) ? "\(pid): \(text.prefix(200))" : nil
            }
        }

        /// Gone, or a zombie its new parent (init, once mcpconn has exited) has not reaped yet: nothing runs.
        static func hasEnded(_ pid: pid_t) -> Bool {
            (kill(pid, 0) == -1 && errno == ESRCH) || isZombie(String(pid))
        }

        fileprivate static func isZombie(_ pid: String) -> Bool {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            guard let state = stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces) else { return true }
            return state.hasPrefix("Z") || state.hasPrefix("X")
        }
    }

    /// `call --root DIR`: the server's roots/list gets the directories (file URIs), and the client declares the
    /// roots capability only then (the session's handler table, issue 30; issue 24's roots).
    @Test func callRootsAnswerTheServersRootsListAndDeclareTheCapability() async throws {
        let l = Local()
        await l.add("asks", StdioCLITests.faultServer, ["server-requests"])
        let dir = l.s.dir.appendingPathComponent("a root")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = await l.s.run(["call", "asks", "echo", "--arg", "text=x", "--root", dir.path, "--verbose"])
        #expect(r.status == 0, "\(r)")
        let uri = URL(fileURLWithPath: dir.path, isDirectory: true).absoluteString
        #expect(uri.hasSuffix("/a%20root/"))
        let root: JSONValue = .object(["name": "a root", "uri": .string(uri)])
        #expect(try JSONValue.parse(r.stdout)["s-roots"]?["roots"] == .array([root]), "\(r.stdout)")
        #expect(r.stderr.contains(#""capabilities":{"roots":{}}"#))
        // Without --root: the unattended empty list, and no capability declared.
        let plain = await l.s.run(["call", "asks", "echo", "--arg", "text=x", "--verbose"])
        #expect(try JSONValue.parse(plain.stdout)["s-roots"]?["roots"] == .array([]), "\(plain.stdout)")
        #expect(plain.stderr.contains(#""capabilities":{}"#))
        // A root that is not a directory: 66, one line, and no server started.
        let missing = await l.s.run(["call", "asks", "echo", "--root", dir.path + "/nope"])
        #expect(missing.status == 66 && missing.stderr == "mcpconn: --root '\(dir.path)/nope': no such directory\n")
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    @Test func everyVerbOnBothEras() async throws {
        let l = Local()
        await l.add("new")
        await l.add("old", python: TestServer.python1)
        let v = await l.s.run(["verify", "new", "old", "--expect-tool", "echo"])
        #expect(v.status == 0 && v.stdout.isEmpty, "\(v)")
        let new = json(await l.s.run(["get", "new", "--json"]))
        let old = json(await l.s.run(["get", "old", "--json"]))
        #expect(
            new["protocol_era"] == "modern" && new["protocol_version"] == "2026-07-28" && new["transport"] == "stdio")
        #expect(old["protocol_era"] == "handshake" && old["transport"] == "stdio" && old["tool_count"] == 5)
        for ref in ["new", "old"] {
            let c = await l.s.run(["call", ref, "echo", "--arg", "text=hello there"])
            #expect(c.status == 0 && c.stdout == "hello there\n", "\(ref): \(c)")
            let a = await l.s.run(["call", ref, "add", "--arg", "a=2", "--arg", "b=3", "--format", "agent"])
            #expect(a.stdout.hasPrefix("[\(ref):add]") && a.stdout.contains("5"), "\(a)")
            #expect(
                json(await l.s.run(["call", ref, "add", "--args", #"{"a":1,"b":1}"#, "--json"]))["isError"] == false)
            let h = await l.s.run(["health", ref, "--json"])
            #expect(json(h).arrayValue?.first?["healthy"] == true, "\(h)")
            #expect(await l.s.run(["tools", ref]).stdout.contains("env_var"))
        }
        let r = await l.s.run(["refresh", "--all", "--json"])
        #expect(r.status == 0 && json(r).arrayValue?.count == 2, "\(r)")
        #expect(json(await l.s.run(["history", "old", "--json"])).arrayValue?.count == 3)  // verify, health, refresh
        let unknown = await l.s.run(["call", "new", "teleport"])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("mcpconn: tool 'teleport' failed: "), "\(unknown)")
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    /// A server from PyPI that no one here wrote (SDK 1.x, started with `python -m`).
    @Test func mcpServerTimeFromPyPI() async throws {
        let l = Local()
        let add = await l.s.run(
            [
                "add", "time", "--env", "TEST_MARKER=\(l.marker)", "--", TestServer.python1, "-m", "mcp_server_time",
                "--local-timezone", "UTC",
            ])
        #expect(add.status == 0, "\(add)")
        let v = await l.s.run(["verify", "time", "--expect-tool", "get_current_time", "--expect-tool", "convert_time"])
        #expect(v.status == 0, "\(v)")
        let got = json(await l.s.run(["get", "time", "--json"]))
        #expect(got["server_name"] == "mcp-time" && got["protocol_era"] == "handshake")
        let c = await l.s.run(
            [
                "call", "time", "convert_time", "--arg", "source_timezone=UTC", "--arg", "time=12:00",
                "--arg", "target_timezone=Asia/Tokyo",
            ])
        #expect(c.status == 0, "\(c)")
        #expect(c.stdout.contains("T21:00:00+09:00") && c.stdout.contains("+9.0h"), "\(c)")
        #expect(l.leftovers().isEmpty)
    }

    @Test func theServerGetsItsVariablesAndTheBaseButNoneOfMCPConnsSecrets() async throws {
        let l = Local()
        let key = "sk-stdio-0123456789"
        await l.add(
            "env", options: ["--env", "SHORT=abc", "--auth", "api_key", "--key-env", "SERVICE_KEY", "--secret-stdin"],
            stdin: key)
        func value(_ name: String, env: [String: String] = [:]) async -> String {
            await l.s.run(["call", "env", "env_var", "--arg", "name=\(name)"], env: env).stdout
        }
        #expect(await value("SHORT") == "abc\n")
        #expect(await value("PATH") == "/usr/bin:/bin\n")
        // The key reaches the server in its variable; echoed back, it is redacted.
        #expect(await value("SERVICE_KEY") == Redactor.mark + "\n")
        let parent = ["TOKEN_ENCRYPTION_KEY": "x", "MCPCONN_USER": "1", "AWS_SECRET_ACCESS_KEY": "aws-secret"]
        for name in ["MCPCONN_DB", "MCPCONN_USER", "AWS_SECRET_ACCESS_KEY", "XDG_DATA_HOME"]
        where name != "XDG_DATA_HOME" {
            #expect(await value(name, env: parent.filter { $0.key != "TOKEN_ENCRYPTION_KEY" }) == "unset\n", "\(name)")
        }
        #expect(await value("TOKEN_ENCRYPTION_KEY") == "unset\n")
        #expect(l.leftovers().isEmpty)
    }

    @Test func aFleetMixesHTTPAndStdioConnectors() async throws {
        let l = Local()
        await l.s.run(["add", "http-new", (try await CLIServers.reference()).base + "/mcp"])
        await l.s.run(["add", "http-old", (try await CLIServers.handshake()).base + "/mcp"])
        for i in 0..<4 { await l.add("local-\(i)", python: i % 2 == 0 ? TestServer.python : TestServer.python1) }
        await l.add("broken", l.faultServerPath, ["exit-at-once"])
        let v = await l.s.run(["verify", "--all", "--concurrency", "3", "--json"])
        let reports = json(v).arrayValue ?? []
        #expect(v.status == 1 && reports.count == 7, "\(v)")
        #expect(reports.filter { $0["ok"] == true }.count == 6)
        #expect(
            reports.first { $0["name"] == "broken" }?["error"]?.stringValue?.contains("GITHUB_TOKEN not set") == true)
        let h = await l.s.run(["health", "--all", "--quiet"])
        #expect(h.status == 1 && h.stdout.isEmpty && h.stderr.contains("'broken'"), "\(h)")
        #expect(!h.stderr.contains("local-") && !h.stderr.contains("http-"), "\(h)")
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    @Test func failuresAreOneLineWithTheirExitCodes() async throws {
        let l = Local()
        await l.s.run(["add", "missing", "--", "/nonexistent/mcp-server"])
        await l.s.run(["add", "unknown", "--", "no-such-mcp-server-\(UUID().uuidString.prefix(8))"])
        await l.add("early", l.faultServerPath, ["exit-at-once"])
        await l.add("garbage", l.faultServerPath, ["garbage"])
        await l.add("silent", l.faultServerPath, ["silent"])
        for (ref, status, text) in [
            ("missing", 69, "cannot start '/nonexistent/mcp-server'"), ("unknown", 69, "not found in PATH"),
            ("early", 69, "GITHUB_TOKEN not set"), ("garbage", 76, "not"), ("silent", 75, "timed out"),
        ] {
            let r = await l.s.run(["verify", ref, "--timeout", "3"])
            #expect(r.status == Int32(status), "\(ref): \(r)")
            #expect(r.stderr.hasPrefix("mcpconn: connector '\(ref)': ") && r.stderr.contains(text), "\(ref): \(r)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1 && r.stdout.isEmpty, "\(ref): \(r)")
        }
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    @Test func logLinesOnStdoutAreSkippedAndShownUnderVerbose() async throws {
        let l = Local()
        await l.add("chatty", l.faultServerPath, ["log-lines"])
        let c = await l.s.run(["call", "chatty", "echo", "--arg", "text=ok"])
        #expect(c.status == 0 && c.stdout == "ok\n" && c.stderr.isEmpty, "\(c)")
        let v = await l.s.run(["call", "chatty", "echo", "--arg", "text=ok", "--verbose"])
        #expect(v.status == 0 && v.stdout == "ok\n" && v.stderr.contains("Starting server v1.2"), "\(v)")
        #expect(l.leftovers().isEmpty)
    }

    @Test func serversThatIgnoreEOFAndSIGTERMOrSpawnChildrenAreEnded() async throws {
        let l = Local()
        await l.add("eof", l.faultServerPath, ["ignore-eof"])
        await l.add("term", l.faultServerPath, ["ignore-term"])
        let pidfile = l.s.dir.appendingPathComponent("grandchild.pid").path
        await l.add("family", l.faultServerPath, ["grandchild", "--pidfile", pidfile])
        for ref in ["eof", "term", "family"] {
            let c = await l.s.run(["call", ref, "echo", "--arg", "text=\(ref)"])
            #expect(c.status == 0 && c.stdout == "\(ref)\n", "\(ref): \(c)")
        }
        let grandchild = try #require(pid_t(try String(contentsOfFile: pidfile, encoding: .utf8)))
        #expect(Local.hasEnded(grandchild))
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    @Test(arguments: [SIGINT: Int32(130), SIGTERM: Int32(143)])
    func aSignalToMCPConnEndsItsServer(signal: Int32, status: Int32) async throws {
        let l = Local()
        let pidfile = l.s.dir.appendingPathComponent("server.pid").path
        await l.add("stubborn", l.faultServerPath, ["stubborn", "--pidfile", pidfile])
        let errors = l.s.dir.appendingPathComponent("stderr")
        let (p, watch) = try await l.s.start(["call", "stubborn", "echo", "--timeout", "60"], stderr: errors)
        // The server writes its pid once it runs: then mcpconn is waiting on it.
        _ = try await eventually(within: 30) { FileManager.default.fileExists(atPath: pidfile) }
        let server = try #require(pid_t(try String(contentsOfFile: pidfile, encoding: .utf8)))
        kill(p.processIdentifier, signal)
        let ended = await watch.wait()
        #expect(ended == status, "exit \(ended)")
        // Ended by the signal, with the server it killed: no error line about that server.
        #expect(try String(contentsOf: errors, encoding: .utf8) == "")
        #expect(Local.hasEnded(server))
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    /// `kill -9` of mcpconn leaves it no chance to end its server: the reaper that runs the server sees mcpconn
    /// go and ends the server (which ignores EOF and SIGTERM) and the daemon it started (outside its process
    /// group, its parent gone).
    @Test func killingMCPConnWithSIGKILLStillEndsItsServerAndItsDaemon() async throws {
        let l = Local()
        let pidfile = l.s.dir.appendingPathComponent("server.pid").path
        let daemonfile = l.s.dir.appendingPathComponent("daemon.pid").path
        await l.add("stubborn", l.faultServerPath, ["stubborn", "--pidfile", pidfile, "--daemon", daemonfile])
        let (p, watch) = try await l.s.start(["call", "stubborn", "echo", "--timeout", "60"])
        // The server writes its pid once it runs (and its daemon's): then mcpconn is waiting on it.
        #expect(try await eventually(within: 60) { FileManager.default.fileExists(atPath: pidfile) })
        let server = try #require(pid_t(try String(contentsOfFile: pidfile, encoding: .utf8)))
        let daemon = try #require(pid_t(try String(contentsOfFile: daemonfile, encoding: .utf8)))
        #expect(!Local.hasEnded(server) && !Local.hasEnded(daemon))
        kill(p.processIdentifier, SIGKILL)
        #expect(await watch.wait() == 128 + SIGKILL)
        #expect(try await eventually(within: 60) { Local.hasEnded(server) }, "server \(server) survived")
        #expect(try await eventually(within: 60) { Local.hasEnded(daemon) }, "daemon \(daemon) survived")
        #expect(try await eventually(within: 60) { l.leftovers().isEmpty }, "\(l.leftovers())")
    }

    /// Without mcpconn-reaper next to mcpconn a local server does not start (it could outlive a killed mcpconn):
    /// one line and 78, like a missing mcpconn-serve-http. The binary is linked into a folder of its own.
    @Test func aMissingReaperIsAConfigurationError() async throws {
        let l = Local()
        await l.add("local")
        let folder = l.s.dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lone = folder.appendingPathComponent("mcpconn").path
        do {
            try FileManager.default.linkItem(atPath: CLISandbox.binary, toPath: lone)
        } catch {
            try FileManager.default.copyItem(atPath: CLISandbox.binary, toPath: lone)
        }
        let r = await l.s.run(["call", "local", "echo", "--arg", "text=x"], binary: lone)
        let reaper = folder.appendingPathComponent("mcpconn-reaper").path
        #expect(r.status == 78 && r.stdout.isEmpty, "\(r)")
        #expect(
            r.stderr == "mcpconn: connector 'local': cannot start '\(TestServer.python)': local servers need "
                + "mcpconn-reaper next to mcpconn (\(reaper)): build or install both\n", "\(r)")
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }

    /// A daemon a server started (outside its process group, its parent gone) ends with the call, even though
    /// the server itself exits as it should.
    @Test func aDaemonTheServerStartedEndsWithTheCall() async throws {
        let l = Local()
        let daemonfile = l.s.dir.appendingPathComponent("daemon.pid").path
        await l.add("daemonizing", l.faultServerPath, ["normal", "--daemon", daemonfile])
        let c = await l.s.run(["call", "daemonizing", "echo", "--arg", "text=ok"])
        #expect(c.status == 0 && c.stdout == "ok\n", "\(c)")
        let daemon = try #require(pid_t(try String(contentsOfFile: daemonfile, encoding: .utf8)))
        #expect(try await eventually(within: 60) { Local.hasEnded(daemon) }, "daemon \(daemon) survived")
        #expect(l.leftovers().isEmpty, "\(l.leftovers())")
    }
}

extension StdioCLITests.Local {
    var faultServerPath: String { StdioCLITests.faultServer }

    @discardableResult
    func add(_ name: String, _ script: String, _ args: [String]) async -> CLIResult {
        await add(name, python: TestServer.python, script, args)
    }
}
