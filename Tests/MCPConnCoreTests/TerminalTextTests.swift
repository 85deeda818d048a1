import Foundation
import Testing

@testable import MCPConnCore

@Suite("Terminal text")
struct TerminalTextTests {
    /// Bytes no text-mode output may carry raw: C0 controls, DEL, and C1 controls as UTF-8 (U+0080–U+009F).
    static func hasControl(_ s: String, allowing allowed: Set<UInt8> = []) -> Bool {
        let b = Array(s.utf8)
        for (i, x) in b.enumerated() {
            if (x < 0x20 || x == 0x7F) && !allowed.contains(x) { return true }
            if x == 0xC2, i + 1 < b.count, (0x80...0x9F).contains(b[i + 1]) { return true }
        }
        return false
    }

    @Test(arguments: ["", "plain ascii ~!@#$%^&*()", "héllo wörld, 日本語, emoji 😀", #"C:\path\to\x"#])
    func ordinaryTextIsUnchanged(text: String) {
        #expect(TerminalText.escape(text, .line) == text)
        #expect(TerminalText.escape(text, .block) == text)
    }

    @Test func blockKeepsNewlinesAndTabsButEscapesOtherControls() {
        let text = "line one\n\tindented\r\nclip\u{1B}]52;c;aGk=\u{07}\u{0}end\u{7F}\u{9B}2J"
        let out = TerminalText.escape(text, .block)
        #expect(out == #"line one"# + "\n\t" + #"indented\r"# + "\n" + #"clip\e]52;c;aGk=\x07\x00end\x7f\u{9b}2J"#)
        #expect(!Self.hasControl(out, allowing: [0x0A, 0x09]))
    }

    @Test func lineEscapesNewlinesTabsAndEveryControl() {
        let out = TerminalText.escape("a\nb\tc\rd\u{1B}[2J\u{85}", .line)
        #expect(out == #"a\nb\tc\rd\e[2J\u{85}"#)
        #expect(!Self.hasControl(out))
    }

    @Test func lineEscapesBidiAndZeroWidthCharactersButBlockKeepsThem() {
        let spoof = "admin\u{202E}txt.exe\u{2066}x\u{2069}\u{200B}\u{FEFF}\u{2028}"
        #expect(TerminalText.escape(spoof, .line) == #"admin\u{202e}txt.exe\u{2066}x\u{2069}\u{200b}\u{feff}\u{2028}"#)
        #expect(TerminalText.escape("שלום \u{202B}x\u{202C}", .block) == "שלום \u{202B}x\u{202C}")
    }

    @Test func escapedTextIsLeftAsItIs() {
        // Idempotent: a second pass (the output sink after a renderer) changes nothing.
        let once = TerminalText.escape("\u{1B}]0;title\u{07}\u{202E}\n", .line)
        #expect(TerminalText.escape(once, .line) == once)
        #expect(TerminalText.escape(once, .block) == once)
    }

    @Test func invalidUTF8IsReplacedNotTrusted() {
        // A lone continuation byte, a truncated sequence, an overlong ESC (0xC0 0x9B) and a raw 0x9B.
        let bytes: [UInt8] = [0x61, 0x80, 0x62, 0xE2, 0x82, 0x63, 0xC0, 0x9B, 0x9B, 0x64]
        var out = ByteBuffer()
        bytes.withUnsafeBufferPointer { TerminalText.append($0, .line, to: &out) }
        let text = String(decoding: out.slice(0..<out.count), as: UTF8.self)
        #expect(text == "a\u{FFFD}b\u{FFFD}c\u{FFFD}\u{FFFD}\u{FFFD}d")
        #expect(!Self.hasControl(text))
    }

    @Test func randomBytesNeverCrashAndComeOutValidAndFreeOfControls() {
        // Bytes from SQLite need not be UTF-8: whatever they are, the output is valid UTF-8 without controls.
        let edges: [UInt8] = [0x00, 0x07, 0x0A, 0x0D, 0x1B, 0x7F, 0x80, 0x9B, 0xC2, 0xE2, 0x80, 0xAE, 0xF0, 0xFF]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let bytes = (0..<Int.random(in: 0..<24, using: &rng)).map { _ in
                Bool.random(using: &rng) ? UInt8.random(in: 0...255, using: &rng) : edges.randomElement(using: &rng)!
            }
            for shape in [TerminalText.Shape.line, .block] {
                var out = ByteBuffer()
                bytes.withUnsafeBufferPointer { TerminalText.append($0, shape, to: &out) }
                let written = Array(out.slice(0..<out.count))
                let text = String(decoding: written, as: UTF8.self)
                #expect(Array(text.utf8) == written, "invalid UTF-8 out of \(bytes)")
                #expect(!Self.hasControl(text, allowing: shape == .block ? [0x0A, 0x09] : []), "\(bytes)")
            }
        }
    }

    @Test func everyScalarComesOutFreeOfControls() {
        // Exhaustive over the Basic Multilingual Plane and a little beyond, in both shapes.
        var text = ""
        for v in 0..<0x1_0200 { if let c = Unicode.Scalar(v) { text.unicodeScalars.append(c) } }
        #expect(!Self.hasControl(TerminalText.escape(text, .line)))
        #expect(!Self.hasControl(TerminalText.escape(text, .block), allowing: [0x0A, 0x09]))
    }

    @Test func tablesEscapeCellsAndAlignOnTheEscapedText() {
        var t = TextTable(header: ["TOOL", "DESCRIPTION"])
        t.append(["a\u{1B}]0;x\u{07}", "b\nc"])
        t.append(["long-name", "d"])
        #expect(
            t.render() == #"""
                TOOL         DESCRIPTION
                a\e]0;x\x07  b\nc
                long-name    d

                """#)
    }

    @Test func callResultSummariesEscapeTheirFieldsAndAgentLinesTheirPrefix() throws {
        let r = try JSONValue.parse(
            #"""
            {"content": [
              {"type": "image", "mimeType": "image/png\u001b[2J", "data": "AAAA"},
              {"type": "resource_link", "uri": "file:///a\nb", "name": "n\u202e"},
              {"type": "resource", "resource": {"uri": "x:\u0007", "mimeType": "text/\r"}}
            ]}
            """#)
        #expect(
            CallResultText.lines(r) == [
                #"[image: image/png\e[2J, 3 bytes]"#, #"[resource link: file:///a\nb (n\u{202e})]"#,
                #"[resource: x:\x07, text/\r]"#,
            ])
        let text = try JSONValue.parse(#"{"content": [{"type": "text", "text": "ok\u001b[2J"}]}"#)
        #expect(
            CallResultText.agentLines(text, connector: "c\u{1B}", tool: "t\u{202E}") == [
                #"[c\e:t\u{202e}] "# + "ok\u{1B}[2J"
            ])
    }

    /// What a hostile 2026-07-28 server asks for instead of answering is named on one line, its text escaped and
    /// bounded; a result that is the answer (or says `complete`) asks for nothing.
    @Test func inputRequestsAreNamedOnOneEscapedBoundedLine() throws {
        let many = (0..<10).map { #""k\#($0)": {"method": "roots/list"}"# }.joined(separator: ", ")
        let cases: [(String, String?)] = [
            (#"{"content": []}"#, nil), (#"{"resultType": "complete", "content": []}"#, nil),
            (#"{"resultType": "input_required", "requestState": "s"}"#, "another round (a requestState only)"),
            (
                #"{"resultType": "input_required", "inputRequests": {"a": {"method": "elicitation/create", "params": {"message": "x\u001b]0;t\u0007\n\u202e"}}, "b": {"method": "tasks/\r"}, "c": {}, "d": {"method": "elicitation/create"}}}"#,
                #"elicitation "x\e]0;t\x07\n\u{202e}", tasks/\r, a request without a method, elicitation"#
            ),
            (
                #"{"resultType": "input_required", "inputRequests": {\#(many)}}"#,
                Array(repeating: "roots", count: 8).joined(separator: ", ") + ", 2 more"
            ),
        ]
        for (json, named) in cases {
            #expect(CallResultText.inputRequired(try JSONValue.parse(json)) == named, "\(json)")
        }
        let long = JSONValue.object([
            "resultType": "input_required",
            "inputRequests": [
                "a": [
                    "method": "elicitation/create", "params": ["message": .string(String(repeating: "m", count: 5000))],
                ]
            ],
        ])
        #expect(CallResultText.inputRequired(long)?.count == "elicitation \"\"".count + 200)
    }

    @Test func agentLinesOfCRLFTextEachPrintAsOneLineWithTheirPrefix() throws {
        // Found by the JSON-RPC fuzz target (Fuzz/JSONRPCFuzz.swift): CRLF is one Swift Character, which
        // `split(separator: "\n")` did not split, so the sink printed its newline as a second line without the prefix.
        let r = try JSONValue.parse(#"{"content": [{"type": "text", "text": "one\r\ntwo\nthree\r\n"}]}"#)
        let lines = CallResultText.agentLines(r, connector: "c", tool: "t")
        #expect(lines == ["[c:t] one\r", "[c:t] two", "[c:t] three\r", "[c:t] "])
        for line in lines {
            let printed = TerminalText.escape(line + "\n", .block)
            #expect(printed.utf8.starts(with: "[c:t] ".utf8) && printed.utf8.filter { $0 == 0x0A }.count == 1)
        }
    }

    @Test func driftAndReportLinesAreOneLineAndEscaped() {
        var diff = SurfaceDiff(tools: ListDiff(added: ["x\u{1B}[2J"], removed: ["y\r"], changed: ["z\u{202E}"]))
        let r = ConnectorReport(id: 1, name: "c", ok: true, toolCount: 3, diff: diff)
        #expect(r.refreshLine == #"c: 3 tools, +x\e[2J -y\r ~z\u{202e}"#)
        // Prompts, resources and templates by kind, as hostile as their servers make them.
        diff.prompts.changed = ["p\u{1B}]52;c;x\u{07}"]
        diff.resources.removed = ["memo://\n"]
        diff.templates.added = ["t://{id}"]
        let more = ConnectorReport(id: 1, name: "c", ok: true, toolCount: 3, diff: diff)
        #expect(
            more.refreshLine
                == #"c: 3 tools, +x\e[2J -y\r ~z\u{202e}, prompt p\e]52;c;x\x07 changed, resource memo://\n removed, template t://{id} added"#
        )
    }
}
