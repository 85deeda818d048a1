import CSodium
import Foundation

/// Authenticates a stored record's security-relevant fields, so that a writer of the store without its key cannot
/// change them unnoticed (a shared PostgreSQL store's other roles, say).
///
/// Each field gets its own 16-byte tag: keyed BLAKE2b, under a key derived from the store key, over the record's
/// kind and id, the field's name and its value. Per-field tags cost 16 bytes each and let a refusal name what was
/// changed. Sealed form: `s1:` + base64(tag ‖ tag ‖ …), in the order of the fields given. Nothing here knows which
/// table or fields: connectors use it (``ConnectorSeals``), and so can any record that needs the same protection.
struct RecordSeal: Sendable {
    static let prefix = "s1:"
    static let tagLength = 16
    private let key: [UInt8]

    init(key: EncryptionKey) {
        Sodium.ensureInitialized()
        self.key = key.derived(.records)
    }

    /// One field of a record: its name and its canonical bytes (nil: SQL NULL).
    struct Field: Sendable {
        var name: String
        var value: [UInt8]?
    }

    /// The seal of `fields` of the record `kind`/`id`.
    func seal(kind: String, id: Int64, _ fields: [Field]) -> String {
        var tags: [UInt8] = []
        for f in fields { tags += tag(kind: kind, id: id, f) }
        return Self.prefix + Data(tags).base64EncodedString()
    }

    /// The names of the fields whose values are not the ones sealed; every field's when the seal is missing or
    /// malformed. Empty: the record is as it was sealed.
    func changedFields(_ seal: String?, kind: String, id: Int64, _ fields: [Field]) -> [String] {
        guard let seal, seal.hasPrefix(Self.prefix),
            let data = Data(base64Encoded: String(seal.dropFirst(Self.prefix.count))),
            data.count == fields.count * Self.tagLength
        else { return fields.map(\.name) }
        let stored = Array(data)
        var changed: [String] = []
        for (i, f) in fields.enumerated() {
            let expected = tag(kind: kind, id: id, f)
            let same = stored.withUnsafeBufferPointer { s in
                sodium_memcmp(s.baseAddress! + i * Self.tagLength, expected, Self.tagLength) == 0
            }
            if !same { changed.append(f.name) }
        }
        return changed
    }

    private func tag(kind: String, id: Int64, _ field: Field) -> [UInt8] {
        // A NULL and an empty text differ: a presence byte before the value.
        let value = field.value.map { [1] + $0 } ?? [0]
        let input = SealEncoding.fields([
            Array("mcpconn record v1".utf8), Array(kind.utf8), Array(String(id).utf8),
            Array(field.name.utf8), value,
        ])
        var out = [UInt8](repeating: 0, count: Self.tagLength)
        _ = crypto_generichash(&out, Self.tagLength, input, UInt64(input.count), key, key.count)
        return out
    }
}
