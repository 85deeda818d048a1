/// A local server's process is the stream the client negotiates over.
extension StdioTransport: MCPStreamTransport {
    func open(deadline: ContinuousClock.Instant) async throws(MCPClientError) { try await start(deadline: deadline) }
    var name: String { "stdio" }
}

extension MCPClient {
    /// A client of a local server: `launch` is started at `connect` and ended at `close`.
    public static func stdio(_ launch: StdioLaunch, options: Options) -> MCPClient {
        let label = ShellWords.join([launch.command] + launch.arguments)
        return MCPClient(label: label, options: options) { settings in
            StdioTransport(launch: launch, settings: settings)
        }
    }
}
