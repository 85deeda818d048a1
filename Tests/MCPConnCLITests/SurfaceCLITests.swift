import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// `prompts`, `prompt`, `resources`, `read` and `complete` against the official Python SDK's servers, on every
/// transport and both eras: SDK 2.3 over streamable HTTP (2026-07-28) and stdio, SDK 1.x over streamable HTTP
/// and stdio (the handshake era), and the legacy HTTP+SSE transport.
// Serialized: every test starts several Python servers (a second of CPU each); run at once they load a two-core
// machine until other suites' local servers miss their deadlines.
@Suite("CLI: prompts, resources, completion", .serialized, .timeLimit(.minutes(5)))
struct SurfaceCLITests {
    static let stdioServer = TestServer.repoRoot.appendingPathComponent("Tests/Servers/stdio_server.py").path
    static let png = Data(
        base64Encoded:
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")!

    /// The reference servers with their `--surface` (prompts, resources, a template, completion): SDK 2.3 and
    /// 1.x over streamable HTTP, SDK 2.3 over the legacy HTTP+SSE transport.
    static func server(_ args: [String] = [], python: String = TestServer.python) async throws -> TestServer {
        try await TestServer.shared("reference_server.py", ["--name", "surface", "--surface"] + args, python: python)
    }

    /// A sandbox with one connector of each kind: `modern`, `old`, `sse`, `stdio`, `stdio1`.
    static func sandbox() async throws -> CLISandbox {
        let s = CLISandbox()
        let added = [
            await s.run(["add", "modern", try await server().base + "/mcp"]),
            await s.run(["add", "old", try await server(python: TestServer.python1).base + "/mcp"]),
            await s.run(["add", "sse", try await server(["--transport", "sse"]).base + "/sse"]),
            await s.run(["add", "stdio", "--", TestServer.python, stdioServer, "--surface"]),
            await s.run(["add", "stdio1", "--", TestServer.python1, stdioServer, "--surface"]),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        return s
    }
    static let kinds = ["modern", "old", "sse", "stdio", "stdio1"]
    /// Every transport and era once (SDK 1.x over stdio only where it says more): each call of a stdio connector
    /// starts a Python server, about a second of CPU, and the suite runs on two cores.
    static let lighter = ["modern", "old", "sse", "stdio"]

    @Test func promptsListAndRenderOnEveryTransportAndEra() async throws {
        let s = try await Self.sandbox()
        for ref in Self.kinds {
            let list = await s.run(["prompts", ref])
            #expect(list.status == 0, "\(ref): \(list)")
            #expect(list.stdout.hasPrefix("PROMPT"), "\(ref)")
            #expect(list.stdout.contains("greet   name style?"), "\(ref): \(list.stdout)")
            let names = json(await s.run(["prompts", ref, "--json"])).arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(Set(names ?? []).isSuperset(of: ["greet", "review", "shout"]), "\(ref)")

            let greet = await s.run(["prompt", ref, "greet", "--arg", "name=ann", "--arg", "style=pirate"])
            #expect(greet.status == 0 && greet.stdout == "[user]\nSay hello to ann, pirate.\n", "\(ref): \(greet)")
            let review = await s.run(["prompt", ref, "review", "--arg", "code=x = 1"])
            #expect(review.status == 0, "\(ref): \(review)")
            #expect(review.stdout.contains("[user]\n") && review.stdout.contains("\n\n[assistant]\n"), "\(ref)")
            #expect(review.stdout.contains("remember the milk"), "\(ref): the embedded resource's text")
            let whole = json(await s.run(["prompt", ref, "review", "--arg", "code=x", "--json"]))
            #expect(whole["messages"]?.arrayValue?.count == 3, "\(ref)")
        }
    }

    @Test func resourcesTemplatesAndReadOnEveryTransportAndEra() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let list = await s.run(["resources", ref])
            #expect(list.status == 0 && list.stdout.hasPrefix("URI"), "\(ref): \(list)")
            #expect(list.stdout.contains("memo://notes") && list.stdout.contains("blob://pixel"), "\(ref)")
            let templates = await s.run(["resources", ref, "--templates", "--json"])
            let uris = json(templates).arrayValue?.compactMap { $0["uriTemplate"]?.stringValue } ?? []
            #expect(uris.contains("greet://{name}"), "\(ref): \(templates)")

            #expect(await s.run(["read", ref, "memo://notes"]).stdout == "remember the milk\n", "\(ref)")
            let fromTemplate = await s.run(["read", ref, "greet://ann"])
            #expect(fromTemplate.status == 0 && fromTemplate.stdout == "Hello, ann!\n", "\(ref): \(fromTemplate)")

            // A blob: written to --out as its bytes, and to a pipe as its bytes too.
            let out = s.dir.appendingPathComponent("\(ref).png")
            let written = await s.run(["read", ref, "blob://pixel", "--out", out.path])
            #expect(written.status == 0 && written.stdout.isEmpty, "\(ref): \(written)")
            #expect(try Data(contentsOf: out) == Self.png, "\(ref)")
            let redirected = s.dir.appendingPathComponent("\(ref)-stdout.png")
            let piped = await s.run(
                ["read", ref, "blob://pixel"], wrapper: ["/bin/sh", "-c", "exec \"$0\" \"$@\" > \(redirected.path)"])
            #expect(piped.status == 0, "\(ref): \(piped)")
            #expect(try Data(contentsOf: redirected) == Self.png, "\(ref)")
            let blob = json(await s.run(["read", ref, "blob://pixel", "--json"]))
            #expect(blob["contents"]?.arrayValue?.first?["mimeType"] == "image/png", "\(ref)")
        }
    }

    @Test func aMegabyteResourceGoesToAFileWhole() async throws {
        let s = try await Self.sandbox()
        for ref in ["modern", "stdio"] {
            let out = s.dir.appendingPathComponent("big-\(ref).txt")
            let r = await s.run(["read", ref, "memo://big", "--out", out.path])
            #expect(r.status == 0, "\(ref): \(r)")
            let data = try Data(contentsOf: out)
            #expect(data.count == 1_048_576 && data.allSatisfy { $0 == UInt8(ascii: "x") }, "\(ref): \(data.count)")
        }
    }

    @Test func aBlobIsNotPrintedOnATerminal() async throws {
        let s = try await Self.sandbox()
        let shown = try await s.onTerminal("read modern blob://pixel")
        #expect(
            shown.output.contains(
                "mcpconn: resource 'blob://pixel' is binary (image/png, \(Self.png.count) bytes): write it with --out FILE or pipe it, not to a terminal"
            ), "\(shown.output)")
        #expect(shown.status == 64)
        #expect(!shown.output.contains("PNG"))
    }

    @Test func completionOfPromptArgumentsAndTemplateVariables() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let style = await s.run(["complete", ref, "--prompt", "greet", "--arg", "style=f"])
            #expect(style.status == 0 && style.stdout == "formal\nfriendly\n", "\(ref): \(style)")
            let name = await s.run(["complete", ref, "--resource", "greet://{name}", "--arg", "name=b"])
            #expect(name.status == 0 && name.stdout == "bea\nbob\n", "\(ref): \(name)")
            let whole = json(await s.run(["complete", ref, "--prompt", "greet", "--arg", "style=", "--json"]))
            #expect(whole["completion"]?["values"]?.arrayValue?.count == 3, "\(ref)")
        }
    }

    @Test func serverTextIsEscapedOnTheTerminal() async throws {
        let s = try await Self.sandbox()
        for ref in ["modern", "stdio1"] {
            let shout = await s.run(["prompt", ref, "shout"])
            #expect(shout.status == 0, "\(ref): \(shout)")
            #expect(shout.stdout.contains("\\e[31mred\\e[0m") && !shout.stdout.contains("\u{1B}"), "\(ref): \(shout)")
            #expect(!shout.stdout.contains("\r"), "\(ref)")
            let control = await s.run(["read", ref, "memo://control"])
            #expect(control.status == 0 && control.stdout.contains("\\e]0;pwned\\x07"), "\(ref): \(control)")
            #expect(!control.stdout.contains("\u{1B}") && !control.stdout.contains("\u{07}"), "\(ref)")
        }
    }

    @Test func failuresHaveTheirExitCodes() async throws {
        let s = try await Self.sandbox()
        for ref in ["modern", "old", "stdio"] {
            let prompt = await s.run(["prompt", ref, "no_such_prompt"])
            #expect(prompt.status == 1 && prompt.stderr.hasPrefix("mcpconn: connector '\(ref)': "), "\(ref): \(prompt)")
            let read = await s.run(["read", ref, "memo://nothing-here"])
            #expect(read.status == 1 && read.stderr.hasPrefix("mcpconn: connector '\(ref)': "), "\(ref): \(read)")
        }
        #expect(await s.run(["prompts", "nobody"]).status == 66)
        #expect(await s.run(["complete", "modern", "--arg", "style=f"]).status == 64)
        #expect(await s.run(["prompt", "modern", "greet", "--arg", "name"]).status == 64)
        #expect(await s.run(["read", "modern", "memo://notes", "--out", s.dir.path + "/f", "--json"]).status == 64)
        let folder = await s.run(["read", "modern", "memo://notes", "--out", s.dir.path + "/no/such/dir/f"])
        #expect(folder.status == 74 && folder.stderr.contains("No such file or directory"), "\(folder)")
    }

    @Test func aServerWithoutPromptsOrResourcesHasNone() async throws {
        let s = CLISandbox()
        let added = await s.run(["add", "time", "--", TestServer.python1, "-m", "mcp_server_time"])
        #expect(added.status == 0, "\(added)")
        for verb in [["prompts", "time"], ["resources", "time"], ["resources", "time", "--templates"]] {
            let r = await s.run(verb + ["--json"])
            #expect(r.status == 0 && json(r) == .array([]), "\(verb): \(r)")
            let text = await s.run(verb)
            #expect(text.status == 0 && text.stdout.isEmpty && text.stderr.isEmpty, "\(verb): \(text)")
        }
        let complete = await s.run(["complete", "time", "--prompt", "x", "--arg", "a=b"])
        #expect(
            complete.status == 1 && complete.stderr.contains("completion/complete is not offered: Method not found"),
            "\(complete)")
    }

    // MARK: watch

    /// A server whose counter://ticks counts by itself every 100 ms once subscribed, on every transport and era.
    @Test func watchPrintsEachUpdateOnEveryTransportAndEra() async throws {
        let s = CLISandbox()
        let tick = ["--tick-ms", "100"]
        let added = [
            await s.run(["add", "modern", try await Self.server(tick).base + "/mcp"]),
            await s.run(["add", "old", try await Self.server(tick, python: TestServer.python1).base + "/mcp"]),
            await s.run(["add", "sse", try await Self.server(tick + ["--transport", "sse"]).base + "/sse"]),
            await s.run(["add", "stdio", "--", TestServer.python, Self.stdioServer, "--surface"] + tick),
            await s.run(["add", "stdio1", "--", TestServer.python1, Self.stdioServer, "--surface"] + tick),
        ]
        for a in added { #expect(a.status == 0, "\(a)") }
        for ref in Self.kinds {
            let text = await s.run(["watch", ref, "counter://ticks", "--count", "2"])
            #expect(text.status == 0 && text.stdout == "counter://ticks\ncounter://ticks\n", "\(ref): \(text)")
            #expect(text.stderr.isEmpty, "\(ref): \(text)")
            let lines = await s.run(["watch", ref, "counter://ticks", "--count", "1", "--json"])
            #expect(lines.status == 0, "\(ref): \(lines)")
            #expect((try? JSONValue.parse(lines.stdout))?["uri"] == "counter://ticks", "\(ref): \(lines)")
        }
    }

    /// What another client does is seen: a watch of the (not self-counting) server ends once a bump by another
    /// `mcpconn call` reaches it.
    @Test func watchSeesAnUpdateAnotherClientMakes() async throws {
        let s = CLISandbox()
        for (ref, python) in [("modern", TestServer.python), ("old", TestServer.python1)] {
            #expect(await s.run(["add", ref, try await Self.server(python: python).base + "/mcp"]).status == 0)
            let out = s.dir.appendingPathComponent("watch-\(ref).out")
            let watch = try await s.start(["watch", ref, "counter://ticks", "--count", "1"], stdout: out)
            // Bumps until one reaches the watch (the first may come before it subscribed).
            let seen = try await eventually {
                #expect(await s.run(["call", ref, "bump"]).status == 0)
                return (try? String(contentsOf: out, encoding: .utf8)) == "counter://ticks\n"
            }
            #expect(seen, "\(ref)")
            #expect(await watch.exit.wait() == 0, "\(ref)")
        }
    }

    @Test func watchRefusesAServerWithoutSubscriptionsAndEndsWithTheServer() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "time", "--", TestServer.python1, "-m", "mcp_server_time"]).status == 0)
        let refused = await s.run(["watch", "time", "counter://ticks"])
        #expect(refused.status == 1, "\(refused)")
        #expect(
            refused.stderr.contains("the server offers no resource subscriptions (resources.subscribe)"), "\(refused)")
        // A server that exits ends the watch: 69.
        let dies = ["/usr/bin/timeout", "2", TestServer.python, Self.stdioServer, "--surface", "--tick-ms", "100"]
        #expect(await s.run(["add", "dies", "--"] + dies).status == 0)
        let ended = await s.run(["watch", "dies", "counter://ticks"])
        // (How many updates came first depends on how fast the server started.)
        #expect(
            ended.status == 69 && ended.stdout.split(separator: "\n").allSatisfy { $0 == "counter://ticks" }, "\(ended)"
        )
        #expect(ended.stderr.hasPrefix("mcpconn: connector 'dies': the server exited"), "\(ended)")
        #expect(await s.run(["watch", "time"]).status == 64)
        // A reader that goes away ends the watch (74), on a local server too (where SIGPIPE is ignored).
        let ticking = ["--", TestServer.python, Self.stdioServer, "--surface", "--tick-ms", "100"]
        #expect(await s.run(["add", "ticks"] + ticking).status == 0)
        let headed = await s.run(
            ["watch", "ticks", "counter://ticks"],
            wrapper: ["/bin/bash", "-c", #""$0" "$@" | head -n 1 >/dev/null; exit ${PIPESTATUS[0]}"#])
        #expect(headed.status == 74 && headed.stderr.contains("cannot write to standard output"), "\(headed)")
        // A handshake-era server that keeps no session has no stream for updates: said, not waited on forever.
        let stateless = try await Self.server(["--stateless"], python: TestServer.python1)
        #expect(await s.run(["add", "stateless", stateless.base + "/mcp"]).status == 0)
        let none = await s.run(["watch", "stateless", "counter://ticks"])
        #expect(none.status == 1 && none.stderr.contains("the server offers no event stream for updates"), "\(none)")
    }

    /// verify stores the prompts, resources and templates beside the tools, on every transport and era;
    /// `tools --kind` and `get --json` show them.
    @Test func verifyStoresPromptsResourcesAndTemplatesOnEveryTransportAndEra() async throws {
        let s = try await Self.sandbox()
        for ref in Self.lighter {
            let v = await s.run(["verify", ref, "--json"])
            #expect(v.status == 0, "\(ref): \(v)")
            #expect((json(v)["prompt_count"]?.intValue ?? 0) >= 3 && json(v)["template_count"] == 1, "\(ref): \(v)")
            func names(_ kind: String, _ key: String) async -> Set<String> {
                let r = await s.run(["tools", ref, "--kind", kind, "--json"])
                return Set((json(r).arrayValue ?? []).compactMap { $0[key]?.stringValue })
            }
            #expect(await names("prompts", "name").isSuperset(of: ["greet", "review", "shout"]), "\(ref)")
            #expect(await names("resources", "uri").isSuperset(of: ["memo://notes", "blob://pixel"]), "\(ref)")
            #expect(await names("templates", "uriTemplate") == ["greet://{name}"], "\(ref)")
            #expect(await names("tools", "name").contains("echo"), "\(ref)")
            let prompts = await s.run(["tools", ref, "--kind", "prompts"])
            #expect(prompts.stdout.hasPrefix("PROMPT") && prompts.stdout.contains("greet   name style?"), "\(ref)")
            #expect(await s.run(["tools", ref, "--kind", "resources"]).stdout.hasPrefix("URI"), "\(ref)")
            #expect(await s.run(["tools", ref, "--kind", "templates"]).stdout.hasPrefix("TEMPLATE"), "\(ref)")
            let got = json(await s.run(["get", ref, "--json"]))
            #expect(got["discovered_resource_templates"]?.arrayValue?.count == 1, "\(ref)")
            #expect((got["discovered_prompts"]?.arrayValue?.count ?? 0) >= 3, "\(ref)")
            #expect((got["discovered_resources"]?.arrayValue?.count ?? 0) >= 4, "\(ref)")
            let refreshed = await s.run(["refresh", ref, "--fail-on-change"])
            #expect(refreshed.status == 0 && refreshed.stdout.hasSuffix(" tools, unchanged\n"), "\(ref): \(refreshed)")
        }
    }

    @Test func verifyOfAServerWithoutPromptsOrResourcesStoresEmptyLists() async throws {
        let s = CLISandbox()
        await s.run(["add", "time", "--", TestServer.python1, "-m", "mcp_server_time"])
        #expect(await s.run(["verify", "time"]).status == 0)
        let got = json(await s.run(["get", "time", "--json"]))
        for key in ["discovered_prompts", "discovered_resources", "discovered_resource_templates"] {
            #expect(got[key] == [], "\(key)")
        }
        let prompts = await s.run(["tools", "time", "--kind", "prompts"])
        #expect(prompts.status == 0 && prompts.stdout.isEmpty && prompts.stderr.isEmpty, "\(prompts)")
    }
}
