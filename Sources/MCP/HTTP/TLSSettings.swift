import Foundation

/// How one connector's HTTPS requests are checked and authenticated, on top of libcurl's defaults (peer and host
/// always verified): an extra CA bundle, a client certificate and its key, pinned public keys.
///
/// The CA bundle applies to every request of the connector (its OAuth servers too); the client certificate and
/// the pins only to requests to the connector's own origin (``CredentialScope``): another origin never sees the certificate, and
/// is not held to a key pinned for the connector's server.
public struct TLSSettings: Sendable, Equatable {
    /// A PEM bundle of CAs trusted on top of the system's store.
    public var caFile: String?
    /// Where `caFile` came from, for messages: `--ca-file`, or the environment variable that named it.
    var caFileSource = "--ca-file"
    /// The client certificate's PEM file, and the PEM private key itself (opened from the sealed credentials).
    public var clientCertFile: String?
    package var clientKey: [UInt8]?
    /// base64 SHA-256 digests of acceptable SubjectPublicKeyInfo (curl's `--pinnedpubkey sha256//…`).
    public var pinnedKeys: [String] = []
    /// Where the certificate and pins apply: the connector's own origin, as its credentials (nil: nowhere).
    package var identityScope: CredentialScope?
    /// Set by verify, refresh and health only: the server's certificate is kept here (libcurl's CERTINFO, which
    /// costs a copy of the chain per handshake). `call` and `serve` leave it nil.
    package var certificateCapture: ServerCertificateCapture?

    public init(caFile: String? = nil, clientCertFile: String? = nil, pinnedKeys: [String] = []) {
        self.caFile = caFile
        self.clientCertFile = clientCertFile
        self.pinnedKeys = pinnedKeys
    }

    /// The settings of a request that names no connector, and of a connector that names no CA bundle: the
    /// bundle in `MCPCONN_CA_FILE`, else `CURL_CA_BUNDLE` (as the curl tool reads it), else `SSL_CERT_FILE` (as
    /// OpenSSL-based clients read it); an empty variable counts as unset.
    public static func environmentCAFile(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (variable: String, path: String)?
    {
        for name in caFileVariables {
            if let v = environment[name], !v.isEmpty { return (name, v) }
        }
        return nil
    }

    /// The variables ``environmentCAFile(_:)`` reads, in order.
    public static let caFileVariables = ["MCPCONN_CA_FILE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"]

    /// Read once per process: libcurl's requests all run on one thread, which must not read the environment
    /// each time.
    static let fromEnvironment: TLSSettings = {
        var s = TLSSettings()
        if let (variable, path) = environmentCAFile() {
            s.caFile = path
            s.caFileSource = variable
        }
        return s
    }()

    /// These settings with the environment's CA bundle when they name none.
    func withEnvironmentDefaults() -> TLSSettings {
        guard caFile == nil else { return self }
        var s = self
        s.caFile = Self.fromEnvironment.caFile
        s.caFileSource = Self.fromEnvironment.caFileSource
        return s
    }

    /// Whether the certificate and pins apply to a request to `url`.
    func bindsIdentity(to url: String) -> Bool { identityScope?.admits(url) ?? false }

    /// The pins as libcurl takes them: `sha256//A;sha256//B`.
    var curlPinnedPublicKey: String? {
        pinnedKeys.isEmpty ? nil : pinnedKeys.map { "sha256//" + $0 }.joined(separator: ";")
    }
}

/// The first certificate (the leaf, as PEM) that the connector's own server presented during a session, as
/// libcurl's CURLINFO_CERTINFO gives it. Filled on the curl thread, read once the session is over.
package final class ServerCertificateCapture: Sendable, Equatable {
    private let leaf = Locked<String?>(nil)

    package init() {}

    /// The leaf certificate, PEM; nil when no handshake of the session reached it (a reused connection).
    package var pem: String? { leaf.withLock { $0 } }

    var isEmpty: Bool { leaf.withLock { $0 == nil } }

    /// Keeps `pem` unless a certificate was kept already.
    func keep(_ pem: String) { leaf.withLock { if $0 == nil { $0 = pem } } }

    package static func == (a: ServerCertificateCapture, b: ServerCertificateCapture) -> Bool { a === b }
}
