import Foundation

/// An elicitation asked on the terminal (stdin and stderr are terminals, no `--answer` given): the server's
/// message, then each field of its form, checked as typed and asked again when it does not fit; a URL elicitation
/// shows the URL and asks whether it was done. End of input (Ctrl-D) cancels. The server's text is escaped.
///
/// One form at a time on a serial queue of its own: a server may ask twice at once, and reading the terminal
/// blocks that queue's thread, never one of Swift's cooperative pool.
enum TerminalForm {
    private static let queue = DispatchQueue(label: "mcpconn.terminal-form")

    /// The answer, or nil when `deadline` passed first (the reading thread is then left to its line: the
    /// operation ends, and the process with it).
    static func ask(_ params: Elicit.Params, connector: String, until deadline: ContinuousClock.Instant) async
        -> Elicit.Result?
    {
        let once = OnceFlag()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Elicit.Result?, Never>) in
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                // Cancelled: the answer came (and claimed first).
                if !Task.isCancelled, once.claim() { continuation.resume(returning: nil) }
            }
            queue.async {
                var io = TerminalIO()
                let answer = ask(params, connector: connector, io: &io)
                guard once.claim() else { return }
                timer.cancel()
                continuation.resume(returning: answer)
            }
        }
    }

    /// The dialogue, over `io` (the terminal, or a script in tests).
    static func ask<IO: FormIO>(_ params: Elicit.Params, connector: String, io: inout IO) -> Elicit.Result {
        let message = TerminalText.escape(String((params.message ?? "").prefix(2000)), .line)
        io.write("mcpconn: connector '\(TerminalText.escape(connector, .line))' asks: \(message)\n")
        if params.string("mode") == "url" {
            io.write("  open: \(TerminalText.escape(params.string("url") ?? "?", .line))\n")
            return choice(&io, "  done? (y)es, (n)o: decline, (c)ancel [n]: ", default: "decline", yes: "accept")
        }
        let form = ElicitationForm(schema: params.requestedSchema)
        var content = JSONObject()
        for field in form.fields {
            guard let value = ask(field, &io) else { return Elicit.Result(action: "cancel") }
            if let value { content[field.name] = value }
        }
        let action = choice(&io, "  send? (y)es, (n)o: decline, (c)ancel [y]: ", default: "accept", yes: "accept")
        guard action == .init(action: "accept") else { return action }
        return Elicit.Result(json: ["action": "accept", "content": .object(content)])
    }

    /// One field until it fits: `.some(nil)` for an optional field left empty, nil at the end of input.
    static func ask<IO: FormIO>(_ field: ElicitationForm.Field, _ io: inout IO) -> JSONValue?? {
        let label = TerminalText.escape(field.title ?? field.name, .line)
        let fallback = field.defaultValue.map { " [\(TerminalText.escape($0.stringValue ?? $0.compactText(), .line))]" }
        if let d = field.description { io.write("  \(TerminalText.escape(String(d.prefix(500)), .line))\n") }
        while true {
            io.write("  \(label) (\(hint(field)))\(fallback ?? ""): ")
            guard let line = io.readLine() else {
                io.write("\n")
                return nil
            }
            if line.trimmed.isEmpty {
                if let d = field.defaultValue { return .some(d) }
                if !field.required { return .some(nil) }
                io.write("  required\n")
                continue
            }
            switch field.value(.string(line)) {
            case .success(let v): return .some(v)
            case .failure(let problem): io.write("  \(TerminalText.escape(problem.message, .line))\n")
            }
        }
    }

    /// What a field takes, in a few words.
    static func hint(_ field: ElicitationForm.Field) -> String {
        let need = field.required ? "" : ", optional"
        switch field.kind {
        case .boolean: return "yes/no" + need
        case .number(let integer, let min, let max):
            let n = ElicitationForm.Field.number
            let range =
                switch (min, max) {
                case (let min?, let max?): " \(n(min))…\(n(max))"
                case (let min?, nil): " ≥ \(n(min))"
                case (nil, let max?): " ≤ \(n(max))"
                case (nil, nil): ""
                }
            return (integer ? "integer" : "number") + range + need
        case .text(_, let max, let format):
            let kind = TerminalText.escape(String((format ?? "text").prefix(40)), .line)
            return kind + (max.map { ", at most \($0) characters" } ?? "") + need
        case .choice(_, let titles): return TerminalText.escape(titles.joined(separator: ", "), .line) + need
        case .choices(_, let titles, _, _):
            return "any of " + TerminalText.escape(titles.joined(separator: ", "), .line) + ", comma-separated" + need
        }
    }

    /// A one-letter choice: y is `yes`, n decline, c cancel, empty the default; end of input cancels.
    static func choice<IO: FormIO>(_ io: inout IO, _ prompt: String, default: String, yes: String) -> Elicit.Result {
        while true {
            io.write(prompt)
            guard let line = io.readLine() else {
                io.write("\n")
                return Elicit.Result(action: "cancel")
            }
            switch line.trimmed.lowercased() {
            case "": return Elicit.Result(action: `default`)
            case "y", "yes": return Elicit.Result(action: yes)
            case "n", "no": return Elicit.Result(action: "decline")
            case "c", "cancel": return Elicit.Result(action: "cancel")
            default: continue
            }
        }
    }
}

/// Where a form is shown and typed.
protocol FormIO {
    mutating func write(_ text: String)
    mutating func readLine() -> String?
}

/// The terminal: stderr to show (what is printed on stdout stays the result), stdin to read.
struct TerminalIO: FormIO {
    func write(_ text: String) { WriteAll.write(2, Array(text.utf8)) }

    /// A line of at most 64 KiB (a longer one is cut), without its newline; nil at the end of input.
    func readLine() -> String? {
        guard let line = Swift.readLine(strippingNewline: true) else { return nil }
        return String(line.prefix(65536))
    }
}
