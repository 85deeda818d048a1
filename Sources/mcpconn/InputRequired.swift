import MCPConnCore

/// A 2026-07-28 result that still asks for input (`resultType: "input_required"`) once mcpconn answered what it
/// could: the request did not complete, so the verb exits 79 naming what the server asked for and what would
/// answer it.
enum InputRequired {
    static func check(_ result: JSONValue, _ what: String) throws(MCPConnError) {
        guard let asked = CallResultText.inputRequired(result) else { return }
        let methods = Set(
            (result["inputRequests"]?.objectValue?.pairs ?? []).compactMap { $0.value["method"]?.stringValue })
        var hints: [String] = []
        if methods.contains("elicitation/create") {
            hints.append("--answer FIELD=VALUE or --answers FILE, or a terminal")
        }
        if methods.contains("sampling/createMessage") { hints.append("--sampling-command CMD") }
        let answer = hints.isEmpty ? "" : " (to answer: \(hints.joined(separator: "; ")))"
        throw MCPConnError(.inputRequired, "\(what) did not complete: the server asked for input: \(asked)\(answer)")
    }
}
