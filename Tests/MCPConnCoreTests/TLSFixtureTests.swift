import Foundation
import MCPConnTestSupport
import Testing

/// Proves `TLSFixture` and the test servers' HTTPS (`--tls-cert`, `--tls-key`, `--tls-client-ca`) are what they
/// claim, with the `curl` and `openssl` command lines: what the TLS tests of mcpconn itself build on.
@Suite("TLS test fixture and HTTPS test servers", .timeLimit(.minutes(3)))
struct TLSFixtureTests {
    @Test func theFixtureFilesAreWhatTheySay() async throws {
        let f = try await TLSFixture.shared()
        let files = [
            f.caFile, f.serverCert, f.serverKey, f.wrongNameCert, f.wrongNameKey, f.expiredCert, f.expiredKey,
            f.notYetValidCert, f.notYetValidKey, f.selfSignedCert, f.selfSignedKey, f.clientCert, f.clientKey,
            f.otherCAFile, f.otherClientCert, f.otherClientKey, f.encryptedClientKey, f.garbageFile,
        ]
        #expect(Set(files).count == files.count)
        for file in files {
            #expect(file.hasPrefix(f.directory + "/") && f.directory.hasPrefix("/"))
            #expect(FileManager.default.isReadableFile(atPath: file), "\(file)")
        }
        #expect(Data(base64Encoded: f.serverKeyPin)?.count == 32)
        #expect(Data(base64Encoded: f.otherKeyPin)?.count == 32)
        #expect(f.serverKeyPin != f.otherKeyPin)
        let encrypted = try String(contentsOfFile: f.encryptedClientKey, encoding: .utf8)
        #expect(encrypted.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(try !String(contentsOfFile: f.garbageFile, encoding: .utf8).contains("-----BEGIN"))
        // The client certificates: each verifies against its own CA only, and is for client authentication.
        #expect(try await tool(["openssl", "verify", "-CAfile", f.caFile, f.clientCert]).status == 0)
        #expect(try await tool(["openssl", "verify", "-CAfile", f.otherCAFile, f.otherClientCert]).status == 0)
        let foreign = try await tool(["openssl", "verify", "-CAfile", f.otherCAFile, f.clientCert])
        #expect(foreign.status != 0 && foreign.stderr.contains("error 20 at 0 depth"), "\(foreign)")
        let usage = try await tool(["openssl", "x509", "-in", f.clientCert, "-noout", "-ext", "extendedKeyUsage"])
        #expect(usage.stdout.contains("TLS Web Client Authentication"), "\(usage)")
        // The encrypted key is clientKey's: the same public key comes out with the passphrase.
        let plain = try await tool(["openssl", "pkey", "-in", f.clientKey, "-pubout"])
        let decrypted = try await tool([
            "openssl", "pkey", "-in", f.encryptedClientKey, "-passin", "pass:\(f.encryptedClientKeyPassphrase)",
            "-pubout",
        ])
        #expect(decrypted.status == 0 && decrypted.stdout == plain.stdout && plain.stdout.contains("PUBLIC KEY"))
    }

    @Test func theServerCertificateIsTrustedWithTheCAFileOnly() async throws {
        let f = try await TLSFixture.shared()
        let server = try await httpsServer(f.serverCert, f.serverKey)
        let trusted = try await initialize(server.httpsBase, ["--cacert", f.caFile])
        #expect(trusted.status == 0 && trusted.httpCode == "200" && trusted.body.contains("serverInfo"), "\(trusted)")
        // Its DNS name too (localhost, pinned to the address the server listens on).
        let byName = try await initialize(
            "https://localhost:\(server.port)",
            ["--cacert", f.caFile, "--resolve", "localhost:\(server.port):127.0.0.1"])
        #expect(byName.status == 0 && byName.httpCode == "200", "\(byName)")
        let untrusted = try await initialize(server.httpsBase, [])
        #expect(untrusted.status == 60 && untrusted.stderr.contains("unable to get local issuer certificate"))
        #expect(untrusted.httpCode == "000")
    }

    @Test func thePinOfTheServerKeyMatchesAndAnotherDoesNot() async throws {
        let f = try await TLSFixture.shared()
        let server = try await httpsServer(f.serverCert, f.serverKey)
        let pinned = try await initialize(
            server.httpsBase, ["--cacert", f.caFile, "--pinnedpubkey", "sha256//\(f.serverKeyPin)"])
        #expect(pinned.status == 0 && pinned.httpCode == "200", "\(pinned)")
        let mispinned = try await initialize(
            server.httpsBase, ["--cacert", f.caFile, "--pinnedpubkey", "sha256//\(f.otherKeyPin)"])
        #expect(mispinned.status == 90 && mispinned.stderr.contains("public key does not match pinned public key"))
    }

    /// A server certificate curl refuses (exit 60), with OpenSSL's verify result where OpenSSL decides.
    enum RefusedCertificate: CaseIterable, Sendable {
        case expired, notYetValid, selfSigned, wrongName, fromAnotherCA
    }

    @Test(arguments: RefusedCertificate.allCases)
    func aBadServerCertificateIsRefusedForItsReason(_ bad: RefusedCertificate) async throws {
        let f = try await TLSFixture.shared()
        // (server certificate, its key, curl's message, X509_V_ERR_* code; nil: curl's own host name check)
        let (cert, key, message, verifyCode): (String, String, String, String?) =
            switch bad {
            case .expired: (f.expiredCert, f.expiredKey, "certificate has expired", "10")
            case .notYetValid: (f.notYetValidCert, f.notYetValidKey, "certificate is not yet valid", "9")
            case .selfSigned: (f.selfSignedCert, f.selfSignedKey, "self-signed certificate", "18")
            case .wrongName:
                (
                    f.wrongNameCert, f.wrongNameKey,
                    "no alternative certificate subject name matches target host name '127.0.0.1'", nil
                )
            case .fromAnotherCA: (f.serverCert, f.serverKey, "unable to get local issuer certificate", "20")
            }
        let server = try await httpsServer(cert, key)
        let trust = bad == .fromAnotherCA ? f.otherCAFile : f.caFile
        let r = try await initialize(server.httpsBase, ["--cacert", trust])
        #expect(r.status == 60 && r.stderr.contains(message), "\(r)")
        if let verifyCode { #expect(r.verifyResult == verifyCode, "\(r)") }
    }

    @Test func mutualTLSAcceptsOnlyAClientCertificateFromTheClientCA() async throws {
        let f = try await TLSFixture.shared()
        let server = try await httpsServer(f.serverCert, f.serverKey, ["--tls-client-ca", f.caFile])
        let trust = ["--cacert", f.caFile]
        let accepted = try await initialize(server.httpsBase, trust + ["--cert", f.clientCert, "--key", f.clientKey])
        #expect(accepted.status == 0 && accepted.httpCode == "200" && accepted.body.contains("serverInfo"))
        let encrypted = try await initialize(
            server.httpsBase,
            trust + [
                "--cert", f.clientCert, "--key", f.encryptedClientKey, "--pass", f.encryptedClientKeyPassphrase,
            ])
        #expect(encrypted.status == 0 && encrypted.httpCode == "200", "\(encrypted)")
        // Refused after the server's certificate checked out (verify result 0): Python's asyncio drops the
        // connection without a TLS alert, so curl sees an empty reply (52) or a reset (56), not a certificate error.
        for refused in [
            try await initialize(server.httpsBase, trust),
            try await initialize(
                server.httpsBase, trust + ["--cert", f.otherClientCert, "--key", f.otherClientKey]),
        ] {
            #expect(refused.status != 0 && refused.httpCode == "000" && refused.verifyResult == "0", "\(refused)")
        }
    }

    @Test func theOAuthServerOverTLSAdvertisesHTTPSURLs() async throws {
        let f = try await TLSFixture.shared()
        let server = try await TestServer.shared(
            "oauth_server.py", ["--tls-cert", f.serverCert, "--tls-key", f.serverKey])
        let base = server.httpsBase
        let metadata = try await getJSON(base + "/.well-known/oauth-authorization-server", caFile: f.caFile)
        #expect(metadata["issuer"] as? String == base)
        for (field, path) in [
            ("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
            ("registration_endpoint", "/register"), ("revocation_endpoint", "/revoke"),
        ] {
            #expect(metadata[field] as? String == base + path, "\(field)")
        }
        let resource = try await getJSON(base + "/.well-known/oauth-protected-resource/mcp", caFile: f.caFile)
        #expect(resource["resource"] as? String == base + "/mcp")
        #expect(resource["authorization_servers"] as? [String] == [base])
    }

    @Test func theRedirectingServerAnswersEveryRequestWithItsLocation() async throws {
        let f = try await TLSFixture.shared()
        let target = "http://127.0.0.1:9/mcp"
        let server = try await httpsServer(f.serverCert, f.serverKey, ["--redirect-to", target])
        let r = try await initialize(server.httpsBase, ["--cacert", f.caFile])
        #expect(r.status == 0 && r.httpCode == "307" && r.redirectURL == target, "\(r)")
    }

    // MARK: - Helpers

    /// The reference server over HTTPS with this certificate and key (shared per command line).
    private func httpsServer(_ cert: String, _ key: String, _ more: [String] = []) async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--tls-cert", cert, "--tls-key", key] + more)
    }

    /// An MCP initialize POST to `base/mcp` by curl, with its extra options.
    private func initialize(_ base: String, _ options: [String]) async throws -> CurlRun {
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","#
            + #""capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#
        return try await curl(
            options + [
                "-H", "Accept: application/json, text/event-stream", "-H", "Content-Type: application/json",
                "--data-binary", body, base + "/mcp",
            ])
    }

    private func getJSON(_ url: String, caFile: String) async throws -> [String: Any] {
        let r = try await curl(["--cacert", caFile, url])
        try #require(r.status == 0 && r.httpCode == "200", "\(r)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
    }

    /// One curl run: its exit status, the body, and what `-w` reports after it.
    struct CurlRun: CustomStringConvertible {
        let status: Int32
        let body: String, stderr: String
        let httpCode: String, verifyResult: String, redirectURL: String
        var description: String {
            "curl exit \(status), HTTP \(httpCode), verify result \(verifyResult), redirect '\(redirectURL)'\n"
                + "stderr: \(stderr)\nbody: \(body.prefix(300))"
        }
    }

    /// Runs curl without the caller's configuration (`-q`: no .curlrc; no SSL_CERT_FILE, proxies and such).
    private func curl(_ options: [String]) async throws -> CurlRun {
        let marker = "\n--curl-write-out--"
        let r = try await tool(
            [
                "curl", "-q", "-sS", "--max-time", "60", "-w",
                "\(marker)%{http_code} %{ssl_verify_result} %{redirect_url}",
            ]
                + options)
        let parts = r.stdout.components(separatedBy: marker)
        let written = (parts.last ?? "").split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        func field(_ i: Int) -> String { i < written.count ? String(written[i]) : "" }
        return CurlRun(
            status: r.status, body: parts.dropLast().joined(separator: marker), stderr: r.stderr, httpCode: field(0),
            verifyResult: field(1), redirectURL: field(2))
    }

    /// Runs a command found in /usr/bin or /bin, off Swift's pool, and collects its output.
    private func tool(_ argv: [String]) async throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = ["PATH": "/usr/bin:/bin"]
        p.standardInput = FileHandle.nullDevice
        let (out, err) = (await Pipe.closeOnExec(), await Pipe.closeOnExec())
        p.standardOutput = out
        p.standardError = err
        let exit = ExitWatch(p)
        try await p.runOffPool()
        async let stdout = out.readToEnd()
        async let stderr = err.readToEnd()
        let (o, e) = await (stdout, stderr)
        return CLIResult(
            status: await exit.wait(), stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}
