import Foundation

/// Certificates and keys for the HTTPS tests: a private CA and what it signs (good, wrong-name, expired, not yet
/// valid server certificates; a client certificate), a self-signed server certificate, an unrelated CA with a
/// client certificate of its own, public key pins, an encrypted key and a file that is not PEM.
///
/// Made by the `openssl` command line (EC P-256 keys: fast) in a fresh temp dir (`mcpconn-tls-*`, mode 0700),
/// once per test process (``shared()``), and deleted when the process exits. Tests read the files, never change
/// them. All paths are absolute. Server certificates name `DNS:localhost` and `IP:127.0.0.1` unless said
/// otherwise; the valid ones run ten years from their making.
public final class TLSFixture: Sendable {
    /// The fixture of this test process, made on first use (about 30 `openssl` runs, off Swift's pool); a failed
    /// making fails every call with `openssl`'s message.
    public static func shared() async throws -> TLSFixture { try await made.value }
    private static let made = Task { try await offPool { try TLSFixture(in: home) } }

    /// The temp dir, named before it is made so that `atexit` can delete it (a C callback captures nothing).
    private static let home = FileManager.default.temporaryDirectory
        .appendingPathComponent("mcpconn-tls-\(UUID().uuidString.prefix(8).lowercased())").path

    public let directory: String
    /// The private CA's certificate (PEM).
    public let caFile: String
    /// Signed by the CA, valid now.
    public let serverCert: String, serverKey: String
    /// Signed by the CA, valid now, for the same names with another key: the server's key rotated.
    public let rotatedServerCert: String, rotatedServerKey: String
    /// Signed by the CA; its only name is `DNS:other.invalid`.
    public let wrongNameCert: String, wrongNameKey: String
    /// Signed by the CA; valid in 2019 only.
    public let expiredCert: String, expiredKey: String
    /// Signed by the CA; valid from 2099.
    public let notYetValidCert: String, notYetValidKey: String
    /// Signed by its own key, no CA.
    public let selfSignedCert: String, selfSignedKey: String
    /// A client certificate (extendedKeyUsage clientAuth) signed by the CA.
    public let clientCert: String, clientKey: String
    /// An unrelated CA's certificate.
    public let otherCAFile: String
    /// A client certificate signed by the unrelated CA.
    public let otherClientCert: String, otherClientKey: String
    /// Base64 of SHA-256 over `serverKey`'s SubjectPublicKeyInfo (DER): curl's `--pinnedpubkey sha256//…` without
    /// the prefix.
    public let serverKeyPin: String
    /// The same for a key no server here uses (the unrelated CA's).
    public let otherKeyPin: String
    /// The same for `rotatedServerKey`.
    public let rotatedServerKeyPin: String
    /// `clientKey`'s key encrypted (PKCS#8, AES-256) with ``encryptedClientKeyPassphrase``.
    public let encryptedClientKey: String
    public let encryptedClientKeyPassphrase: String
    /// A text file that is not PEM.
    public let garbageFile: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes every file; blocks its thread for the `openssl` runs.
    private init(in path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        atexit { try? FileManager.default.removeItem(atPath: TLSFixture.home) }
        let openssl = try OpenSSL(directory: path)
        directory = path
        let ca = try openssl.authority("ca", name: "mcpconn test CA")
        caFile = ca.cert
        (serverCert, serverKey) = try openssl.sign("server", name: "localhost", by: ca, extensions: "server")
        (rotatedServerCert, rotatedServerKey) = try openssl.sign(
            "rotated-server", name: "localhost", by: ca, extensions: "server")
        (wrongNameCert, wrongNameKey) = try openssl.sign(
            "wrong-name", name: "other.invalid", by: ca, extensions: "wrong_name")
        (expiredCert, expiredKey) = try openssl.sign(
            "expired", name: "localhost", by: ca, extensions: "server", validity: ("20190101000000Z", "20200101000000Z")
        )
        (notYetValidCert, notYetValidKey) = try openssl.sign(
            "not-yet-valid", name: "localhost", by: ca, extensions: "server",
            validity: ("20990101000000Z", "21000101000000Z"))
        (selfSignedCert, selfSignedKey) = try openssl.selfSigned("self-signed", name: "localhost")
        (clientCert, clientKey) = try openssl.sign("client", name: "mcpconn test client", by: ca, extensions: "client")
        let otherCA = try openssl.authority("other-ca", name: "mcpconn other CA")
        otherCAFile = otherCA.cert
        (otherClientCert, otherClientKey) = try openssl.sign(
            "other-client", name: "mcpconn other client", by: otherCA, extensions: "client")
        serverKeyPin = try openssl.pin(serverKey)
        otherKeyPin = try openssl.pin(otherCA.key)
        rotatedServerKeyPin = try openssl.pin(rotatedServerKey)
        encryptedClientKey = "\(path)/client-encrypted.key"
        encryptedClientKeyPassphrase = "mcpconn-test-passphrase"
        try openssl.run([
            "pkey", "-in", clientKey, "-aes256", "-passout", "pass:mcpconn-test-passphrase", "-out", encryptedClientKey,
        ])
        garbageFile = "\(path)/garbage.pem"
        try "This is not a certificate.\n".write(toFile: garbageFile, atomically: true, encoding: .utf8)
    }
}

/// The `openssl` runs that make the fixture, in its directory, with a config of its own (no system openssl.cnf):
/// the extensions of each kind of certificate, and a CA database for `openssl ca`, the one signing command of
/// OpenSSL 3.0 that takes a start date (`x509 -req` has only `-days`).
private struct OpenSSL {
    let directory: String
    var config: String { "\(directory)/openssl.cnf" }
    typealias Pair = (cert: String, key: String)

    init(directory: String) throws {
        self.directory = directory
        let database = "\(directory)/ca-db"
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: "\(database)/index.txt", contents: nil)
        let leaf = "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature"
        let localNames = "subjectAltName = DNS:localhost, IP:127.0.0.1"
        try """
        [ req ]
        distinguished_name = req_dn
        [ req_dn ]
        [ ca ]
        default_ca = test_ca
        [ test_ca ]
        database = \(database)/index.txt
        new_certs_dir = \(database)
        rand_serial = yes
        unique_subject = no
        default_md = sha256
        policy = any_name
        [ any_name ]
        commonName = supplied
        [ ca_ext ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [ server_ext ]
        \(leaf)
        extendedKeyUsage = serverAuth
        \(localNames)
        [ wrong_name_ext ]
        \(leaf)
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:other.invalid
        [ client_ext ]
        \(leaf)
        extendedKeyUsage = clientAuth

        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    /// Runs `openssl args…` to its end; throws with its output when it fails.
    @discardableResult
    func run(_ args: [String]) throws -> String {
        do {
            // The suite's command runner: output through files, the exit read without Foundation's notification.
            return try PostgresServer.run(["/usr/bin/env", "openssl"] + args, in: URL(fileURLWithPath: directory))
        } catch let error as PostgresServer.Failure {
            throw TLSFixture.Failure(description: "TLS fixture: \(error.description)")
        }
    }

    func key(_ name: String) throws -> String {
        let key = "\(directory)/\(name).key"
        try run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
        return key
    }

    /// A CA: a self-signed certificate that may sign others, valid ten years from now.
    func authority(_ file: String, name: String) throws -> Pair {
        try selfSigned(file, name: name, extensions: "ca")
    }

    /// A leaf certificate with the config's `<extensions>_ext` section, signed by `ca`; valid ten years from now,
    /// or between the `validity` dates (`YYYYMMDDHHMMSSZ`).
    func sign(
        _ file: String, name: String, by ca: Pair, extensions: String, validity: (String, String)? = nil
    ) throws -> Pair {
        let pair = (cert: "\(directory)/\(file).pem", key: try key(file))
        let request = "\(directory)/\(file).csr"
        try run(["req", "-config", config, "-new", "-key", pair.key, "-subj", "/CN=\(name)", "-out", request])
        let dates = validity.map { ["-startdate", $0.0, "-enddate", $0.1] } ?? ["-days", "3650"]
        try run(
            [
                "ca", "-config", config, "-batch", "-notext", "-cert", ca.cert, "-keyfile", ca.key, "-in", request,
                "-out", pair.cert, "-extensions", "\(extensions)_ext",
            ] + dates)
        return pair
    }

    /// A certificate signed by its own key with the config's `<extensions>_ext` section (a server's for the
    /// local names by default), valid ten years from now.
    func selfSigned(_ file: String, name: String, extensions: String = "server") throws -> Pair {
        let pair = (cert: "\(directory)/\(file).pem", key: try key(file))
        try run([
            "req", "-config", config, "-x509", "-new", "-key", pair.key, "-subj", "/CN=\(name)", "-days", "3650",
            "-extensions", "\(extensions)_ext", "-out", pair.cert,
        ])
        return pair
    }

    /// Base64 of SHA-256 over the key's SubjectPublicKeyInfo (DER).
    func pin(_ key: String) throws -> String {
        let spki = key + ".spki.der"
        let digest = spki + ".sha256"
        try run(["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", spki])
        try run(["dgst", "-sha256", "-binary", "-out", digest, spki])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: digest))
        guard bytes.count == 32 else { throw TLSFixture.Failure(description: "TLS fixture: \(digest) is not a digest") }
        return bytes.base64EncodedString()
    }
}
