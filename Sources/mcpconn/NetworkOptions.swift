import ArgumentParser
import Foundation
import MCPConnCore

/// Options of the verbs that talk to servers.
struct NetworkOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds allowed per connector.", valueName: "seconds"))
    var timeout: Double = 30

    @Option(help: ArgumentHelp("Largest answer accepted, in MiB.", valueName: "MiB"))
    var maxResponseMb: Int = 32

    @Flag(help: "Log the protocol exchange to stderr (secrets redacted).")
    var verbose = false

    func validate() throws {
        if !(timeout > 0 && timeout <= 86400) { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
        if maxResponseMb < 1 || maxResponseMb > 4096 { throw ValidationError("--max-response-mb must be 1…4096") }
    }

    func settings(_ targets: TargetOptions? = nil) -> NetworkSettings {
        let trace: (@Sendable (String) -> Void)? = verbose ? Output.trace : nil
        var s = NetworkSettings(
            timeout: timeout, maxBytes: maxResponseMb * 1024 * 1024, trace: trace,
            concurrency: targets?.concurrency ?? 8)
        if let targets, !targets.quiet, !verbose, Progress.isInteractive { s.progress = Progress.show }
        // The lease outlasts the worst case of one connector under the time limit (waiting for the refresh lock,
        // a refresh, the check, a 401, a second refresh and check), so a live runner never loses a claim; a
        // killed one frees its connectors after it.
        if let claim = targets?.claim { s.claim = ClaimPolicy(freshFor: claim, lease: timeout * 5 + 30) }
        return s
    }
}

/// Which connectors a verb works on: refs or --all (fleet verbs, serve).
struct ConnectorSelection: ParsableArguments {
    @Argument(help: "Connector ids or names.") var refs: [String] = []
    @Flag(help: "Every active connector of the user.") var all = false

    /// True when one connector was named (its own exit code and a single JSON object apply).
    var single: Bool { !all && refs.count == 1 }

    func validate() throws {
        if all && !refs.isEmpty { throw ValidationError("give connector refs or --all, not both") }
        if !all && refs.isEmpty { throw ValidationError("give at least one connector ref, or --all") }
    }

    /// The connectors selected, by id.
    func connectors(_ m: ConnectorManager) throws(MCPConnError) -> [Connector] { try m.storage.targets(refs, all: all) }
}

/// Targets of the fleet verbs: refs or --all, how many at once, how much to print.
struct TargetOptions: ParsableArguments {
    @OptionGroup var selection: ConnectorSelection
    @Option(help: ArgumentHelp("How many connectors at once.", valueName: "n")) var concurrency: Int = 8
    @Flag(help: "Print only failures and changes (nothing when all went well).") var quiet = false
    @Option(
        help: ArgumentHelp(
            "Only connectors no runner has done this check on in the last SECONDS and none is doing now: runners sharing a store split the fleet.",
            valueName: "seconds"))
    var claim: Double?

    var single: Bool { selection.single }

    /// With --claim, a connector named alone may have been left to another runner: said on stderr (exit 0),
    /// so a CI gate that checked nothing does not pass in silence.
    func noteSkipped(_ reports: [ConnectorReport]) {
        guard let claim, single, reports.isEmpty else { return }
        Output.error(
            "note: '\(selection.refs[0])' was not checked: another runner holds it or checked it within the last \(claim.formatted()) s (--claim)"
        )
    }

    func validate() throws {
        if concurrency < 1 || concurrency > 256 { throw ValidationError("--concurrency must be 1…256") }
        if let claim, !(claim >= 0 && claim <= 366 * 86400) {
            throw ValidationError("--claim must be 0…31622400 seconds")
        }
    }
}

/// The options of a verb that sends one request (call, prompt, read): how it answers a server that asks the client
/// something mid-request (the handshake era's server requests, 2026-07-28's `input_required`), and what it shows
/// of the server's log messages. One group, not one per concern: each option group is a type ArgumentParser
/// decodes and looks conformances up for, and `call` pays for every one (callgrind: three nested groups cost
/// 2.4 M instructions more per call than this one).
struct RequestOptions: ParsableArguments {
    @Option(
        name: .customLong("root"),
        help: ArgumentHelp("A directory to share when the server asks for roots; repeatable.", valueName: "dir"))
    var roots: [String] = []
    @Option(
        name: .customLong("answer"),
        help: ArgumentHelp("An answer to an elicitation form's field; repeatable.", valueName: "field=value"))
    var answers: [String] = []
    @Option(
        name: .customLong("answers"),
        help: ArgumentHelp("Elicitation answers from a file: a JSON object of fields.", valueName: "file"))
    var answersFile: String?
    @Option(
        help: ArgumentHelp(
            "A program that answers sampling requests: the request as JSON on stdin, the result on stdout.",
            valueName: "command"))
    var samplingCommand: String?
    @Option(
        help: ArgumentHelp(
            "Show the server's log messages from this level up on stderr: debug, info, notice, warning, error, critical, alert, emergency, or off.",
            valueName: "level"))
    var logLevel: String?
    @OptionGroup var network: NetworkOptions

    func validate() throws {
        if let logLevel, logLevel != "off" && MCPVocabulary.severity(logLevel) == nil {
            throw ValidationError(
                "--log-level must be one of \(MCPVocabulary.logLevels.joined(separator: ", ")) or off")
        }
    }

    /// The settings, and the display of the server's messages (`finish()` it before printing the result).
    func settings(connector: String, json: Bool) throws(MCPConnError) -> (NetworkSettings, ServerMessageDisplay) {
        var settings = network.settings()
        settings.answers = try clientAnswers()
        let display = ServerMessageDisplay(connector: connector, json: json)
        settings.notifications = display.notifications(logLevel: logLevel ?? "warning")
        return (settings, display)
    }

    /// The answers; without --answer/--answers, elicitations are asked on the terminal when stdin and stderr are
    /// one, else declined.
    func clientAnswers() throws(MCPConnError) -> ClientAnswers {
        var a = ClientAnswers()
        a.roots = try roots.map { dir throws(MCPConnError) in try ClientRoot(dir) }
        a.fields = try ClientAnswers.fields(file: answersFile, pairs: answers)
        a.terminal = a.fields == nil && isatty(0) == 1 && isatty(2) == 1
        a.sampling = samplingCommand.map(SamplingCommand.init)
        return a
    }
}
