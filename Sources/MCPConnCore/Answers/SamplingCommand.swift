import CProcess
import Foundation
import Subprocess
import SystemPackage

/// `--sampling-command CMD`: a program of the user's that answers a server's `sampling/createMessage`. It runs
/// under `/bin/sh -c CMD` with the request's params as JSON on stdin, and prints the result: a CreateMessageResult
/// (`{"role": "assistant", "content": {...}, "model": "..."}`), or plain text, taken as the assistant's text. It
/// gets mcpconn's environment without the store's key and mcpconn's own settings (`TOKEN_ENCRYPTION_KEY`,
/// `MCPCONN_*`) and never a connector's credentials; it stays in mcpconn's process group, so Ctrl-C reaches it
/// too, and it is ended at the operation's deadline.
public struct SamplingCommand: Sendable, Equatable {
    public var command: String

    public init(_ command: String) { self.command = command }

    /// Secrets of mcpconn's own besides the store's key: a PostgreSQL store's password.
    static let withheldEnvironment: Set<String> = ["PGPASSWORD"]

    /// A result larger than this is refused: it is one message for a model.
    static let maxOutput = 4 * 1024 * 1024

    /// The command's result for one request, or why there is none.
    func answer(_ params: JSONValue?, deadline: ContinuousClock.Instant) async -> Result<JSONValue, MCPConnError> {
        let input = Array((params ?? .object([:])).compactText().utf8)
        let outcome = await Self.run(command, input: input, deadline: deadline)
        switch outcome {
        case .failure(let problem): return .failure(problem)
        case .success(let output): return Self.result(from: output)
        }
    }

    /// A CreateMessageResult from the command's output: its JSON when it is an object with `content`, else the
    /// text (trailing newlines dropped) as the assistant's message.
    static func result(from output: [UInt8]) -> Result<JSONValue, MCPConnError> {
        let text = String(decoding: output, as: UTF8.self)
        if let value = try? JSONValue.parse(text), let o = value.objectValue {
            guard o["content"] != nil else {
                return .failure(MCPConnError(.failure, "the sampling command printed JSON without 'content'"))
            }
            var result = o
            if result["role"] == nil { result["role"] = "assistant" }
            if result["model"] == nil { result["model"] = "mcpconn-sampling-command" }
            return .success(.object(result))
        }
        var trimmed = Substring(text)
        while trimmed.last == "\n" || trimmed.last == "\r" { trimmed.removeLast() }
        guard !trimmed.isEmpty else { return .failure(MCPConnError(.failure, "the sampling command printed nothing")) }
        return .success([
            "role": "assistant", "content": ["type": "text", "text": .string(String(trimmed))],
            "model": "mcpconn-sampling-command",
        ])
    }

    /// Runs `/bin/sh -c command` with `input` on stdin until it exits or the deadline passes (then it is torn
    /// down: SIGTERM, then SIGKILL); its output, or why it failed (the exit status and its stderr's last line).
    static func run(_ command: String, input: [UInt8], deadline: ContinuousClock.Instant) async
        -> Result<[UInt8], MCPConnError>
    {
        let environment = ProcessInfo.processInfo.environment.filter {
            !StdioLaunch.isForbiddenEnvironmentName($0.key) && !withheldEnvironment.contains($0.key)
        }
        let env = Environment.custom(environment.map { Array("\($0.key)=\($0.value)\0".utf8) })
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(1))]
        // The input is a memory file the child reads as stdin: swift-subprocess's own input writer traps
        // ("FileDescriptor was not closed") when the child exits without reading it all (a command that ignores
        // its stdin), and a memory file leaves nothing on disk.
        guard let stdin = Self.memoryFile(input) else {
            return .failure(
                MCPConnError(
                    .failure, "the sampling command could not run: no memory file (\(String(cString: strerror(errno))))"
                ))
        }
        let work = Task {
            let r = try await Subprocess.run(
                .path("/bin/sh"), arguments: ["-c", command], environment: env, platformOptions: options,
                input: .fileDescriptor(stdin, closeAfterSpawningProcess: true), output: .bytes(limit: maxOutput),
                error: .bytes(limit: 64 * 1024))
            return (status: r.terminationStatus, output: r.standardOutput, error: r.standardError)
        }
        let timer = Task {
            try await Task.sleep(until: deadline, clock: .continuous)
            work.cancel()
        }
        defer { timer.cancel() }
        let record: (status: TerminationStatus, output: [UInt8], error: [UInt8])
        do {
            // The answer's own cancellation (the operation given up) ends the command too.
            record = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            if ContinuousClock.now >= deadline {
                return .failure(MCPConnError(.timeout, "the sampling command did not finish in time"))
            }
            return .failure(MCPConnError(.failure, "the sampling command could not run: \(error)"))
        }
        guard case .exited(0) = record.status else {
            let last = String(decoding: record.error, as: UTF8.self).split(whereSeparator: \.isNewline).last
            let why = last.map { ": " + $0 } ?? ""
            if ContinuousClock.now >= deadline {
                return .failure(MCPConnError(.timeout, "the sampling command did not finish in time"))
            }
            return .failure(
                MCPConnError(.failure, "the sampling command failed (\(Self.describe(record.status)))\(why)"))
        }
        return .success(record.output)
    }

    /// A memory file (memfd) holding `bytes`, positioned at its start.
    static func memoryFile(_ bytes: [UInt8]) -> FileDescriptor? {
        let fd = mcpconn_memory_file("mcpconn-sampling-request")
        guard fd >= 0 else { return nil }
        let file = FileDescriptor(rawValue: fd)
        do {
            _ = try file.writeAll(bytes)
            _ = try file.seek(offset: 0, from: FileDescriptor.SeekOrigin.start)
            return file
        } catch {
            try? file.close()
            return nil
        }
    }

    static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}
