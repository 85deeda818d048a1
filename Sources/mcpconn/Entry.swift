import ArgumentParser
import Foundation
import MCPConnCore

/// The process entry: runs the parsed subcommand and maps every error to a one-line message and an exit status.
@main
enum Entry {
    static func main() async {
        // TOKEN_ENCRYPTION_KEY sits in the environment from exec on, and secrets are decrypted later: no core
        // dump or crash report may ever hold them.
        ProcessHardening.forbidCoreDumps()
        ProcessHardening.silenceCrashReports(environment: ProcessInfo.processInfo.environment)
        let prewarm: CurlPrewarm?
        if let verb = CommandLine.arguments.dropFirst().first, MCPConn.networkVerbs.contains(verb) {
            prewarm = await Network.prewarm()
        } else {
            prewarm = nil
        }
        var status: Int32 = 0
        do {
            var command = try MCPConn.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as MCPConnError {
            Output.flush()
            // A server ended by Ctrl-C fails the command; the signal explains that, not this line.
            if !ChildProcesses.endingOnSignal { Output.error(error.message) }
            status = error.status.rawValue
        } catch {
            // Usage errors, --help and --version: ArgumentParser prints them and picks the status.
            Output.flush()
            await prewarm?.loaded()
            MCPConn.exit(withError: error)
        }
        Output.flush()
        if let e = Output.stdoutFailure, status == 0 {
            Output.error("cannot write to standard output: \(String(cString: strerror(e)))")
            status = ExitStatus.ioError.rawValue
        }
        await Network.drain()
        await prewarm?.loaded()
        ChildProcesses.endProgram(status: status)
    }
}
