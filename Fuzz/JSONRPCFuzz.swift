// Fuzz target: a server's JSON-RPC body as mcpconn reads it (Sources/MCP/Protocol/JSONRPC.swift),
// and what the CLI then prints from it: the tool table of `tools` (a tools/list result), the text of `call`
// (a CallToolResult, plain and `--format agent`), and error messages. Input: one JSON-RPC message or batch,
// the bytes of a JSON body or of one SSE event's data.
//
// Checked:
//   a server request's answer (ping, roots/list, elicitation, anything else) is one JSON-RPC answer that parses
//   back with the request's very id;
//   printed server text never carries a control character a terminal obeys: one-line fields (table cells,
//   summaries, errors) none at all, multi-line text only newline and tab, after the output sink's escaping;
//   the tool table has exactly one line per tool (a tool name or description cannot add rows);
//   every `--format agent` line, as printed, is one line beginning with its `[connector:tool] ` prefix;
//   the drift of a tool list against itself is empty.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let messages = JSONRPCMessage.parseAll(input) else { return 0 }
    for m in messages {
        switch m {
        case .request(let id, let method, _):
            checkAnswer(id: id, method: method)
        case .notification:
            break
        case .response(_, let result):
            checkToolTable(result)
            checkCallResult(result)
        case .errorResponse(_, let error):
            // `call` and `verify` report a JSON-RPC error as a one-line message.
            let printed = printedLine(error.message)
            require(controlByte(in: printed) == nil, "an error message prints a control: \(shown(printed.utf8))")
        }
    }
    return 0
}

/// What the stderr and one-line sinks print (`Output.error`, table cells): the text escaped as one line.
private func printedLine(_ s: String) -> String { TerminalText.escape(s, .line) }

/// What the stdout text sink prints (`Output.print`): multi-line text, escaped.
private func printedText(_ s: String) -> String { TerminalText.escape(s, .block) }

private func checkAnswer(id: JSONValue, method: String) {
    let answer = JSONRPC.answer(serverRequest: id, method: method)
    let wire = answer.compactBytes()
    guard let back = JSONRPCMessage.parseAll(wire), back.count == 1 else {
        fatalError("invariant failed: the answer to \(shown(method.utf8)) is not one JSON-RPC message: \(shown(wire))")
    }
    let echoed = back[0].responseID
    require(
        echoed == id && echoed?.compactBytes() == id.compactBytes(),
        "the answer does not carry the request's id \(shown(id.compactBytes())): \(shown(wire))")
    if case .errorResponse(_, let e) = back[0] {
        require(e.code == JSONRPCError.methodNotFound, "the answer's error code is \(e.code)")
        require(!["ping", "roots/list", "elicitation/create"].contains(method), "\(method) answered with an error")
    }
}

/// `mcpconn tools`: the stored tools/list result as a table.
private func checkToolTable(_ result: JSONValue) {
    guard let tools = result["tools"]?.arrayValue else { return }
    let table = TextTable.tools(tools)
    let lines = Array(table.utf8).split(separator: 0x0A, omittingEmptySubsequences: false)
    require(
        lines.count == tools.count + 2 && lines.last?.isEmpty == true,
        "\(tools.count) tools make a table of \(lines.count - 1) lines: \(shown(table.utf8))")
    for line in lines {
        line.withUnsafeBufferPointer { b in
            require(TerminalText.firstUnsafe(b, from: 0, .line) == nil, "a table line holds unsafe text: \(shown(b))")
        }
    }
    require(
        Array(printedText(table).utf8) == Array(table.utf8),
        "the output sink changes the table (cells were not escaped)")
    for kind in SurfaceKind.allCases {
        require(ListDiff.between(old: tools, new: tools, kind).isEmpty, "a list of \(kind) drifts against itself")
    }
}

/// `mcpconn call`: a CallToolResult as text, as agent lines, and as a tool error.
private func checkCallResult(_ result: JSONValue) {
    for line in CallResultText.lines(result) {
        let printed = printedText(line + "\n")
        require(
            controlByte(in: printed, allowing: [0x0A, 0x09]) == nil,
            "call text prints a control: \(shown(printed.utf8))")
    }
    // Summaries of non-text content (images, links, resources without text) are single escaped lines.
    for item in result["content"]?.arrayValue ?? [] {
        let type = item["type"]?.stringValue
        let isText = type == "text" || (type == "resource" && item["resource"]?["text"]?.stringValue != nil)
        if isText { continue }
        var summary = CallResultText.describe(item)
        summary.withUTF8 { b in
            require(
                TerminalText.firstUnsafe(b, from: 0, .line) == nil,
                "a content summary is not one safe line: \(shown(b))")
        }
    }
    let prefix = "[conn:tool] "
    for line in CallResultText.agentLines(result, connector: "conn", tool: "tool") {
        let printed = printedText(line + "\n")
        let breaks = printed.utf8.filter { $0 == 0x0A }.count
        // Bytes, not Characters: text may begin with a combining mark, which joins the prefix's last space.
        require(
            breaks == 1 && printed.utf8.starts(with: prefix.utf8),
            "an agent line prints as \(breaks) lines or without its prefix: \(shown(printed.utf8))")
        require(
            controlByte(in: printed, allowing: [0x0A, 0x09]) == nil,
            "an agent line prints a control: \(shown(printed.utf8))")
    }
    let error = printedLine(CallResultText.errorText(result))
    require(controlByte(in: error) == nil, "a tool error prints a control: \(shown(error.utf8))")
}
