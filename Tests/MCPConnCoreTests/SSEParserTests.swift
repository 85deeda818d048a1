import Foundation
import Testing

@testable import MCP
@testable import MCPConnCore

@Suite("SSE parser")
struct SSEParserTests {
    @Test func parsesEventsWithTypesIdsAndComments() {
        var p = SSEParser()
        let events = p.feed(
            ": comment\nevent: message\nid: 7\ndata: {\"a\":1}\n\nevent: endpoint\ndata: /messages/?s=1\n\n")
        #expect(
            events == [
                SSEEvent(event: "message", data: "{\"a\":1}", id: "7"),
                SSEEvent(event: "endpoint", data: "/messages/?s=1", id: "7"),
            ])
    }

    @Test func joinsMultiLineDataWithNewlines() {
        var p = SSEParser()
        #expect(p.feed("data: line one\ndata: line two\ndata\n\n") == [SSEEvent(data: "line one\nline two\n")])
    }

    @Test func handlesCRLFAndCRLineEndings() {
        var p = SSEParser()
        #expect(p.feed("data: a\r\n\r\ndata: b\r\rdata:c\n\n").map(\.data) == ["a", "b", "c"])
    }

    @Test func eventsSplitAtEveryByteBoundaryParseTheSame() {
        let stream =
            "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n\r\n: ping\r\ndata: x\r\n\r\n"
        var whole = SSEParser()
        let expected = whole.feed(stream)
        #expect(expected.count == 2)
        var split = SSEParser()
        var got: [SSEEvent] = []
        for b in Array(stream.utf8) { got += [b].withUnsafeBytes { split.feed($0) } }
        #expect(got == expected)
    }

    @Test func ignoresEventsWithoutDataAndUnknownFields() {
        var p = SSEParser()
        #expect(p.feed("event: ping\nretry: 100\nfoo: bar\n\n").isEmpty)
    }

    @Test func remembersTheLastEventIdAndRetryForResuming() {
        var p = SSEParser()
        // A priming event (id, retry, empty data) is dispatched with empty data: it is no message.
        #expect(p.feed("id: s_1\nretry: 250\ndata:\n\n") == [SSEEvent(data: "", id: "s_1")])
        #expect(p.lastEventID == "s_1" && p.retryMilliseconds == 250)
        // Only digits set the delay; an overflowing or signed value leaves the last good one.
        _ = p.feed("retry: -5\nretry: 99999999999999999999999\nretry: 1e3\nid: s_2\n\n")
        #expect(p.lastEventID == "s_2" && p.retryMilliseconds == 250)
    }

    @Test func stripsOnlyOneLeadingSpaceAndABOM() {
        var p = SSEParser()
        #expect(p.feed("\u{FEFF}data:  two spaces\n\n").map(\.data) == [" two spaces"])
    }

    @Test func flagsOversizedEvents() {
        var p = SSEParser(maxEventBytes: 16)
        _ = p.feed("data: " + String(repeating: "x", count: 64) + "\n\n")
        #expect(p.overflowed)
    }

    @Test func anIncompleteEventIsNotDispatched() {
        var p = SSEParser()
        #expect(p.feed("data: partial").isEmpty)
        #expect(p.feed("\n").isEmpty)
        #expect(p.feed("\n").map(\.data) == ["partial"])
    }

    // Found by the SSE fuzz target (Fuzz/SSEFuzz.swift; docs/fuzzing.md); its inputs are in Fuzz/corpus/sse/regress-*.

    @Test func nothingAfterAnOverflowBecomesAnEvent() {
        // The fuzzer's input (cap 8): a 22-byte line whose tail reads "data", then blank lines. The parser used to
        // drop what it held and read on, so the tail became a data field and the blank line dispatched an event.
        var p = SSEParser(maxEventBytes: 8)
        #expect(p.feed("\u{5}\0\0\0\0\0\0\0vvvvvvvvvvdata\n\n\n\nvv\n\n\n\n").isEmpty)
        #expect(p.overflowed)
        // Nor does a well-formed event after the oversized one, in the same chunk or a later one: the consumers
        // read every event of a chunk before they look at `overflowed`.
        var q = SSEParser(maxEventBytes: 16)
        #expect(q.feed("data: 0123456789abcdefghij\n\ndata: after\n\n").isEmpty)
        #expect(q.overflowed)
        #expect(q.feed("data: later\n\n").isEmpty)
        #expect(q.bufferedBytes == 0)
    }

    @Test func eventsCompletedBeforeAnOverflowAreKept() {
        var p = SSEParser(maxEventBytes: 16)
        #expect(p.feed("data: ok\n\ndata: 0123456789abcdefghij\n\n").map(\.data) == ["ok"])
        #expect(p.overflowed)
    }

    @Test func theEventTypeCountsTowardsTheCap() {
        // The type was held beside the data but not counted, so one event could hold twice the cap.
        var p = SSEParser(maxEventBytes: 64)
        let x40 = String(repeating: "x", count: 40)
        #expect(p.feed("event: \(x40)\ndata: \(x40)\n\n").isEmpty)
        #expect(p.overflowed)
        var q = SSEParser(maxEventBytes: 64)
        #expect(q.feed("event: \(x40)\ndata: 0123456789\n\n").map(\.event) == [x40])
    }

    @Test func whatIsHeldNeverExceedsTheCap() {
        // Streams that grow the data with little in the line: many empty data lines (each adds a newline to
        // the data), CRLF ones, short ones, and a type beside them. Checked after every byte. (A report of
        // unbounded growth from empty data lines did not reproduce: growth happens only on a line byte, where
        // the bound was checked; these stay as regression tests of that.)
        let streams = [
            String(repeating: "data:\n", count: 100) + "\n", String(repeating: "data\r\n", count: 100),
            String(repeating: "data: ab\n", count: 100) + "\n", "event: t\n" + String(repeating: "data:\n", count: 50),
        ]
        for stream in streams {
            var p = SSEParser(maxEventBytes: 32)
            for b in Array(stream.utf8) {
                _ = [b].withUnsafeBytes { p.feed($0) }
                #expect(p.bufferedBytes <= 32)
            }
            #expect(p.overflowed)
        }
    }

    @Test func theCapIsExact() {
        // The most this stream makes the parser hold is its line "data: x", 7 bytes: a cap of 7 takes it, 6 not.
        var fits = SSEParser(maxEventBytes: 7)
        #expect(fits.feed("data: x\n\n").map(\.data) == ["x"])
        #expect(!fits.overflowed)
        var over = SSEParser(maxEventBytes: 6)
        #expect(over.feed("data: x\n\n").isEmpty)
        #expect(over.overflowed)
    }
}

@Suite("JSON-RPC framing")
struct JSONRPCTests {
    @Test func classifiesResponsesErrorsRequestsAndNotifications() throws {
        let r = JSONRPCMessage(try JSONValue.parse(#"{"jsonrpc":"2.0","id":3,"result":{"ok":true}}"#))
        #expect(r == .response(id: 3, result: ["ok": true]))
        let e = JSONRPCMessage(
            try JSONValue.parse(#"{"jsonrpc":"2.0","id":"a","error":{"code":-32602,"message":"bad","data":{"x":1}}}"#))
        #expect(e == .errorResponse(id: "a", error: JSONRPCError(code: -32602, message: "bad", data: ["x": 1])))
        let q = JSONRPCMessage(try JSONValue.parse(#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#))
        #expect(q == .request(id: 9, method: "ping", params: nil))
        let n = JSONRPCMessage(try JSONValue.parse(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#))
        #expect(n == .notification(method: "notifications/progress", params: [:]))
    }

    @Test func rejectsWhatIsNotJSONRPC() throws {
        #expect(JSONRPCMessage(try JSONValue.parse(#"{"id":1,"result":{}}"#)) == nil)
        #expect(JSONRPCMessage(try JSONValue.parse(#"{"jsonrpc":"1.0","id":1,"result":{}}"#)) == nil)
        #expect(JSONRPCMessage(try JSONValue.parse(#"{"jsonrpc":"2.0","id":1}"#)) == nil)
        #expect(JSONRPCMessage(try JSONValue.parse(#"[1,2]"#)) == nil)
        #expect(JSONRPCMessage.parseAll(Array("<html>".utf8)) == nil)
    }

    @Test func parsesBatches() {
        let msgs = JSONRPCMessage.parseAll(
            Array(#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":2,"result":1}]"#.utf8))
        #expect(msgs?.count == 2)
        #expect(msgs?.last?.responseID == 2)
        #expect(JSONRPCMessage.parseAll(Array(#"[{"jsonrpc":"2.0","method":"a"},{"nope":1}]"#.utf8)) == nil)
    }

    @Test func buildsRequestsAndNotificationsInWireOrder() {
        #expect(
            JSONRPC.request(id: 1, method: "tools/list", params: nil).compactText()
                == #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(
            JSONRPC.notification(method: "notifications/initialized").compactText()
                == #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        #expect(
            JSONRPC.methodNotFound(id: 4).compactText()
                == #"{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"Method not found"}}"#)
    }
}

@Suite("Call arguments")
struct CallArgumentsTests {
    @Test func mergesArgsAndPairsParsingJSONValues() throws {
        let o = try CallArguments.build(
            args: #"{"a":1,"q":"x"}"#, pairs: ["q=hello world", "n=3", "flag=true", "obj={\"k\":[1]}", "s=\"7\""])
        #expect(
            JSONValue.object(o).compactText() == #"{"a":1,"q":"hello world","n":3,"flag":true,"obj":{"k":[1]},"s":"7"}"#
        )
    }

    @Test func readsStdinWithDash() throws {
        let o = try CallArguments.build(args: "-", pairs: [], readStdin: { .success(Array(#"{"x":[1,2]}"#.utf8)) })
        #expect(o["x"] == [1, 2])
    }

    @Test func rejectsBadInputWithTheRightStatus() {
        #expect(throws: MCPConnError.self) { try CallArguments.build(args: "{bad", pairs: []) }
        do {
            _ = try CallArguments.build(args: "[1]", pairs: [])
            Issue.record("expected an error")
        } catch { #expect(error.status == .dataError) }
        do {
            _ = try CallArguments.build(args: "@/nonexistent/file.json", pairs: [])
            Issue.record("expected an error")
        } catch { #expect(error.status == .notFound) }
        do {
            _ = try CallArguments.build(args: nil, pairs: ["novalue"])
            Issue.record("expected an error")
        } catch { #expect(error.status == .usage) }
    }

    @Test func rendersContentForPeople() throws {
        let r = try JSONValue.parse(
            #"""
            {"content":[{"type":"text","text":"hi"},{"type":"image","data":"AAAA","mimeType":"image/png"},
            {"type":"resource_link","uri":"file:///a.txt","name":"a"},{"type":"resource","resource":{"uri":"x:1","text":"inner"}},
            {"type":"resource","resource":{"uri":"x:2","blob":"AA==","mimeType":"application/pdf"}}],"isError":false}
            """#)
        #expect(
            CallResultText.lines(r) == [
                "hi", "[image: image/png, 3 bytes]", "[resource link: file:///a.txt (a)]", "inner",
                "[resource: x:2, application/pdf]",
            ])
        #expect(!CallResultText.isError(r))
        let s = try JSONValue.parse(#"{"content":[],"structuredContent":{"result":5}}"#)
        #expect(CallResultText.lines(s).first?.contains("\"result\": 5") == true)
    }
}
