import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

@Suite("CLI: agents and the agent output format", .timeLimit(.minutes(3)))
struct AgentsCLITests {
    @Test func exportsVerifiedConnectorsAsSubAgents() async throws {
        let s = CLISandbox()
        let server = try await TestServer.shared(
            "reference_server.py", ["--name", "wiki-server", "--instructions", "A test wiki. Use echo to repeat."])
        await s.run(["add", "docs", server.base + "/mcp", "--type", "notion"])
        await s.run(["add", "notes", server.base + "/mcp", "--type", "notion"])
        await s.run(["add", "wiki", server.base + "/mcp"])
        await s.run(["add", "pending", server.base + "/mcp", "--type", "slack"])  // never verified: left out
        #expect(await s.run(["verify", "docs", "notes", "wiki"]).status == 0)
        let entries = json(await s.run(["agents", "--json"])).arrayValue ?? []
        #expect(
            entries.map { $0["tool_name"]?.stringValue ?? "" } == [
                "notion_connector_docs", "notion_connector_notes", "wiki_connector",
            ])
        let wiki = try #require(entries.last)
        #expect(wiki["connector_type"] == "generic")
        #expect(wiki["system_prompt"]?.stringValue?.contains("Use echo to repeat.") == true)
        #expect(wiki["tool_description"]?.stringValue?.hasPrefix("A test wiki.") == true)
        let echo = wiki["tools"]?.arrayValue?.first { $0["name"] == "echo" }
        #expect(echo?["parameters"]?["properties"]?["text"] != nil)
        #expect(entries[0]["system_prompt"]?.stringValue?.contains("Notion sub-agent") == true)

        let functions = json(await s.run(["agents", "--format", "openai"])).arrayValue ?? []
        #expect(functions.count == 3)
        #expect(functions.allSatisfy { $0["type"] == "function" && $0["parameters"]?["required"] == ["input"] })
        let table = await s.run(["agents"])
        #expect(table.stdout.hasPrefix("TOOL") && table.stdout.contains("wiki_connector"))

        await s.run(["toggle", "notes", "--off"])
        #expect(json(await s.run(["agents", "--json"])).arrayValue?.count == 2)
        #expect(await s.run(["agents", "--format", "yaml"]).status == 64)
    }

    @Test func callPrintsTheStreamingAgentForm() async throws {
        let s = CLISandbox()
        let server = try await TestServer.shared(
            "reference_server.py", ["--name", "wiki-server", "--instructions", "A test wiki. Use echo to repeat."])
        await s.run(["add", "notion", server.base + "/mcp"])
        let r = await s.run([
            "call", "notion", "echo", "--arg", "text=search completed\nsecond line", "--format", "agent",
        ])
        #expect(r.status == 0)
        #expect(r.stdout == "[notion:echo] search completed\n[notion:echo] second line\n")
        let failed = await s.run(["call", "notion", "fail", "--arg", "message=nope", "--format", "agent"])
        #expect(failed.status == 1 && failed.stdout.isEmpty && failed.stderr.contains("nope"))
    }
}
