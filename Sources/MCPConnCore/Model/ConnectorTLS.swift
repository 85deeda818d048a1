import Foundation

/// A connector's TLS settings as stored (the `tls` column, a JSON object): paths and pins, never a key. The
/// client certificate's private key is sealed with the credentials (`client_key`).
public struct ConnectorTLS: Sendable, Equatable {
    /// A PEM bundle of CAs trusted on top of the system's store.
    public var caFile: String?
    /// The client certificate's PEM file.
    public var clientCert: String?
    /// base64 SHA-256 digests of the server's acceptable public keys.
    public var pins: [String] = []

    public init(caFile: String? = nil, clientCert: String? = nil, pins: [String] = []) {
        self.caFile = caFile
        self.clientCert = clientCert
        self.pins = pins
    }

    public var isEmpty: Bool { caFile == nil && clientCert == nil && pins.isEmpty }

    /// The column's text: nil when nothing is set. Keys in a fixed order, so the seal sees one form.
    var columnText: String? {
        guard !isEmpty else { return nil }
        var o = JSONObject()
        if let caFile { o["ca_file"] = .string(caFile) }
        if let clientCert { o["client_cert"] = .string(clientCert) }
        if !pins.isEmpty { o["pin_sha256"] = .array(pins.map(JSONValue.string)) }
        return JSONValue.object(o).compactText()
    }

    /// The settings a column holds; empty for NULL or text mcpconn did not write (the row's seal refuses such
    /// a row before it is used).
    init(columnText: String?) {
        guard let columnText, let o = (try? JSONValue.parse(columnText))?.objectValue else { return }
        caFile = o["ca_file"]?.stringValue
        clientCert = o["client_cert"]?.stringValue
        pins = (o["pin_sha256"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The settings for a session to `serverURL`, with the client key opened from the credentials.
    func settings(serverURL: String, credentials: Credentials?) -> TLSSettings {
        var s = TLSSettings(caFile: caFile, clientCertFile: clientCert, pinnedKeys: pins)
        s.clientKey = credentials?.clientKey.map { Array($0.utf8) }
        s.identityScope = CredentialScope(serverURL: serverURL)
        return s
    }
}

extension Connector {
    /// The connector's TLS settings (empty for a local server, and when none are set).
    public var tls: ConnectorTLS { ConnectorTLS(columnText: tlsConfig) }
}
