import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

@Suite("OAuth building blocks", .timeLimit(.minutes(3)))
struct OAuthTests {
    @Test func pkceMatchesRFC7636sExample() {
        // RFC 7636, appendix B.
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let a = PKCE()
        let b = PKCE()
        #expect(a.verifier != b.verifier && a.verifier.count == 64)
        #expect(a.verifier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func parsesBearerChallenges() {
        let c = OAuthDiscovery.parseChallenge(
            #"Bearer error="invalid_token", error_description="say \"hi\", then go", resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", scope="files:read files:write""#
        )
        #expect(c["resource_metadata"] == "https://a.example/.well-known/oauth-protected-resource/mcp")
        #expect(c["scope"] == "files:read files:write")
        #expect(c["error_description"] == #"say "hi", then go"#)
        #expect(OAuthDiscovery.parseChallenge("Bearer realm=mcp")["realm"] == "mcp")
        #expect(OAuthDiscovery.parseChallenge("").isEmpty)
    }

    @Test func formEncodingRoundTrips() {
        let raw = "a b&c=d/é+~"
        let escaped = FormEncoding.escape(raw)
        #expect(escaped == "a%20b%26c%3Dd%2F%C3%A9%2B~")
        #expect(FormEncoding.parseQuery("x=\(escaped)&y=1+2&x=ignored&z") == ["x": raw, "y": "1 2", "z": ""])
    }

    @Test func discoveryFallsBackToWellKnownPathsAndOpenIDConfiguration() async throws {
        let server = try await Faults.local()
        let d = try await OAuthDiscovery.run(
            serverURL: server.base + "/oauth-fallback/mcp", tls: nil, timeout: 5, trace: nil)
        #expect(d.resource == server.base + "/oauth-fallback/mcp")
        #expect(d.scopes == ["files:read"])
        #expect(d.server.issuer == server.base + "/tenant/a")
        #expect(d.server.tokenEndpoint == server.base + "/tenant/a/token")
        #expect(d.server.registrationEndpoint == server.base + "/tenant/a/register")
        // RFC 8414 §2: no token_endpoint_auth_methods_supported means client_secret_basic.
        #expect(d.server.tokenEndpointAuthMethods == ["client_secret_basic"])
    }

    @Test func metadataGETsFollowRedirectsByTheChannelsRuleAndPOSTsNever() async throws {
        let server = try await Faults.local()
        let marker = UUID().uuidString
        let url = server.base + "/redirect?to=/echo-headers%3Fm%3D\(marker)&code=308"
        guard case .success(let got) = await HTTPFetch.getJSON(url, tls: nil, timeout: 60) else {
            Issue.record("the GET failed")
            return
        }
        #expect(got.status == 200)
        #expect(Faults.loggedHeaders(pathContaining: marker).count == 1)
        // A token request is never carried elsewhere: its 3xx is its answer.
        guard case .success(let posted) = await HTTPFetch.postForm(url, [("code", "c")], tls: nil, timeout: 60) else {
            Issue.record("the POST failed")
            return
        }
        #expect(posted.status == 308)
        #expect(Faults.loggedHeaders(pathContaining: marker).count == 1)
        // Past five hops (RedirectState's limit), the fetch fails rather than going on.
        var chain = "/echo-headers"
        for _ in 0..<6 {
            chain = "/redirect?to=" + chain.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        guard case .failure(.unreachable(let why)) = await HTTPFetch.getJSON(server.base + chain, tls: nil, timeout: 60)
        else {
            Issue.record("six hops were followed")
            return
        }
        #expect(why == "too many redirects")
    }

    @Test func anAuthorizationServerWithoutPKCES256IsRefused() async throws {
        let server = try await Faults.local()
        do {
            _ = try await OAuthDiscovery.run(
                serverURL: server.base + "/oauth-no-pkce/mcp", tls: nil, timeout: 5, trace: nil)
            Issue.record("accepted an authorization server without S256")
        } catch {
            #expect(error.status == .protocolError)
            #expect(error.message.contains("S256"))
        }
    }

    @Test func unreachableDiscoveryIsUnavailable() async throws {
        do {
            _ = try await OAuthDiscovery.run(serverURL: "http://127.0.0.1:9/mcp", tls: nil, timeout: 5, trace: nil)
            Issue.record("discovered nothing from nowhere")
        } catch { #expect(error.status == .unavailable) }
    }
}
