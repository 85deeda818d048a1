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
