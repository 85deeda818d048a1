import ArgumentParser
import MCPConnCore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Connect to a server, list all its tools and store them.",
        discussion: "On success the connector is verified; on failure it is marked unverified with the error.")

    @Argument(help: "The connector's id or name.") var ref: String
    @Option(name: .customLong("expect-tool"), help: ArgumentHelp("Fail (exit 1) unless the server has this tool; repeatable.", valueName: "name"))
    var expectTools: [String] = []
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let report = try await global.manager().verify(ref, expectTools: expectTools, settings: network.settings())
        if global.json { Output.json(report.refreshJSON) }
        if !report.missingTools.isEmpty {
            throw MCPConnError(.failure, "connector '\(report.name)' lacks tools: \(report.missingTools.joined(separator: ", "))")
        }
    }
}
