import ArgumentParser
import MCPConnCore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a server, list its tools and store them.")

    @Argument(help: "The connector's id or name.") var ref: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        throw MCPConnError(.failure, "verify is not implemented yet")
    }
}
