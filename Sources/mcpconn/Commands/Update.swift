import ArgumentParser
import MCPConnCore

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Change a connector's fields or credentials.",
        usage: "mcpconn update <ref> [<options>] [-- <command> [<args> ...]]",
        discussion: """
            Only the options given change. Changing the URL or a local server's command marks the connector \
            unverified. --env and --env-file add or replace variables of a local server; --unset-env removes one.

            A connector whose URL, command, credentials or other sealed fields were changed outside mcpconn (by \
            another writer of a shared store) is refused until --accept-change takes it as it now is. Credentials \
            sealed for another origin or command are not carried over: give them again with the flag.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(help: "A new name.") var name: String?
    @Option(help: "A new server URL.") var url: String?
    @Option(help: ArgumentHelp("Remove an environment variable of a local server (repeatable).", valueName: "NAME"))
    var unsetEnv: [String] = []
    @Flag(help: "Accept a change made outside mcpconn: check it with `get` first.") var acceptChange = false
    @Flag var pinMode: PinMode?
    @Argument(parsing: .postTerminator, help: "A new command for a local server, and its arguments.")
    var command: [String] = []
    @OptionGroup var connector: ConnectorOptions
    @OptionGroup var stdio: StdioOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        var input = try connector.input(name: name, url: url, stdio: stdio.input(commandLine: command, unset: unsetEnv))
        input.acceptChange = acceptChange
        input.pinned = pinMode.map { $0 == .pinned }
        let updated = try global.manager().storage.update(ref, input)
        if global.json { Output.json(updated.json()) }
    }
}

/// `--pinned` / `--unpinned` (`update`, `policy`).
enum PinMode: String, EnumerableFlag {
    case pinned, unpinned

    static func help(for value: PinMode) -> ArgumentHelp? {
        value == .pinned
            ? "Pinned mode: serve, call and agents use only tools approved in their approved form."
            : "Leave pinned mode."
    }
}
