import ArgumentParser
import MCPConnCore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve connectors to an MCP client over stdio, credentials kept inside.",
        discussion: """
            mcpconn speaks MCP on stdin and stdout and forwards tool calls to the connectors: one connector's tools \
            keep their names; with several (or --all, every active one) each is named <connector>__<tool>. \
            Sessions to the connectors open at first use and stay open; a failure reaches the client as a tool \
            result with isError. Runs until stdin closes. --timeout applies to each forwarded request.
            """)

    @OptionGroup var selection: ConnectorSelection
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let manager = try global.manager()
        let connectors = try selection.connectors(manager)
        try manager.checkKey(for: connectors)
        let settings = network.settings()
        let gateway = Gateway(
            manager: manager, connectors: connectors, settings: settings, log: network.verbose ? Output.trace : nil)
        await StdioServer.run(gateway, maxLineBytes: settings.maxBytes)
    }
}
