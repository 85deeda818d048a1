import ArgumentParser
import MCPConnCore

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one connector (never its credentials).")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let m = try global.manager()
        let c = try m.storage.get(ref)
        if global.json {
            Output.json(c.json(includeLists: true))
        } else {
            Output.print(c.details(tokenPresent: m.oauth.tokenPresent(c)))
        }
    }
}
