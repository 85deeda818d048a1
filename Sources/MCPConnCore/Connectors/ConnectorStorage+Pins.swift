import Foundation

/// Approvals (issue 25): the form of each tool, prompt, resource and template a person approved, pinned in the
/// store (`tool_pins`) and sealed under the store key, and where each stored item stands against them.
extension ConnectorStorage {
    /// What `pins` reports: every item's status, and the pins changed outside mcpconn (counted as no approval).
    public struct PinsReport: Sendable {
        public let connector: Connector
        public let checks: [PinCheck]
        /// The server's identity against its pin (`approve --server`); nil when never verified nor pinned.
        public let server: ServerPinCheck?
        /// `server`, `tool echo`, `prompt greet`…: pins whose seal does not check.
        public let changedOutside: [String]
    }

    /// Where each stored item of the connector stands against its pins.
    public func pins(_ ref: String) throws(MCPConnError) -> PinsReport {
        let seal = RecordSeal(key: try seals().key)
        let uid = userID
        return try store.read { db in
            guard let c = try Self.lookup(ref, userID: uid, db) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            let pins = try db.pins(connectorID: c.id ?? 0, seal)
            let server = try db.serverPin(connectorID: c.id ?? 0, seal)
            return PinsReport(
                connector: c, checks: PinCheck.check(stored: c.storedLists, pins: pins.intact),
                server: ServerPinCheck.check(current: c.serverForm, pin: server.intact),
                changedOutside: (server == .changedOutside ? ["server"] : []) + pins.changedOutside)
        }
    }

    /// Approves the named items of `kind` (or, with `all`, every stored item of every kind: approvals of items
    /// no longer stored are dropped) in the form the store holds now; returns the connector and the new pins,
    /// none when `all` finds nothing stored. A name not in the stored list fails (65) with nothing approved.
    /// With `server`, the server's identity as last seen is pinned too (``ServerForm``); a connector never
    /// verified (or an HTTPS one whose key was never learnt) fails (65) with nothing approved.
    ///
    /// The items are scanned first (``ToolScanner``): each finding goes to `shown`, and an item with a high
    /// finding is refused (exit 1, nothing approved) unless `force`.
    public func approve(
        _ ref: String, kind: SurfaceKind = .tools, names: [String], all: Bool, server: Bool = false,
        by approver: String, force: Bool = false, shown: (ScanFinding) -> Void = { _ in }
    ) throws(MCPConnError) -> (connector: Connector, pins: [Pin], server: ServerPin?) {
        let seals = try self.seals()
        let seal = RecordSeal(key: seals.key)
        let uid = userID
        // Milliseconds, as stored: the pin returned is the one read back.
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
        return try store.write { db in
            guard let row = try Self.lookup(ref, userID: uid, db, lock: true) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            // Approving on behalf of a row someone else rewrote would seal their work as the owner's.
            try seals.check(row)
            try KeyGuard.checkForWrite(seals.key, db)
            func pin(_ item: JSONValue, _ kind: SurfaceKind) -> Pin {
                Pin(
                    kind: kind, name: StoredText.of(item[kind.key]?.stringValue ?? ""),
                    form: PinnedForm(of: item, kind),
                    approvedBy: approver, approvedByUser: uid, approvedAt: now)
            }
            let serverPin =
                try server
                ? ServerPin(
                    form: Self.serverForm(of: row), approvedBy: approver, approvedByUser: uid, approvedAt: now) : nil
            var pins: [Pin] = []
            if all {
                for kind in SurfaceKind.allCases where row.storedText(kind) != nil {
                    let kindPins = row.stored(kind).filter { $0[kind.key]?.stringValue != nil }.map { pin($0, kind) }
                    try db.deletePins(connectorID: row.id ?? 0, kind: kind, keeping: Set(kindPins.map(\.name)))
                    pins += kindPins
                }
            } else if !names.isEmpty {
                pins = try Self.named(names, kind, of: row).map { pin($0, kind) }
            }
            let findings = try Self.findings(of: pins, in: row, db)
            findings.forEach(shown)
            let high = findings.filter { $0.severity == .high }
            if !force, !high.isEmpty {
                let items = Array(Set(high.map { "\($0.kind) \($0.item)" })).sorted()
                throw MCPConnError(
                    .failure,
                    "nothing was approved: \(items.joined(separator: ", ")) of connector '\(row.name)' \(items.count == 1 ? "has" : "have") a high finding (see above; `mcpconn approve --force` approves anyway)"
                )
            }
            for p in pins { try db.savePin(p, connectorID: row.id ?? 0, seal) }
            if let serverPin { try db.saveServerPin(serverPin, connectorID: row.id ?? 0, seal) }
            return (row, pins, serverPin)
        }
    }

    /// The server identity `approve --server` pins: what the last verify, refresh or health learnt.
    static func serverForm(of row: Connector) throws(MCPConnError) -> ServerForm {
        guard let form = row.serverForm else {
            throw .data(
                "connector '\(row.name)' was never verified: nothing was approved; run `mcpconn verify \(row.name)`")
        }
        if !row.isStdio, row.serverURL.lowercased().hasPrefix("https:"), form.key == nil {
            throw .data(
                "connector '\(row.name)': its server's certificate key was never learnt: nothing was approved; run `mcpconn verify \(row.name)`"
            )
        }
        return form
    }

    /// Where the connector's server, as last seen, stands against its server pin (`approve --server`), for
    /// enforcement (serve, call, refresh): nil when the connector was never verified and has no server pin. A
    /// pin changed outside mcpconn counts as none (the check is then `.new`). `current`: an identity just learnt
    /// (a session's name and version, the stored key) instead of the stored one.
    public func serverPinCheck(_ ref: String, current: ServerForm? = nil) throws(MCPConnError) -> ServerPinCheck? {
        let seal = RecordSeal(key: try seals().key)
        let uid = userID
        return try store.read { db in
            guard let c = try Self.lookup(ref, userID: uid, db) else {
                throw MCPConnError.notFound("no connector '\(ref)' for user \(uid)")
            }
            let pin = try db.serverPin(connectorID: c.id ?? 0, seal)
            return ServerPinCheck.check(current: current ?? c.serverForm, pin: pin.intact)
        }
    }

    // MARK: Pinned mode

    /// The store-wide pinned mode (``PinPolicy``).
    public func pinPolicy() throws(MCPConnError) -> PinPolicy {
        let seal = RecordSeal(key: try seals().key)
        return try store.read { db in PinPolicy.read(try db.meta(PinPolicy.metaKey), seal) }
    }

    /// Sets the store-wide pinned mode, for every user's connectors.
    @discardableResult
    public func setPinPolicy(pinned: Bool) throws(MCPConnError) -> PinPolicy {
        let seals = try self.seals()
        return try store.write { db in
            try KeyGuard.checkForWrite(seals.key, db)
            try db.setMeta(PinPolicy.metaKey, PinPolicy.text(pinned: pinned, RecordSeal(key: seals.key)))
            return PinPolicy(pinned: pinned)
        }
    }

    /// What each connector lets through, read again from the store: its tool allow-list, whether it (or the
    /// store) is pinned, and the intact pins of those that are. A connector whose row no longer checks, or that
    /// is gone, gets a gate that lets nothing through; the warnings say what was found changed outside mcpconn.
    public struct PinGates: Sendable, Equatable {
        public var gates: [Int64: PinGate] = [:]
        public var warnings: [String] = []
    }

    public func pinGates(_ ids: [Int64]) throws(MCPConnError) -> PinGates {
        let seals = try self.seals()
        let seal = RecordSeal(key: seals.key)
        let uid = userID
        return try store.read { db in
            let policy = PinPolicy.read(try db.meta(PinPolicy.metaKey), seal)
            var out = PinGates()
            if policy.changedOutside {
                out.warnings.append(
                    "the store's pinned-mode setting was changed outside mcpconn: every connector is treated as pinned until `mcpconn policy --pinned` (or --unpinned) sets it again"
                )
            }
            // One read of the user's rows, without the stored lists (serve reads them apart, and the seals and the
            // gates need none of them).
            var rows: [Int64: Connector] = [:]
            for row in try db.connectors(ConnectorFilter(userID: uid), columns: Connector.Columns.withoutLists) {
                rows[row.id ?? 0] = row
            }
            for id in ids {
                guard let row = rows[id] else {
                    out.gates[id] = .closed("connector \(id) is no longer in the store")
                    continue
                }
                let changed = seals.changedColumns(row)
                if !changed.isEmpty {
                    let refusal = ConnectorSeals.changedOutside(row, changed).message
                    out.gates[id] = .closed(refusal)
                    out.warnings.append(refusal)
                    continue
                }
                guard row.isPinned || policy.pinned else {
                    out.gates[id] = PinGate.open.filtered(by: row.toolFilter)
                    continue
                }
                let pins = try db.pins(connectorID: id, seal)
                for name in pins.changedOutside {
                    out.warnings.append(
                        "the approval of \(name) of connector '\(row.name)' was changed outside mcpconn: it counts as none"
                    )
                }
                out.gates[id] = PinGate(pins: pins.intact).filtered(by: row.toolFilter)
            }
            return out
        }
    }

    /// The connector `ref` and its gate, for `call`. The row and the store's pinned-mode setting are read in one
    /// transaction, so a connector not in pinned mode costs no store round trip more than ``get(_:)`` (its
    /// allow-list is in the row); the pins are read (with the row again, its seal checked) only for one that is.
    public func gated(_ ref: String) throws(MCPConnError) -> (connector: Connector, gate: PinGate, warnings: [String]) {
        let uid = userID
        let (row, policyText) = try store.read { db in
            (try Self.lookup(ref, userID: uid, db), try db.meta(PinPolicy.metaKey))
        }
        guard let row, let id = row.id else { throw .notFound("no connector '\(ref)' for user \(uid)") }
        // Never set: open, with no key needed to tell.
        let storePinned = try policyText.map { (text) throws(MCPConnError) in
            PinPolicy.read(text, RecordSeal(key: try seals().key)).pinned
        }
        guard row.isPinned || storePinned == true else { return (row, PinGate.open.filtered(by: row.toolFilter), []) }
        let found = try pinGates([id])
        return (row, found.gates[id] ?? PinGate(pins: []), found.warnings)
    }

    /// The tools each connector stores now in a form its pins do not cover (changed or new), by connector id,
    /// whether or not it is in pinned mode: what `refresh --fail-on-unapproved` fails on. An approval changed
    /// outside mcpconn counts as none.
    public func unapprovedTools(_ ids: [Int64]) throws(MCPConnError) -> [Int64: [PinCheck]] {
        let seal = RecordSeal(key: try seals().key)
        let uid = userID
        return try store.read { db in
            var out: [Int64: [PinCheck]] = [:]
            for id in ids {
                guard let row = try db.connector(ConnectorFilter(userID: uid, id: id)) else { continue }
                let pins = try db.pins(connectorID: id, seal).intact.filter { $0.kind == .tools }
                let unapproved = PinCheck.check(stored: [.tools: row.tools], pins: pins).filter {
                    $0.status == .changed || $0.status == .new
                }
                if !unapproved.isEmpty { out[id] = unapproved }
            }
            return out
        }
    }

    /// What `scan` finds in the items about to be pinned (other connectors' tool names counted for shadowing).
    static func findings(of pins: [Pin], in row: Connector, _ db: any StoreSession) throws -> [ScanFinding] {
        let every = try db.connectors(ConnectorFilter(userID: row.userID))
        let pinned = Set(pins.map { "\($0.kind.singular)\u{0}\($0.name)" })
        return ToolScanner.scan([row], among: every).findings.filter {
            pinned.contains("\($0.kind)\u{0}\(StoredText.of($0.item))")
        }
    }

    /// The stored items of `kind` named `names` (the last one of a name listed twice); fails naming those
    /// not stored.
    static func named(_ names: [String], _ kind: SurfaceKind, of row: Connector) throws(MCPConnError) -> [JSONValue] {
        guard row.storedText(kind) != nil else {
            throw .data(
                "connector '\(row.name)' has no discovered \(kind.rawValue) yet: run `mcpconn verify \(row.name)`")
        }
        var byName: [String: JSONValue] = [:]
        for item in row.stored(kind) { if let n = item[kind.key]?.stringValue { byName[n] = item } }
        let unknown = names.filter { byName[$0] == nil }
        guard unknown.isEmpty else {
            throw .data(
                "connector '\(row.name)' has no \(kind.singular) \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in what the last verify or refresh stored: nothing was approved; see `mcpconn tools \(row.name)\(kind == .tools ? "" : " --kind \(kind.rawValue)")`"
            )
        }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }.compactMap { byName[$0] }
    }
}

/// Who approves: the OS user running mcpconn, from the password database (not `$USER`, which a caller sets at
/// will); the numeric uid when it has no entry.
public enum OSUser {
    public static var name: String {
        let uid = geteuid()
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let found = result,
            let n = found.pointee.pw_name
        {
            return String(cString: n)
        }
        return "uid \(uid)"
    }
}
