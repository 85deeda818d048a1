import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Runs a process to its end without blocking a cooperative-pool thread; returns (status, stdout).
private func runProcess(_ path: String, _ args: [String]) async -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = await Pipe.closeOnExec()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    let collected = OutputBox()
    let watch = ExitWatch(p)
    do { try await p.runOffPool() } catch { return (-1, "") }
    let drain = PipeDrain(out.fileHandleForReading) { collected.append($0) }
    let status = await watch.wait()
    await drain.finished()
    return (status, collected.text)
}

private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.withLock { data.append(d) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

/// Plays the browser: follows the authorization URL's redirects to the loopback callback.
func browse(_ url: String) async -> Int32 { await runProcess("/usr/bin/curl", ["-sSL", "-o", "/dev/null", url]).0 }

private func post(_ url: String) async { _ = await runProcess("/usr/bin/curl", ["-sS", "-X", "POST", url]) }

/// The OAuth server's counters.
func stats(_ server: TestServer) async -> JSONValue {
    (try? JSONValue.parse(await runProcess("/usr/bin/curl", ["-sS", server.base + "/test/stats"]).1)) ?? .null
}

/// Runs `mcpconn login …` and, once it prints the authorization URL on stderr, calls `browser` with it.
func login(
    _ s: CLISandbox, _ args: [String], env: [String: String] = [:],
    browser: @escaping @Sendable (String) async -> Void = { _ = await browse($0) }
) async -> CLIResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLISandbox.binary)
    p.arguments = ["login"] + args + ["--no-browser"]
    p.environment = s.environment.merging(env) { $1 }
    let out = await Pipe.closeOnExec()
    let err = await Pipe.closeOnExec()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    let stdout = OutputBox()
    let stderr = LineWatcher()
    let watch = ExitWatch(p)
    do { try await p.runOffPool() } catch { return CLIResult(status: -1, stdout: "", stderr: "\(error)") }
    let outDrain = PipeDrain(out.fileHandleForReading) { stdout.append($0) }
    let errDrain = PipeDrain(err.fileHandleForReading) { d in if !d.isEmpty { stderr.feed(d) } }
    // The process's exit ends the wait for a URL too (the pipe's end may come later, when a child of it closes
    // stderr), or a login that failed before printing one would hang the test.
    Task {
        _ = await watch.wait()
        stderr.feed(Data())
    }
    if let url = await stderr.firstURL() { await browser(url) }
    let status = await watch.wait()
    await outDrain.finished()
    await errDrain.finished()
    return CLIResult(status: status, stdout: stdout.text, stderr: stderr.text)
}

/// The query parameters of a URL.
private func queryParameters(_ url: String) -> [String: String] {
    FormEncoding.parseQuery(url.split(separator: "?", maxSplits: 1).dropFirst().first ?? "")
}

/// A TCP port that was free a moment ago on 127.0.0.1.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Collects stderr and hands out the first line that is a URL (or nil when the stream ends without one).
private final class LineWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var waiter: CheckedContinuation<String?, Never>?
    private var done = false

    func feed(_ d: Data) {
        lock.withLock {
            if d.isEmpty { done = true } else { data.append(d) }
            guard let w = waiter else { return }
            if let url = findURL() {
                waiter = nil
                w.resume(returning: url)
            } else if done {
                waiter = nil
                w.resume(returning: nil)
            }
        }
    }

    private func findURL() -> String? {
        String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("http") }.map(String.init)
    }

    func firstURL() async -> String? {
        await withCheckedContinuation { c in
            lock.withLock {
                if let url = findURL() {
                    c.resume(returning: url)
                } else if done {
                    c.resume(returning: nil)
                } else {
                    waiter = c
                }
            }
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

@Suite("CLI: OAuth login, refresh, logout against the SDK's OAuth stack", .timeLimit(.minutes(3)))
struct OAuthCLITests {
    /// A sandbox with one oauth connector on `server`.
    private func sandbox(_ server: TestServer) async -> CLISandbox {
        let s = CLISandbox()
        await s.run(["add", "secure", server.base + "/mcp", "--auth", "oauth"])
        return s
    }

    @Test func loginDiscoversRegistersWithPKCEAndTokensWork() async throws {
        let server = try await TestServer.start("oauth_server.py")
        defer { server.stop() }
        let s = await sandbox(server)
        #expect(await s.run(["get", "secure"]).stdout.contains("token:         none (run `mcpconn login secure`)"))
        let before = await s.run(["call", "secure", "echo", "--arg", "text=hi"])
        #expect(before.status == 77 && before.stderr.contains("run `mcpconn login secure`"), "\(before)")

        let r = await login(s, ["secure"])
        #expect(r.status == 0, "\(r)")
        let urlLine = r.stderr.split(separator: "\n").first { $0.hasPrefix("http") }.map(String.init) ?? ""
        let query = queryParameters(urlLine)
        #expect(query["code_challenge_method"] == "S256" && (query["code_challenge"]?.count ?? 0) == 43)
        #expect(query["resource"] == server.base + "/mcp" && query["scope"] == "mcp:read")
        #expect(query["redirect_uri"]?.hasPrefix("http://127.0.0.1:") == true && (query["state"]?.count ?? 0) >= 32)
        let st = await stats(server)
        #expect(st["registrations"] == 1 && st["codes"] == 1)

        let got = json(await s.run(["get", "secure", "--json"]))
        #expect(got["auth_type"] == "oauth" && got["token_refreshable"] == true && got["has_credentials"] == true)
        #expect(got["token_expires_at"]?.stringValue != nil)
        let listed = json(await s.run(["list", "--json"]))
        #expect(listed.arrayValue?.first?["token_refreshable"] == true)
        #expect(await s.run(["list"]).stdout.contains(" oauth (refreshable) "))
        let call = await s.run(["call", "secure", "echo", "--arg", "text=through oauth"])
        #expect(call.status == 0 && call.stdout == "through oauth\n", "\(call)")
        #expect(await s.run(["verify", "secure"]).status == 0)

        // The tokens and the client secret are sealed: none is in the database file or any output.
        let creds = try #require(try manager(s).storage.credentials(of: manager(s).storage.get("secure")))
        let secrets = creds.secretValues
        #expect(secrets.count >= 2)
        let raw = try Data(contentsOf: URL(fileURLWithPath: s.databasePath))
        for secret in secrets {
            #expect(raw.range(of: Data(secret.utf8)) == nil)
            #expect(!r.stderr.contains(secret) && !call.stdout.contains(secret))
        }

        // A second login reuses the registered client (its loopback port is free again).
        #expect(await login(s, ["secure"]).status == 0)
        #expect(await stats(server)["registrations"] == 1)
    }

    @Test func expiringTokensAreRefreshedBeforeUseAndAfterA401() async throws {
        // Access tokens that live 30 s are always within the one-minute margin: every use refreshes first.
        let short = try await TestServer.start("oauth_server.py", ["--access-ttl", "30"])
        defer { short.stop() }
        let s = await sandbox(short)
        #expect(await login(s, ["secure"]).status == 0)
        for i in 0..<2 {
            let r = await s.run(["call", "secure", "echo", "--arg", "text=n\(i)"])
            #expect(r.stdout == "n\(i)\n", "\(r)")
        }
        #expect(await stats(short)["refreshes"] == 2)

        // A token the server stopped accepting (401) is refreshed once and the call retried.
        let long = try await TestServer.start("oauth_server.py")
        defer { long.stop() }
        let t = await sandbox(long)
        #expect(await login(t, ["secure"]).status == 0)
        await post(long.base + "/test/expire-access")
        let r = await t.run(["call", "secure", "echo", "--arg", "text=again"])
        #expect(r.status == 0 && r.stdout == "again\n", "\(r)")
        #expect(await stats(long)["refreshes"] == 1)
    }

    @Test func concurrentProcessesShareRotatedTokensWithoutSpendingDeadOnes() async throws {
        let server = try await TestServer.start("oauth_server.py", ["--access-ttl", "30"])
        defer { server.stop() }
        let s = await sandbox(server)
        #expect(await login(s, ["secure"]).status == 0)
        // Every process must refresh (rotating the refresh token) before its call: they race for it.
        let results = await withTaskGroup(of: CLIResult.self) { g in
            for i in 0..<4 { g.addTask { await s.run(["call", "secure", "echo", "--arg", "text=p\(i)"]) } }
            return await g.reduce(into: []) { $0.append($1) }
        }
        for r in results { #expect(r.status == 0, "\(r)") }
        let st = await stats(server)
        #expect(st["stale_refreshes"] == 0, "a process spent a rotated refresh token: \(st)")
        #expect(st["refreshes"] == 4)
        // The stored tokens are the latest: one more call refreshes with them and works.
        #expect(await s.run(["call", "secure", "echo", "--arg", "text=after"]).stdout == "after\n")
    }

    @Test func aRevokedRefreshTokenExits77AndLogoutRevokes() async throws {
        let server = try await TestServer.start("oauth_server.py")
        defer { server.stop() }
        let s = await sandbox(server)
        #expect(await login(s, ["secure"]).status == 0)
        await post(server.base + "/test/revoke-refresh")
        await post(server.base + "/test/expire-access")
        let r = await s.run(["call", "secure", "echo", "--arg", "text=x"])
        #expect(r.status == 77, "\(r)")
        #expect(r.stderr.contains("invalid_grant") && r.stderr.contains("run `mcpconn login secure`"))
        #expect(r.stderr.split(separator: "\n").count == 1)

        #expect(await login(s, ["secure"]).status == 0)
        let before = await stats(server)["revocations"]?.intValue ?? 0
        let out = await s.run(["logout", "secure"])
        #expect(out.status == 0 && out.stdout.isEmpty, "\(out)")
        #expect((await stats(server)["revocations"]?.intValue ?? 0) > before)
        #expect(await s.run(["get", "secure"]).stdout.contains("token:         none"))
        #expect(json(await s.run(["get", "secure", "--json"]))["token_refreshable"] == false)
        #expect(!(await s.run(["list"]).stdout.contains("refreshable")))
        #expect(await s.run(["call", "secure", "echo", "--arg", "text=x"]).status == 77)
        #expect(await s.run(["logout", "secure"]).status == 0)  // nothing left to revoke: still fine
    }

    @Test func loginFailuresAreClearOneLiners() async throws {
        let server = try await TestServer.start("oauth_server.py")
        defer { server.stop() }
        let s = await sandbox(server)
        // A redirect with another state (a forged or stale one) is refused.
        let forged = await login(s, ["secure"]) { url in
            let q = queryParameters(url)
            _ = await browse(q["redirect_uri"]! + "?code=abc&state=forged")
        }
        #expect(forged.status == 76 && forged.stderr.contains("state does not match"), "\(forged)")
        // The user says no.
        let denied = await login(s, ["secure"]) { url in
            let q = queryParameters(url)
            _ = await browse(q["redirect_uri"]! + "?error=access_denied&state=" + q["state"]!)
        }
        #expect(denied.status == 77 && denied.stderr.contains("access_denied"), "\(denied)")
        // Nobody comes back.
        let timeout = await login(s, ["secure", "--timeout", "1"]) { _ in }
        #expect(timeout.status == 75 && timeout.stderr.contains("no browser redirect within 1 s"), "\(timeout)")
        // A server without OAuth metadata.
        let plain = CLISandbox()
        await plain.run(["add", "plain", (try await CLIServers.reference()).base + "/mcp", "--auth", "oauth"])
        let none = await login(plain, ["plain"]) { _ in }
        #expect(none.status == 76 && none.stderr.contains("no OAuth authorization server metadata"), "\(none)")
        #expect(none.stderr.split(separator: "\n").count == 1)
        // No token was stored by any of them.
        #expect(await s.run(["get", "secure"]).stdout.contains("token:         none"))
    }

    @Test func aGivenOrEnvironmentClientIsUsedOnItsRegisteredPort() async throws {
        let server = try await TestServer.start("oauth_server.py")
        defer { server.stop() }
        // An operator registered a confidential client beforehand, with two loopback redirect URIs.
        let (p1, p2) = (freePort(), freePort())
        let request =
            #"{"client_name":"ops","scope":"mcp:read","redirect_uris":["http://127.0.0.1:\#(p1)/callback","http://127.0.0.1:\#(p2)/callback"]}"#
        let registered = try JSONValue.parse(
            await runProcess(
                "/usr/bin/curl",
                ["-sS", server.base + "/register", "-H", "Content-Type: application/json", "-d", request]
            ).1)
        let id = try #require(registered["client_id"]?.stringValue)
        let secret = try #require(registered["client_secret"]?.stringValue)

        let s = await sandbox(server)
        let given = await login(
            s, ["secure", "--client-id", id, "--client-secret-env", "OPS_SECRET", "--port", "\(p1)"],
            env: ["OPS_SECRET": secret])
        #expect(given.status == 0, "\(given)")
        #expect(!given.stderr.contains(secret))
        #expect(given.stderr.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A\(p1)%2Fcallback"))
        #expect(await s.run(["call", "secure", "echo", "--arg", "text=given"]).stdout == "given\n")

        // A notion-type connector takes NOTION_CLIENT_ID / NOTION_CLIENT_SECRET from the environment.
        await s.run(["add", "docs", server.base + "/mcp", "--auth", "oauth", "--type", "notion"])
        let fromEnv = await login(
            s, ["docs", "--port", "\(p2)"], env: ["NOTION_CLIENT_ID": id, "NOTION_CLIENT_SECRET": secret])
        #expect(fromEnv.status == 0, "\(fromEnv)")
        #expect(await s.run(["call", "docs", "echo", "--arg", "text=env"]).stdout == "env\n")
        #expect(await stats(server)["registrations"] == 1)  // the operator's own: mcpconn registered nothing

        // A port another program holds is a clear error, not a silent switch to another redirect URI.
        let blocker = try LoopbackListener(preferredPort: p1, required: true)
        let busy = await login(s, ["secure", "--client-id", id, "--port", "\(p1)"]) { _ in }
        #expect(busy.status == 69 && busy.stderr.contains("port \(p1)"), "\(busy)")
        _ = blocker
    }

    @Test func aStaticBearerTokenStillWorks() async throws {
        let server = try await TestServer.start("oauth_server.py")
        defer { server.stop() }
        let s = await sandbox(server)
        #expect(await login(s, ["secure"]).status == 0)
        let token = try #require(try manager(s).storage.credentials(of: manager(s).storage.get("secure"))?.accessToken)
        let t = CLISandbox()
        await t.run(["add", "static", server.base + "/mcp", "--auth", "oauth", "--secret-stdin"], stdin: token)
        let r = await t.run(["call", "static", "echo", "--arg", "text=static"])
        #expect(r.status == 0 && r.stdout == "static\n", "\(r)")
        #expect(await t.run(["get", "static"]).stdout.contains("no expiry known, not refreshable"))
    }

    /// A manager over the sandbox's store and key.
    private func manager(_ s: CLISandbox) throws -> ConnectorManager {
        ConnectorManager(
            store: try Store(path: s.databasePath), userID: 1, keys: KeyProvider(environment: s.environment))
    }
}
