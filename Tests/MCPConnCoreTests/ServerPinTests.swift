import Foundation
import MCPConnTestSupport
import Testing

@testable import MCPConnCore

/// A server certificate's key as curl pins it, and where a server stands against its pin (issue 25).
@Suite("Server pins: certificate key and check", .timeLimit(.minutes(2)))
struct ServerKeyTests {
    /// The key of the fixture's server certificate is the one `openssl pkey -pubout | sha256 | base64` gives.
    @Test func theKeyOfACertificateIsCurlsPinOfItsPublicKey() async throws {
        let f = try await TLSFixture.shared()
        for (cert, pin) in [(f.serverCert, f.serverKeyPin), (f.otherCAFile, f.otherKeyPin)] {
            let pem = try String(contentsOfFile: cert, encoding: .utf8)
            #expect(ServerKey.pin(certificatePEM: pem) == "sha256//" + pin)
        }
        let other = try String(contentsOfFile: f.selfSignedCert, encoding: .utf8)
        #expect(ServerKey.pin(certificatePEM: other) != "sha256//" + f.serverKeyPin)
    }

    /// Server text that is no certificate gives no key: not PEM, PEM of garbage, a certificate cut short, one
    /// whose first field is no SEQUENCE.
    @Test func textThatIsNoCertificateGivesNoKey() async throws {
        let f = try await TLSFixture.shared()
        let pem = try String(contentsOfFile: f.serverCert, encoding: .utf8)
        let der = try #require(ServerKey.der(pem))
        func wrapped(_ bytes: [UInt8]) -> String {
            "-----BEGIN CERTIFICATE-----\n\(Data(bytes).base64EncodedString())\n-----END CERTIFICATE-----\n"
        }
        #expect(ServerKey.pin(certificatePEM: "not a certificate") == nil)
        #expect(ServerKey.pin(certificatePEM: wrapped(Array("garbage".utf8))) == nil)
        #expect(ServerKey.pin(certificatePEM: wrapped(Array(der.prefix(der.count / 2)))) == nil)
        #expect(ServerKey.pin(certificatePEM: wrapped([0x30, 0x03, 0x02, 0x01, 0x00])) == nil)
        #expect(ServerKey.pin(certificatePEM: wrapped(der)) != nil)
        // Every prefix of a real certificate is refused (the walk stays inside the bytes it has), and bytes
        // after it change nothing.
        #expect((0..<der.count).allSatisfy { CertificateDER.subjectPublicKeyInfo(Array(der[..<$0])) == nil })
        #expect(
            CertificateDER.subjectPublicKeyInfo(der + [0x30, 0x84, 0xFF]) == CertificateDER.subjectPublicKeyInfo(der))
        // An indefinite length (BER, not DER) and a length past the input are refused.
        #expect(CertificateDER.element([0x30, 0x80, 0x00, 0x00], at: 0, within: 4) == nil)
        #expect(CertificateDER.element([0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x00], at: 0, within: 7) == nil)
    }

    @Test func aServerIsApprovedChangedInWhatItChangedOrNew() {
        let approved = ServerForm(name: "ref", version: "1.0", key: "sha256//A")
        let pin = ServerPin(form: approved, approvedBy: "ann", approvedByUser: 1, approvedAt: Date())
        #expect(ServerPinCheck.check(current: approved, pin: pin)?.status == .approved)
        let rotated = ServerPinCheck.check(current: ServerForm(name: "ref", version: "1.0", key: "sha256//B"), pin: pin)
        #expect(rotated?.status == .changed && rotated?.changed == ["key"] && rotated?.statusText == "changed (key)")
        let all = ServerPinCheck.check(current: ServerForm(name: "evil", version: nil, key: nil), pin: pin)
        #expect(all?.changed == ["name", "version", "key"])
        #expect(ServerPinCheck.check(current: approved, pin: nil)?.status == .new)
        #expect(ServerPinCheck.check(current: nil, pin: nil) == nil)
        // The form's text is fixed: sorted keys, absent fields null.
        #expect(
            ServerForm(name: "ref", version: nil, key: nil).pinned.text == #"{"key":null,"name":"ref","version":null}"#)
    }
}

/// Server pins in the store, on SQLite and on PostgreSQL: approve --server, the report, a pin written outside
/// mcpconn, the connector's deletion, the migration from schema 12.
@Suite("Server pins: in the store", .timeLimit(.minutes(2)))
struct ServerPinStoreTests {
    /// What a verify would have learnt of the server.
    private static func learnt(_ m: ConnectorManager, _ c: Connector, name: String?, version: String?, key: String?)
        throws
    {
        typealias C = Connector.Columns
        try m.store.write { db in
            try db.update(
                id: c.id!, userID: 1,
                [
                    (C.protocolVersion, .text("2025-06-18")), (C.protocolEra, .text("handshake")),
                    (C.serverName, name.sqlValue), (C.serverVersion, version.sqlValue), (C.serverKey, key.sqlValue),
                    (C.lastVerifiedAt, .date(Date())),
                ])
        }
    }

    @Test(arguments: ["sqlite", "postgres"])
    func approveServerPinsTheIdentityAndPinsReportsWhatChanged(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let (pinned, report, rotated, renamed, check) = try await offPool {
            let c = try m.storage.add(ConnectorInput(name: "web", serverURL: "https://a.example/mcp"))
            try Self.learnt(m, c, name: "ref", version: "1.0", key: "sha256//A")
            let approved = try m.storage.approve("web", names: [], all: false, server: true, by: "ann")
            let report = try m.storage.pins("web")
            try Self.learnt(m, c, name: "ref", version: "1.0", key: "sha256//B")
            let rotated = try m.storage.pins("web").server
            try Self.learnt(m, c, name: "evil", version: "2.0", key: "sha256//A")
            return (approved, report, rotated, try m.storage.pins("web").server, try m.storage.serverPinCheck("web"))
        }
        #expect(pinned.pins.isEmpty && pinned.server?.form == ServerForm(name: "ref", version: "1.0", key: "sha256//A"))
        #expect(report.server?.status == .approved && report.server?.pin == pinned.server, "\(report)")
        #expect(report.changedOutside.isEmpty && report.checks.isEmpty)
        #expect(rotated?.status == .changed && rotated?.changed == ["key"])
        #expect(renamed?.changed == ["name", "version"] && renamed?.pin?.approvedBy == "ann")
        #expect(check == renamed)
    }

    @Test(arguments: ["sqlite", "postgres"])
    func neverVerifiedOrKeylessHTTPSServersAreRefused(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let c = try await offPool { try m.storage.add(ConnectorInput(name: "web", serverURL: "https://a.example/mcp")) }
        let never = await PinStoreTests.failure {
            _ = try m.storage.approve("web", names: [], all: false, server: true, by: "ann")
        }
        #expect(never?.status == .dataError && never?.message.contains("was never verified") == true, "\(never!)")
        #expect(try await offPool { try m.storage.pins("web").server } == nil)
        try await offPool { try Self.learnt(m, c, name: "ref", version: "1.0", key: nil) }
        let keyless = await PinStoreTests.failure {
            _ = try m.storage.approve("web", names: [], all: false, server: true, by: "a")
        }
        #expect(keyless?.status == .dataError && keyless?.message.contains("certificate key was never learnt") == true)
        #expect(try await offPool { try m.storage.pins("web").server?.status } == .new)
        // Over plain HTTP there is no key to pin.
        let plain = try await offPool {
            let p = try m.storage.add(ConnectorInput(name: "plain", serverURL: "http://127.0.0.1:9/mcp"))
            try Self.learnt(m, p, name: "ref", version: nil, key: nil)
            return try m.storage.approve("plain", names: [], all: false, server: true, by: "ann").server
        }
        #expect(plain?.form == ServerForm(name: "ref", version: nil, key: nil))
    }

    /// A writer without the key can neither plant a server pin (a seal lifted from another connector's) nor
    /// change one: it counts as none, and `pins` names it. Approving again seals it anew; deleting the
    /// connector deletes it.
    @Test(arguments: ["sqlite", "postgres"])
    func aServerPinWrittenOutsideMcpconnCountsAsNone(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let (planted, rewritten, again, left) = try await offPool {
            let a = try m.storage.add(ConnectorInput(name: "a", serverURL: "https://a.example/mcp"))
            let b = try m.storage.add(ConnectorInput(name: "b", serverURL: "https://b.example/mcp"))
            try Self.learnt(m, a, name: "ref", version: "1.0", key: "sha256//A")
            try Self.learnt(m, b, name: "ref", version: "1.0", key: "sha256//A")
            _ = try m.storage.approve("a", names: [], all: false, server: true, by: "ann")
            try m.store.write { db in
                try db.execute(
                    """
                    INSERT INTO server_pins (connector_id, hash, form, approved_by, approved_by_user, approved_at, \
                    seal) SELECT ?, hash, form, approved_by, approved_by_user, approved_at, seal FROM server_pins
                    """, [.int(b.id!)])
            }
            let planted = try m.storage.pins("b")
            try m.store.write { db in
                try db.execute("UPDATE server_pins SET approved_by = 'root' WHERE connector_id = ?", [.int(a.id!)])
            }
            let rewritten = try m.storage.pins("a")
            _ = try m.storage.approve("a", names: [], all: false, server: true, by: "ann")
            let again = try m.storage.pins("a")
            _ = try m.storage.delete("a")
            _ = try m.storage.delete("b")
            return (
                planted, rewritten, again, try m.store.read { db in try db.int("SELECT COUNT(*) FROM server_pins") }
            )
        }
        #expect(planted.changedOutside == ["server"] && planted.server?.status == .new)
        #expect(rewritten.changedOutside == ["server"] && rewritten.server?.status == .new)
        #expect(again.changedOutside.isEmpty && again.server?.status == .approved)
        #expect(left == 0)
    }

    /// A store of schema 12 gains `server_key` and `server_pins` when opened, on both backends.
    @Test(arguments: ["sqlite", "postgres"])
    func aStoreOfSchema12GainsTheServerKeyAndPins(backend: String) async throws {
        let m = try await PinStoreTests.manager(backend)
        let (before, after) = try await offPool {
            _ = try m.storage.add(ConnectorInput(name: "web", serverURL: "https://a.example/mcp"))
            try m.store.write { db in
                try db.execute("DROP TABLE server_pins", [])
                try db.execute("ALTER TABLE user_mcp_connections DROP COLUMN server_key", [])
                try db.execute("DELETE FROM grdb_migrations WHERE identifier = 'v13 server key'", [])
                if db.dialect == .sqlite { try db.execute("PRAGMA user_version = 12", []) }
            }
            let before = try m.store.read { db in
                try db.int("SELECT COUNT(*) FROM grdb_migrations WHERE identifier = 'v13 server key'")
            }
            let reopened = try Store.open(m.store.path)
            let again = ConnectorManager(store: reopened, userID: 1, keys: m.storage.keys)
            let c = try again.storage.get("web")
            try Self.learnt(again, c, name: "ref", version: "1.0", key: "sha256//A")
            return (before, try again.storage.approve("web", names: [], all: false, server: true, by: "ann").server)
        }
        #expect(before == 0 && after?.form.key == "sha256//A")
    }
}
