import Foundation

/// The `tool_pins` table (schema v11): one row per approved item of a connector, sealed under the store key like
/// the connector's row, so that a writer of the store without the key cannot approve anything (docs/security.md).
enum PinTable {
    static let name = "tool_pins"
    /// The pin's columns after its connector, in the order of its seal.
    static let columns = ["kind", "name", "hash", "form", "approved_by", "approved_by_user", "approved_at"]

    /// A pin's sealed fields: every column, the date as stored (milliseconds), so what is read back checks.
    static func fields(_ pin: Pin) -> [RecordSeal.Field] {
        let values: [String] = [
            pin.kind.rawValue, pin.name, pin.form.hash, pin.form.text, pin.approvedBy, String(pin.approvedByUser),
            Timestamp.storage(pin.approvedAt),
        ]
        return zip(columns, values).map { RecordSeal.Field(name: $0, value: Array($1.utf8)) }
    }
}

/// A connector's pins as read: those whose seal checks, and the names (`tool echo`) of those changed outside
/// mcpconn, which count as no approval.
struct StoredPins {
    var intact: [Pin] = []
    var changedOutside: [String] = []
}

extension StoreSession {
    /// The pins of connector `id`, each checked against its seal.
    func pins(connectorID id: Int64, _ seal: RecordSeal) throws -> StoredPins {
        var out = StoredPins()
        try query(
            "SELECT \(PinTable.columns.joined(separator: ", ")), seal FROM \(PinTable.name) WHERE connector_id = ? ORDER BY kind, name",
            [.int(id)]
        ) { c in
            let kind = c.text(0).flatMap(SurfaceKind.init(rawValue:))
            let name = c.text(1) ?? ""
            let pin = Pin(
                kind: kind ?? .tools, name: name, form: PinnedForm(text: c.text(3) ?? ""),
                approvedBy: c.text(4) ?? "", approvedByUser: c.int64(5), approvedAt: c.date(6) ?? .distantPast)
            // The stored hash must be the one sealed, and the form's own: both are checked.
            let stored = Pin(
                kind: pin.kind, name: name, form: PinnedForm(text: pin.form.text, hash: c.text(2) ?? ""),
                approvedBy: pin.approvedBy, approvedByUser: pin.approvedByUser, approvedAt: pin.approvedAt)
            let changed = seal.changedFields(c.text(7), kind: PinTable.name, id: id, PinTable.fields(stored))
            if kind != nil, changed.isEmpty, stored.form.hash == pin.form.hash {
                out.intact.append(pin)
            } else {
                out.changedOutside.append("\((kind ?? .tools).singular) \(name)")
            }
        }
        return out
    }

    /// Records `pin` for connector `id`, replacing an earlier approval of the same item.
    func savePin(_ pin: Pin, connectorID id: Int64, _ seal: RecordSeal) throws {
        let values: [SQLValue] = [
            .text(pin.kind.rawValue), .text(pin.name), .text(pin.form.hash), .text(pin.form.text),
            .text(pin.approvedBy), .int(pin.approvedByUser), .date(pin.approvedAt),
            .text(seal.seal(kind: PinTable.name, id: id, PinTable.fields(pin))),
        ]
        let columns = PinTable.columns + ["seal"]
        try execute(
            """
            INSERT INTO \(PinTable.name) (connector_id, \(columns.joined(separator: ", "))) \
            VALUES (?, \(columns.map { _ in "?" }.joined(separator: ", "))) \
            ON CONFLICT (connector_id, kind, name) DO UPDATE SET \
            \(columns.dropFirst(2).map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """, [.int(id)] + values)
    }

    /// Forgets the approvals of connector `id` of `kind` but those of `kept` (names).
    func deletePins(connectorID id: Int64, kind: SurfaceKind, keeping kept: Set<String>) throws {
        let names = try strings(
            "SELECT name FROM \(PinTable.name) WHERE connector_id = ? AND kind = ?", [.int(id), .text(kind.rawValue)])
        for case let name? in names where !kept.contains(name) {
            try execute(
                "DELETE FROM \(PinTable.name) WHERE connector_id = ? AND kind = ? AND name = ?",
                [.int(id), .text(kind.rawValue), .text(name)])
        }
    }
}

/// The `server_pins` table (schema v13): a connector's approved server identity (``ServerForm``), sealed under
/// the store key like a tool's pin.
enum ServerPinTable {
    static let name = "server_pins"
    static let columns = ["hash", "form", "approved_by", "approved_by_user", "approved_at"]

    static func fields(_ pin: ServerPin, hash: String) -> [RecordSeal.Field] {
        let values = [
            hash, pin.form.pinned.text, pin.approvedBy, String(pin.approvedByUser), Timestamp.storage(pin.approvedAt),
        ]
        return zip(columns, values).map { RecordSeal.Field(name: $0, value: Array($1.utf8)) }
    }
}

/// A connector's server pin as read: none, intact, or changed outside mcpconn (which counts as none).
enum StoredServerPin: Equatable {
    case none
    case intact(ServerPin)
    case changedOutside

    var intact: ServerPin? {
        if case .intact(let pin) = self { return pin }
        return nil
    }
}

extension StoreSession {
    /// The server pin of connector `id`, checked against its seal (and its hash against its form).
    func serverPin(connectorID id: Int64, _ seal: RecordSeal) throws -> StoredServerPin {
        var out = StoredServerPin.none
        try query(
            "SELECT \(ServerPinTable.columns.joined(separator: ", ")), seal FROM \(ServerPinTable.name) WHERE connector_id = ?",
            [.int(id)]
        ) { c in
            let hash = c.text(0) ?? ""
            let text = c.text(1) ?? ""
            guard let form = ServerForm(text: text), form.pinned.text == text, form.pinned.hash == hash else {
                out = .changedOutside
                return
            }
            let pin = ServerPin(
                form: form, approvedBy: c.text(2) ?? "", approvedByUser: c.int64(3),
                approvedAt: c.date(4) ?? .distantPast)
            let changed = seal.changedFields(
                c.text(5), kind: ServerPinTable.name, id: id, ServerPinTable.fields(pin, hash: hash))
            out = changed.isEmpty ? .intact(pin) : .changedOutside
        }
        return out
    }

    /// Records `pin` as connector `id`'s server pin, replacing an earlier one.
    func saveServerPin(_ pin: ServerPin, connectorID id: Int64, _ seal: RecordSeal) throws {
        let hash = pin.form.pinned.hash
        let values: [SQLValue] = [
            .text(hash), .text(pin.form.pinned.text), .text(pin.approvedBy), .int(pin.approvedByUser),
            .date(pin.approvedAt),
            .text(seal.seal(kind: ServerPinTable.name, id: id, ServerPinTable.fields(pin, hash: hash))),
        ]
        let columns = ServerPinTable.columns + ["seal"]
        try execute(
            """
            INSERT INTO \(ServerPinTable.name) (connector_id, \(columns.joined(separator: ", "))) \
            VALUES (?, \(columns.map { _ in "?" }.joined(separator: ", "))) \
            ON CONFLICT (connector_id) DO UPDATE SET \
            \(columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """, [.int(id)] + values)
    }
}
