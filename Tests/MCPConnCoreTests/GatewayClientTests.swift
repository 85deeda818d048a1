import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// Gateway clients (issue 26): their rules and rate, and their rows in the store on SQLite and PostgreSQL (added,
/// rotated, removed; a row changed by plain SQL counts as no client).
@Suite("Gateway clients", .timeLimit(.minutes(2)))
struct GatewayClientTests {
    @Test func rulesNameConnectorsAndToolsAndDenyWins() throws {
        let open = ClientAccess()
        #expect(open.reaches(connector: "any") && open.refusal(tool: "x", connector: "any") == nil)
        let a = try ClientAccess(allow: ["web:read_*", "docs"], deny: ["web:read_secret", "*:drop"])
        #expect(a.reaches(connector: "web") && a.reaches(connector: "docs") && !a.reaches(connector: "mail"))
        #expect(a.refusal(tool: "read_file", connector: "web") == nil)
        #expect(a.refusal(tool: "write_file", connector: "web")?.contains("not in this client's allow-list") == true)
        #expect(a.refusal(tool: "read_secret", connector: "web")?.contains("denied") == true)
        #expect(a.refusal(tool: "anything", connector: "docs") == nil)
        #expect(a.refusal(tool: "drop", connector: "docs")?.contains("'*:drop'") == true)
        #expect(a.refusal(tool: "x\u{0}", connector: "docs") != nil)
        // A deny without a tool glob hides the whole connector.
        #expect(!(try ClientAccess(allow: [], deny: ["web"])).reaches(connector: "web"))
        #expect(ClientAccess(columnText: a.columnText) == a)
        for bad in [":x", "web:", "a\\:b:"] {
            #expect(throws: MCPConnError.self) { try ClientAccess(allow: [bad], deny: []) }
        }
        // A colon in a connector's name is written `\:` (the connector part is a glob): `a:b`'s tool `deploy`.
        let colon = try ClientAccess(allow: ["a\\:b:deploy"], deny: [])
        #expect(colon.reaches(connector: "a:b") && !colon.reaches(connector: "a"))
        #expect(colon.refusal(tool: "deploy", connector: "a:b") == nil)
        #expect(colon.refusal(tool: "b:deploy", connector: "a") != nil)
        #expect(ClientAccess(columnText: colon.columnText) == colon)
        #expect(try ClientRate.parse("60/min") == 60)
        for bad in ["0/min", "5", "5/s", "x/min"] { #expect(throws: MCPConnError.self) { try ClientRate.parse(bad) } }
    }

    @Test func aBucketAllowsItsRateThenSaysWhenToRetry() {
        let t0 = ContinuousClock.now
        var bucket = TokenBucket(perMinute: 2, at: t0)
        #expect(bucket.take(at: t0) == nil && bucket.take(at: t0) == nil)
        #expect(bucket.take(at: t0) == 30)
        #expect(bucket.take(at: t0 + .seconds(29)) == 1)
        #expect(bucket.take(at: t0 + .seconds(31)) == nil)
    }

    @Test func requestsAdmittedByOtherReplicasAreOwedDownToOneMinutesWorth() {
        let t0 = ContinuousClock.now
        var bucket = TokenBucket(perMinute: 6, at: t0)
        // Six admitted elsewhere, then six more in the same second: a minute's worth owed beyond the empty bucket.
        bucket.charge(6, at: t0)
        bucket.charge(20, at: t0)
        #expect(bucket.take(at: t0) == 70)  // from -6 to 1 at one token every 10 s
        #expect(bucket.take(at: t0 + .seconds(69)) == 1)
        #expect(bucket.take(at: t0 + .seconds(71)) == nil)
    }

    @Test(arguments: ["sqlite", "postgres"])
    func clientsAreAddedRotatedRemovedAndFoundByToken(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let access = try ClientAccess(allow: ["web:echo"], deny: [])
        let (added, registry, rotated) = try await offPool {
            let added = try m.storage.addClient(name: "ci", access: access, ratePerMinute: 5, metrics: false)
            // As serve would: another connection to the store (SQLite's change token moves only for those).
            let serve = ConnectorManager(store: try Store.open(m.store.path), userID: 1, keys: m.storage.keys)
            let registry = try ClientRegistry(storage: serve.storage, warn: { _ in })
            return (added, registry, try m.storage.rotateClient("ci"))
        }
        #expect(added.client.user == 1 && added.client.access == access && added.client.ratePerMinute == 5)
        #expect(registry.client("Bearer " + added.token)?.name == "ci")
        #expect(registry.client("bearer " + added.token)?.name == "ci")
        #expect(registry.client("Bearer " + added.token + "x") == nil && registry.client(added.token) == nil)
        let (reloaded, stored) = try await offPool { (registry.reload(), try m.storage.clients()) }
        #expect(reloaded && stored.intact.map(\.name) == ["ci"] && stored.changedOutside.isEmpty)
        #expect(registry.client("Bearer " + added.token) == nil && registry.client("Bearer " + rotated)?.name == "ci")
        let duplicate = await PinStoreTests.failure {
            _ = try m.storage.addClient(name: "ci", access: access, ratePerMinute: nil, metrics: false)
        }
        #expect(duplicate?.status == .dataError)
        try await offPool {
            try m.storage.removeClient("ci")
            registry.reload()
        }
        #expect(registry.client("Bearer " + rotated) == nil && registry.count == 0)
        let gone = await PinStoreTests.failure { try m.storage.removeClient("ci") }
        #expect(gone?.status == .notFound)
    }

    /// A writer without the key can neither plant a client (a row with another's seal and its own token hash),
    /// nor widen one's rules, nor move it to another user: each counts as no client, and its token is refused.
    @Test(arguments: ["sqlite", "postgres"])
    func aClientRowChangedByPlainSQLCountsAsNone(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let planted = ClientToken.generate()
        let (stored, registry, ci) = try await offPool {
            let ci = try m.storage.addClient(
                name: "ci", access: try ClientAccess(allow: ["web:echo"], deny: []), ratePerMinute: nil, metrics: false)
            let ops = try m.storage.addClient(name: "ops", access: ClientAccess(), ratePerMinute: nil, metrics: false)
            _ = try m.storage.addClient(name: "bot", access: ClientAccess(), ratePerMinute: nil, metrics: false)
            try m.store.write { db in
                try db.execute(
                    """
                    INSERT INTO gateway_clients (name, user_id, token_hash, access, metrics, created_at, updated_at, \
                    seal) SELECT 'evil', user_id, ?, access, metrics, created_at, updated_at, seal FROM gateway_clients \
                    WHERE name = 'ops'
                    """, [.text(ClientToken.hashHex(planted))])
                try db.execute(
                    "UPDATE gateway_clients SET access = ? WHERE name = 'ci'", [.text(#"{"allow":[],"deny":[]}"#)])
                try db.execute(
                    "UPDATE gateway_clients SET token_hash = ? WHERE name = 'ops'",
                    [.text(ClientToken.hashHex(planted))])
                try db.execute("UPDATE gateway_clients SET user_id = 2 WHERE name = 'bot'", [])
            }
            _ = ops
            return (try m.storage.clients(), try ClientRegistry(storage: m.storage, warn: { _ in }), ci)
        }
        #expect(stored.intact.isEmpty && Set(stored.changedOutside) == ["bot", "ci", "evil", "ops"], "\(stored)")
        #expect(registry.count == 0 && registry.client("Bearer " + planted) == nil)
        #expect(registry.client("Bearer " + ci.token) == nil)
        let rotate = await PinStoreTests.failure { _ = try m.storage.rotateClient("ci") }
        #expect(rotate?.status == .dataError && rotate?.message.contains("changed outside mcpconn") == true)
    }
}
