import ArgumentParser
import Foundation
import MCPConnCore
import Synchronization

/// What `call`, `prompt` and `read` show of a request while it runs, on stderr only (stdout is the result): the
/// server's log messages from `--log-level` up, one escaped line each; its progress as one line overwritten in
/// place, on a terminal only. With `--json`, both as JSON lines (`{"connector", "method", "params"}`). Written as it
/// comes, on a transport's thread: it returns at once.
final class ServerMessageDisplay: Sendable {
    let connector: String
    let json: Bool
    /// A progress line can be overwritten in place only on a terminal.
    let showsProgress: Bool
    /// Whether a progress line is on the screen (the next line first erases it).
    private let progressShown = Mutex(false)

    init(connector: String, json: Bool) {
        self.connector = connector
        self.json = json
        showsProgress = json || isatty(2) == 1
    }

    /// What the request asks for (`level` off: no log messages), shown here.
    func notifications(logLevel level: String) -> RequestNotifications {
        let level = level == "off" ? nil : level
        return RequestNotifications(progress: showsProgress, logLevel: level) { method, params in
            self.show(method, params, least: level.flatMap(MCPVocabulary.severity))
        }
    }

    func show(_ method: String, _ params: JSONValue?, least: Int?) {
        if method == NotificationRoute.logMessage {
            let level = params?["level"]?.stringValue ?? ""
            guard let least, let severity = MCPVocabulary.severity(level), severity >= least else { return }
        } else if method != NotificationRoute.progress || !showsProgress {
            return
        }
        if json {
            let line: JSONValue = [
                "connector": .string(connector), "method": .string(method), "params": params ?? .null,
            ]
            Output.stderr(line.compactText() + "\n")
        } else if method == NotificationRoute.progress {
            progressShown.withLock { $0 = true }
            Output.stderr("\r\u{1B}[K" + TerminalText.escape("[\(connector)] " + Self.progress(params), .line))
        } else {
            Output.stderr(erase() + TerminalText.escape("[\(connector)] " + Self.log(params), .line) + "\n")
        }
    }

    /// A task's state seen while waiting for it (`task --wait`), shown as its progress: on a terminal one line
    /// overwritten in place (`task working: 3/5`); with `--json` a `notifications/tasks/status` line, the shape of
    /// the notification a server sends when a task changes.
    func task(_ state: JSONValue) {
        guard showsProgress else { return }
        if json {
            let line: JSONValue = [
                "connector": .string(connector), "method": "notifications/tasks/status", "params": state,
            ]
            Output.stderr(line.compactText() + "\n")
            return
        }
        progressShown.withLock { $0 = true }
        Output.stderr("\r\u{1B}[K" + TerminalText.escape("[\(connector)] task " + TaskText.status(state), .line))
    }

    /// Erases a progress line left on the screen: before the result or an error is printed.
    func finish() { Output.stderr(erase()) }

    private func erase() -> String {
        progressShown.withLock { shown in
            defer { shown = false }
            return shown ? "\r\u{1B}[K" : ""
        }
    }

    /// `3/10 message` (or `3`, `3 message`).
    static func progress(_ params: JSONValue?) -> String {
        func number(_ key: String) -> String? {
            guard case .number(let n)? = params?[key] else { return nil }
            return n
        }
        let done = number("progress") ?? "?"
        let total = number("total").map { "/" + $0 } ?? ""
        let message = params?["message"]?.stringValue.map { " " + String($0.prefix(200)) } ?? ""
        return "\(done)\(total)\(message)"
    }

    /// `warning: logger: text` (data that is not text as compact JSON, cut to 1000 characters).
    static func log(_ params: JSONValue?) -> String {
        let level = params?["level"]?.stringValue ?? "log"
        let logger = params?["logger"]?.stringValue.map { $0 + ": " } ?? ""
        let data = params?["data"].map { $0.stringValue ?? $0.compactText() } ?? ""
        return "\(level): \(logger)\(String(data.prefix(1000)))"
    }
}
