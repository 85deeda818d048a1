import CCurl
import Foundation

/// What a failed TLS handshake means, in one line that says what is wrong and what fixes it, from libcurl's
/// code, the TLS library's verify result (OpenSSL's `X509_V_ERR_*`) and curl's error buffer, instead of curl's
/// generic "SSL peer certificate or SSH remote key was not OK".
struct TLSFailure {
    /// The codes only TLS ends a transfer with.
    static let codes: Set<CURLcode> = [
        CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_CACERT_BADFILE,
        CURLE_SSL_CERTPROBLEM, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ISSUER_ERROR,
    ]
    /// The codes of a connection that ended before any answer, which over TLS may be a refused client
    /// certificate: the server's alert, or (as Python's ssl and others do) a close or reset that loses it.
    static let closedCodes: Set<CURLcode> = [CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR]

    /// Whether a transfer that ended with `code` failed over TLS.
    static func applies(_ code: CURLcode, url: String, headDelivered: Bool) -> Bool {
        codes.contains(code) || (!headDelivered && closedCodes.contains(code) && url.lowercased().hasPrefix("https:"))
    }

    let code: CURLcode
    /// OpenSSL's verify result for the server's certificate (0: it passed, or no certificate was checked).
    let verifyResult: Int
    /// Whether the handshake completed before the connection ended.
    let handshakeDone: Bool
    /// curl's error buffer (or its generic text when the buffer is empty).
    let message: String
    let url: String
    let host: String
    let tls: TLSSettings?

    init(code: CURLcode, verifyResult: Int, handshakeDone: Bool, message: String, url: String, tls: TLSSettings?) {
        self.code = code
        self.verifyResult = verifyResult
        self.handshakeDone = handshakeDone
        self.message = message
        self.url = url
        host = Origin(url)?.host ?? url
        self.tls = tls
    }

    /// How to trust a private CA, for the messages that need it.
    private var trustHint: String {
        let checked = tls?.caFile.map { "the system's CAs and \(tls?.caFileSource ?? "--ca-file") (\($0))" }
        return "not one of \(checked ?? "the system's CAs"); trust its CA with `mcpconn update REF --ca-file CA.pem`"
    }

    var failure: TransportFailure {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR: return .certificate(serverCertificate)
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return .certificate(
                "the public key of \(host)'s certificate is not one pinned with --pin-sha256 (the server changed its key, or something is in the way)"
            )
        case CURLE_SSL_INVALIDCERTSTATUS: return .certificate("the certificate of \(host) has been revoked (OCSP)")
        case CURLE_SSL_CACERT_BADFILE: return .tlsSetup("cannot use the CA file: \(message)")
        case CURLE_SSL_CERTPROBLEM: return .tlsSetup("cannot use the client certificate or its key: \(message)")
        default: return handshake
        }
    }

    /// The server's certificate did not verify: why, from OpenSSL's verify result, else from curl's text.
    private var serverCertificate: String {
        let subject = "the certificate of \(host)"
        switch verifyResult {
        case 2, 20, 21:  // UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), UNABLE_TO_VERIFY_LEAF_SIGNATURE
            return "\(subject) is signed by an unknown CA: \(trustHint)"
        case 18:  // DEPTH_ZERO_SELF_SIGNED_CERT
            return "\(subject) is self-signed: \(trustHint) (the certificate itself), or pin its key with --pin-sha256"
        case 19:  // SELF_SIGNED_CERT_IN_CHAIN
            return "\(subject) chains to a self-signed CA that is not trusted: \(trustHint)"
        case 10: return "\(subject) has expired"  // CERT_HAS_EXPIRED
        case 9: return "\(subject) is not valid yet (check this machine's clock)"  // CERT_NOT_YET_VALID
        case 23: return "\(subject) has been revoked"  // CERT_REVOKED
        case 62, 64:  // HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
            return "\(subject) is for another name: it does not cover \(host)"
        case 26: return "\(subject) is not meant for a server (its key usage forbids it)"  // INVALID_PURPOSE
        default: break
        }
        let m = message.lowercased()
        if m.contains("subject name") || m.contains("does not match target host") {
            return "\(subject) is for another name: it does not cover \(host)"
        }
        return "\(subject) was refused: \(message)"
    }

    /// A handshake that failed before or while certificates were exchanged, told apart by OpenSSL's text (the
    /// alert the server sent, or what came back instead of TLS).
    private var handshake: TransportFailure {
        let m = message.lowercased()
        let hasCertificate = tls?.bindsIdentity(to: url) == true && tls?.clientCertFile != nil
        if m.contains("alert certificate required") || (m.contains("alert handshake failure") && !hasCertificate) {
            return .certificate(
                hasCertificate
                    ? "\(host) refused the client certificate"
                    : "\(host) requires a client certificate: add one with --client-cert PEM --client-key-file KEY")
        }
        for alert in ["unknown ca", "bad certificate", "certificate unknown", "certificate expired", "access denied"]
        where m.contains("alert \(alert)") {
            return .certificate("\(host) refused the client certificate (TLS alert: \(alert))")
        }
        if m.contains("wrong version number") || m.contains("packet length too long") {
            return .certificate("\(host) does not speak TLS on this port (an http:// server?)")
        }
        if code == CURLE_SSL_CONNECT_ERROR { return .certificate("TLS handshake with \(host) failed: \(message)") }
        if handshakeDone {
            // The alert was lost (a reset) or never sent: say what is likely, without claiming it.
            return .certificate(
                hasCertificate
                    ? "\(host) closed the connection right after the TLS handshake, without answering: it may have refused the client certificate"
                    : "\(host) closed the connection right after the TLS handshake, without answering: if it requires a client certificate, add one with --client-cert PEM --client-key-file KEY"
            )
        }
        if code == CURLE_GOT_NOTHING { return .truncated("the server closed the connection without answering") }
        return .unreachable(message)
    }
}
