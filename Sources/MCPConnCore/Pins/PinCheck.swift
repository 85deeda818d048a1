import Foundation

/// One recorded approval: an item of a connector in the form it had when approved, who approved it and when.
public struct Pin: Sendable, Equatable {
    public var kind: SurfaceKind
    /// The item's name (a resource's URI, a template's URI template).
    public var name: String
    public var form: PinnedForm
    /// The OS user who approved it, and the store's user id that user acted as.
    public var approvedBy: String
    public var approvedByUser: Int64
    public var approvedAt: Date

    public init(
        kind: SurfaceKind, name: String, form: PinnedForm, approvedBy: String, approvedByUser: Int64, approvedAt: Date
    ) {
        self.kind = kind
        self.name = name
        self.form = form
        self.approvedBy = approvedBy
        self.approvedByUser = approvedByUser
        self.approvedAt = approvedAt
    }

    /// `approve --json`'s object.
    public var json: JSONValue {
        [
            "kind": .string(kind.rawValue), "name": .string(name), "hash": .string(form.hash),
            "approved_by": .string(approvedBy), "approved_by_user": .int(approvedByUser),
            "approved_at": Timestamp.json(approvedAt),
        ]
    }
}

/// Where an item stands against its connector's pins.
public enum PinStatus: String, Sendable {
    /// Stored in the form that was approved.
    case approved
    /// Approved, but stored now in another form.
    case changed
    /// Stored, never approved.
    case new
    /// Approved, no longer stored.
    case removed
}

/// One line of `pins`: an item (stored, pinned or both) and its status. Enforcement (serve's pinned mode,
/// `call`, `agents`) asks the same question: ``check(stored:pins:)``.
public struct PinCheck: Sendable, Equatable {
    public var kind: SurfaceKind
    public var name: String
    public var status: PinStatus
    /// The approval, unless the item is new.
    public var pin: Pin?
    /// The stored item's form, unless it was removed.
    public var current: PinnedForm?

    /// Each stored item and each pin, matched by kind and name: stored lists by ``SurfaceKind``, as
    /// ``Connector/storedLists`` gives them. Sorted by kind, then name (by bytes); an item a server listed twice
    /// under one name is checked twice. Items without a name cannot be pinned and are left out.
    public static func check(stored: [SurfaceKind: [JSONValue]], pins: [Pin]) -> [PinCheck] {
        var out: [PinCheck] = []
        for kind in SurfaceKind.allCases {
            var pinned: [[UInt8]: Pin] = [:]
            for pin in pins where pin.kind == kind { pinned[Array(pin.name.utf8)] = pin }
            var seen: Set<[UInt8]> = []
            var checks: [PinCheck] = []
            for item in stored[kind] ?? [] {
                guard let name = item[kind.key]?.stringValue else { continue }
                let form = PinnedForm(of: item, kind)
                // A pin's name is as the store keeps text (a NUL as U+FFFD).
                let key = Array(StoredText.of(name).utf8)
                seen.insert(key)
                let status: PinStatus
                if let pin = pinned[key] {
                    status = pin.form.hash == form.hash ? .approved : .changed
                } else {
                    status = .new
                }
                checks.append(PinCheck(kind: kind, name: name, status: status, pin: pinned[key], current: form))
            }
            for (key, pin) in pinned where !seen.contains(key) {
                checks.append(PinCheck(kind: kind, name: pin.name, status: .removed, pin: pin, current: nil))
            }
            out += checks.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }
        return out
    }

    /// `pins --json`'s object: the status, the item, both hashes (null where there is none) and the approval.
    public var json: JSONValue {
        [
            "status": .string(status.rawValue), "kind": .string(kind.rawValue), "name": .string(name),
            "approved_hash": .optional(pin?.form.hash), "current_hash": .optional(current?.hash),
            "approved_by": .optional(pin?.approvedBy),
            "approved_by_user": pin.map { .int($0.approvedByUser) } ?? .null,
            "approved_at": Timestamp.json(pin?.approvedAt),
        ]
    }
}
