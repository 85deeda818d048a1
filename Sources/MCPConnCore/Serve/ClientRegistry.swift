import CSodium
import Foundation

/// The clients `serve --http --clients` accepts (``GatewayClient``): each request's bearer token is hashed and
/// found among theirs, and counted against its client's rate. Read from the store at start and again whenever
/// the store's change token moves (checked every second, ``watch(every:)``): a client removed, or a token
/// rotated, is refused from the next check on, about a second after the write at most (plus one store read).
public final class ClientRegistry: Sendable {
    private struct Entry {
        var client: GatewayClient
        var hash: [UInt8]
    }

    private struct State {
        var entries: [Entry] = []
        /// Each limited client's bucket, by name.
        var buckets: [String: TokenBucket] = [:]
        var version: String?
    }

    private let storage: ConnectorStorage
    private let state = Locked(State())
    private let warn: @Sendable (String) -> Void

    /// Reads the clients once: a store that cannot be read fails serve's start.
    public init(storage: ConnectorStorage, warn: @escaping @Sendable (String) -> Void) throws(MCPConnError) {
        self.storage = storage
        self.warn = warn
        let version = try storage.storeVersion()
        let found = try storage.clients()
        install(found, version: version)
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// What a request's `Authorization` header gets.
    public enum Admission: Sendable, Equatable {
        case admitted(GatewayClient)
        /// No token, or none of a client's.
        case unknown
        /// Over its rate: try again in so many seconds.
        case limited(retryAfter: Int)
    }

    /// The client behind `authorization`, its request counted against its rate.
    public func admit(_ authorization: String?, at now: ContinuousClock.Instant = .now) -> Admission {
        guard let client = client(authorization) else { return .unknown }
        guard let rate = client.ratePerMinute else { return .admitted(client) }
        let wait = state.withLock { s in
            var bucket = s.buckets[client.name] ?? TokenBucket(perMinute: rate, at: now)
            let wait = bucket.take(at: now)
            s.buckets[client.name] = bucket
            return wait
        }
        return wait.map { .limited(retryAfter: $0) } ?? .admitted(client)
    }

    /// The client behind `authorization` (`Bearer TOKEN`), without counting it. The token's hash is compared
    /// with every client's in constant time and without stopping at a match, so timing tells nothing of which
    /// client, or how much of a hash, a guess matched.
    public func client(_ authorization: String?) -> GatewayClient? {
        guard let authorization, authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer "
        else { return nil }
        let hash = ClientToken.hash(authorization.utf8.dropFirst(7))
        let entries = state.withLock { $0.entries }
        var found: GatewayClient?
        for e in entries where BearerToken.same(hash, e.hash) { found = e.client }
        return found
    }

    /// The client named `name` (`--oauth-scope`'s), nil when there is none (removed, or changed outside mcpconn).
    public func client(named name: String) -> GatewayClient? {
        state.withLock { s in s.entries.first { $0.client.name == name }?.client }
    }

    /// Reads the clients again when the store changed; true when they did.
    @discardableResult
    public func reload() -> Bool {
        do {
            let version = try storage.storeVersion()
            if state.withLock({ $0.version }) == version { return false }
            let found = try storage.clients()
            return install(found, version: version)
        } catch {
            // The clients known stay: a store briefly unreachable must not lock every client out, nor let anyone in.
            warn("could not read the clients again (keeping those known): \(error.message)")
            return false
        }
    }

    /// Checks the store every `interval` until cancelled.
    public func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            reload()
        }
    }

    @discardableResult
    private func install(_ found: StoredClients, version: String) -> Bool {
        for name in found.changedOutside {
            warn("client '\(TerminalText.escape(name))' was changed outside mcpconn: refused until added again")
        }
        let entries = found.intact.compactMap { c in hexDecode(c.tokenHash).map { Entry(client: c, hash: $0) } }
        return state.withLock { s in
            s.version = version
            let changed = s.entries.map(\.client) != entries.map(\.client)
            s.entries = entries
            // A client's bucket outlives a rotation of its token, not its removal (nor a new rate).
            s.buckets = s.buckets.filter { name, bucket in
                entries.contains { $0.client.name == name && $0.client.ratePerMinute == bucket.perMinute }
            }
            return changed
        }
    }
}

/// A client's rate, `--rate N/min`: a bucket of N requests that refills at N a minute, so a burst of N is
/// allowed and then one request every 60/N seconds.
struct TokenBucket: Sendable {
    let perMinute: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(perMinute: Int, at now: ContinuousClock.Instant) {
        self.perMinute = perMinute
        tokens = Double(perMinute)
        last = now
    }

    /// Takes one request; nil when it may go, else the seconds until it could (1 or more).
    mutating func take(at now: ContinuousClock.Instant) -> Int? {
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(perMinute) / 60
        tokens = min(Double(perMinute), tokens + max(0, seconds) * rate)
        last = now
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return max(1, Int(((1 - tokens) / rate).rounded(.up)))
    }
}

/// `--rate N/min` as given to `client add`.
public enum ClientRate {
    public static func parse(_ text: String) throws(MCPConnError) -> Int {
        let digits = text.hasSuffix("/min") ? String(text.dropLast(4)) : ""
        guard let n = Int(digits), (1...1_000_000).contains(n) else {
            throw .usage("--rate wants N/min (1 to 1000000 requests a minute), not '\(TerminalText.escape(text))'")
        }
        return n
    }
}
