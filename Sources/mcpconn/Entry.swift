import ArgumentParser
import Foundation
import MCPConnCore

/// The process entry: runs the parsed subcommand and maps every error to a one-line message and an exit status.
@main
enum Entry {
    static func main() async {
        let prewarm: CurlPrewarm?
        if let verb = CommandLine.arguments.dropFirst().first, MCPConn.networkVerbs.contains(verb) {
            prewarm = await Network.prewarm()
        } else {
            prewarm = nil
        }
        do {
            var command = try MCPConn.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Output.flush()
            await Network.drain()
            await prewarm?.loaded()
            exit(0)
        } catch let error as MCPConnError {
            Output.flush()
            Output.error(error.message)
            await Network.drain()
            await prewarm?.loaded()
            exit(error.status.rawValue)
        } catch {
            Output.flush()
            await prewarm?.loaded()
            MCPConn.exit(withError: error)
        }
    }
}
