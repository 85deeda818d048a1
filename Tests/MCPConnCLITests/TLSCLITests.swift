import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// HTTPS servers with the fixture's certificates (Tests/TestSupport/TLSFixture.swift), shared by the TLS tests.
enum TLSServers {
    /// The SDK 2.3 reference server behind HTTPS with a certificate from the fixture's private CA.
    static func trusted() async throws -> TestServer {
        let f = try await TLSFixture.shared()
        return try await TestServer.shared(
            "reference_server.py", ["--name", "tls-ref", "--tls-cert", f.serverCert, "--tls-key", f.serverKey])
    }

    /// The same server with another of the fixture's certificates.
    static func serving(_ cert: String, _ key: String) async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--name", "tls-bad", "--tls-cert", cert, "--tls-key", key])
    }

    /// Mutual TLS: a client certificate signed by the fixture's CA is required.
    static func mutual() async throws -> TestServer {
        let f = try await TLSFixture.shared()
        return try await TestServer.shared(
            "reference_server.py",
            ["--name", "tls-mutual", "--tls-cert", f.serverCert, "--tls-key", f.serverKey, "--tls-client-ca", f.caFile])
    }
}

/// Exactly one line on stderr, as every failure prints.
private func oneLine(_ r: CLIResult) -> Bool {
    r.stderr.hasSuffix("\n") && r.stderr.dropLast().firstIndex(of: "\n") == nil
}

@Suite("CLI: TLS against a real HTTPS MCP server (private CA, client certificates, pins)", .timeLimit(.minutes(3)))
struct TLSCLITests {
    @Test func aPrivateCAIsTrustedThroughTheConnectorOrTheEnvironment() async throws {
        let f = try await TLSFixture.shared()
        let url = try await TLSServers.trusted().httpsBase + "/mcp"
        let s = CLISandbox()
        #expect(await s.run(["add", "plain", url]).status == 0)
        let refused = await s.run(["verify", "plain"])
        #expect(refused.status == 69 && oneLine(refused), "\(refused)")
        #expect(refused.stderr.contains("is signed by an unknown CA") && refused.stderr.contains("--ca-file"))

        #expect(await s.run(["add", "private", url, "--ca-file", f.caFile]).status == 0)
        #expect(await s.run(["verify", "private"]).status == 0)
        let call = await s.run(["call", "private", "echo", "--arg", "text=over tls"])
        #expect(call.status == 0 && call.stdout == "over tls\n", "\(call)")
        #expect(json(await s.run(["get", "private", "--json"]))["tls"] == ["ca_file": .string(f.caFile)])
        #expect(json(await s.run(["get", "plain", "--json"]))["tls"] == .null)
        // A client's config cannot carry the CA: the connector is exported as a bridge through mcpconn.
        let exported = json(await s.run(["export", "--to", "claude-code", "private", "plain", "--json"]))
        let bridged = (exported["servers"]?.arrayValue ?? []).map { $0["bridge"] }
        #expect(bridged == [true, false], "\(exported)")

        // The environment applies to connectors that name no CA bundle, in curl's and OpenSSL's variables too.
        for variable in ["MCPCONN_CA_FILE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"] {
            let r = await s.run(["verify", "plain"], env: [variable: f.caFile])
            #expect(r.status == 0, "\(variable): \(r)")
        }
        // A connector's own CA bundle comes first: the environment's does not widen it.
        #expect(await s.run(["update", "private", "--ca-file", f.otherCAFile]).status == 0)
        let other = await s.run(["verify", "private"], env: ["MCPCONN_CA_FILE": f.caFile])
        #expect(other.status == 69 && other.stderr.contains(f.otherCAFile), "\(other)")
        // An empty value clears the setting.
        #expect(await s.run(["update", "private", "--ca-file", ""]).status == 0)
        #expect(json(await s.run(["get", "private", "--json"]))["tls"] == .null)
        #expect(await s.run(["verify", "private"]).status == 69)
    }

    @Test(arguments: [
        ("expired", "has expired"), ("notYetValid", "is not valid yet"), ("wrongName", "is for another name"),
        ("selfSigned", "is self-signed"),
    ])
    func aBadServerCertificateSaysWhatIsWrong(_ kind: String, _ expected: String) async throws {
        let f = try await TLSFixture.shared()
        let (cert, key) =
            switch kind {
            case "expired": (f.expiredCert, f.expiredKey)
            case "notYetValid": (f.notYetValidCert, f.notYetValidKey)
            case "wrongName": (f.wrongNameCert, f.wrongNameKey)
            default: (f.selfSignedCert, f.selfSignedKey)
            }
        let server = try await TLSServers.serving(cert, key)
        let s = CLISandbox()
        #expect(await s.run(["add", "bad", server.httpsBase + "/mcp", "--ca-file", f.caFile]).status == 0)
        let r = await s.run(["verify", "bad"])
        #expect(r.status == 69 && oneLine(r), "\(r)")
        #expect(r.stderr.contains("connector 'bad': the certificate of 127.0.0.1 \(expected)"), "\(r)")
        #expect(!r.stderr.contains("SSL peer certificate or SSH remote key was not OK"))
    }

    @Test func pinnedKeysAcceptOnlyTheServersKey() async throws {
        let f = try await TLSFixture.shared()
        let url = try await TLSServers.trusted().httpsBase + "/mcp"
        let s = CLISandbox()
        #expect(await s.run(["add", "pinned", url, "--ca-file", f.caFile, "--pin-sha256", f.serverKeyPin]).status == 0)
        #expect(await s.run(["verify", "pinned"]).status == 0)
        #expect(await s.run(["update", "pinned", "--pin-sha256", f.otherKeyPin]).status == 0)
        let r = await s.run(["verify", "pinned"])
        #expect(r.status == 69 && oneLine(r) && r.stderr.contains("not one pinned with --pin-sha256"), "\(r)")
        // Several pins (a key rotation): any one of them will do; curl's sha256// form is taken too.
        let both = ["update", "pinned", "--pin-sha256", f.otherKeyPin, "--pin-sha256", "sha256//" + f.serverKeyPin]
        #expect(await s.run(both).status == 0)
        #expect(await s.run(["verify", "pinned"]).status == 0)
        #expect(json(await s.run(["get", "pinned", "--json"]))["tls"]?["pin_sha256"]?.arrayValue?.count == 2)

        let bad = await s.run(["update", "pinned", "--pin-sha256", "not-a-digest"])
        #expect(bad.status == 64 && bad.stderr.contains("invalid --pin-sha256"), "\(bad)")
        // Over http there is no TLS to carry a pin or a client certificate.
        let http = await s.run(["add", "cleartext", "http://127.0.0.1:9/mcp", "--pin-sha256", f.serverKeyPin])
        #expect(http.status == 64 && http.stderr.contains("need an https:// URL"), "\(http)")
    }

    @Test func aClientCertificateIsPresentedAndItsKeyIsSealed() async throws {
        let f = try await TLSFixture.shared()
        let url = try await TLSServers.mutual().httpsBase + "/mcp"
        let s = CLISandbox()
        #expect(await s.run(["add", "mutual", url, "--ca-file", f.caFile]).status == 0)
        let without = await s.run(["verify", "mutual"])
        #expect(without.status == 69 && oneLine(without), "\(without)")
        #expect(without.stderr.contains("client certificate") && without.stderr.contains("--client-cert"))

        let set = ["update", "mutual", "--client-cert", f.clientCert, "--client-key-file", f.clientKey]
        #expect(await s.run(set).status == 0)
        #expect(await s.run(["verify", "mutual"]).status == 0)
        let call = await s.run(["call", "mutual", "echo", "--arg", "text=mutual"])
        #expect(call.status == 0 && call.stdout == "mutual\n", "\(call)")

        // The key is sealed: not in the database file, not in any output; the certificate's path is shown.
        let keyText = try String(contentsOfFile: f.clientKey, encoding: .utf8)
        let keyBody = try #require(keyText.split(separator: "\n").dropFirst().first.map(String.init))
        let raw = try Data(contentsOf: URL(fileURLWithPath: s.databasePath))
        #expect(raw.range(of: Data(keyBody.utf8)) == nil)
        let got = await s.run(["get", "mutual", "--json"])
        #expect(json(got)["tls"] == ["ca_file": .string(f.caFile), "client_cert": .string(f.clientCert)])
        #expect(!got.stdout.contains(keyBody) && !got.stdout.contains("PRIVATE"))
        #expect(!(await s.run(["get", "mutual"])).stdout.contains("PRIVATE"))

        // Re-importing the connector from a client's file (which carries no TLS settings) keeps them and the key.
        let file = s.dir.appendingPathComponent(".mcp.json")
        let entry: JSONValue = [
            "mcpServers": ["mutual": ["type": "http", "url": .string(url), "headers": ["X-Team": "a"]]]
        ]
        try entry.compactText().write(to: file, atomically: true, encoding: .utf8)
        let imported = await s.run(["import", file.path, "--from", "claude-code", "--replace"])
        #expect(imported.status == 0, "\(imported)")
        #expect(await s.run(["verify", "mutual"]).status == 0)

        // Another CA's certificate is refused by the server.
        let other = ["update", "mutual", "--client-cert", f.otherClientCert, "--client-key-file", f.otherClientKey]
        #expect(await s.run(other).status == 0)
        let refused = await s.run(["verify", "mutual"])
        #expect(refused.status == 69 && refused.stderr.contains("client certificate"), "\(refused)")

        // Clearing the certificate drops its key with it.
        #expect(await s.run(["update", "mutual", "--client-cert", ""]).status == 0)
        #expect(json(await s.run(["get", "mutual", "--json"]))["tls"] == ["ca_file": .string(f.caFile)])
        #expect(await s.run(["verify", "mutual"]).status == 69)
        let storage = ConnectorManager(
            store: try Store.open(s.databasePath), userID: 1, keys: KeyProvider(environment: s.environment)
        ).storage
        let creds = try storage.credentials(of: try storage.get("mutual"))
        #expect(creds?.clientKey == nil && creds?.extraHeaders.first?.name == "X-Team")
    }

    @Test func tlsFilesAreCheckedWhenSet() async throws {
        let f = try await TLSFixture.shared()
        let s = CLISandbox()
        let url = "https://127.0.0.1:9/mcp"
        let cases: [([String], Int32, String)] = [
            (["--ca-file", f.garbageFile], 65, "is not a PEM certificate"),
            (["--ca-file", s.dir.path + "/missing.pem"], 66, "cannot read the CA file"),
            (["--client-cert", f.clientCert], 64, "--client-cert needs its key"),
            (["--client-key-file", f.clientKey], 64, "--client-key-file needs --client-cert"),
            (["--client-cert", f.clientCert, "--client-key-file", f.encryptedClientKey], 65, "is encrypted"),
            (["--client-cert", f.clientCert, "--client-key-file", f.clientCert], 65, "is not a PEM private key"),
        ]
        for (flags, status, message) in cases {
            let r = await s.run(["add", "t", url] + flags)
            #expect(r.status == status && oneLine(r) && r.stderr.contains(message), "\(flags): \(r)")
        }
        let local = await s.run(["add", "local", "--ca-file", f.caFile, "--", "/bin/cat"])
        #expect(local.status == 64 && local.stderr.contains("not local servers"), "\(local)")
        #expect(json(await s.run(["list", "--json"])).arrayValue?.isEmpty == true)

        // doctor checks the files stored and the environment's, without touching the network.
        #expect(await s.run(["add", "t", url, "--ca-file", f.caFile]).status == 0)
        #expect(await s.run(["doctor"]).status == 0)
        let moved = s.dir.path + "/ca.pem"
        try FileManager.default.copyItem(atPath: f.caFile, toPath: moved)
        #expect(await s.run(["update", "t", "--ca-file", moved]).status == 0)
        try FileManager.default.removeItem(atPath: moved)
        let doctor = await s.run(["doctor"])
        #expect(doctor.status == 78 && doctor.stdout.contains("connector 't' of user 1, --ca-file"), "\(doctor)")
        let env = await s.run(["doctor"], env: ["MCPCONN_CA_FILE": f.garbageFile])
        #expect(env.stdout.contains("MCPCONN_CA_FILE: ") && env.stdout.contains("is not a PEM certificate"), "\(env)")
    }

    @Test func aChangedTLSColumnIsRefusedLikeAnySealedColumn() async throws {
        let f = try await TLSFixture.shared()
        let url = try await TLSServers.trusted().httpsBase + "/mcp"
        let s = CLISandbox()
        #expect(await s.run(["add", "pinned", url, "--ca-file", f.caFile, "--pin-sha256", f.serverKeyPin]).status == 0)
        // A writer of the store without the key drops the pin (to put something in the way unnoticed).
        let store = try Store.open(s.databasePath)
        try store.write { db in
            try db.execute(
                "UPDATE user_mcp_connections SET tls = ? WHERE name = 'pinned'",
                [.text(#"{"ca_file":"\#(f.caFile)"}"#)])
        }
        let r = await s.run(["verify", "pinned"])
        #expect(r.status == 65 && r.stderr.contains("changed outside mcpconn (tls)"), "\(r)")
        #expect(await s.run(["update", "pinned", "--accept-change"]).status == 0)
        #expect(await s.run(["verify", "pinned"]).status == 0)
    }

    @Test func aRedirectFromHTTPSToHTTPIsRefused() async throws {
        let f = try await TLSFixture.shared()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tls-redirect-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        let cleartext = try await TestServer.start("reference_server.py", ["--access-log", log.path])
        defer { cleartext.stop() }
        let redirecting = try await TestServer.start(
            "reference_server.py",
            ["--tls-cert", f.serverCert, "--tls-key", f.serverKey, "--redirect-to", cleartext.base + "/mcp"])
        defer { redirecting.stop() }
        let s = CLISandbox()
        let add = ["add", "moved", redirecting.httpsBase + "/mcp", "--auth", "api_key", "--secret-stdin"]
        #expect(await s.run(add + ["--ca-file", f.caFile], stdin: "redirect-s3cret-key").status == 0)
        let r = await s.run(["verify", "moved"])
        #expect(r.status == 69 && oneLine(r) && r.stderr.contains("https to http"), "\(r)")
        // Nothing reached the cleartext server.
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").isEmpty)
    }

    @Test func oauthLoginBehindTLSUsesTheConnectorsCA() async throws {
        let f = try await TLSFixture.shared()
        let server = try await TestServer.start(
            "oauth_server.py", ["--tls-cert", f.serverCert, "--tls-key", f.serverKey])
        defer { server.stop() }
        let s = CLISandbox()
        #expect(await s.run(["add", "secure", server.httpsBase + "/mcp", "--auth", "oauth"]).status == 0)
        let untrusted = await login(s, ["secure"])
        #expect(untrusted.status == 69 && untrusted.stderr.contains("unknown CA"), "\(untrusted)")

        #expect(await s.run(["update", "secure", "--ca-file", f.caFile]).status == 0)
        // The browser trusts the CA too: it follows the authorization server's redirect to mcpconn's loopback.
        let r = await login(s, ["secure"]) { url in
            _ = await curl(["-sSL", "--cacert", f.caFile, "-o", "/dev/null", url])
        }
        #expect(r.status == 0, "\(r)")
        let call = await s.run(["call", "secure", "echo", "--arg", "text=oauth over tls"])
        #expect(call.status == 0 && call.stdout == "oauth over tls\n", "\(call)")
    }
}

/// Runs the curl command line to its end, off the cooperative pool; returns its exit status.
private func curl(_ args: [String]) async -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    let watch = ExitWatch(p)
    do { try await p.runOffPool() } catch { return -1 }
    return await watch.wait()
}
