import Foundation

/// What a server pin covers (`approve --server`, issue 25): the name and version the server gave at its last
/// verify, refresh or health check and, for an HTTPS connector, its certificate's public key (``ServerKey``).
/// As a tool's ``PinnedForm``: canonical JSON (a field the server did not give is `null`) and its SHA-256.
public struct ServerForm: Sendable, Equatable {
    public var name: String?
    public var version: String?
    /// `sha256//BASE64` of the leaf certificate's SubjectPublicKeyInfo; nil over plain HTTP and stdio.
    public var key: String?

    public init(name: String?, version: String?, key: String?) {
        self.name = name
        self.version = version
        self.key = key
    }

    /// The form a stored pin's text holds; nil when it is not one mcpconn wrote.
    init?(text: String) {
        guard let o = (try? JSONValue.parse(text))?.objectValue,
            Set(o.pairs.map(\.key)) == ["key", "name", "version"]
        else { return nil }
        func field(_ k: String) -> String?? {
            switch o[k] {
            case .string(let s): return .some(s)
            case .null: return .some(nil)
            default: return nil
            }
        }
        guard let name = field("name"), let version = field("version"), let key = field("key") else { return nil }
        self.init(name: name, version: version, key: key)
    }

    var json: JSONValue { ["key": .optional(key), "name": .optional(name), "version": .optional(version)] }

    /// The canonical text and its hash, as a tool's.
    var pinned: PinnedForm { PinnedForm(text: json.pinCanonical.compactText()) }

    /// The fields that differ from `other`, in the order `pins` names them.
    func changedFields(from other: ServerForm) -> [String] {
        [("name", name != other.name), ("version", version != other.version), ("key", key != other.key)]
            .filter(\.1).map(\.0)
    }
}

/// A server certificate's public key as curl pins it (`--pinnedpubkey sha256//…`, `--pin-sha256`): base64 of the
/// SHA-256 of its SubjectPublicKeyInfo, DER.
public enum ServerKey {
    /// The pin of the certificate `pem` (one PEM block, as libcurl's CERTINFO gives it); nil for text that is no
    /// X.509 certificate. The text is the server's: parsed, never trusted.
    public static func pin(certificatePEM pem: String) -> String? {
        guard let der = der(pem), let spki = subjectPublicKeyInfo(der) else { return nil }
        return "sha256//" + Data(PinnedForm.sha256Bytes(spki)).base64EncodedString()
    }

    /// The DER inside a PEM block (`-----BEGIN CERTIFICATE-----`); certificates are a few KiB, so a large text
    /// is refused before it is decoded.
    static func der(_ pem: String) -> [UInt8]? {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        guard pem.utf8.count <= 1 << 20, let b = pem.range(of: begin), let e = pem.range(of: end),
            b.upperBound <= e.lowerBound
        else { return nil }
        let body = pem[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map(Array.init)
    }

    /// The encoded SubjectPublicKeyInfo of a DER certificate (``CertificateDER``).
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> ArraySlice<UInt8>? {
        CertificateDER.subjectPublicKeyInfo(der).map { der[$0] }
    }
}

/// An approval of a connector's server (`approve --server`): its form, who approved it and when.
public struct ServerPin: Sendable, Equatable {
    public var form: ServerForm
    public var approvedBy: String
    public var approvedByUser: Int64
    public var approvedAt: Date

    public init(form: ServerForm, approvedBy: String, approvedByUser: Int64, approvedAt: Date) {
        self.form = form
        self.approvedBy = approvedBy
        self.approvedByUser = approvedByUser
        self.approvedAt = approvedAt
    }

    /// `approve --json`'s object, beside the tools'.
    public var json: JSONValue {
        [
            "kind": "server", "name": .optional(form.name), "version": .optional(form.version),
            "key": .optional(form.key), "hash": .string(form.pinned.hash), "approved_by": .string(approvedBy),
            "approved_by_user": .int(approvedByUser), "approved_at": Timestamp.json(approvedAt),
        ]
    }
}

/// Where a connector's server, as last seen, stands against its server pin: the `server` line of `pins`, and
/// what enforcement asks (``ConnectorStorage/serverPinCheck(_:)``, or ``check(current:pin:)`` with an identity
/// just learnt).
public struct ServerPinCheck: Sendable, Equatable {
    /// `.approved`, `.changed` (``changed`` says what), `.new` (never approved) or `.removed` (approved, but
    /// nothing learnt of the server: never happens once it was verified).
    public var status: PinStatus
    /// What differs from the approval: `name`, `version`, `key`.
    public var changed: [String]
    public var pin: ServerPin?
    public var current: ServerForm?

    /// The check of `current` (nil: nothing learnt yet) against `pin` (nil: none, or one changed outside
    /// mcpconn); nil when there is neither.
    public static func check(current: ServerForm?, pin: ServerPin?) -> ServerPinCheck? {
        switch (current, pin) {
        case (nil, nil): return nil
        case (let current?, nil): return ServerPinCheck(status: .new, changed: [], pin: nil, current: current)
        case (nil, let pin?): return ServerPinCheck(status: .removed, changed: [], pin: pin, current: nil)
        case (let current?, let pin?):
            let changed = current.changedFields(from: pin.form)
            return ServerPinCheck(
                status: changed.isEmpty ? .approved : .changed, changed: changed, pin: pin, current: current)
        }
    }

    /// Whether the server is as approved.
    public var isApproved: Bool { status == .approved }

    /// `changed (name, key)`, or the status alone.
    public var statusText: String {
        changed.isEmpty ? status.rawValue : "\(status.rawValue) (\(changed.joined(separator: ", ")))"
    }

    /// The server's name for `pins`: as seen now, else as approved.
    var name: String { (current ?? pin?.form)?.name ?? "" }

    /// `pins --json`'s object: a tool's fields, with what changed and both forms.
    public var json: JSONValue {
        [
            "status": .string(status.rawValue), "kind": "server", "name": .string(name),
            "changed": .array(changed.map(JSONValue.string)),
            "approved_hash": .optional(pin?.form.pinned.hash), "current_hash": .optional(current?.pinned.hash),
            "approved": pin?.form.json ?? .null, "current": current?.json ?? .null,
            "approved_by": .optional(pin?.approvedBy),
            "approved_by_user": pin.map { .int($0.approvedByUser) } ?? .null,
            "approved_at": Timestamp.json(pin?.approvedAt),
        ]
    }
}
