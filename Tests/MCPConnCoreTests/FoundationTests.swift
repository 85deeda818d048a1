import Foundation
import GRDB
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

@Suite("JSON values")
struct JSONValueTests {
    @Test func roundTripsKeepingKeyOrderAndNumberSpelling() throws {
        let text = #"{"z":1,"a":[1.50,1e3,-0,true,null,"x"],"m":{"b":{},"a":[]}}"#
        let v = try JSONValue.parse(text)
        #expect(v.compactText() == text)
        #expect(v.objectValue?.keys == ["z", "a", "m"])
        #expect(try JSONValue.parse(v.prettyText()) == v)
    }

    /// The eight-bytes-at-a-time scan of strings agrees with a byte-by-byte look at every byte value in every lane,
    /// beside ordinary, high and zero bytes, and on random words.
    @Test func theWordScanOfStringsFindsEveryByteThatNeedsALook() {
        func reference(_ w: UInt64) -> Bool {
            (0..<8).contains { i in
                let b = UInt8(truncatingIfNeeded: w >> (8 * UInt64(i)))
                return b == 0x22 || b == 0x5C || b < 0x20
            }
        }
        for filler: UInt8 in [0x61, 0xFF, 0x80, 0x7F, 0x21, 0x5D] {
            for lane in 0..<8 {
                for b in 0...255 {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[lane] = UInt8(b)
                    let w = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    #expect(JSONParser.needsALook(w) == reference(w), "filler \(filler) lane \(lane) byte \(b)")
                }
            }
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let w = rng.next() as UInt64
            if JSONParser.needsALook(w) != reference(w) { Issue.record("word \(String(w, radix: 16))") }
        }
        // A quote, a backslash or a control character at each offset of a long string.
        for length in 0..<40 {
            for at in 0..<length {
                var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                text[at] = UInt8(ascii: "\\")
                text.insert(UInt8(ascii: "n"), at: at + 1)
                let escaped = String(decoding: [UInt8(ascii: "\"")] + text + [UInt8(ascii: "\"")], as: UTF8.self)
                #expect((try? JSONValue.parse(escaped))?.stringValue.map { Array($0.utf8).firstIndex(of: 0x0A) } == at)
                text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                text[at] = 0x01
                #expect((try? JSONValue.parse(String(decoding: [0x22] + text + [0x22], as: UTF8.self))) == nil)
                text[at] = 0x22
                #expect((try? JSONValue.parse(String(decoding: [0x22] + text + [0x22], as: UTF8.self))) == nil)
            }
        }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let v = try JSONValue.parse(#""tab\t nl\n quote\" slash\/ \u00e9 \uD83D\uDE00 lone \uD800!""#)
        #expect(v.stringValue == "tab\t nl\n quote\" slash/ é 😀 lone \u{FFFD}!")
        #expect(JSONValue.string("a\u{1}\"\\\n").compactText() == #""a\u0001\"\\\n""#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "tru", "\"open", "01", "1.", "-", "[1] 2", "{\"a\":1,}", "\"\u{1}\"",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func deepNestingFailsInsteadOfCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect((try? JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))) != nil)
    }
}

@Suite("Credential encryption")
struct CryptoTests {
    let hexKey = String(repeating: "0f", count: 32)

    @Test func parsesTheThreeKeyForms() throws {
        let a = try EncryptionKey.parse(hexKey, source: "k")
        let b = try EncryptionKey.parse(Data(repeating: 0x0f, count: 32).base64EncodedString(), source: "k")
        #expect(a.bytes == b.bytes)
        let c = try EncryptionKey.parse("0123456789abcdef0123456789ABCDE!", source: "k")
        #expect(c.bytes == Array("0123456789abcdef0123456789ABCDE!".utf8))
        for bad in ["short", String(repeating: "zz", count: 32), Data(count: 16).base64EncodedString()] {
            do {
                _ = try EncryptionKey.parse(bad, source: "TOKEN_ENCRYPTION_KEY")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.status == .configuration)
                #expect(error.message.contains("TOKEN_ENCRYPTION_KEY"))
            }
        }
    }

    @Test func sealsWithFreshNoncesAndOpensOnlyWithTheKeyForItsBinding() throws {
        let box = CredentialBox(key: try EncryptionKey.parse(hexKey, source: "k"))
        let plain = Array("the secret".utf8)
        let binding = CredentialBinding(userID: 1, recordID: 7, purpose: "origin https://a.example")
        let one = box.seal(plain, binding: binding)
        let two = box.seal(plain, binding: binding)
        #expect(one.hasPrefix("v2:") && one != two)
        #expect(box.open(one, binding: binding) == plain)
        let other = CredentialBox(key: try EncryptionKey.parse(String(repeating: "1f", count: 32), source: "k"))
        #expect(other.open(one, binding: binding) == nil)
        // Bound to the user, the row and the purpose: any of them different, nothing opens.
        for moved in [
            CredentialBinding(userID: 2, recordID: 7, purpose: binding.purpose),
            CredentialBinding(userID: 1, recordID: 8, purpose: binding.purpose),
            CredentialBinding(userID: 1, recordID: 7, purpose: "origin https://evil.example"),
        ] {
            #expect(box.open(one, binding: moved) == nil, "\(moved)")
        }
        var raw = Array(Data(base64Encoded: String(one.dropFirst(3)))!)
        raw[raw.count - 1] ^= 0x01
        #expect(box.open("v2:" + Data(raw).base64EncodedString(), binding: binding) == nil)
        #expect(box.open("v1:" + one.dropFirst(3), binding: binding) == nil)
        #expect(box.open("v2:!!!", binding: binding) == nil)
        #expect(box.open("v2:AAAA", binding: binding) == nil)
    }

    @Test func fingerprintsTellKeysApartWithoutRevealingThem() throws {
        let a = try EncryptionKey.parse(hexKey, source: "k")
        let b = try EncryptionKey.parse(String(repeating: "1f", count: 32), source: "k")
        #expect(a.fingerprint == (try EncryptionKey.parse(hexKey, source: "k")).fingerprint)
        #expect(a.fingerprint != b.fingerprint)
        #expect(!a.fingerprint.contains("0f0f0f"))
        #expect(a.fingerprint.count == 32)
    }

    @Test func keyFileIsCreatedPrivateOnceAndReused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-key-\(UUID().uuidString)")
        let notices = Lines()
        let env = ["XDG_CONFIG_HOME": dir.path, "HOME": dir.path]
        let p1 = KeyProvider(environment: env, notice: { notices.append($0) })
        do {
            _ = try p1.key(create: false)
            Issue.record("a missing key must be an error when not creating")
        } catch { #expect(error.status == .configuration) }
        let k1 = try p1.key(create: true)
        let path = dir.appendingPathComponent("mcpconn/key").path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(notices.joined.contains(path))
        let p2 = KeyProvider(environment: env, notice: { notices.append("second: " + $0) })
        #expect(try p2.key(create: true).fingerprint == k1.fingerprint)
        #expect(!notices.joined.contains("second"))
        let fromEnv = KeyProvider(environment: env.merging(["TOKEN_ENCRYPTION_KEY": hexKey]) { $1 })
        #expect(try fromEnv.key(create: true).bytes == Array(repeating: 0x0f, count: 32))
    }
}

@Suite("Store and connector management")
struct StoreTests {
    @Test func createsAPrivateWALDatabaseWithTheSchema() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mcpconn-store-\(UUID().uuidString)/nested")
        let path = dir.appendingPathComponent("x.db").path
        let store = try Store(path: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try store.read { db in try db.string("PRAGMA journal_mode") } == "wal")
        let tables = try store.read { db in try db.strings("SELECT name FROM sqlite_master WHERE type = 'table'") }
            .compactMap { $0 }
        #expect(tables.contains("user_mcp_connections") && tables.contains("meta"))
        #expect(try store.integrityCheck() == "ok")
        _ = try Store(path: path)  // reopening runs no migration twice
    }

    @Test func crudIsScopedToTheUser() async throws {
        let m = try await makeManager()
        let other = ConnectorManager(store: m.store, userID: 2, keys: m.storage.keys)
        let a = try m.storage.add(
            ConnectorInput(name: "notion", serverURL: "https://mcp.notion.com/mcp", description: "docs"))
        #expect(a.connectorType == "notion")
        #expect(try m.storage.get("notion").id == a.id)
        #expect(try m.storage.get(String(a.id!)).name == "notion")
        for op in [
            { _ = try other.storage.get("notion") }, { _ = try other.storage.get(String(a.id!)) },
            { _ = try other.storage.delete("notion") }, { _ = try other.storage.setActive("notion", false) },
            { _ = try other.storage.update("notion", ConnectorInput(description: "x")) },
        ] as [() throws -> Void] {
            do {
                try op()
                Issue.record("user 2 reached user 1's connector")
            } catch let e as MCPConnError { #expect(e.status == .notFound) }
        }
        _ = try other.storage.add(ConnectorInput(name: "notion", serverURL: "https://mcp.notion.com/mcp"))
        do {
            _ = try m.storage.add(ConnectorInput(name: "notion", serverURL: "https://x.example/mcp"))
            Issue.record("duplicate name accepted")
        } catch { #expect(error.status == .dataError) }
        #expect(try m.storage.list().count == 1 && other.storage.list().count == 1)
        _ = try m.storage.add(ConnectorInput(name: "team chat", serverURL: "https://mcp.slack.com/mcp"))
        #expect(try m.storage.list(type: "slack").map(\.name) == ["team chat"])
        _ = try m.storage.setActive("team chat", false)
        #expect(try m.storage.list(active: true).map(\.name) == ["notion"])
        #expect(try m.storage.list(active: false).map(\.name) == ["team chat"])
        #expect(try m.storage.setActive("team chat", nil).isActive)
        #expect(try m.storage.delete("notion").name == "notion")
        #expect(try m.storage.list().map(\.name) == ["team chat"])
    }

    @Test func printableASCIICheckAgreesWithTheBytewiseOneAtEveryLengthAndOffset() {
        // The word-at-a-time check against the plain one, with the edge bytes in every position.
        let edges: [UInt8] = [0x00, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        var rng = SystemRandomNumberGenerator()
        for length in 0..<40 {
            for _ in 0..<200 {
                let bytes = (0..<length).map { _ in
                    Bool.random(using: &rng)
                        ? UInt8.random(in: 0x20...0x7E, using: &rng) : edges.randomElement(using: &rng)!
                }
                bytes.withUnsafeBufferPointer { b in
                    #expect(ConnectorListing.isPrintableASCII(b) == b.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
                }
            }
        }
    }

    @Test func listingMatchesTheConnectorsAndEscapesWhatItMust() async throws {
        let m = try await makeManager()
        func listing(_ format: ConnectorListing.Format, type: String? = nil) throws -> String {
            var out: [UInt8] = []
            try m.storage.listing(type: type, format: format) { out.append(contentsOf: $0) }
            return String(decoding: out, as: UTF8.self)
        }
        #expect(try listing(.table) == "")
        #expect(try listing(.json) == "[]\n")
        _ = try m.storage.add(
            ConnectorInput(name: "notion", serverURL: "https://mcp.notion.com/mcp", description: "say \"hi\"\n\tnow"))
        _ = try m.storage.add(ConnectorInput(name: "équipe chat", serverURL: "https://mcp.slack.com/mcp"))
        _ = try m.storage.setActive("équipe chat", false)
        // Many rows: the output comes in several chunks and every row is there once, in id order.
        for i in 0..<3000 {
            _ = try m.storage.add(ConnectorInput(name: "c\(i)", serverURL: "https://x.example/\(i)/mcp"))
        }
        let table = try listing(.table).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(table.count == 1 + 3002 + 1 && table.last == "")
        #expect(table[0].hasPrefix("ID    NAME         TYPE     AUTH  ACTIVE  VERIFIED  TOOLS  URL"))
        #expect(table[2] == "2     équipe chat  slack    none  no      no        0      https://mcp.slack.com/mcp")
        #expect(table.dropLast().allSatisfy { !$0.hasSuffix(" ") })
        // The JSON listing is the connectors' own JSON, whatever the characters.
        let parsed = try JSONValue.parse(listing(.json))
        #expect(parsed == .array(try m.storage.list().map { $0.json() }))
        #expect(try listing(.json, type: "slack").contains("\"name\": \"équipe chat\""))
        #expect(try listing(.table, type: "nothing") == "")
    }

    @Test func validatesInput() async throws {
        let m = try await makeManager()
        let bad: [(ConnectorInput, MCPConnCore.ExitStatus)] = [
            (ConnectorInput(name: "123", serverURL: "https://a.example/mcp"), .usage),
            (ConnectorInput(name: " ", serverURL: "https://a.example/mcp"), .usage),
            (ConnectorInput(name: "a", serverURL: "ftp://a.example/mcp"), .usage),
            (ConnectorInput(name: "a", serverURL: "https:///mcp"), .usage),
            (ConnectorInput(name: "a", serverURL: "not a url"), .usage),
            (ConnectorInput(name: "a", serverURL: "https://user:pw@a.example/mcp"), .usage),
            (ConnectorInput(name: "a", serverURL: "https://a.example/mcp", authType: .apiKey), .usage),
            (ConnectorInput(name: "a", serverURL: "https://a.example/mcp", authType: .none, secret: "s"), .usage),
            (ConnectorInput(name: "a", serverURL: "https://a.example/mcp", type: "myspace"), .usage),
            (
                ConnectorInput(
                    name: "a", serverURL: "https://a.example/mcp", authType: .apiKey, keyHeader: "Bad Header",
                    secret: "s"), .usage
            ),
            (
                ConnectorInput(name: "a", serverURL: "https://a.example/mcp", authType: .apiKey, secret: "  \n"),
                .dataError
            ),
        ]
        for (input, status) in bad {
            do {
                _ = try m.storage.add(input)
                Issue.record("accepted \(input)")
            } catch {
                #expect(error.status == status, "\(input): \(error)")
                #expect(!error.message.contains("pw@"))
            }
        }
        #expect(try m.storage.list().isEmpty)
    }

    @Test func credentialsAreSealedAndTiedToOneKey() async throws {
        let m = try await makeManager()
        let secret = "sk-live-0123456789-secret"
        let c = try m.storage.add(
            ConnectorInput(
                name: "k", serverURL: "https://a.example/mcp", authType: .apiKey, keyHeader: "X-Key", secret: secret))
        #expect(c.authConfig?.hasPrefix("v2:") == true && c.rowSeal?.hasPrefix("s1:") == true)
        let creds = try #require(try m.storage.credentials(of: c))
        #expect(creds.header(for: .apiKey)?.name == "X-Key")
        #expect(creds.header(for: .apiKey)?.value == secret)
        for suffix in ["", "-wal"] {
            if let raw = FileManager.default.contents(atPath: m.store.path + suffix) {
                #expect(raw.range(of: Data(secret.utf8)) == nil)
            }
        }
        // Another key: reading fails, and writing a second secret fails before anything is written.
        let wrong = ConnectorManager(
            store: m.store, userID: 1,
            keys: KeyProvider(environment: ["TOKEN_ENCRYPTION_KEY": String(repeating: "cd", count: 32)]))
        do {
            _ = try wrong.storage.credentials(of: c)
            Issue.record("decrypted with the wrong key")
        } catch { #expect(error.status == .configuration) }
        do {
            _ = try wrong.storage.add(
                ConnectorInput(name: "k2", serverURL: "https://b.example/mcp", authType: .oauth, secret: "tok"))
            Issue.record("mixed keys in one store")
        } catch { #expect(error.status == .configuration) }
        #expect(try m.storage.list().count == 1)
        // Without secrets left, a new key may take over.
        _ = try m.storage.delete("k")
        _ = try wrong.storage.add(
            ConnectorInput(name: "k3", serverURL: "https://b.example/mcp", authType: .oauth, secret: "tok"))
        #expect(try wrong.storage.credentials(of: wrong.storage.get("k3"))?.header(for: .oauth)?.value == "Bearer tok")
    }

    @Test func tamperedCredentialsAreAClearError() async throws {
        let m = try await makeManager()
        let c = try m.storage.add(
            ConnectorInput(name: "t", serverURL: "https://a.example/mcp", authType: .oauth, secret: "tok"))
        try m.store.write { db in
            try db.execute(
                "UPDATE user_mcp_connections SET auth_config = 'v2:' || substr(auth_config, 5) || 'AA' WHERE id = ?",
                [.int(c.id!)])
        }
        do {
            _ = try m.storage.credentials(of: try m.storage.get("t"))
            Issue.record("tampering went unnoticed")
        } catch {
            #expect(error.status == .dataError)
            #expect(error.message.contains("'t' was changed outside mcpconn (auth_config)"), "\(error.message)")
        }
    }

    @Test func updateChangesOnlyWhatIsGiven() async throws {
        let m = try await makeManager()
        _ = try m.storage.add(
            ConnectorInput(
                name: "u", serverURL: "https://a.example/mcp", description: "d", authType: .apiKey, secret: "s1"))
        try m.store.write { db in try db.execute("UPDATE user_mcp_connections SET is_verified = 1", []) }
        var c = try m.storage.update("u", ConnectorInput(keyHeader: "X-Other"))
        #expect(try m.storage.credentials(of: c)?.header(for: .apiKey)?.name == "X-Other")
        #expect(try m.storage.credentials(of: c)?.header(for: .apiKey)?.value == "s1")
        #expect(c.isVerified && c.description == "d")
        c = try m.storage.update("u", ConnectorInput(serverURL: "https://b.example/mcp"))
        #expect(!c.isVerified)
        c = try m.storage.update("u", ConnectorInput(name: "renamed", description: ""))
        #expect(c.name == "renamed" && c.description == nil)
        c = try m.storage.update("renamed", ConnectorInput(authType: AuthType.none))
        #expect(c.authConfig == nil && c.authType == .none)
    }
}

@Suite("Registry")
struct RegistryTests {
    @Test(arguments: [
        ("https://mcp.notion.com/mcp", "x", "notion"),
        ("https://mcp.slack.com/mcp", "x", "slack"),
        ("https://api.airtable.com/v0/mcp", "x", "airtable"),
        ("https://api.githubcopilot.com/mcp/", "x", "github"),
        ("https://mcp.linear.app/sse", "x", "linear"),
        ("https://notion-mcp.example.com/mcp", "x", "notion"),
        ("https://example.com/slack/mcp", "x", "slack"),
        ("https://example.com/mcp", "Team Airtable", "airtable"),
        ("https://mcp.notion.com/mcp", "slack stuff", "notion"),
        ("https://example.com/mcp", "my server", "generic"),
        ("https://tools.example.com/jira/mcp", "x", "atlassian"),
    ])
    func detects(url: String, name: String, type: String) {
        #expect(Registry.detect(url: url, name: name).id == type)
    }

    @Test func parsesTypesCaseInsensitivelyAndRejectsUnknownOnes() throws {
        #expect(try Registry.parseType("Notion").id == "notion")
        do {
            _ = try Registry.parseType("myspace")
            Issue.record("accepted an unknown type")
        } catch { #expect(error.status == .usage) }
    }

    @Test func tablesAlignWithoutTrailingSpaces() {
        var t = TextTable(header: ["ID", "NAME", "URL"])
        t.append(["1", "a", "https://x"])
        t.append(["22", "longer name", ""])
        let lines = t.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") })
        #expect(lines[0] == "ID  NAME         URL")
        #expect(lines[1] == "1   a            https://x")
    }
}

@Suite("Schema")
struct SchemaTests {
    @Test func theVersionCountsTheMigrations() async throws {
        #expect(Schema.migrator.migrations.count == Schema.version)
        let m = try await makeManager()
        #expect(try m.store.read { db in try db.int("PRAGMA user_version") } == Int64(Schema.version))
    }

    /// A store written before local servers existed (schema v5) opens, gains the launch columns, and its
    /// connectors read as HTTP ones.
    @Test func aVersion5StoreMigratesAndKeepsItsConnectors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("v5-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v5 oauth token state")
        try old.write { db in
            try db.execute(sql: "PRAGMA user_version = 5")
            try db.execute(
                sql: """
                    INSERT INTO user_mcp_connections (user_id, name, server_url, connector_type, auth_type, is_active,
                    is_verified, tool_count, created_at, updated_at, transport)
                    VALUES (1, 'old', 'https://a.example/mcp', 'generic', 'none', 1, 1, 2, '2026-11-01 10:00:00.000',
                    '2026-11-01 10:00:00.000', 'streamable-http')
                    """)
        }
        try old.close()
        let m = ConnectorManager(
            store: try Store(path: path), userID: 1, keys: KeyProvider(environment: [:], notice: { _ in }))
        let c = try m.storage.get("old")
        #expect(!c.isStdio && c.command == nil && c.serverURL == "https://a.example/mcp" && c.toolCount == 2)
        #expect(c.json()["args"] == .null && c.json()["transport"] == "streamable-http")
        #expect(try m.store.read { db in try db.int("PRAGMA user_version") } == Int64(Schema.version))
        #expect(
            try m.store.read { db in try db.strings("SELECT name FROM pragma_table_info('user_mcp_connections')") }
                .contains("env_names"))
    }

    /// A store of schema 9 gains the columns of prompts, resources and templates; a row verified before has
    /// none stored, so its first discovery is no drift of them (there is nothing to compare against), while a
    /// row never verified compares against empty lists as tools do.
    @Test func aVersion9StoreGainsTheSurfaceColumnsWithoutDrift() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("v9-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v9 tls settings")
        try old.write { db in
            try db.execute(sql: "PRAGMA user_version = 9")
            try db.execute(
                sql: """
                    INSERT INTO user_mcp_connections (user_id, name, server_url, connector_type, auth_type, is_active,
                    is_verified, discovered_tools, tool_count, created_at, updated_at)
                    VALUES (1, 'old', 'https://a.example/mcp', 'generic', 'none', 1, 1, '[{"name": "echo"}]', 1,
                    '2026-11-01 10:00:00.000', '2026-11-01 10:00:00.000')
                    """)
        }
        try old.close()
        let m = ConnectorManager(
            store: try Store(path: path), userID: 1, keys: KeyProvider(environment: [:], notice: { _ in }))
        let c = try m.storage.get("old")
        #expect(c.tools.count == 1 && c.storedText(.prompts) == nil && c.stored(.templates).isEmpty)
        let found = DiscoveredSurface(tools: [["name": "echo"]], prompts: [["name": "greet"]])
        #expect(SurfaceDiff.between(old: c.storedLists, new: found).isEmpty)
        var never = c
        never.discoveredTools = nil
        #expect(
            SurfaceDiff.between(old: never.storedLists, new: found)
                == SurfaceDiff(
                    tools: ListDiff(added: ["echo"]), prompts: ListDiff(added: ["greet"])))
        #expect(
            try m.store.read { db in try db.strings("SELECT name FROM pragma_table_info('user_mcp_connections')") }
                .contains("discovered_resource_templates"))
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        "2026-11-24 21:10:44.123", "2000-02-29 00:00:00.000", "1969-12-31 23:59:59.999", "2024-12-31 23:59:59",
        "1900-03-01 12:00:00.5",
    ])
    func parsesStoredDatesLikeGRDB(text: String) throws {
        let mine = try #require(Timestamp.parse(text))
        let grdb = try #require(Date.fromDatabaseValue(text.databaseValue))
        // PostgreSQL's timestamptz text in a UTC session: the same with `+00`.
        #expect(Timestamp.parse(text + "+00") == mine)
        #expect(abs(mine.timeIntervalSince1970 - grdb.timeIntervalSince1970) < 0.0005)
    }

    @Test func onlyTheStorageShapeIsReadByPosition() {
        func shaped(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer(Timestamp.hasStorageShape) }
        #expect(shaped("2026-11-24 21:10:44") && shaped("2026-11-24T21:10:44.5") && shaped("2026-11-24 21:10:44.123"))
        #expect(!shaped("2026-11-24 21:10:4") && !shaped("2026-1X-24 21:10:44") && !shaped("2026-11-24 21:10:44Z"))
        #expect(
            !shaped("2026-11-24 21:10:44.12+01:00") && !shaped("2026/11/24 21:10:44") && !shaped("2026-11-24_21:10:44"))
        // Another zone suffix is GRDB's to read, not dropped: 12:00 at +02:00 is 10:00 UTC.
        #expect(Timestamp.parse("2026-11-24 12:00:00.000+02:00") == nil)
        #expect(Timestamp.parse("2026-11-24 12:00:00.000+01") == nil)
        let zoned = Timestamp.parseAnyShape("2026-11-24 12:00:00.000+02:00")
        #expect(zoned == Date.fromDatabaseValue("2026-11-24 12:00:00.000+02:00".databaseValue))
    }

    @Test(arguments: [0, 1_795_000_000.9999, 1_795_000_000.1234, -1.5, 951_782_400, 4_102_444_799.999])
    func writesDatesAsGRDBStoresThem(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Timestamp.storage(date) == String.fromDatabaseValue(date.databaseValue))
    }

    @Test func formatsISO8601UTC() {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 1_795_000_000.9)) == "2026-11-18T11:06:40Z")
        #expect(Timestamp.parse("not a date") == nil)
        #expect(Timestamp.parseAnyShape("not a date") == Date(timeIntervalSince1970: 0))
    }
}
