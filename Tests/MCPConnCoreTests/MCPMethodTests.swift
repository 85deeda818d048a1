import Foundation
import Testing

@testable import MCP
@testable import MCPConnCore

/// The typed MCP methods (Sources/MCP/Protocol): values over the JSON they are, so what a server wrote is what a
/// client gets, key order and number spelling included, and the gateway's era shaping over them.
@Suite("typed MCP methods")
struct MCPMethodTests {
    /// A result with the fields in an unusual order, numbers as no Double would write them back, and a field
    /// mcpconn does not know.
    static let callResult =
        #"{"structuredContent":{"big":12345678901234567890,"price":1.50,"exp":1E+3,"neg":-0},"isError":false,"#
        + #""content":[{"type":"text","text":"ok"}],"x-vendor":{"b":1,"a":2}}"#

    @Test func aResultSurvivesARoundTripKeyOrderAndNumbersAsWritten() throws {
        let parsed = try JSONValue.parse(Self.callResult)
        let result = try #require(CallTool.Result(object: parsed))
        #expect(!result.isError && result.content.count == 1)
        #expect(result.structuredContent?["price"] == .number("1.50"))
        #expect(result.value.compactText() == Self.callResult)
        var edited = result
        edited.set("isError", .bool(true))
        #expect(edited.isError)
        #expect(edited.json.keys == ["structuredContent", "isError", "content", "x-vendor"])
    }

    @Test func paramsAreWrittenInTheSpecsOrderAndReadBack() throws {
        let initialize = Initialize.Params(
            protocolVersion: "2025-11-25", capabilities: ["roots": [:]], clientInfo: ["name": "t", "version": "1.0"])
        #expect(
            initialize.value.compactText()
                == #"{"protocolVersion":"2025-11-25","capabilities":{"roots":{}},"clientInfo":{"name":"t","version":"1.0"}}"#
        )
        #expect(Initialize.Params(try JSONValue.parse(initialize.value.compactText())) == initialize)
        #expect(initialize.protocolVersion == "2025-11-25" && initialize.capabilities?["roots"] == .object([:]))
        let call = CallTool.Params(name: "add", arguments: ["b": .number("2.0"), "a": 1])
        #expect(call.value.compactText() == #"{"name":"add","arguments":{"b":2.0,"a":1}}"#)
        #expect(call.name == "add" && call.arguments?.keys == ["b", "a"])
        #expect(Discover.Params(protocolVersion: "2026-07-28").protocolVersion == "2026-07-28")
        #expect(CallTool.Params(.string("not an object")).name == nil)
        #expect(CallTool.Result(object: .array([])) == nil)
    }

    @Test func typedResultsReadTheirFields() throws {
        let initialized = Initialize.Result(
            try JSONValue.parse(
                #"{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"s"},"instructions":"hi"}"#
            ))
        #expect(initialized.protocolVersion == "2025-06-18" && initialized.instructions == "hi")
        #expect(initialized.serverInfo?["name"] == "s" && initialized.capabilities?["tools"] == .object([:]))
        let discovered = Discover.Result(
            supportedVersions: ["2026-07-28"], capabilities: [:], serverInfo: ["name": "s"])
        #expect(discovered.supportedVersions == ["2026-07-28"] && discovered.serverInfo?["name"] == "s")
        #expect(
            discovered.value.compactText()
                == #"{"supportedVersions":["2026-07-28"],"capabilities":{},"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s"}}}"#
        )
        #expect(
            CallTool.Result.failure("no").value.compactText()
                == #"{"content":[{"type":"text","text":"no"}],"isError":true}"#)
        let completion = Complete.Params(try JSONValue.parse(#"{"ref":{"type":"ref/resource","uri":"file:///a"}}"#))
        #expect(completion.refType == "ref/resource" && completion.refPath == ["ref", "uri"])
    }

    @Test func oneGenericPageServesEveryCatalog() throws {
        let page = Page<ListTools>(try JSONValue.parse(#"{"tools":[{"name":"a"},{"name":"b"}],"nextCursor":"2"}"#))
        #expect(page.tools.count == 2 && page.nextCursor == "2")
        #expect(Page<ListTools>(try JSONValue.parse(#"{"tools":[],"nextCursor":""}"#)).nextCursor == nil)
        let templates = Page<ListResourceTemplates>(items: [["uriTemplate": "file:///{p}"]], nextCursor: "n")
        #expect(
            templates.value.compactText() == #"{"resourceTemplates":[{"uriTemplate":"file:///{p}"}],"nextCursor":"n"}"#)
        #expect(templates.resourceTemplates.count == 1)
        #expect(PageRequest(cursor: "c").cursor == "c" && PageRequest().json.isEmpty)
        #expect(ListTools.carriesCachingTerms && ListPrompts.carriesCachingTerms && !CallTool.carriesCachingTerms)
        #expect(
            [ListTools.name, ListPrompts.name, ListResources.name, ListResourceTemplates.name]
                == ["tools/list", "prompts/list", "resources/list", "resources/templates/list"])
    }

    /// mcpconn runs unattended: the server requests it knows get the answers their method types name.
    @Test func serverRequestsGetTheirUnattendedAnswers() {
        #expect(
            JSONRPC.answer(serverRequest: 1, method: Ping.name).compactText()
                == #"{"jsonrpc":"2.0","id":1,"result":{}}"#)
        #expect(
            JSONRPC.answer(serverRequest: 2, method: ListRoots.name).compactText()
                == #"{"jsonrpc":"2.0","id":2,"result":{"roots":[]}}"#)
        #expect(
            JSONRPC.answer(serverRequest: "e", method: Elicit.name).compactText()
                == #"{"jsonrpc":"2.0","id":"e","result":{"action":"decline"}}"#)
        #expect(JSONRPC.answer(serverRequest: 3, method: CreateMessage.name)["error"]?["code"] == .int(-32601))
        #expect(JSONRPC.answer(serverRequest: 4, method: "tasks/get")["error"]?["code"] == .int(-32601))
    }

    @Test func resultsAreShapedForTheirEraFromTheTypedValue() throws {
        let info: JSONValue = ["name": "mcpconn"]
        let result = try #require(CallTool.Result(object: try JSONValue.parse(Self.callResult)))
        let modern = Gateway.modern(result, cachingTerms: false, serverInfo: info)
        #expect(modern.json.keys == ["structuredContent", "isError", "content", "x-vendor", "resultType", "_meta"])
        #expect(modern.value.compactText().hasPrefix(String(Self.callResult.dropLast())))
        #expect(modern.meta?[MCPVocabulary.Meta.serverInfo] == info)
        let page = Gateway.modern(
            Page<ListTools>(items: []), cachingTerms: ListTools.carriesCachingTerms, serverInfo: info)
        #expect(page.json.keys == ["tools", "resultType", "cacheScope", "ttlMs", "_meta"])
        // A 2026-07-28 connector's own era comes off for a handshake-era client; its other _meta stays.
        let upstream = try JSONValue.parse(
            #"{"tools":[],"resultType":"complete","cacheScope":"public","ttlMs":60000,"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"up"},"k":1}}"#
        )
        let handshake = Gateway.handshake(Page<ListTools>(upstream))
        #expect(handshake.value.compactText() == #"{"tools":[],"_meta":{"k":1}}"#)
        #expect(Gateway.handshake(Gateway.modern(EmptyObject(), cachingTerms: false, serverInfo: info)).json.isEmpty)
    }

    @Test func stdioTakesTheEraFromTheEnvelope() {
        func era(_ version: JSONValue?) -> ProtocolEra {
            RequestContext.fromEnvelope(version.map { ["_meta": [MCPVocabulary.Meta.protocolVersion: $0]] }).era
        }
        #expect(era("2026-07-28") == .modern)
        #expect(era("2025-11-25") == .handshake && era("1999-01-01") == .handshake && era(nil) == .handshake)
        #expect(era(5) == .handshake)
        #expect(RequestContext.fromEnvelope(nil).caller == nil)
    }
}
