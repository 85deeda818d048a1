import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Issue 32: `serve --http` beyond one machine, by the recipe of docs/serve-http-nginx.conf run as it is. nginx
/// (Debian's package, started by this test with a config in its own folder) terminates TLS; serve listens on
/// loopback behind it, answering for the public name with `--allowed-host`.
@Suite(
    "CLI: serve over HTTP behind nginx", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: NginxProxy.binary != nil, "nginx is not installed (`make deps` installs Debian's nginx)"))
struct ServeHTTPProxyCLITests {
    @Test func theSDKClientCallsAToolThroughTheTLSProxy() async throws {
        let s = CLISandbox()
        await s.run(["add", "ref", (try await CLIServers.reference()).base + "/mcp"])
        let serve = try await HTTPServe(s, ["ref", "--allowed-host", NginxProxy.name])
        let tls = try await TLSFixture.shared()
        let proxy = try await NginxProxy(in: s.dir, upstream: serve.url, tls: tls)
        do { try await Self.callThrough(proxy, serve, tls) } catch { Issue.record(error) }
        await proxy.stop()
        await serve.stopCleanly()
    }

    static func callThrough(_ proxy: NginxProxy, _ serve: HTTPServe, _ tls: TLSFixture) async throws {
        // The official SDK client, over https to nginx, naming the public name (its certificate's) as Host.
        let r = try await ServeHTTPCLITests.client(
            serve, steps: [["call": "echo", "arguments": ["text": "through nginx"]]],
            url: "https://127.0.0.1:\(proxy.port)/mcp", options: ["--host", NginxProxy.name],
            environment: ["SSL_CERT_FILE": tls.caFile])
        #expect(r.status == 0, "\(r.stderr)\n\(proxy.errorLog)")
        #expect(r.calls.first?["text"] == "through nginx", "\(r)")
        // Plain HTTP to the TLS port never reaches serve.
        let plain = HTTPServe.reply(
            try await HTTPServe.curl(["-s", "-i", "-X", "POST", "http://127.0.0.1:\(proxy.port)/mcp"]))
        #expect(plain.status == 400 && plain.body.contains("plain HTTP request was sent to HTTPS port"), "\(plain)")
        // Through the proxy, serve still asks for its token: nginx adds no credential of its own.
        let initialize = HTTPServe.initialize("2025-06-18")
        let untokened = try await proxy.post(initialize, port: proxy.port, tls: tls)
        #expect(untokened.status == 401 && untokened.headers.lowercased().contains("www-authenticate: bearer"))
        // nginx hands serve the Host the client named, so serve's Host check still applies through the proxy.
        let misdirected = try await proxy.post(
            initialize, port: proxy.port, tls: tls, token: serve.token, headers: ["Host": "evil.example"])
        #expect(misdirected.status == 421, "\(misdirected)")
        // The second server requires a client certificate from the CA: without one nginx refuses (400).
        let noCertificate = try await proxy.post(
            initialize, port: proxy.clientCertificatePort, tls: tls, token: serve.token)
        #expect(
            noCertificate.status == 400 && noCertificate.body.contains("No required SSL certificate"),
            "\(noCertificate)")
        let withCertificate = try await proxy.post(
            initialize, port: proxy.clientCertificatePort, tls: tls, token: serve.token,
            clientCertificate: (tls.clientCert, tls.clientKey))
        #expect(withCertificate.status == 200 && withCertificate.header("mcp-session-id") != nil, "\(withCertificate)")
    }
}

/// nginx running docs/serve-http-nginx.conf in front of serve: the recipe's server on `port`, and the same with
/// its client-certificate lines uncommented on `clientCertificatePort`, both on 127.0.0.1. Started in the
/// foreground (`daemon off`) with its pid file, logs and temporary files in `dir`, as whoever runs the test.
struct NginxProxy {
    /// The public name of the recipe, which the test's certificate names and serve is told to accept.
    static let name = "mcp.example.com"
    static let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let recipe = TestServer.repoRoot.appendingPathComponent("docs/serve-http-nginx.conf")

    let dir: URL
    let port: Int
    let clientCertificatePort: Int
    let process: Process
    let watch: ExitWatch

    init(in dir: URL, upstream: String, tls: TLSFixture) async throws {
        self.dir = dir
        (port, clientCertificatePort) = (freePort(), freePort())
        let serveAddress = try #require(URLComponents(string: upstream).map { "\($0.host ?? ""):\($0.port ?? 0)" })
        let recipe = try String(contentsOf: Self.recipe, encoding: .utf8)
        func server(port: Int) -> String {
            recipe.replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(port) ssl;")
                .replacingOccurrences(of: "/etc/ssl/certs/mcp.example.com.pem", with: tls.serverCert)
                .replacingOccurrences(of: "/etc/ssl/private/mcp.example.com.key", with: tls.serverKey)
                .replacingOccurrences(of: "127.0.0.1:8808", with: serveAddress)
        }
        let clientCertificates = server(port: clientCertificatePort)
            .replacingOccurrences(
                of: "# ssl_client_certificate /etc/ssl/certs/mcp-clients-ca.pem;",
                with: "ssl_client_certificate \(tls.caFile);"
            )
            .replacingOccurrences(of: "# ssl_verify_client on;", with: "ssl_verify_client on;")
        try #require(clientCertificates.contains("\n    ssl_verify_client on;"), "the recipe changed: \(recipe)")
        let d = dir.path
        let config = """
            daemon off;
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/nginx-error.log;
            events { worker_connections 64; }
            http {
                access_log \(d)/nginx-access.log;
                client_body_temp_path \(d)/nginx-body;
                proxy_temp_path \(d)/nginx-proxy;
                fastcgi_temp_path \(d)/nginx-fastcgi;
                uwsgi_temp_path \(d)/nginx-uwsgi;
                scgi_temp_path \(d)/nginx-scgi;
            \(server(port: port))
            \(clientCertificates)
            }

            """
        let file = dir.appendingPathComponent("nginx.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.binary))
        // -e: the error log before the config is read (else the package's /var/log/nginx).
        p.arguments = ["-p", d + "/", "-c", file.path, "-e", "\(d)/nginx-error.log"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let watch = ExitWatch(p)
        try await p.runOffPool()
        (process, self.watch) = (p, watch)
        let ports = [port, clientCertificatePort]
        let up = try await eventually {
            guard p.isRunning else { return true }
            return try await offPool { ports.allSatisfy { (try? RawConnection(port: $0)) != nil } }
        }
        try #require(up && p.isRunning, "nginx did not start: \(errorLog)")
    }

    var errorLog: String {
        (try? String(contentsOf: dir.appendingPathComponent("nginx-error.log"), encoding: .utf8)) ?? ""
    }

    /// SIGTERM: nginx's fast shutdown, its worker with it.
    func stop() async {
        kill(process.processIdentifier, SIGTERM)
        _ = await watch.wait()
    }

    /// A POST to /mcp over https to `port` on 127.0.0.1 (the fixture's certificate names it), naming the public
    /// name as Host unless `headers` names another.
    func post(
        _ body: String, port: Int, tls: TLSFixture, token: String? = nil, headers: [String: String] = [:],
        clientCertificate: (cert: String, key: String)? = nil
    ) async throws -> HTTPServe.Reply {
        var args = [
            "-s", "-i", "--cacert", tls.caFile, "https://127.0.0.1:\(port)/mcp", "-H", "Content-Type: application/json",
            "-H", "Accept: application/json, text/event-stream", "--data-binary", body,
        ]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if headers["Host"] == nil { args += ["-H", "Host: \(Self.name)"] }
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let c = clientCertificate { args += ["--cert", c.cert, "--key", c.key] }
        return HTTPServe.reply(try await HTTPServe.curl(args))
    }
}
