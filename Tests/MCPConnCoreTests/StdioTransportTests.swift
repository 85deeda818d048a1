import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

#if canImport(Glibc)
    import Glibc
#endif

/// A stdio channel and a session of its own, as `MCPClient` makes them: requests go through the session, which
/// settles their answers, routes notifications and answers the server's requests.
final class StdioUnderTest: Sendable {
    let session = MCPSession()
    let channel: StdioTransport

    init(launch: StdioLaunch, settings: TransportSettings, parentEnvironment: [String: String]? = nil) {
        var s = settings
        s.inbound = session.inbound()
        channel = StdioTransport(launch: launch, settings: s, parentEnvironment: parentEnvironment)
        session.use(channel)
    }

    func start(deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        try await channel.start(deadline: deadline)
    }

    func request(_ message: JSONValue, id: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError)
        -> JSONRPCMessage
    {
        try await session.request(message, id: id, route: nil, deadline: deadline)
    }

    func notify(_ message: JSONValue, deadline: ContinuousClock.Instant) async throws(MCPClientError) {
        try await session.notify(message, deadline: deadline)
    }

    func close(deadline: ContinuousClock.Instant) async { await channel.close(deadline: deadline) }

    var processID: pid_t? { channel.processID }
    var stderrBytesHeld: Int { channel.stderrBytesHeld }
}

/// Servers run as child processes over stdio: Tests/Servers/stdio_server.py (official SDK) and
/// Tests/Servers/stdio_fault_server.py (plain Python, one misbehaviour per mode).
enum Stdio {
    static func script(_ name: String) -> String {
        TestServer.repoRoot.appendingPathComponent("Tests/Servers/\(name)").path
    }

    static func settings(maxBytes: Int = 4 * 1024 * 1024, log: ProtocolLog? = nil) -> TransportSettings {
        TransportSettings(credentialHeaders: [], maxBytes: maxBytes, log: log)
    }

    /// A started transport to the reference server on `python`'s SDK.
    static func reference(
        python: String = TestServer.python, environment: [String: String] = [:],
        parentEnvironment: [String: String]? = nil
    ) async throws -> StdioUnderTest {
        let t = StdioUnderTest(
            launch: StdioLaunch(command: python, arguments: [script("stdio_server.py")], environment: environment),
            settings: settings(), parentEnvironment: parentEnvironment)
        try await t.start(deadline: deadline)
        return t
    }

    /// A started transport to the fault server in `mode`.
    static func fault(
        _ mode: String, _ extra: [String] = [], maxBytes: Int = 4 * 1024 * 1024, log: ProtocolLog? = nil
    ) async throws -> StdioUnderTest {
        let t = StdioUnderTest(
            launch: StdioLaunch(
                command: TestServer.python, arguments: [script("stdio_fault_server.py"), mode] + extra),
            settings: settings(maxBytes: maxBytes, log: log))
        try await t.start(deadline: deadline)
        return t
    }

    /// Generous: only a broken transport waits this long.
    /// Bounds a hang, not a speed claim: a Python server's start on a loaded two-core machine took over 30 s.
    static var deadline: ContinuousClock.Instant { .now + .seconds(60) }

    static func call(_ id: Int, _ tool: String, _ arguments: JSONObject, envelope: Bool = false) -> JSONValue {
        var params: JSONValue = .object(["name": .string(tool), "arguments": .object(arguments)])
        if envelope { params = MCPClient.envelope(params, version: "2026-07-28") }
        return JSONRPC.request(id: id, method: "tools/call", params: params)
    }

    /// The first text of a tools/call answer.
    static func text(_ m: JSONRPCMessage) -> String? {
        guard case .response(_, let result) = m else { return nil }
        return result["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    /// Calls `tool` and returns its text.
    static func callText(_ t: StdioUnderTest, _ id: Int, _ tool: String, _ args: JSONObject, envelope: Bool = false)
        async throws -> String?
    {
        text(try await t.request(call(id, tool, args, envelope: envelope), id: .int(id), deadline: deadline))
    }

    /// The error a request fails with, as mcpconn reports it.
    static func failure(
        _ t: StdioUnderTest, _ message: JSONValue = JSONRPC.request(id: 1, method: "tools/list", params: nil),
        id: Int = 1, deadline: ContinuousClock.Instant = Stdio.deadline
    ) async -> MCPConnError? {
        do {
            _ = try await t.request(message, id: .int(id), deadline: deadline)
            return nil
        } catch {
            return error.error("connector 's'")
        }
    }

    /// How starting `launch` fails, as the CLI would say it; nil when it started.
    static func startFailure(_ launch: StdioLaunch) async -> MCPConnError? {
        let t = StdioUnderTest(launch: launch, settings: settings())
        var failure: MCPConnError?
        do {
            try await t.start(deadline: deadline)
        } catch {
            failure = error.error("connector 's'")
        }
        await t.close(deadline: .now + .seconds(5))
        return failure
    }

    /// No such process (reaped, not merely dead).
    static func isGone(_ pid: pid_t) -> Bool { kill(pid, 0) == -1 && errno == ESRCH }

    /// Gone, or a zombie waiting for its reaper (an orphaned grandchild is init's to reap, not ours).
    static func isGoneOrZombie(_ pid: pid_t) -> Bool {
        if isGone(pid) { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return isGone(pid) }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-stdio-\(UUID().uuidString)-\(name)").path
    }
}

/// Lines a `ProtocolLog` wrote.
final class LogLines: @unchecked Sendable {
    // Safe to share: `lines` is touched only under `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }

    func log(secrets: [String] = []) -> ProtocolLog {
        ProtocolLog(secrets: secrets, redactedHeaders: []) { [self] text in
            lock.withLock { lines += text.split(separator: "\n").map(String.init) }
        }
    }
}

// Serialized: each test starts and ends server processes and checks none is left; run all at once on two
// cores (and under ThreadSanitizer) they starve each other's shutdown timers.
@Suite("Stdio transport", .serialized, .timeLimit(.minutes(5)))
struct StdioTransportTests {
    // MARK: - Real servers

    @Test func roundTripOnSDK2WithoutHandshake() async throws {
        let t = try await Stdio.reference()
        // 2026-07-28: a call carrying the `_meta` envelope needs no initialize.
        #expect(try await Stdio.callText(t, 1, "echo", ["text": "hello"], envelope: true) == "hello")
        #expect(try await Stdio.callText(t, 2, "add", ["a": 2, "b": 40], envelope: true) == "42")
        let discover = JSONRPC.request(
            id: 3, method: "server/discover", params: MCPClient.envelope(nil, version: "2026-07-28"))
        let answer = try await t.request(discover, id: .int(3), deadline: Stdio.deadline)
        guard case .response(_, let result) = answer else {
            Issue.record("server/discover: \(answer)")
            return
        }
        #expect(result["supportedVersions"]?.arrayValue?.contains("2026-07-28") == true, "\(result)")
        let pid = try #require(t.processID)
        await t.close(deadline: .now + .seconds(5))
        #expect(Stdio.isGone(pid))
        #expect(!ChildProcesses.live.contains(pid))
    }

    @Test func handshakeOnSDK1() async throws {
        let t = try await Stdio.reference(python: TestServer.python1)
        // SDK 1.x does not know server/discover: a JSON-RPC error, the client's cue to fall back.
        let discover = JSONRPC.request(id: 1, method: "server/discover", params: nil)
        let refused = try await t.request(discover, id: .int(1), deadline: Stdio.deadline)
        guard case .errorResponse(_, let e) = refused else {
            Issue.record("server/discover was answered")
            return
        }
        #expect(e.code == JSONRPCError.invalidParams)
        let initialize = JSONRPC.request(
            id: 2, method: "initialize",
            params: [
                "protocolVersion": "2025-06-18", "capabilities": [:],
                "clientInfo": ["name": "mcpconn-test", "version": "0"],
            ])
        guard case .response(_, let result) = try await t.request(initialize, id: .int(2), deadline: Stdio.deadline)
        else {
            Issue.record("initialize failed")
            return
        }
        #expect(result["protocolVersion"]?.stringValue == "2025-06-18")
        try await t.notify(JSONRPC.notification(method: "notifications/initialized"), deadline: Stdio.deadline)
        #expect(try await Stdio.callText(t, 3, "echo", ["text": "hello"]) == "hello")
        let pid = try #require(t.processID)
        await t.close(deadline: .now + .seconds(5))
        #expect(Stdio.isGone(pid))
    }

    @Test func concurrentRequestsGetTheirOwnAnswers() async throws {
        let t = try await Stdio.reference()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 1...8 {
                group.addTask {
                    let got = try await Stdio.callText(t, i, "echo", ["text": .string("n\(i)")], envelope: true)
                    #expect(got == "n\(i)")
                }
            }
            try await group.waitForAll()
        }
        await t.close(deadline: .now + .seconds(5))
    }

    // MARK: - Environment

    @Test func childEnvironmentKeepsTheBaseAndTheConnectorsVariablesOnly() {
        let parent = [
            "PATH": "/usr/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "AWS_SECRET_ACCESS_KEY": "aws",
            "TOKEN_ENCRYPTION_KEY": "k", "MCPCONN_DB": "/x.db", "GITHUB_TOKEN": "from-shell",
        ]
        let launch = StdioLaunch(
            command: "srv",
            environment: [
                "GITHUB_TOKEN": "from-connector", "PATH": "/opt/bin", "TOKEN_ENCRYPTION_KEY": "k2", "MCPCONN_USER": "2",
            ])
        #expect(
            launch.childEnvironment(inheriting: parent) == [
                "PATH": "/opt/bin", "HOME": "/home/u", "LANG": "C.UTF-8", "GITHUB_TOKEN": "from-connector",
            ])
    }

    @Test(arguments: ["TOKEN_ENCRYPTION_KEY", "MCPCONN_DB", "MCPCONN_", "", "A=B", "A\u{0}B"])
    func forbiddenOrInvalidNamesAreRefused(name: String) {
        #expect(throws: MCPConnError.self) { try Validate.environmentName(name) }
        do {
            try Validate.environmentName(name)
        } catch {
            #expect(error.status == .usage)
        }
    }

    @Test func ordinaryVariablesAreAccepted() throws {
        try Validate.environmentName("GITHUB_TOKEN")
        try Validate.environmentName("mcpconn_lowercase_is_not_ours")
        try Validate.environmentValue("", of: "X")
        #expect(throws: MCPConnError.self) { try Validate.environmentValue("a\u{0}b", of: "X") }
    }

    /// What the child really sees, from mcpconn's real environment: an `MCPCONN_*` variable and one outside the
    /// base are set with setenv (names no other test reads) and must not arrive.
    @Test func theChildSeesTheBaseAndItsConnectorsVariablesFromTheRealEnvironment() async throws {
        setenv("MCPCONN_STDIO_TEST_FOO", "leak", 1)
        setenv("STDIO_TEST_PARENT_ONLY", "leak", 1)
        let t = try await Stdio.reference(environment: ["CONNECTOR_VAR": "v1", "MCPCONN_BAR": "leak"])
        var id = 0
        func env(_ name: String) async throws -> String? {
            id += 1
            return try await Stdio.callText(t, id, "env_var", ["name": .string(name)], envelope: true)
        }
        #expect(try await env("PATH") == ProcessInfo.processInfo.environment["PATH"])
        #expect(try await env("CONNECTOR_VAR") == "v1")
        #expect(try await env("MCPCONN_STDIO_TEST_FOO") == "unset")
        #expect(try await env("MCPCONN_BAR") == "unset")
        #expect(try await env("STDIO_TEST_PARENT_ONLY") == "unset")
        await t.close(deadline: .now + .seconds(5))
    }

    /// The same with TOKEN_ENCRYPTION_KEY in mcpconn's environment: a stand-in parent environment, since setting
    /// the real one would reach the other tests running in this process.
    @Test func theEncryptionKeyNeverReachesTheChild() async throws {
        let parent = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "TOKEN_ENCRYPTION_KEY": "parent-key", "MCPCONN_FOO": "parent", "HOME": "/nonexistent-home",
        ]
        let t = try await Stdio.reference(
            environment: ["TOKEN_ENCRYPTION_KEY": "connector-key", "API_KEY": "k"], parentEnvironment: parent)
        #expect(try await Stdio.callText(t, 1, "env_var", ["name": "TOKEN_ENCRYPTION_KEY"], envelope: true) == "unset")
        #expect(try await Stdio.callText(t, 2, "env_var", ["name": "MCPCONN_FOO"], envelope: true) == "unset")
        #expect(try await Stdio.callText(t, 3, "env_var", ["name": "HOME"], envelope: true) == "/nonexistent-home")
        #expect(try await Stdio.callText(t, 4, "env_var", ["name": "API_KEY"], envelope: true) == "k")
        await t.close(deadline: .now + .seconds(5))
    }

    // MARK: - Failures

    @Test func aCommandNotInPATHIsUnavailable() async throws {
        let e = try #require(await Stdio.startFailure(StdioLaunch(command: "no-such-mcp-server-4711")), "started")
        #expect(e.status == .unavailable)
        #expect(e.message == "connector 's': cannot start 'no-such-mcp-server-4711': not found in PATH")
    }

    @Test(arguments: [
        ("/nonexistent/server", "no such file or directory"),
        ("Tests/Servers/stdio_server.py", "permission denied (not executable)"),
        ("/tmp", "is a directory"),
    ])
    func aPathThatCannotRunIsUnavailable(path: String, why: String) async throws {
        let command = path.hasPrefix("/") ? path : TestServer.repoRoot.appendingPathComponent(path).path
        let e = try #require(await Stdio.startFailure(StdioLaunch(command: command)), "started")
        #expect(e.status == .unavailable)
        #expect(e.message == "connector 's': cannot start '\(command)': \(why)")
    }

    @Test func aMissingWorkingDirectoryIsUnavailable() async throws {
        let launch = StdioLaunch(command: TestServer.python, workingDirectory: "/nonexistent-dir")
        let e = try #require(await Stdio.startFailure(launch), "started")
        #expect(e.status == .unavailable)
        #expect(e.message.hasSuffix("working directory '/nonexistent-dir': no such file or directory"), "\(e)")
    }

    @Test func aServerThatExitsAtOnceSaysWhyFromItsStderr() async throws {
        let t = try await Stdio.fault("exit-at-once")
        let e = try #require(await Stdio.failure(t))
        #expect(e.status == .unavailable)
        #expect(
            e.message.hasPrefix("connector 's': the server exited with status 1 before answering: "), "\(e.message)")
        #expect(e.message.hasSuffix("RuntimeError: GITHUB_TOKEN not set"), "\(e.message)")
        #expect(!e.message.contains("\n"))
        // Later requests fail the same way, at once.
        #expect(await Stdio.failure(t, id: 2)?.message == e.message)
        await t.close(deadline: .now + .seconds(5))
    }

    /// A `{` line that is not JSON-RPC, or nothing but log lines before the server exits: a protocol error (76).
    @Test(arguments: [
        ("garbage", "not JSON-RPC"),
        ("only-logs-exit", "the server wrote no JSON-RPC, only lines like: Starting server v1.2"),
    ])
    func whatIsNotJSONRPCIsAProtocolError(mode: String, says text: String) async throws {
        let t = try await Stdio.fault(mode)
        let e = try #require(await Stdio.failure(t))
        #expect(e.status == .protocolError)
        #expect(e.message.contains(text), "\(e.message)")
        await t.close(deadline: .now + .seconds(5))
    }

    @Test func aLineLongerThanTheCapIsOversized() async throws {
        let t = try await Stdio.fault("normal", maxBytes: 1024)
        let big = Stdio.call(1, "echo", ["text": .string(String(repeating: "x", count: 4000))])
        let e = try #require(await Stdio.failure(t, big))
        #expect(e.status == .protocolError)
        #expect(e.message.contains("cap"), "\(e.message)")
        await t.close(deadline: .now + .seconds(5))
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let t = try await Stdio.fault("silent")
        let e = try #require(await Stdio.failure(t, deadline: .now + .milliseconds(500)))
        #expect(e.status == .timeout)
        await t.close(deadline: .now + .seconds(5))
    }

    @Test func logLinesOnStdoutAreSkippedAndShownUnderVerbose() async throws {
        let lines = LogLines()
        let t = try await Stdio.fault("log-lines", log: lines.log())
        let initialize = JSONRPC.request(id: 1, method: "initialize", params: ["protocolVersion": "2025-06-18"])
        guard case .response = try await t.request(initialize, id: .int(1), deadline: Stdio.deadline) else {
            Issue.record("initialize failed")
            return
        }
        let list = try await t.request(
            JSONRPC.request(id: 2, method: "tools/list", params: nil), id: .int(2), deadline: Stdio.deadline)
        guard case .response(_, let result) = list else {
            Issue.record("tools/list failed")
            return
        }
        #expect(result["tools"]?.arrayValue?.count == 1)
        #expect(try await Stdio.callText(t, 3, "echo", ["text": "hi"]) == "hi")
        await t.close(deadline: .now + .seconds(5))
        let log = lines.all
        #expect(log.contains { $0.hasPrefix("* server stdout (not JSON-RPC, skipped): Starting server v1.2") })
        #expect(log.contains { $0.hasPrefix("* server stdout (not JSON-RPC, skipped): [INFO] answered") })
        #expect(log.contains { $0.hasPrefix("> ") && $0.contains("tools/list") })
        #expect(log.contains { $0.hasPrefix("< ") && $0.contains("\"tools\"") })
    }

    @Test func onlyLogLinesUntilTheDeadlineSaysSo() async throws {
        let lines = LogLines()
        let t = try await Stdio.fault("only-logs-hang", log: lines.log())
        // The deadline must pass after the log line came (it comes once Python has started).
        #expect(try await eventually(within: 30) { lines.all.contains { $0.contains("(not JSON-RPC, skipped)") } })
        let e = try #require(await Stdio.failure(t, deadline: .now + .milliseconds(200)))
        #expect(e.status == .protocolError)
        #expect(e.message.contains("the server wrote no JSON-RPC, only lines like: Starting server v1.2"), "\(e)")
        await t.close(deadline: .now + .seconds(5))
    }

    @Test func serverRequestsAreAnsweredBeforeTheAnswer() async throws {
        let settings = Stdio.settings()
        let t = StdioUnderTest(
            launch: StdioLaunch(
                command: TestServer.python, arguments: [Stdio.script("stdio_fault_server.py"), "server-requests"]),
            settings: settings)
        try await t.start(deadline: Stdio.deadline)
        let text = try await Stdio.callText(t, 1, "echo", ["text": "x"])
        #expect(text == #"{"s-ping": {}, "s-roots": {"roots": []}}"#)
        await t.close(deadline: .now + .seconds(5))
    }

    @Test func aStderrFloodStaysBounded() async throws {
        let lines = LogLines()
        // 4 MiB, 64 times what is held: 16 MiB, each line through the trace, took a debug build past the
        // 60 s deadline in a stress run of the full suite with one core kept busy.
        let t = try await Stdio.fault("stderr-flood", ["--mb", "4"], log: lines.log())
        // The server writes 4 MiB on stderr before it reads anything: it answers only if we keep reading.
        #expect(try await Stdio.callText(t, 1, "echo", ["text": "after the flood"]) == "after the flood")
        #expect(t.stderrBytesHeld == StdioSession.stderrCapacity)
        await t.close(deadline: .now + .seconds(5))
        #expect(lines.all.contains { $0.hasPrefix("* server stderr: xxxx") })
    }

    @Test func theTraceRedactsSecrets() async throws {
        let lines = LogLines()
        let t = try await Stdio.fault("normal", log: lines.log(secrets: ["sk-secret-4711"]))
        #expect(try await Stdio.callText(t, 1, "echo", ["text": "token sk-secret-4711"]) == "token sk-secret-4711")
        await t.close(deadline: .now + .seconds(5))
        #expect(!lines.all.isEmpty)
        #expect(!lines.all.contains { $0.contains("sk-secret-4711") })
    }

    // MARK: - Lifecycle

    @Test(arguments: ["normal", "ignore-eof", "ignore-term", "grandchild"])
    func closeLeavesNoProcessBehind(mode: String) async throws {
        let pidfile = Stdio.tempPath("grandchild.pid")
        defer { try? FileManager.default.removeItem(atPath: pidfile) }
        let t = try await Stdio.fault(mode, ["--pidfile", pidfile])
        // One answer: the server runs and (grandchild mode) its grandchild's pid is written.
        #expect(try await Stdio.callText(t, 1, "echo", ["text": "up"]) == "up")
        let pid = try #require(t.processID)
        let grandchild =
            mode == "grandchild"
            ? pid_t(try String(contentsOfFile: pidfile, encoding: .utf8).trimmingCharacters(in: .whitespaces)) : nil
        if mode == "grandchild" { #expect(grandchild.map { !Stdio.isGone($0) } == true) }
        // Bounded by design (close waits at most 2.5 s); no timing is asserted, the suite's time limit holds.
        await t.close(deadline: .now + .seconds(5))
        #expect(Stdio.isGone(pid), "the server (pid \(pid)) is still there")
        #expect(!ChildProcesses.live.contains(pid))
        if let grandchild {
            // SIGKILL was sent before close returned; init reaps the orphan on its own time.
            #expect(try await eventually(within: 5) { Stdio.isGoneOrZombie(grandchild) }, "grandchild \(grandchild)")
        }
    }

    @Test func aTransportDroppedWithoutCloseStillEndsItsServer() async throws {
        var t: StdioUnderTest? = try await Stdio.fault("ignore-eof")
        #expect(try await Stdio.callText(t!, 1, "echo", ["text": "up"]) == "up")
        let pid = try #require(t?.processID)
        t = nil
        #expect(try await eventually(within: 10) { Stdio.isGone(pid) }, "pid \(pid)")
    }

    @Test func aCancelledRequestReturnsAtOnceAndCloseStillEndsTheServer() async throws {
        let t = try await Stdio.fault("silent")
        let pid = try #require(t.processID)
        let waiting = Task { await Stdio.failure(t) }
        waiting.cancel()
        let e = await waiting.value
        #expect(e?.message == "connector 's': cancelled")
        await t.close(deadline: .now + .seconds(5))
        #expect(Stdio.isGone(pid))
    }

    @Test func requestsAfterCloseFail() async throws {
        let t = try await Stdio.fault("normal")
        await t.close(deadline: .now + .seconds(5))
        #expect(await Stdio.failure(t)?.message == "connector 's': cancelled")
    }

    /// Ctrl-C and SIGTERM to mcpconn end its servers too. Run in a copy of this test process (which then plays
    /// mcpconn: `signalHelper` below starts a server that ignores SIGTERM and waits), since the handler exits.
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalToMcpconnEndsItsServersAndExits(signal: Int32, status: Int32) async throws {
        let dir = Stdio.tempPath("signal")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        helper.arguments = ["--testing-library", "swift-testing", "--filter", "signalHelper"]
        helper.environment = ProcessInfo.processInfo.environment.merging(["MCPCONN_STDIO_SIGNAL_HELPER": dir]) { $1 }
        helper.standardOutput = FileHandle.nullDevice
        helper.standardError = FileHandle.nullDevice
        let ended = AsyncStream<Int32>.makeStream()
        helper.terminationHandler = { p in
            ended.continuation.yield(p.terminationStatus)
            ended.continuation.finish()
        }
        try helper.runGated()
        let pidFile = dir + "/server.pid"
        #expect(try await eventually(within: 60) { FileManager.default.fileExists(atPath: pidFile) })
        let server = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8)))
        #expect(!Stdio.isGoneOrZombie(server))
        kill(helper.processIdentifier, signal)
        var exitStatus: Int32?
        for await s in ended.stream { exitStatus = s }
        #expect(exitStatus == status)
        #expect(helper.terminationReason == .exit)
        #expect(try await eventually(within: 5) { Stdio.isGoneOrZombie(server) }, "server \(server) survived")
    }

    /// The mcpconn side of `aSignalToMcpconnEndsItsServersAndExits`; runs only in its helper process.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MCPCONN_STDIO_SIGNAL_HELPER"] != nil))
    func signalHelper() async throws {
        let dir = try #require(ProcessInfo.processInfo.environment["MCPCONN_STDIO_SIGNAL_HELPER"])
        let t = try await Stdio.fault("ignore-term")
        #expect(try await Stdio.callText(t, 1, "echo", ["text": "up"]) == "up")
        let pid = try #require(t.processID)
        try "\(pid)".write(toFile: dir + "/server.pid.tmp", atomically: false, encoding: .utf8)
        rename(dir + "/server.pid.tmp", dir + "/server.pid")
        // The parent signals us now; the handler exits this process. Bounded, in case it never comes.
        try await Task.sleep(for: .seconds(60))
        Issue.record("no signal came")
    }

    // MARK: - Pieces

    @Test func theStderrRingKeepsTheLastBytes() {
        var ring = ByteRing(capacity: 1000)
        var all: [UInt8] = []
        for i in 0..<300 {
            let chunk = (0..<(i * 7 % 1500)).map { UInt8(truncatingIfNeeded: $0 &+ i) }
            all += chunk
            chunk.withUnsafeBytes { ring.append($0) }
            #expect(ring.count == min(all.count, 1000))
            #expect(ring.contents == Array(all.suffix(1000)))
        }
    }

    @Test func stderrTailIsShortAndOneLine() {
        let text = "one\ntwo\n\u{1B}[31mthree\r\n\nfour  \n" + String(repeating: "y", count: 1000) + "\n"
        let tail = StdioSession.lastLines(Array(text.utf8))
        #expect(tail.count == 400)
        #expect(tail.hasPrefix("…"))
        #expect(!tail.contains("\n"))
        let short = StdioSession.lastLines(Array("one\ntwo\n\u{1B}[31mthree\r\n\nfour  \n".utf8))
        // The protocol code shapes the text; the edge escapes it where it prints (Output.error, TerminalText).
        #expect(short == "two | \u{1B}[31mthree | four")
        #expect(TerminalText.escape(short, .line) == "two | \\e[31mthree | four")
    }
}
