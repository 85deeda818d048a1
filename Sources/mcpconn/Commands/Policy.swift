import ArgumentParser
import MCPConnCore

struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Show or set the store-wide pinned mode.",
        discussion: """
            With --pinned, every connector of the store (of every user, added later too) is in pinned mode: serve, \
            call and agents use only tools approved in their approved form (`approve`, `pins`). --unpinned leaves \
            only the connectors set with `update REF --pinned`. Without a flag, prints the setting.
            """)

    @Flag var pinMode: PinMode?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let storage = try global.manager().storage
        let policy = try pinMode.map { mode throws(MCPConnError) in try storage.setPinPolicy(pinned: mode == .pinned) }
        if global.json {
            Output.json((try policy ?? storage.pinPolicy()).json)
        } else if policy == nil {
            let shown = try storage.pinPolicy()
            Output.line(
                shown.changedOutside
                    ? "pinned (the setting was changed outside mcpconn: enforced as pinned until set again)"
                    : shown.pinned ? "pinned" : "unpinned")
        }
    }
}
