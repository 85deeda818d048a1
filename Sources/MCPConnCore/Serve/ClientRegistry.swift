import CSodium
import Foundation

/// The clients `serve --http --clients` accepts (``GatewayClient``): each request's bearer token is hashed and
/// found among theirs, and counted against its client's rate. Read from the store at start and again whenever
/// the store's change token moves (checked every second, ``watch(every:)``): a client removed, or a token
/// rotated, is refused from the next check on, about a second after the write at most (plus one store read).
///
/// Replicas on one store share each client's rate (``shareRates()``): at each check, a replica writes how many
/// requests it admitted per limited client and charges its own buckets with what the others admitted since the
/// last check. Over time the rate holds across replicas; within one check (a second) each replica admits from its
/// own bucket, so a burst that reaches every replica at once can pass the client's burst by what the others admit
/// in that second, and that excess is then owed (the bucket goes below zero, down to one minute's worth).
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
        /// Requests admitted by this replica since it started, per limited client; and the totals last written.
        var admitted: [String: Int64] = [:]
        var written: [String: Int64] = [:]
        /// The other replicas' totals as last charged: client → replica → admitted.
        var charged: [String: [String: Int64]] = [:]
        /// When every total was last written, changed or not: a live replica's rows never age out of the table
        /// (``RateUsageTable/kept``), so another replica never mistakes an old total for new requests.
        var allWritten: ContinuousClock.Instant?
    }

    private let storage: ConnectorStorage
    private let state = Locked(State())
    private let warn: @Sendable (String) -> Void
    private let log: (@Sendable (String) -> Void)?
    /// This process among the replicas sharing the store's rate counts: random, new at each start.
    let replica = ClientToken.generate()

    /// Reads the clients once, and what other replicas admitted so far (not charged: it is before this one
    /// started); a store that cannot be read fails serve's start.
    public init(
        storage: ConnectorStorage, warn: @escaping @Sendable (String) -> Void,
        log: (@Sendable (String) -> Void)? = nil
    ) throws(MCPConnError) {
        self.storage = storage
        self.warn = warn
        self.log = log
        let version = try storage.storeVersion()
        let found = try storage.clients()
        install(found, version: version)
        let before = try storage.exchangeRateUsage(replica: replica, totals: [:], clients: nil)
        state.withLock { $0.charged = before }
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
            if wait == nil { s.admitted[client.name, default: 0] += 1 }
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

    /// Checks the store every `interval` until cancelled: the clients, and the rates shared with other replicas.
    public func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            // Off the pool and serve --http's event loops: a slow database stalls this check, not the requests.
            await Blocking.run { [self] in
                reload()
                shareRates()
            }
        }
    }

    /// How often a replica writes all its totals, changed or not (well within ``RateUsageTable/kept``).
    static let rewriteEvery = Duration.seconds(3600)

    /// Writes what this replica admitted per limited client since the last time, and charges its buckets with
    /// what the other replicas admitted meanwhile. Nothing to do when no client has a rate.
    public func shareRates(at now: ContinuousClock.Instant = .now) {
        let (limited, totals) = state.withLock { s in
            let all = s.allWritten.map { now - $0 > Self.rewriteEvery } ?? true
            if all { s.allWritten = now }
            return (
                Set(s.entries.filter { $0.client.ratePerMinute != nil }.map(\.client.name)),
                all ? s.admitted : s.admitted.filter { s.written[$0.key] != $0.value }
            )
        }
        guard !limited.isEmpty else { return }
        let others: [String: [String: Int64]]
        do {
            others = try storage.exchangeRateUsage(replica: replica, totals: totals, clients: limited)
        } catch {
            warn("could not share the clients' rates with other replicas (counting alone): \(error.message)")
            return
        }
        let charges = state.withLock { s in charge(&s, others, totals, at: now) }
        for (name, n) in charges.sorted(by: { $0.key < $1.key }) {
            log?("serve: rate: client \(name) charged \(n) requests admitted by other replicas")
        }
    }

    private func charge(
        _ s: inout State, _ others: [String: [String: Int64]], _ written: [String: Int64],
        at now: ContinuousClock.Instant
    ) -> [String: Int64] {
        s.written.merge(written) { $1 }
        var charges: [String: Int64] = [:]
        for (name, replicas) in others {
            var n: Int64 = 0
            let before = s.charged[name] ?? [:]
            for (replica, total) in replicas { n += max(0, total - (before[replica] ?? 0)) }
            s.charged[name] = replicas  // replicas whose rows aged out (ended) are forgotten
            guard n > 0, let rate = s.entries.first(where: { $0.client.name == name })?.client.ratePerMinute else {
                continue
            }
            var bucket = s.buckets[name] ?? TokenBucket(perMinute: rate, at: now)
            bucket.charge(Int(n), at: now)
            s.buckets[name] = bucket
            charges[name] = n
        }
        return charges
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

    private var rate: Double { Double(perMinute) / 60 }

    private mutating func refill(at now: ContinuousClock.Instant) {
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(perMinute), tokens + max(0, seconds) * rate)
        last = now
    }

    /// Takes `n` requests admitted elsewhere (another replica): the bucket may go below zero, down to one
    /// minute's worth, which later requests wait for.
    mutating func charge(_ n: Int, at now: ContinuousClock.Instant) {
        refill(at: now)
        tokens = max(-Double(perMinute), tokens - Double(n))
    }

    /// Whether the bucket has refilled to its burst by `now` (forgetting it would change nothing).
    func isFull(at now: ContinuousClock.Instant) -> Bool {
        var copy = self
        copy.refill(at: now)
        return copy.tokens >= Double(perMinute)
    }

    /// Takes one request; nil when it may go, else the seconds until it could (1 or more).
    mutating func take(at now: ContinuousClock.Instant) -> Int? {
        refill(at: now)
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
