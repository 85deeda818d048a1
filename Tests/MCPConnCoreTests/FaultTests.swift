import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Misbehaving servers: one on 127.0.0.1, and a second on 127.0.0.2 playing "another host".
enum Faults {
    static let headerLog = FileManager.default.temporaryDirectory
        .appendingPathComponent("mcpconn-headers-\(UUID().uuidString).jsonl").path
    static func local() async throws -> TestServer {
        try await TestServer.shared("fault_server.py", ["--header-log", headerLog])
    }
    static func other() async throws -> TestServer {
        try await TestServer.shared(
            "fault_server.py", ["--host", "127.0.0.2", "--header-log", headerLog], host: "127.0.0.2")
    }

    /// The header sets the fault servers logged for requests to `path` (a substring of the request path).
    static func loggedHeaders(pathContaining marker: String) -> [[String: String]] {
        guard let text = try? String(contentsOfFile: headerLog, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line -> [String: String]? in
            guard let v = try? JSONValue.parse(String(line)), v["path"]?.stringValue?.contains(marker) == true,
                let h = v["headers"]?.objectValue
            else { return nil }
            var out: [String: String] = [:]
            for (k, val) in h { out[k.lowercased()] = val.stringValue }
            return out
        }
    }
}

@Suite("Faults map to exit statuses", .timeLimit(.minutes(3)))
struct FaultTests {
    func verify(_ path: String, timeout: Double = 10, maxMiB: Int = 32) async throws -> MCPConnError? {
        let m = try await makeManager()
        _ = try m.storage.add(ConnectorInput(name: "f", serverURL: (try await Faults.local()).base + path))
        do {
            _ = try await m.sessions.verify(
                "f", settings: NetworkSettings(timeout: timeout, maxBytes: maxMiB * 1024 * 1024))
            return nil
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.contains("connector 'f'"))
            #expect(try m.storage.get("f").isVerified == false)
            return error
        }
    }

    @Test(arguments: [
        ("/malformed", MCPConnCore.ExitStatus.protocolError),
        ("/not-jsonrpc", .protocolError),
        ("/html", .protocolError),
        ("/truncated-sse", .protocolError),
        ("/truncated-json", .protocolError),
        ("/404", .protocolError),
        ("/version?v=1999-01-01", .protocolError),
        ("/500", .unavailable),
        ("/401", .permissionDenied),
        ("/403", .permissionDenied),
    ])
    func badAnswers(path: String, status: MCPConnCore.ExitStatus) async throws {
        let e = try await verify(path)
        #expect(e?.status == status, "\(path): \(e?.message ?? "no error")")
    }

    @Test(arguments: ["negative-length", "bad-chunk", "chunk-overflow"])
    func brokenHTTPFramingIsAProtocolError(fault: String) async throws {
        let e = try await verify("/hostile/framing/\(fault)")
        #expect(e?.status == .protocolError, "\(fault): \(e?.message ?? "no error")")
        #expect(e?.message.contains("HTTP framing is invalid") == true, "\(fault): \(e?.message ?? "no error")")
    }

    @Test func htmlIsNamedInTheMessage() async throws {
        let e = try await verify("/html")
        #expect(e?.message.contains("HTML") == true)
    }

    @Test func slowServersTimeOut() async throws {
        let e = try await verify("/slow?seconds=30", timeout: 1)
        #expect(e?.status == .timeout)
    }

    @Test func aStreamThatNeverAnswersTimesOut() async throws {
        let e = try await verify("/sse-never-ends", timeout: 1.5)
        #expect(e?.status == .timeout)
    }

    @Test(arguments: ["/silent/sse", "/mute/sse"])
    func aLegacyStreamWithoutEndpointOrAnswerTimesOut(path: String) async throws {
        // No endpoint event, or an endpoint whose requests are never answered on the stream.
        let e = try await verify(path, timeout: 1.5)
        #expect(e?.status == .timeout, "\(String(describing: e))")
    }

    @Test func oversizedAnswersAreCut() async throws {
        let e = try await verify("/oversized?mb=8", maxMiB: 1)
        #expect(e?.status == .protocolError)
        #expect(e?.message.contains("MiB") == true)
    }

    @Test func refusedConnectionsAreUnavailable() async throws {
        let m = try await makeManager()
        // Port 9 (discard) is closed on a test machine: the connection is refused at once.
        _ = try m.storage.add(ConnectorInput(name: "f", serverURL: "http://127.0.0.1:9/mcp"))
        do {
            _ = try await m.sessions.verify("f", settings: quick)
            Issue.record("expected a failure")
        } catch {
            #expect(error.status == .unavailable)
        }
    }

    @Test func credentialsNeverFollowARedirectToAnotherHost() async throws {
        let m = try await makeManager()
        let marker = UUID().uuidString
        let target = "\((try await Faults.other()).base)/echo-headers?m=\(marker)"
        let url =
            "\((try await Faults.local()).base)/redirect?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
        _ = try m.storage.add(ConnectorInput(name: "r", serverURL: url, authType: .apiKey, secret: "r3direct-s3cret"))
        _ = try await m.sessions.verify("r", settings: quick)
        let seen = Faults.loggedHeaders(pathContaining: marker)
        #expect(!seen.isEmpty)
        for h in seen {
            #expect(h["x-api-key"] == nil)
            #expect(!h.values.contains { $0.contains("r3direct-s3cret") })
        }
    }

    @Test func credentialsFollowARedirectOnTheSameOrigin() async throws {
        let m = try await makeManager()
        let marker = UUID().uuidString
        _ = try m.storage.add(
            ConnectorInput(
                name: "r",
                serverURL: "\((try await Faults.local()).base)/redirect?to=/echo-headers%3Fm%3D\(marker)&code=308",
                authType: .apiKey, secret: "same-0rigin-key"))
        _ = try await m.sessions.verify("r", settings: quick)
        let seen = Faults.loggedHeaders(pathContaining: marker)
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy { $0["x-api-key"] == "same-0rigin-key" })
    }
}
