/// `import`'s summary: one line per entry of the file.
extension ImportReport {
    public func text(dryRun: Bool) -> String {
        var out = ""
        for o in outcomes {
            let action =
                dryRun && (o.action == .added || o.action == .updated)
                ? (o.action == .added ? "would add" : "would update") : o.action.rawValue
            out +=
                action.padding(toLength: max(12, action.count + 1), withPad: " ", startingAt: 0)
                + TerminalText.escape(o.name)
            if let note = o.note {
                out += (o.isProblem ? ": " : " (") + TerminalText.escape(note) + (o.isProblem ? "" : ")")
            }
            out += "\n"
        }
        return out
    }

    public func json(dryRun: Bool) -> JSONValue {
        [
            "file": .string(path), "format": .string(format.rawValue), "dryRun": .bool(dryRun),
            "entries": .array(
                outcomes.map { o in
                    [
                        "name": .string(o.name), "action": .string(o.action.rawValue),
                        "id": o.id.map { .int($0) } ?? .null,
                        "note": .optional(o.note),
                    ]
                }),
        ]
    }
}
