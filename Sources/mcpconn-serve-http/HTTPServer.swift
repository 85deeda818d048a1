import Foundation
import MCPConnCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The listening socket and its connections, on NIO's event loops (one a core), which also run Swift's tasks
/// (see `ServeHTTP.main`); upstream HTTP runs on libcurl's thread.
final class HTTPServer: Sendable {
    /// Connections open at once (each can hold a request body up to the limit); one more closes the oldest
    /// unauthenticated connection, or is closed at accept when there is none.
    static let maxConnections = 512
    /// Connections that have not yet sent a request head with the token, of those: at this cap the oldest of
    /// them is closed to admit a new one, so that a flood of idle connections cannot lock the token's holder
    /// out (issue 29).
    static let maxUnauthenticated = 128
    /// How long a new connection has to send a request head with the token before it is closed.
    static let headDeadline = TimeAmount.seconds(5)
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
                    try pipeline.addHandler(
                        MCPChannelHandler(endpoint: endpoint, maxBodyBytes: maxBodyBytes, connections: connections))
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

/// The connections open now, for the limits and for closing them all at shutdown. A connection comes in
/// unauthenticated and becomes authenticated with its first request head that carries the token; only
/// unauthenticated ones are closed to make room.
final class OpenConnections: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        /// The unauthenticated ones, each with its rank of arrival (the lowest is the oldest).
        var unauthenticated: [ObjectIdentifier: (arrival: UInt64, channel: Channel)] = [:]
        var arrivals: UInt64 = 0

        mutating func remove(_ id: ObjectIdentifier) {
            channels[id] = nil
            unauthenticated[id] = nil
        }
    }
    /// Channels are closed outside it.
    private let state = Locked(State())

    /// Admits a new connection, closing the oldest unauthenticated one when the unauthenticated or all
    /// connections are at their cap; refuses it when all are authenticated ones.
    func admit(_ channel: Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let (admitted, evicted): (Bool, Channel?) = state.withLock { s in
            var evicted: Channel?
            if s.unauthenticated.count >= HTTPServer.maxUnauthenticated
                || s.channels.count >= HTTPServer.maxConnections
            {
                guard let oldest = s.unauthenticated.min(by: { $0.value.arrival < $1.value.arrival }) else {
                    return (false, nil)
                }
                s.remove(oldest.key)
                evicted = oldest.value.channel
            }
            s.arrivals += 1
            s.channels[id] = channel
            s.unauthenticated[id] = (s.arrivals, channel)
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        if admitted {
            channel.closeFuture.whenComplete { _ in self.state.withLock { $0.remove(id) } }
        }
        return admitted
    }

    /// The connection sent a request head with the token: it is no longer closed to make room.
    func authenticated(_ channel: Channel) {
        _ = state.withLock { $0.unauthenticated.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func closeAll() {
        let open = state.withLock { Array($0.channels.values) }
        for c in open { c.close(promise: nil) }
    }
}
