import ArgumentParser
import MCPConnCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that servers answer.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        throw MCPConnError(.failure, "health is not implemented yet")
    }
}
