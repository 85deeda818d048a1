/// A local server's process is the stream the client negotiates over.
extension StdioTransport: StreamChannel {
    func open(deadline: ContinuousClock.Instant) async throws(MCPClientError) { try await start(deadline: deadline) }
    var name: String { "stdio" }
}

extension MCPClient {
    /// A client of a local server: `launch` is started at `connect` and ended at `close`. `label` names it (the
    /// command line as the caller shows it; by default the program).
    public static func stdio(_ launch: StdioLaunch, label: String? = nil, options: Options) -> MCPClient {
        MCPClient(label: label ?? launch.command, options: options) { settings in
            StdioTransport(launch: launch, settings: settings)
        }
    }
}
