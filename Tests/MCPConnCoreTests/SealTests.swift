import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// Rows sealed against a writer of the store without its key (issue 29, docs/security.md "A writer of a shared
/// store"): such a writer may delete connectors or stop them from working, and nothing more.
@Suite("Row seals: what a writer without the key can and cannot do")
struct SealTests {
    static let accept = {
        var input = ConnectorInput()
        input.acceptChange = true
        return input
    }()

    /// A writer's statement, run as another role of the database would: straight SQL, no key.
    private func write(_ m: ConnectorManager, _ sql: String, _ arguments: [SQLValue] = []) throws {
        try m.store.write { db in try db.execute(sql, arguments) }
    }

    /// The error mcpconn gives before using `ref`, if any.
    private func refusal(_ m: ConnectorManager, _ ref: String) -> MCPConnError? {
        do {
            _ = try m.storage.credentials(of: try m.storage.get(ref))
            return nil
        } catch { return error }
    }

    private func twoConnectors(_ m: ConnectorManager) throws {
        _ = try m.storage.add(
            ConnectorInput(name: "web", serverURL: "https://a.example/mcp", authType: .apiKey, secret: "k-web-1234"))
        var launch = StdioInput(commandLine: ["/usr/bin/env", "server", "--flag"])
        launch.workingDirectory = "/tmp"
        launch.environment = [EnvironmentVariable(name: "GITHUB_TOKEN", value: "ghp-local-secret")]
        _ = try m.storage.add(ConnectorInput(name: "local", stdio: launch))
    }

    @Test(arguments: [
        ("web", "server_url = 'http://127.0.0.1:9/mcp'", "server_url"),
        ("web", "server_url = 'https://a.example/other'", "server_url"),
        ("web", "auth_type = 'oauth'", "auth_type"),
        ("web", "name = 'renamed'", "name"),
        ("web", "is_active = \(false)", "is_active"),
        ("local", "command = '/bin/sh'", "command"),
        ("local", "command_args = '[\"-c\",\"echo $GITHUB_TOKEN\"]'", "command_args"),
        ("local", "working_directory = '/'", "working_directory"),
        ("local", "env_names = '[\"GITHUB_TOKEN\",\"LD_PRELOAD\"]'", "env_names"),
    ])
    func aChangeToASealedColumnIsRefusedAndNamed(ref: String, change: String, column: String) async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        let id = try m.storage.get(ref).id!
        let sql = "UPDATE user_mcp_connections SET \(change.replacingOccurrences(of: "false", with: "0")) WHERE id = ?"
        try write(m, sql, [.int(id)])
        let error = try #require(refusal(m, String(id)))
        #expect(error.status == .dataError)
        #expect(error.message.contains("was changed outside mcpconn (\(column))"), "\(error.message)")
        #expect(error.message.contains("`mcpconn update \(id) --accept-change`"), "\(error.message)")
        // What a session learns is not sealed: a writer can only make it wrong.
        let other = try await makeManager()
        try twoConnectors(other)
        try write(
            other,
            "UPDATE user_mcp_connections SET tool_count = 99, last_error = 'x', protocol_era = 'modern', description = 'd'"
        )
        #expect(refusal(other, ref) == nil)
    }

    @Test func aRowMovedToAnotherUserIsRefusedThere() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        try write(m, "UPDATE user_mcp_connections SET user_id = 2 WHERE name = 'web'")
        let other = ConnectorManager(store: m.store, userID: 2, keys: m.storage.keys)
        let error = try #require(refusal(other, "web"))
        #expect(error.status == .dataError && error.message.contains("(user_id)"), "\(error.message)")
    }

    @Test func credentialsCopiedToAnotherRowOrUserDoNotOpen() async throws {
        let m = try await makeManager()
        let second = ConnectorManager(store: m.store, userID: 2, keys: m.storage.keys)
        _ = try m.storage.add(
            ConnectorInput(name: "a", serverURL: "https://a.example/mcp", authType: .apiKey, secret: "secret-of-a"))
        _ = try m.storage.add(
            ConnectorInput(name: "b", serverURL: "https://a.example/mcp", authType: .apiKey, secret: "secret-of-b"))
        _ = try second.storage.add(ConnectorInput(name: "c", serverURL: "https://a.example/mcp"))
        // The sealed value alone, and with the row's seal too: neither opens in another row, or for another user.
        for columns in ["auth_config", "auth_config, auth_type, row_seal"] {
            for (target, manager) in [("b", m), ("c", second)] {
                try write(
                    m,
                    "UPDATE user_mcp_connections SET (\(columns)) = (SELECT \(columns) FROM user_mcp_connections WHERE name = 'a' AND user_id = 1) WHERE name = ?",
                    [.text(target)])
                let error = try #require(refusal(manager, target), "\(columns) → \(target)")
                #expect(error.status == .dataError, "\(error.message)")
                // Accepting the change does not make the copied secret usable: it must be given again.
                do {
                    _ = try manager.storage.update(target, Self.accept)
                    Issue.record("accepted a credential copied from another row")
                } catch {
                    #expect(
                        error.status == .configuration && error.message.contains("needs them again"), "\(error.message)"
                    )
                }
            }
        }
        var input = ConnectorInput(secret: "new-secret-of-b")
        input.acceptChange = true
        let b = try m.storage.update("b", input)
        #expect(try m.storage.credentials(of: b)?.header(for: .apiKey)?.value == "new-secret-of-b")
    }

    @Test func aRowWithoutASealIsRefused() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        try write(
            m,
            """
            INSERT INTO user_mcp_connections (user_id, name, server_url, command, command_args, created_at, updated_at)
            VALUES (1, 'planted', '', '/bin/sh', '["-c","id"]', '2026-01-01', '2026-01-01')
            """)
        let error = try #require(refusal(m, "planted"))
        #expect(error.status == .dataError && error.message.contains("was not written by mcpconn"), "\(error.message)")
        // A seal copied from another row does not fit either.
        try write(
            m,
            "UPDATE user_mcp_connections SET row_seal = (SELECT row_seal FROM user_mcp_connections WHERE name = 'local') WHERE name = 'planted'"
        )
        #expect(refusal(m, "planted")?.status == .dataError)
    }

    @Test func acceptingAChangeSealsTheRowAsItNowIs() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        var accept = ConnectorInput()
        accept.acceptChange = true
        // Same origin: the credentials still open for it and are kept.
        try write(m, "UPDATE user_mcp_connections SET server_url = 'https://a.example/v2/mcp' WHERE name = 'web'")
        #expect(refusal(m, "web") != nil)
        let web = try m.storage.update("web", accept)
        #expect(web.serverURL == "https://a.example/v2/mcp")
        #expect(try m.storage.credentials(of: web)?.header(for: .apiKey)?.value == "k-web-1234")
        // Another origin: the credentials are not carried there; given again, they are.
        try write(m, "UPDATE user_mcp_connections SET server_url = 'https://b.example/mcp' WHERE name = 'web'")
        #expect(throws: MCPConnError.self) { try m.storage.update("web", accept) }
        #expect(refusal(m, "web")?.status == .dataError)
        var again = accept
        again.secret = "k-for-b-5678"
        let moved = try m.storage.update("web", again)
        #expect(try m.storage.credentials(of: moved)?.header(for: .apiKey)?.value == "k-for-b-5678")
        // A local server's new arguments: its sealed variables are bound to the old launch, so they are asked for.
        try write(m, "UPDATE user_mcp_connections SET command_args = '[\"other\"]' WHERE name = 'local'")
        #expect(throws: MCPConnError.self) { try m.storage.update("local", accept) }
        var withEnv = accept
        withEnv.stdio = StdioInput()
        withEnv.stdio?.environment = [EnvironmentVariable(name: "GITHUB_TOKEN", value: "ghp-given-again")]
        let local = try m.storage.update("local", withEnv)
        #expect(local.arguments == ["other"])
        #expect(try m.storage.credentials(of: local)?.launchEnvironment["GITHUB_TOKEN"] == "ghp-given-again")
    }

    @Test func changesThroughMcpconnSealAgainAsTheyGo() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        // A new origin through `update --url`: the owner's act, so the credentials follow it.
        let web = try m.storage.update("web", ConnectorInput(serverURL: "https://c.example/mcp"))
        #expect(try m.storage.credentials(of: web)?.header(for: .apiKey)?.value == "k-web-1234")
        var launch = StdioInput(commandLine: ["/usr/bin/env", "other-server"])
        launch.workingDirectory = ""
        let local = try m.storage.update("local", ConnectorInput(name: "renamed", stdio: launch))
        #expect(try m.storage.credentials(of: local)?.launchEnvironment["GITHUB_TOKEN"] == "ghp-local-secret")
        _ = try m.storage.setActive("renamed", false)
        _ = try m.storage.setActive("renamed", true)
        #expect(refusal(m, "renamed") == nil && refusal(m, "web") == nil)
        // Off works on a changed row and leaves it refused; on does not.
        try write(m, "UPDATE user_mcp_connections SET server_url = 'https://evil.example/mcp' WHERE name = 'web'")
        #expect(try m.storage.setActive("web", false).isActive == false)
        #expect(refusal(m, "web")?.status == .dataError)
        #expect(throws: MCPConnError.self) { try m.storage.setActive("web", true) }
        // An update that does not accept the change is refused too, before anything is written.
        #expect(throws: MCPConnError.self) { try m.storage.update("web", ConnectorInput(description: "x")) }
        #expect(try m.storage.get("web").description == nil)
    }

    @Test func aStoreFromBeforeSealsIsMigratedWithNoSecretLost() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        _ = try m.storage.add(ConnectorInput(name: "plain", serverURL: "https://p.example/mcp"))
        let key = try m.storage.keys.key(create: false)
        var before: [String: JSONObject] = [:]
        for c in try m.storage.list() {
            guard let creds = try m.storage.credentials(of: c) else { continue }
            before[c.name] = creds.fields
            try write(
                m, "UPDATE user_mcp_connections SET auth_config = ? WHERE id = ?",
                [.text(legacySeal(creds.fields.jsonBytes, key: key.bytes)), .int(c.id!)])
        }
        try write(m, "ALTER TABLE user_mcp_connections DROP COLUMN row_seal")
        try write(m, "DELETE FROM grdb_migrations WHERE identifier = 'v8 row seals'")
        try write(m, "DELETE FROM meta WHERE key = 'seal_format'")
        try m.store.write { db in try db.execute("PRAGMA user_version = 7", []) }
        // Opened again, as a new version would open it.
        let store = try await offPool { try Store(path: m.store.path) }
        let upgraded = ConnectorManager(store: store, userID: 1, keys: m.storage.keys)
        for c in try upgraded.storage.list() {
            #expect(try upgraded.storage.credentials(of: c)?.fields == before[c.name], "\(c.name)")
        }
        let raw = try store.read { db in try db.strings("SELECT auth_config FROM user_mcp_connections") }
        #expect(raw.compactMap { $0 }.count == 2 && raw.compactMap { $0 }.allSatisfy { $0.hasPrefix("v2:") })
        #expect(
            try store.read { db in try db.int("SELECT COUNT(*) FROM user_mcp_connections WHERE row_seal IS NULL") } == 0
        )
        // Once: a row planted afterwards is not sealed by a later first use.
        try write(
            upgraded,
            "INSERT INTO user_mcp_connections (user_id, name, server_url, created_at, updated_at) VALUES (1, 'late', 'https://x.example', '2026-01-01', '2026-01-01')"
        )
        let later = ConnectorManager(
            store: try await offPool { try Store(path: m.store.path) }, userID: 1, keys: m.storage.keys)
        #expect(refusal(later, "late")?.message.contains("not written by mcpconn") == true)
    }

    /// Seal format 2 (before the `tls` column): rows it sealed are sealed again in the current format once their
    /// format-2 seal checks; a row a writer changed before the upgrade stays refused.
    @Test func rowsSealedInFormat2AreCheckedThenSealedAgain() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        try sealEveryRow(m, as: Connector.Columns.sealedInFormat2, format: "2")
        // A writer changes a row sealed in format 2, before the first use of the new version.
        try write(m, "UPDATE user_mcp_connections SET command = '/bin/sh' WHERE name = 'local'")
        let upgraded = ConnectorManager(
            store: try await offPool { try Store(path: m.store.path) }, userID: 1, keys: m.storage.keys)
        #expect(
            try upgraded.storage.credentials(of: try upgraded.storage.get("web"))?.fields["api_key"] == "k-web-1234")
        #expect(refusal(upgraded, "local")?.status == .dataError)
        #expect(try upgraded.store.read { db in try SealMigration.format(db) } == SealMigration.current)
    }

    /// Seal format 3 (before `pinned`): its rows are checked, then sealed again in format 4; a row a writer marked
    /// pinned before the upgrade is not taken in (format 3 never wrote a pinned row) and stays refused.
    @Test func rowsSealedInFormat3AreCheckedThenSealedAgain() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        try sealEveryRow(m, as: Connector.Columns.sealedInFormat3, format: "3")
        try write(m, "UPDATE user_mcp_connections SET pinned = 1 WHERE name = 'local'")
        let upgraded = ConnectorManager(
            store: try await offPool { try Store(path: m.store.path) }, userID: 1, keys: m.storage.keys)
        #expect(
            try upgraded.storage.credentials(of: try upgraded.storage.get("web"))?.fields["api_key"] == "k-web-1234")
        #expect(refusal(upgraded, "local")?.status == .dataError)
        #expect(try upgraded.store.read { db in try SealMigration.format(db) } == "4")
        // Sealed in format 4 now: pinning it through mcpconn works, and a writer unpinning it is refused.
        var input = ConnectorInput()
        input.pinned = true
        #expect(try upgraded.storage.update("web", input).isPinned)
        try write(upgraded, "UPDATE user_mcp_connections SET pinned = 0 WHERE name = 'web'")
        #expect(refusal(upgraded, "web")?.message.contains("changed outside mcpconn (pinned)") == true)
    }

    /// Seal format 3 did not seal `tool_filter` either: a row a writer gave an allow-list before the upgrade is not
    /// taken in (format 3 never wrote one) and stays refused; the others are sealed again.
    @Test func aToolFilterWrittenIntoAFormat3RowIsNotTakenIn() async throws {
        let m = try await makeManager()
        try twoConnectors(m)
        try sealEveryRow(m, as: Connector.Columns.sealedInFormat3, format: "3")
        try write(m, #"UPDATE user_mcp_connections SET tool_filter = '{"allow":["*"],"deny":[]}' WHERE name = 'local'"#)
        let upgraded = ConnectorManager(
            store: try await offPool { try Store(path: m.store.path) }, userID: 1, keys: m.storage.keys)
        #expect(
            try upgraded.storage.credentials(of: try upgraded.storage.get("web"))?.fields["api_key"] == "k-web-1234")
        #expect(refusal(upgraded, "local")?.status == .dataError)
        #expect(Connector.Columns.sealedInFormat3.map(\.name).suffix(2) == ["env_names", "tls"])
    }

    /// Seals every row again as seal format `format` did, over `columns`, and says the store is in that format:
    /// a store an earlier version wrote.
    private func sealEveryRow(_ m: ConnectorManager, as columns: [ConnectorColumn], format: String) throws {
        let record = RecordSeal(key: try m.storage.keys.key(create: false))
        for c in try m.store.read({ db in try db.everyConnector(lock: false) }) {
            let fields = columns.map { RecordSeal.Field(name: $0.name, value: $0.value(c).sealBytes) }
            try write(
                m, "UPDATE user_mcp_connections SET row_seal = ? WHERE id = ?",
                [.text(record.seal(kind: Connector.table, id: c.id!, fields)), .int(c.id!)])
        }
        try write(m, "UPDATE meta SET value = '\(format)' WHERE key = 'seal_format'")
    }

    @Test func recordSealsNameEachChangedField() throws {
        let seal = RecordSeal(key: try EncryptionKey.parse(String(repeating: "ab", count: 32), source: "k"))
        let fields = [RecordSeal.Field(name: "a", value: Array("1".utf8)), RecordSeal.Field(name: "b", value: nil)]
        let s = seal.seal(kind: "t", id: 1, fields)
        #expect(seal.changedFields(s, kind: "t", id: 1, fields).isEmpty)
        #expect(seal.changedFields(s, kind: "t", id: 2, fields) == ["a", "b"])
        #expect(seal.changedFields(s, kind: "u", id: 1, fields) == ["a", "b"])
        var changed = fields
        changed[1].value = []  // NULL and empty differ
        #expect(seal.changedFields(s, kind: "t", id: 1, changed) == ["b"])
        #expect(seal.changedFields(nil, kind: "t", id: 1, fields) == ["a", "b"])
        #expect(seal.changedFields("s1:AAAA", kind: "t", id: 1, fields) == ["a", "b"])
    }
}
