import ArgumentParser
import Foundation
import MCPConnCore
import Synchronization

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Subscribe to resources and print a line each time one is updated.",
        discussion: """
            Prints the URI of each notifications/resources/updated (--json: the notification's params, one JSON \
            object per line) until Ctrl-C (exit 130) or --count updates (exit 0). --timeout bounds connecting and \
            subscribing, not the watch. A server that ends its stream ends the watch (69).
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The URIs of the resources to watch.") var uris: [String]
    @Option(help: ArgumentHelp("Stop after this many updates.", valueName: "n")) var count: Int?
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if uris.isEmpty { throw ValidationError("give at least one resource URI") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        let seen = Counter()
        let limit = count
        let json = global.json
        try await global.manager().sessions.watch(ref, uris: uris, settings: network.settings()) { params in
            if json {
                Output.line(params.compactText())
            } else {
                Output.line(TerminalText.escape(params["uri"]?.stringValue ?? "?", .line))
            }
            // Each line as it comes: `watch | while read` acts on it at once. A reader that went away (`| head -1`)
            // ends the watch (74).
            Output.flush()
            guard Output.stdoutFailure == nil else { return false }
            return limit.map { seen.next() < $0 } ?? true
        }
    }
}

/// Updates seen so far (the update closure is @Sendable; it runs in the watch's own loop, one call at a time).
private final class Counter: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}
