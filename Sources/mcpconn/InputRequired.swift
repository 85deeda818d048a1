import MCPConnCore

/// A 2026-07-28 result that asks for input instead of answering (`resultType: "input_required"`): the request
/// did not complete, so the verb exits 79 naming what the server asked for.
enum InputRequired {
    static func check(_ result: JSONValue, _ what: String) throws(MCPConnError) {
        guard let asked = CallResultText.inputRequired(result) else { return }
        throw MCPConnError(
            .inputRequired,
            "\(what) did not complete: the server asked for input, which mcpconn does not answer yet: \(asked)")
    }
}
