import MCPConnCore

/// A 2026-07-28 result that still asks for input (`resultType: "input_required"`) once mcpconn answered what it
/// could: the request did not complete, so the verb exits 79 naming what the server asked for and what would
/// answer it.
enum InputRequired {
    static func check(_ result: JSONValue, _ what: String) throws(MCPConnError) {
        guard let asked = CallResultText.inputRequired(result) else { return }
        let requests = (result["inputRequests"]?.objectValue?.pairs ?? []).map(\.value)
        let methods = Set(requests.compactMap { $0["method"]?.stringValue })
        let elicitations = requests.filter { $0["method"]?.stringValue == "elicitation/create" }
        var hints: [String] = []
        // Flags answer a form; a URL elicitation is only answered on a terminal (flags decline it).
        if elicitations.contains(where: { $0["params"]?["mode"]?.stringValue != "url" }) {
            hints.append("--answer FIELD=VALUE or --answers FILE, or a terminal")
        } else if !elicitations.isEmpty {
            hints.append("a terminal, for its URL")
        }
        if methods.contains("sampling/createMessage") { hints.append("--sampling-command CMD") }
        let answer = hints.isEmpty ? "" : " (to answer: \(hints.joined(separator: "; ")))"
        throw MCPConnError(.inputRequired, "\(what) did not complete: the server asked for input: \(asked)\(answer)")
    }
}
