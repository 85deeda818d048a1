import Foundation
import MCPConnCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The listening socket and its connections, on NIO's event loops (one a core), which also run Swift's tasks
/// (see `ServeHTTP.main`); upstream HTTP runs on libcurl's thread.
final class HTTPServer: Sendable {
    /// Connections open at once; one more is closed at accept (each can hold a request body up to the limit).
    static let maxConnections = 512
    /// A connection with no request under way and nothing read for this long is closed.
    static let idleTimeout = TimeAmount.seconds(60)

    private let channel: Channel
    private let connections: OpenConnections

    private init(channel: Channel, connections: OpenConnections) {
        self.channel = channel
        self.connections = connections
    }

    var port: Int? { channel.localAddress?.port }

    static func start(_ endpoint: HTTPEndpoint, at address: ListenAddress, maxBodyBytes: Int) async throws(MCPConnError)
        -> HTTPServer
    {
        let group = MultiThreadedEventLoopGroup.singleton
        let connections = OpenConnections()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(MCPChannelHandler(endpoint: endpoint, maxBodyBytes: maxBodyBytes))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
            return HTTPServer(channel: channel, connections: connections)
        } catch {
            throw MCPConnError(.unavailable, "cannot listen on \(address.urlHost):\(address.port): \(error)")
        }
    }

    /// Stops accepting and closes every connection (cancelling what they wait for). The event loops are the
    /// process's (Swift's tasks run on them too) and end with it.
    func stop() async {
        try? await channel.close()
        connections.closeAll()
    }
}

/// The connections open now, for the limit and for closing them all at shutdown.
final class OpenConnections: @unchecked Sendable {
    // Safe to share: `channels` is touched only under `lock`; channels are closed outside it.
    private let lock = NSLock()
    private var channels: [ObjectIdentifier: Channel] = [:]

    func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = lock.withLock {
            guard channels.count < HTTPServer.maxConnections else { return false }
            channels[id] = channel
            return true
        }
        if admitted { channel.closeFuture.whenComplete { _ in self.lock.withLock { self.channels[id] = nil } } }
        return admitted
    }

    func closeAll() {
        let open = lock.withLock { Array(channels.values) }
        for c in open { c.close(promise: nil) }
    }
}
