import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// RFC 6570 templates as servers write them in resource templates, matched against the URIs clients read.
@Suite("URI templates")
struct URITemplateTests {
    @Test(
        arguments: [
            ("greet://{name}", "greet://ann", true), ("greet://{name}", "greet://", true),
            ("greet://{name}", "greet://ann/x", false), ("greet://{name}", "greet://ann?x", false),
            ("greet://{name}", "hello://ann", false), ("users/{id}/posts", "users/7/posts", true),
            ("users/{id}/posts", "users/7/8/posts", false), ("{a}-{b}", "x-y-z", true),
            ("file:///{+path}", "file:///etc/a b/c?d#e", true), ("file:///{+path}", "file://etc", false),
            ("doc://x{#frag}", "doc://x", true), ("doc://x{#frag}", "doc://x#a/b", true),
            ("doc://x{#frag}", "doc://xa", false), ("repo://{owner}{/path}", "repo://me/a", true),
            ("repo://{owner}{/path}", "repo://me/a/b", false), ("repo://{owner}{/path*}", "repo://me/a/b/c", true),
            ("repo://{owner}{/a,b}", "repo://me/x/y", true), ("repo://{owner}{/a,b}", "repo://me/x/y/z", false),
            ("f://{name}{.ext}", "f://report.pdf", true), ("f://{name}{.ext}", "f://a/b.pdf", false),
            ("f://{name}{.ext*}", "f://report.pdf.gz", true), ("m://x{;a,b}", "m://x;a=1;b=2", true),
            ("s://q{?a,b}", "s://q", true), ("s://q{?a,b}", "s://q?a=1&b=2", true), ("s://q{?a}", "s://q&a=1", false),
            ("s://q{?a}{&b}", "s://q?a=1&b=2", true), ("s://q?fixed=1{&b}", "s://q?fixed=1&b=2", true),
            ("s://q?fixed=1{&b}", "s://q?fixed=2", false), ("s://q{?a}", "s://q?a=1#frag", false),
            ("t://{x:3}", "t://abc", true), ("plain://only", "plain://only", true),
            ("plain://only", "plain://on", false),
        ] as [(String, String, Bool)])
    func aURIMatchesTheShapeOfItsTemplate(template: String, uri: String, matches: Bool) throws {
        let t = try #require(URITemplate(template), "\(template)")
        #expect(t.matches(uri) == matches, "\(template) ~ \(uri)")
    }

    @Test(arguments: ["a{b", "a}b", "{}", "{=x}", "{!x}", "{a b}", "{a,}", "{x:}", "{x:12345}", "{{x}}"])
    func textThatIsNotATemplateMatchesNothing(text: String) {
        #expect(URITemplate(text) == nil, "\(text)")
    }

    /// A hostile server's template cannot make a match slow: each part is one pass over the URI.
    @Test func matchingTakesTimeLinearInTheTemplate() async throws {
        let t = try #require(URITemplate(String(repeating: "{+a}", count: 50) + "!"))
        let uri = String(repeating: "a", count: 20_000)
        let start = ContinuousClock.now
        // On a thread of its own: CPU work in a debug build stays off Swift's two pool threads.
        let (miss, hit) = try await offPool { (t.matches(uri), t.matches(uri + "!")) }
        #expect(!miss)
        #expect(hit)
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}
