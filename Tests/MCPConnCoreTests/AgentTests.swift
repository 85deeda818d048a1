import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

@Suite("Connector agents")
struct AgentTests {
    func connector(
        _ id: Int64, _ name: String, _ type: String, verified: Bool = true, active: Bool = true,
        instructions: String? = nil
    ) -> Connector {
        var c = Connector.new(
            userID: 1, name: name, description: nil, serverURL: "https://x.example/mcp", type: type, auth: .none)
        c.id = id
        c.isActive = active
        c.isVerified = verified
        c.toolCount = 1
        c.discoveredTools =
            #"[{"name":"search","description":"Search pages.\nMore.","inputSchema":{"type":"object","properties":{"q":{"type":"string"}}}}]"#
        c.serverInstructions = instructions
        return c
    }

    @Test func everyKnownTypeHasAWrittenAgent() {
        for t in Registry.types where t != .generic {
            #expect(t.agent.toolName == t.id.replacingOccurrences(of: "-", with: "_") + "_connector")
            #expect(t.agent.systemPrompt.count > 300)
            #expect(t.agent.capabilities.count > 40)
            #expect(AgentCatalog.isValidToolName(t.agent.toolName))
        }
        #expect(Registry.type(id: "notion")!.agent.systemPrompt.contains("search"))
        #expect(Registry.type(id: "slack")!.agent.systemPrompt.contains("thread"))
        #expect(Registry.type(id: "airtable")!.agent.systemPrompt.contains("filterByFormula"))
    }

    @Test func toolNamesAreUniqueAndValid() {
        let entries = AgentCatalog.entries([
            connector(1, "Team Docs", "notion"), connector(2, "Personal", "notion"), connector(3, "Chat", "slack"),
            connector(4, "My Server!", "generic"), connector(5, "my server", "generic"),
            connector(6, "Off", "notion", active: false), connector(7, "Unverified", "airtable", verified: false),
            connector(8, String(repeating: "very long name ", count: 10), "generic"),
        ])
        #expect(
            entries.map(\.toolName) == [
                "notion_connector_team_docs", "notion_connector_personal", "slack_connector",
                "my_server_connector_my_server",
                "my_server_connector_my_server_5",
                String(
                    ("very_long_name_very_long_name_very_long_name_very_long_name_very_long_name_very_long_name_very_long_name_very_long_name_very_long_name_very_long_name")
                        .prefix(50)) + "_connector",
            ])
        #expect(Set(entries.map(\.toolName)).count == entries.count)
        #expect(entries.allSatisfy { AgentCatalog.isValidToolName($0.toolName) })
        #expect(AgentCatalog.entries([connector(1, "Docs", "notion")]).first?.toolName == "notion_connector")
    }

    @Test func genericPromptsComeFromTheServer() {
        let e = AgentCatalog.entries([
            connector(1, "wiki", "generic", instructions: "Company wiki search. Use search first.")
        ])[0]
        #expect(e.toolDescription.hasPrefix("Company wiki search."))
        #expect(e.toolDescription.contains("Tools: search"))
        #expect(e.systemPrompt.contains("Use search first."))
        #expect(e.systemPrompt.contains("- search: Search pages."))
        #expect(e.tools.first?["parameters"]?["properties"]?["q"] != nil)
    }

    @Test func exportShapes() {
        let e = AgentCatalog.entries([connector(1, "Docs", "notion")])[0]
        #expect(
            e.json.objectValue?.keys == [
                "connector_id", "connector_name", "connector_type", "tool_name", "tool_description", "system_prompt",
                "tools",
            ])
        let f = e.openAIFunction
        #expect(f["type"] == "function" && f["name"] == "notion_connector")
        #expect(f["parameters"]?["properties"]?["input"]?["type"] == "string")
        #expect(f["parameters"]?["required"] == ["input"])
    }

    @Test func agentLinesPrefixEveryLine() throws {
        let r = try JSONValue.parse(
            #"{"content":[{"type":"text","text":"one\ntwo"},{"type":"image","data":"AA==","mimeType":"image/png"}]}"#)
        #expect(
            CallResultText.agentLines(r, connector: "notion", tool: "search") == [
                "[notion:search] one", "[notion:search] two", "[notion:search] [image: image/png, 1 bytes]",
            ])
        #expect(
            CallResultText.agentLines(try JSONValue.parse(#"{"content":[]}"#), connector: "a", tool: "b") == [
                "[a:b] completed"
            ])
    }
}
