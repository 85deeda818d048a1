import Foundation
import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a local server writes: stdout lines for the session, stderr kept for error messages and traces.
extension StdioSession {
    func readStdout(_ output: SubprocessOutputSequence, pid: pid_t) async {
        var lines = LineSplitter(maxLine: settings.maxBytes)
        var failed = false
        do {
            for try await buffer in output {
                // After a fatal line the rest is drained unread, so the server never blocks on a full pipe.
                guard !failed else { continue }
                buffer.withUnsafeBytes { raw in
                    let fits = lines.feed(raw) { line in
                        if !handleLine(line) { failed = true }
                        return !failed
                    }
                    if !fits, !failed {
                        failed = true
                        end(.transport(.oversized(settings.maxBytes)))
                    }
                }
            }
        } catch {
            // A read error ends the output like EOF does.
        }
        if !failed { await outputEnded(pid) }
    }

    /// One line of the server's stdout; false when it ends the session.
    func handleLine(_ raw: ArraySlice<UInt8>) -> Bool {
        var line = raw
        if line.last == 0x0D { line = line.dropLast() }
        while let f = line.first, f == 0x20 || f == 0x09 { line = line.dropFirst() }
        guard let first = line.first else { return true }
        let text = String(decoding: line, as: UTF8.self)
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            if let messages = JSONRPCMessage.parseAll(Array(line)) {
                settings.log?.body(text)
                guarded.withLock { state in state.sawJSONRPC = true }
                for m in messages where !dispatch(m) { return false }
                return true
            }
            // A `[` line that is not JSON-RPC is most likely a log line ("[INFO] …"); a `{` line is a message
            // gone wrong.
            if first == UInt8(ascii: "{") {
                settings.log?.body(text)
                end(.notMCP("the server wrote a line that is not JSON-RPC 2.0: \(Self.snippet(text, 200))"))
                return false
            }
        }
        let shown = Self.snippet(text, 200)
        settings.log?.note("server stdout (not JSON-RPC, skipped): \(Self.snippet(text, 1000))")
        guarded.withLock { state in if state.skipped.count < 3 { state.skipped.append(shown) } }
        return true
    }

    /// One message from the server, for the session; false when it ends the session (a flood of server requests).
    func dispatch(_ m: JSONRPCMessage) -> Bool {
        guard settings.inbound.receive(m, nil) else {
            end(.notMCP(ServerRequestAnswerer.floodProblem))
            return false
        }
        return true
    }

    /// The server's stdout ended (EOF, or the leader exited). Unless we are closing it, says why: how it
    /// exited and the end of its stderr, which it gets up to two seconds to deliver (it comes with the exit).
    func outputEnded(_ pid: pid_t) async {
        if guarded.withLock({ $0.closing }) { return }
        let end = ContinuousClock.now + .seconds(2)
        func settled() -> Bool { guarded.withLock { state in state.stderrEnded } && ChildProcesses.hasExited(pid) }
        while ContinuousClock.now < end, !Task.isCancelled, !settled() {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let exit = ChildProcesses.peekExit(pid)
        let error: MCPClientError = guarded.withLock { state in
            if !state.sawJSONRPC, let line = state.skipped.first {
                return .notMCP("the server wrote no JSON-RPC, only lines like: \(line)")
            }
            let how: String
            switch exit {
            case .status(let s)?: how = "exited with status \(s)"
            case .signal(let s)?: how = "was killed by signal \(s)"
            case .unknown?: how = "exited"
            case nil: how = "closed its output"
            }
            let tail = Self.lastLines(state.stderr.contents)
            return .transport(.processFailed("the server \(how) before answering" + (tail.isEmpty ? "" : ": \(tail)")))
        }
        self.end(error)
    }

    func readStderr(_ errors: SubprocessOutputSequence) async {
        var line: [UInt8] = []
        let log = settings.log
        func flush() {
            if let log, !line.isEmpty {
                var l = line[...]
                if l.last == 0x0D { l = l.dropLast() }
                log.note("server stderr: " + Self.snippet(String(decoding: l, as: UTF8.self), Self.stderrLineLimit))
            }
            line.removeAll(keepingCapacity: true)
        }
        do {
            for try await buffer in errors {
                buffer.withUnsafeBytes { raw in
                    guarded.withLock { state in state.stderr.append(raw) }
                    guard log != nil else { return }
                    for b in raw {
                        if b == 0x0A {
                            flush()
                        } else {
                            line.append(b)
                            if line.count >= Self.stderrLineLimit { flush() }
                        }
                    }
                }
            }
        } catch {
            // A read error ends the log like EOF does.
        }
        flush()
        guarded.withLock { state in state.stderrEnded = true }
    }
}
