import ArgumentParser
import MCPConnCore

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a tool.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        throw MCPConnError(.failure, "call is not implemented yet")
    }
}
