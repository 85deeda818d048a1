import ArgumentParser
import MCPConnCore

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-discover tools and store them.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        throw MCPConnError(.failure, "refresh is not implemented yet")
    }
}
