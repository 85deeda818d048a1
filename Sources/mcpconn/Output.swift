import Foundation
import MCPConnCore

/// Writes to stdout/stderr. Output is buffered and flushed once, which keeps big listings cheap.
///
/// Text goes through ``TerminalText``: whatever a server said, no control character reaches the terminal
/// raw. Renderers have already escaped their one-line fields (names, cells, errors); the text sinks here escape
/// what is left in multi-line text (`.block`), and the one-line stderr sinks everything (`.line`). JSON and
/// `list`'s byte chunks do their own escaping.
enum Output {
    nonisolated(unsafe) private static var buffer: [UInt8] = []

    /// Appends text to stdout, its control characters escaped (newlines and tabs kept).
    static func print(_ text: String) { raw(TerminalText.escape(text, .block)) }

    private static func raw(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count > 1 << 16 { flush() }
    }

    /// Writes a chunk of bytes to stdout (after anything buffered), without copying it.
    static func bytes(_ bytes: UnsafeRawBufferPointer) {
        flush()
        if let e = WriteAll.write(1, bytes), stdoutFailure == nil { stdoutFailure = e }
    }

    /// Prints a line to stdout.
    static func line(_ text: String) { print(text + "\n") }

    /// Prints a JSON value (indented) to stdout; JSON escapes its own control characters.
    static func json(_ value: JSONValue) { raw(value.prettyText() + "\n") }

    static func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            if let e = WriteAll.write(1, bytes), stdoutFailure == nil { stdoutFailure = e }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Why stdout could not be written (errno: a full disk, a closed descriptor), once it failed. The command
    /// then exits 74 rather than 0: a cron job's output must not vanish silently.
    nonisolated(unsafe) private(set) static var stdoutFailure: Int32?

    /// True when stdout is a terminal (where a binary resource is not printed).
    static var isTerminal: Bool { isatty(1) == 1 }

    /// Writes `bytes` to the file at `path` (created, or truncated), as `read --out` does; 74 when it cannot.
    static func writeFile(_ bytes: UnsafeRawBufferPointer, to path: String) throws(MCPConnError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw MCPConnError(.ioError, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let failed = WriteAll.write(fd, bytes)
        let closed = close(fd) == 0 ? nil : errno
        if let e = failed ?? closed {
            throw MCPConnError(.ioError, "cannot write \(path): \(String(cString: strerror(e)))")
        }
    }

    /// Writes text to stderr; a stderr that cannot be written loses it (there is nowhere left to say so).
    @Sendable static func stderr(_ text: String) {
        WriteAll.write(2, Array(text.utf8))
    }

    /// The `--verbose` sink: protocol trace lines to stderr (several per call, so newlines stay).
    static let trace: @Sendable (String) -> Void = { text in stderr(TerminalText.escape(text, .block) + "\n") }

    /// Prints a one-line message, prefixed with `mcpconn:`, to stderr.
    static func error(_ message: String) { stderr("mcpconn: " + TerminalText.escape(message, .line) + "\n") }

    /// Prints one line to stderr (the login URL, alone on its line so scripts can pick it up).
    @Sendable static func stderrLine(_ text: String) { stderr(TerminalText.escape(text, .line) + "\n") }
}

/// The `n/total` progress line of long fleet runs, on stderr, only when both stdout and stderr are terminals.
enum Progress {
    static var isInteractive: Bool { isatty(1) == 1 && isatty(2) == 1 }

    static let show: @Sendable (Int, Int, Int) -> Void = { done, total, failed in
        guard total > 1 else { return }
        let failures = failed > 0 ? ", \(failed) failed" : ""
        // \r and erase-line keep it on one line; the last update clears it.
        let text = done == total ? "\r\u{1B}[K" : "\r\u{1B}[K[\(done)/\(total)\(failures)]"
        Output.stderr(text)
    }
}
