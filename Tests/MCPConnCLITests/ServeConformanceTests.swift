import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Issue 31: third-party conformance checkers against `serve` in front of the reference server: jbt-mcpcheck
/// (2026-07-28 over streamable HTTP, with the bearer token) and mcp-conform (the handshake era, over stdio and
/// over HTTP with `--no-token`, as it cannot send a token). Both are in Tests/Servers/requirements.txt, installed
/// beside the SDK in the venv of `MCPCONN_TEST_PYTHON`.
// Not skipped when a checker is missing: `make test` installs them (Tests/Servers/requirements.txt), and a suite that
// skips itself would let CI pass without checking anything.
@Suite("CLI: serve against conformance checkers", .serialized, .timeLimit(.minutes(3)))
struct ServeConformanceTests {
    /// A sandbox with one connector, `ref`, to the shared reference server (streamable HTTP, SDK 2.x).
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        #expect(await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"]).status == 0)
        return s
    }

    /// Runs a checker with the sandbox's environment (and `extra`): its exit status and its JSON report.
    static func run(_ name: String, _ args: [String], _ s: CLISandbox, extra: [String: String] = [:]) async throws
        -> (status: Int32, report: JSONValue, stderr: String)
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(ConformanceChecker.path(name)))
        p.arguments = args
        p.environment = s.environment.merging(extra) { $1 }
        let output = await Pipe.closeOnExec()
        let errors = await Pipe.closeOnExec()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = output
        p.standardError = errors
        let watch = ExitWatch(p)
        try await p.runOffPool()
        async let err = errors.readToEnd()
        let out = await output.readToEnd()
        let status = await watch.wait()
        let report = (try? JSONValue.parse(String(decoding: out, as: UTF8.self))) ?? .null
        return (status, report, String(decoding: await err, as: UTF8.self))
    }

    /// jbt-mcpcheck's eight checks of 2026-07-28 over streamable HTTP, every tool probed with invalid arguments
    /// (the reference server's tools are harmless) and the legacy probes on (serve speaks both eras). Its
    /// `protocol` check is the one issue 31 found failing: -32022 without `data.supported` and with a null id,
    /// and a request without `clientCapabilities` accepted.
    @Test func jbtMcpcheckPassesServeHTTPWithTheToken() async throws {
        let s = try await Self.sandbox()
        let serve = try await HTTPServe(s, ["ref"])
        let args = ["--json", "--probe", "all", "--legacy-probes", "--timeout", "60", serve.url]
        let r = try await Self.run("jbt-mcpcheck", args, s, extra: ["MCPCHECK_TOKEN": serve.token])
        await serve.stopCleanly()
        let summary = r.report["summary"]
        let checks = Dictionary(
            (r.report["checks"]?.arrayValue ?? []).compactMap { c in c["name"]?.stringValue.map { ($0, c) } }
        ) { a, _ in a }
        print("jbt-mcpcheck against serve --http: \(summary?.compactText() ?? r.stderr)")
        #expect(r.status == 0 && summary?["failed"] == 0 && summary?["errored"] == 0, "\(r.report) \(r.stderr)")
        for name in ["handshake", "session", "protocol", "errors", "cache", "origin"] {
            #expect(checks[name]?["status"] == "pass", "\(name): \(checks[name] ?? .null)")
        }
        // Warnings that are not serve's to fix. discover: "the logging capability is deprecated; new
        // implementations SHOULD NOT adopt it": serve declares it because it relays its connectors' log
        // messages, which 2026-07-28 deprecates but still defines. schemas: tools of the reference server without
        // an outputSchema (optional; serve passes each tool on as its connector lists it).
        let discover = checks["discover"]?["warnings"]?.arrayValue ?? []
        #expect(discover.allSatisfy { $0.compactText().contains("logging") }, "\(discover)")
        #expect(["pass", "warn"].contains(checks["discover"]?["status"]), "\(checks["discover"] ?? .null)")
        let schemas = checks["schemas"]?["warnings"]?.arrayValue ?? []
        #expect(schemas.allSatisfy { $0.compactText().contains("outputSchema") }, "\(schemas)")
        #expect(["pass", "warn"].contains(checks["schemas"]?["status"]), "\(checks["schemas"] ?? .null)")
    }

    /// mcp-conform (handshake era, 2025-03-26): its envelope, initialize, tools/list and unknown-method checks,
    /// over stdio (it starts `mcpconn serve ref` itself) and over HTTP with `--no-token`.
    @Test func mcpConformPassesServeOverStdioAndHTTPWithoutAToken() async throws {
        let s = try await Self.sandbox()
        let command = [CLISandbox.binary, "serve", "ref"].map(Self.shellQuoted).joined(separator: " ")
        let stdio = try await Self.run(
            "mcp-conform",
            ["server", "--transport", "stdio", "--command", command, "--timeout", "60", "--format", "json"],
            s)
        let serve = try await HTTPServe(s, ["ref", "--no-token"])
        // mcp-conform adds `/mcp` to the URL it is given.
        let base = String(serve.url.dropLast("/mcp".count))
        let http = try await Self.run(
            "mcp-conform", ["server", "--transport", "http", "--url", base, "--timeout", "60", "--format", "json"], s)
        await serve.stopCleanly()
        for (transport, r) in [("stdio", stdio), ("http --no-token", http)] {
            let report = r.report
            print(
                "mcp-conform against serve over \(transport): \(report["passed"]?.compactText() ?? "?") of \(report["total"]?.compactText() ?? "?") passed"
            )
            let failed = report["checks"]?.arrayValue?.filter { $0["passed"] != true } ?? []
            #expect(r.status == 0 && report["ok"] == true && failed.isEmpty, "\(transport): \(failed) \(r.stderr)")
            #expect(report["passed"] == report["total"] && (report["total"]?.intValue ?? 0) > 0, "\(report)")
            let names = Set(report["checks"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            #expect(names.isSuperset(of: ["tools_list", "method_not_found", "server_info_name"]), "\(names)")
        }
    }

    /// A word for mcp-conform's `--command`, which it splits as a POSIX shell would (shlex).
    static func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

enum ConformanceChecker {
    /// A checker's command, next to the test Python (its venv's bin folder); nil when it is not installed.
    static func path(_ name: String) -> String? {
        let path = URL(fileURLWithPath: TestServer.python).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
