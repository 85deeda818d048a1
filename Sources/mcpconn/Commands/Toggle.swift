import ArgumentParser
import MCPConnCore

struct Toggle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toggle",
        abstract: "Enable or disable a connector; prints its new state.",
        discussion: "Without --on or --off the state flips. Disabled connectors refuse network verbs (exit 69).")

    @Argument(help: "The connector's id or name.") var ref: String
    @Flag(help: "Enable the connector.") var on = false
    @Flag(help: "Disable the connector.") var off = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if on && off { throw ValidationError("give at most one of --on and --off") }
    }

    func run() throws {
        let c = try global.manager().storage.setActive(ref, on ? true : off ? false : nil)
        if global.json { Output.json(c.json()) } else { Output.line(c.isActive ? "active" : "inactive") }
    }
}
