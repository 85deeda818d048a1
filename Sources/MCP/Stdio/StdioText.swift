import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Server text and start failures in words, for error messages.
extension StdioSession {
    // MARK: - Text

    /// Server text made one line, at most `limit` characters (escaped for a terminal where it is printed).
    static func snippet(_ text: String, _ limit: Int) -> String { ServerText.oneLine(text, limit: limit) }

    /// The last few non-empty lines of a server's stderr as one line (at most 3 lines, 400 characters):
    /// usually where a server says why it stopped.
    static func lastLines(_ bytes: [UInt8], count: Int = 3, limit: Int = 400) -> String {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let line = ServerText.oneLine(lines.suffix(count).joined(separator: " | "), limit: .max)
        return line.count > limit ? "…" + String(line.suffix(limit - 1)) : line
    }

    /// Why the child could not start, in words.
    static func startFailure(_ error: any Error, launch: StdioLaunch, environment: [String: String])
        -> MCPClientError
    {
        let who = "cannot start '\(snippet(launch.command, 200))'"
        guard let e = error as? SubprocessError else {
            switch error as? StartProblem {
            case .ending?: return .transport(.processFailed("\(who): mcpconn is ending"))
            case .notRunnable(let path)?:
                return .transport(.processFailed("\(who): \(notFoundReason(path, path: environment["PATH"]))"))
            case .noReaper?:
                return .transport(
                    .missingProgram(
                        "\(who): local servers need \(Reaper.programName) next to mcpconn (\(Reaper.expectedPath)): "
                            + "build or install both"))
            default:
                return .transport(.processFailed(launch.command.isEmpty ? "cannot start the server: no command" : who))
            }
        }
        let why: String
        switch e.code {
        case .executableNotFound:
            why = notFoundReason(launch.command, path: environment["PATH"])
        case .failedToChangeWorkingDirectory:
            let dir = snippet(launch.workingDirectory ?? "", 200)
            why = "working directory '\(dir)': " + errnoText(e.underlyingError?.rawValue ?? ENOENT)
        default:
            why = e.underlyingError.map { errnoText($0.rawValue) } ?? "the system refused to run it"
        }
        return .transport(.processFailed("\(who): \(why)"))
    }

    /// swift-subprocess reports ENOENT for any executable it could not run; find out what it really was.
    static func notFoundReason(_ command: String, path: String?) -> String {
        let candidates =
            command.contains("/")
            ? [command] : (path ?? "").split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(command)" }
        for c in candidates {
            var st = stat()
            guard stat(c, &st) == 0 else { continue }
            if (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) {
                if command.contains("/") { return "is a directory" }
                continue
            }
            if access(c, X_OK) != 0 { return "permission denied (not executable)" }
        }
        return command.contains("/") ? "no such file or directory" : "not found in PATH"
    }

    /// `strerror`'s text, lowercased at the start ("no such file or directory").
    static func errnoText(_ code: Int32) -> String {
        let s = String(cString: strerror(code))
        return s.prefix(1).lowercased() + s.dropFirst()
    }
}

/// Splits a byte stream into lines without holding more than one line (at most `maxLine` bytes).
struct LineSplitter {
    let maxLine: Int
    private var pending: [UInt8] = []

    init(maxLine: Int) { self.maxLine = maxLine }

    /// Feeds bytes; `emit` gets each complete line (without its newline) and returns false to stop. Returns
    /// false when a line grew past `maxLine`.
    mutating func feed(_ raw: UnsafeRawBufferPointer, emit: (ArraySlice<UInt8>) -> Bool) -> Bool {
        var start = raw.startIndex
        while start < raw.endIndex {
            let rest = raw[start...]
            let newline = rest.firstIndex(of: 0x0A)
            let part = rest[..<(newline ?? raw.endIndex)]
            guard pending.count + part.count <= maxLine else { return false }
            guard let newline else {
                pending.append(contentsOf: part)
                return true
            }
            start = newline + 1
            if pending.isEmpty {
                // The common case: the whole line is in this buffer.
                if !emit(ArraySlice(part)) { return true }
            } else {
                pending.append(contentsOf: part)
                let line = pending
                pending.removeAll(keepingCapacity: true)
                if !emit(line[...]) { return true }
            }
        }
        return true
    }
}

/// The last `capacity` bytes of a stream: memory stays bounded whatever the stream's length.
struct ByteRing {
    let capacity: Int
    private var storage: [UInt8] = []
    /// Where the oldest byte is once `storage` is full.
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { storage.count }

    /// The bytes held, oldest first.
    var contents: [UInt8] { Array(storage[head...] + storage[..<head]) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var input = bytes[...]
        if input.count >= capacity {
            storage = Array(input.suffix(capacity))
            head = 0
            return
        }
        if storage.count < capacity {
            let n = min(capacity - storage.count, input.count)
            storage.append(contentsOf: input.prefix(n))
            input = input.dropFirst(n)
        }
        // Full: overwrite the oldest bytes, in at most two runs.
        while !input.isEmpty {
            let n = min(capacity - head, input.count)
            storage.withUnsafeMutableBytes { dst in
                UnsafeMutableRawBufferPointer(rebasing: dst[head..<(head + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: input.prefix(n)))
            }
            input = input.dropFirst(n)
            head = (head + n) % capacity
        }
    }
}
