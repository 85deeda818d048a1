import Foundation

/// The TLS settings `add` and `update` may set (`--ca-file`, `--client-cert`, `--client-key-file`,
/// `--pin-sha256`). For `update`, nil fields stay unchanged and an empty path or pin clears the setting.
public struct TLSInput: Sendable {
    public var caFile: String?
    public var clientCert: String?
    /// The client certificate's private key (PEM), already read (``PEMFile/readPrivateKey(path:)``).
    public var clientKey: String?
    public var pins: [String]?

    public init(caFile: String? = nil, clientCert: String? = nil, clientKey: String? = nil, pins: [String]? = nil) {
        self.caFile = caFile
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.pins = pins
    }

    public var isEmpty: Bool { caFile == nil && clientCert == nil && clientKey == nil && pins == nil }

    /// `current` with these changes applied and checked: paths made absolute, files readable and PEM, pins
    /// SHA-256 digests, a certificate only with a key (`storedKey`: the one already sealed). Client identity and
    /// pins need an https URL: over http there is no TLS to carry them.
    func applied(to current: ConnectorTLS, storedKey: String?, serverURL: String) throws(MCPConnError)
        -> (tls: ConnectorTLS, clientKey: String?)
    {
        var tls = current
        var key = storedKey
        if let caFile {
            tls.caFile = caFile.isEmpty ? nil : try PEMFile.check(caFile, holding: .certificate, what: "the CA file")
        }
        if let clientCert {
            tls.clientCert =
                clientCert.isEmpty
                ? nil : try PEMFile.check(clientCert, holding: .certificate, what: "the client certificate")
            if clientCert.isEmpty { key = nil }
        }
        if let clientKey { key = clientKey }
        if let pins {
            tls.pins = try pins.filter { !$0.isEmpty }.map { p throws(MCPConnError) in try Self.pin(p) }
        }
        if tls.clientCert != nil, key == nil {
            throw .usage("--client-cert needs its key: --client-key-file PATH (read once and sealed in the store)")
        }
        if tls.clientCert == nil, clientKey != nil { throw .usage("--client-key-file needs --client-cert PATH") }
        try tls.check(serverURL: serverURL)
        return (tls, tls.clientCert == nil ? nil : key)
    }

    /// A pin as stored: base64 of 32 bytes (curl's `sha256//` prefix accepted and dropped).
    static func pin(_ text: String) throws(MCPConnError) -> String {
        let t = text.hasPrefix("sha256//") ? String(text.dropFirst(8)) : text
        guard let d = Data(base64Encoded: t), d.count == 32 else {
            throw .usage(
                "invalid --pin-sha256 '\(TerminalText.escape(String(t.prefix(60))))': expected the base64 SHA-256 of the server's public key (44 characters)"
            )
        }
        return d.base64EncodedString()
    }
}

extension ConnectorTLS {
    /// Fails when `serverURL` cannot carry these settings: a client certificate or a pin needs https.
    func check(serverURL: String) throws(MCPConnError) {
        if clientCert != nil || !pins.isEmpty, Origin(serverURL)?.scheme != "https" {
            throw .usage("--client-cert and --pin-sha256 need an https:// URL: over http there is no TLS")
        }
    }
}

/// Local PEM files named by TLS settings: checked when set and by `doctor`, read by libcurl when used.
public enum PEMFile {
    public enum Content: Sendable {
        case certificate, privateKey

        var marker: String { self == .certificate ? "-----BEGIN CERTIFICATE-----" : "PRIVATE KEY-----" }
    }

    /// PEM files are small; a cap keeps `--ca-file /dev/zero` from eating memory (the system bundle is ~200 KiB).
    static let maxBytes = 4 * 1024 * 1024

    /// The absolute path of `path` once it names a readable regular file holding `content` in PEM: unreadable is
    /// "not found" (66), anything else bad data (65).
    static func check(_ path: String, holding content: Content, what: String) throws(MCPConnError) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        _ = try read(absolute, holding: content, what: "\(what) \(path)")
        return (absolute as NSString).standardizingPath
    }

    /// What is wrong with the PEM file at `path`, or nil when it is readable and holds `content` (for `doctor`).
    public static func problem(_ path: String, holding content: Content) -> String? {
        do {
            _ = try read(path, holding: content, what: path)
            return nil
        } catch {
            return error.message
        }
    }

    /// A client certificate's private key, read once from `path` (a file, or a pipe such as `<(pass show key)`):
    /// PEM, not encrypted.
    public static func readPrivateKey(path: String) throws(MCPConnError) -> String {
        ProcessHardening.forbidCoreDumps()
        let text = try read(path, holding: .privateKey, what: "the client key file \(path)", regularOnly: false)
        if text.contains("ENCRYPTED") {
            throw .data(
                "the client key file \(path) is encrypted: mcpconn seals the key in its store, so give it unencrypted (openssl pkey -in KEY -out PLAIN, then remove PLAIN)"
            )
        }
        return text
    }

    private static func read(_ path: String, holding content: Content, what: String, regularOnly: Bool = true)
        throws(MCPConnError) -> String
    {
        switch LocalInput.read(path: path, limit: maxBytes, regularOnly: regularOnly) {
        case .success(let read):
            let text = String(decoding: read.bytes, as: UTF8.self)
            guard text.contains(content.marker) else {
                let kind = content == .certificate ? "a PEM certificate" : "a PEM private key"
                throw .data("\(what) is not \(kind) (no '\(content.marker)' line)")
            }
            return text
        case .failure(.tooLarge): throw .data("\(what) is \(LocalInput.Failure.tooLarge.reason(limit: maxBytes))")
        case .failure(let f): throw .init(.notFound, "cannot read \(what): \(f.reason(limit: maxBytes))")
        }
    }
}
