import Testing

@testable import MCP
@testable import MCPConnCore

/// The one redirect and credential-origin rule of both HTTP transports (issue 30): the values on their own, fast;
/// FaultTests and TLSCLITests check them against real servers.
@Suite("RedirectState and CredentialScope")
struct RedirectStateTests {
    @Test func credentialsGoOnlyToTheConnectorsOrigin() {
        let scope = CredentialScope(serverURL: "https://mcp.example.com/mcp")
        #expect(scope.admits("https://mcp.example.com/other?x=1"))
        #expect(scope.admits("https://MCP.example.com:443/mcp"))
        for url in [
            "http://mcp.example.com/mcp", "https://mcp.example.com:8443/mcp", "https://evil.example/mcp",
            "https://mcp.example.com.evil.example/mcp", "not a url",
        ] {
            #expect(!scope.admits(url), "\(url)")
        }
        let key = [(name: "X-API-Key", value: "k")]
        #expect(scope.headers(key, for: "https://mcp.example.com/a").map(\.name) == ["X-API-Key"])
        #expect(scope.headers(key, for: "https://evil.example/a").isEmpty)
        #expect(!CredentialScope(serverURL: "nonsense").admits("nonsense"))
    }

    @Test func redirectsAreFollowedWithinTheRules() throws {
        var chain = RedirectState(start: "http://a.example/mcp")
        // Relative, to another origin, and an upgrade to https are followed.
        #expect(try chain.follow("/v2", from: "http://a.example/mcp") == "http://a.example/v2")
        #expect(try chain.follow("https://b.example/mcp", from: "http://a.example/v2") == "https://b.example/mcp")
        #expect(chain.hops == 2)
        #expect(throws: MCPClientError.self) { try chain.follow("http://b.example/mcp", from: "https://b.example/mcp") }
    }

    @Test(arguments: [
        ("http://c.example/x", "from https to http"), ("ftp://a.example/x", "invalid redirect"),
        ("file:///etc/passwd", "invalid redirect"), ("https://a.example/mcp", "a redirect loop"),
    ])
    func aRedirectOutsideTheRulesIsRefused(_ location: String, _ why: String) {
        var chain = RedirectState(start: "https://a.example/mcp")
        do {
            _ = try chain.follow(location, from: "https://a.example/mcp")
            Issue.record("followed \(location)")
        } catch {
            #expect("\(error)".contains(why), "\(error)")
        }
    }

    @Test func aChainEndsAfterFiveHops() throws {
        var chain = RedirectState(start: "https://a.example/0")
        for i in 1...RedirectState.limit {
            _ = try chain.follow("/\(i)", from: "https://a.example/\(i - 1)")
        }
        #expect(throws: MCPClientError.self) { try chain.follow("/6", from: "https://a.example/5") }
    }
}
