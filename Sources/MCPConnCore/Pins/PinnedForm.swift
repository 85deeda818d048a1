import CSodium

/// What an approval covers of one item: exactly the fields that tell a model what the item is and does, as
/// canonical JSON (keys sorted by their UTF-8 bytes, no whitespace, numbers and strings as the server wrote
/// them), and that text's SHA-256. Key order and spacing change nothing; any change of a covered field, even an
/// invisible character, changes the hash. Fields outside the form (a title, icons, `_meta`) change nothing.
public struct PinnedForm: Sendable, Equatable {
    /// The canonical JSON text, stored with the pin so `pins` can show what was approved.
    public let text: String
    /// SHA-256 of ``text``, lowercase hex.
    public let hash: String

    /// The form of `item`, one of `kind`'s stored list. A field the server left out stays out (a `null` it sent
    /// stays `null`): the form is what was sent.
    public init(of item: JSONValue, _ kind: SurfaceKind) {
        var form = JSONObject()
        for field in kind.pinnedFields {
            if let value = item[field] { form[field] = value }
        }
        self.init(text: JSONValue.object(form).pinCanonical.compactText())
    }

    /// The form whose canonical text is `text` (a stored pin's).
    init(text: String) {
        self.text = text
        hash = Self.sha256(Array(text.utf8))
    }

    /// A form as a store row holds it, its hash as stored (checked against the text by the reader).
    init(text: String, hash: String) {
        self.text = text
        self.hash = hash
    }

    static func sha256(_ bytes: [UInt8]) -> String { hexEncode(sha256Bytes(bytes[...])) }

    static func sha256Bytes(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Sodium.ensureInitialized()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = bytes.withUnsafeBufferPointer { crypto_hash_sha256(&digest, $0.baseAddress, UInt64($0.count)) }
        return digest
    }
}

extension SurfaceKind {
    /// The fields a pin covers (issue 25): a tool's name, description, schemas and annotations; a prompt's name,
    /// description and arguments; a resource's or template's address, name, description and media type.
    var pinnedFields: [String] {
        switch self {
        case .tools: return ["name", "description", "inputSchema", "outputSchema", "annotations"]
        case .prompts: return ["name", "description", "arguments"]
        case .resources: return ["uri", "name", "description", "mimeType"]
        case .templates: return ["uriTemplate", "name", "description", "mimeType"]
        }
    }
}

extension JSONValue {
    /// The value with every object's keys sorted by their UTF-8 bytes (not by Swift's `<`, under which two
    /// spellings of one accented letter are equal) and a repeated key kept once, with its last value (the one
    /// a lookup reads).
    var pinCanonical: JSONValue {
        switch self {
        case .array(let a): return .array(a.map(\.pinCanonical))
        case .object(let o):
            // By bytes here too: String keys of a Dictionary would merge those two spellings.
            var last: [[UInt8]: Int] = [:]
            for (i, p) in o.pairs.enumerated() { last[Array(p.key.utf8)] = i }
            let kept = o.pairs.enumerated().filter { last[Array($0.element.key.utf8)] == $0.offset }.map(\.element)
            let sorted = kept.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(sorted.map { ($0.key, $0.value.pinCanonical) }))
        default: return self
        }
    }
}
