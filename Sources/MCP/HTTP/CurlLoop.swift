import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A libcurl multi handle on a dedicated thread: every HTTP transfer of the process runs here, concurrently,
/// so no Swift task ever blocks on network I/O, and connections, DNS and TLS sessions are reused across requests.
///
/// The hand-over queues, the in-flight count and the drain waiters are one `Locked` state. Lock order: the
/// loop's lock, then a transfer's.
// @unchecked Sendable: libcurl's multi handle, `active` and `idleHandles` (C handles, not thread-safe) are touched
// only by the curl thread, after `init`; everything else is immutable or in `handOver`.
package final class CurlLoop: @unchecked Sendable {
    static let shared: CurlLoop = {
        _ = created.claim()
        return CurlLoop()
    }()

    /// Whether `shared` exists: asking `shared` itself would create it, loading libcurl.
    private static let created = OnceFlag()
    static var isCreated: Bool { created.isTaken }

    /// What the threads that start, cancel and drain transfers share with the curl thread.
    private struct HandOver {
        var pendingAdds: [CurlTransfer] = []
        var pendingCancels: [CurlTransfer] = []
        var threadStarted = false
        /// Transfers started and not yet ended, and who waits (until when) for that number to reach zero.
        var inFlight = 0
        var idleWaiters: [(deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Bool, Never>)] = []
    }
    private let handOver = Locked(HandOver())

    private var multi: UnsafeMutableRawPointer?
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    /// The sockets this loop's transfers opened: one list per loop, since each loop has its own thread (a
    /// process-wide list, touched by the shared loop and a test's own loop at once, corrupted the heap).
    private let sockets = CurlSockets()

    /// libcurl's entry points; nil when it could not be loaded (every transfer then fails, saying why).
    private let curl: CurlSymbols?
    private let loadFailure: TransportFailure?

    /// The process uses `shared`; tests make loops of their own.
    init() {
        switch CurlSymbols.shared {
        case .success(let c):
            curl = c
            loadFailure = nil
            multi = mcpconn_multi_init(c.multiInit)
            // Many connectors at once: a bounded connection cache, reused per host.
            _ = mcpconn_curl_multi_setopt_long(c.multiSetopt, multi, CURLMOPT_MAXCONNECTS, 64)
        case .failure(let f):
            curl = nil
            loadFailure = f
        }
    }

    /// Runs `transfer` on the shared loop (see ``perform(_:_:)``).
    package static func perform<R: Sendable>(
        _ transfer: CurlTransfer, _ install: (CheckedContinuation<R, Never>) -> Void
    ) async
        -> R
    {
        await shared.perform(transfer, install)
    }

    /// Runs `transfer` and waits for the continuation `install` hands to its consumer, which resumes it when the
    /// transfer ends; cancelling the task cancels the transfer, even before it started.
    func perform<R: Sendable>(_ transfer: CurlTransfer, _ install: (CheckedContinuation<R, Never>) -> Void) async -> R {
        await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                install(c)
                start(transfer)
            }
        } onCancel: {
            cancel(transfer)
        }
    }

    /// Starts a transfer; the consumer hears about it on the curl thread (or here, if it cannot start).
    func start(_ transfer: CurlTransfer) {
        let (action, startThread) = handOver.withLock { h in
            let action = transfer.transition { $0.start(unavailable: loadFailure) }
            guard action == .enqueue else { return (action, false) }
            h.pendingAdds.append(transfer)
            h.inFlight += 1
            defer { h.threadStarted = true }
            return (action, !h.threadStarted)
        }
        if startThread {
            let t = Thread { [unowned self] in self.run() }
            t.name = "mcpconn-curl"
            t.start()
        }
        switch action {
        case .enqueue: wake()
        case .finish(let failure): transfer.consumer.finished(failure)
        }
    }

    /// Stops a transfer; its consumer is told `.cancelled` unless it already ended. A transfer not started yet
    /// ends as cancelled when it starts.
    func cancel(_ transfer: CurlTransfer) {
        switch transfer.transition({ $0.cancel() }) {
        case .nothing: return
        case .finishQueued:
            transfer.consumer.finished(.cancelled)
            transferEnded()
        case .detach:
            handOver.withLock { $0.pendingCancels.append(transfer) }
            wake()
        }
    }

    private func wake() {
        if let curl { _ = mcpconn_multi_wakeup(curl.multiWakeup, multi) }
    }

    /// Transfers the loop counts as in flight (started, not ended).
    var inFlightCount: Int { handOver.withLock { $0.inFlight } }

    private func run() {
        guard let curl else { return }
        while true {
            let (adds, cancels) = handOver.withLock { h in
                defer {
                    h.pendingAdds.removeAll()
                    h.pendingCancels.removeAll()
                }
                return (h.pendingAdds, h.pendingCancels)
            }
            for t in adds { attach(t) }
            for t in cancels { end(t, failure: .cancelled) }
            var running: Int32 = 0
            _ = mcpconn_multi_perform(curl.multiPerform, multi, &running)
            var left: Int32 = 0
            while let msg = mcpconn_multi_info_read(curl.multiInfoRead, multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle, let t = active[easy] else {
                    continue
                }
                let code = msg.pointee.data.result
                end(t, failure: t.failure ?? classify(code, t))
            }
            let nextWake = endOverdue(now: .now)
            let gap = (nextWake - .now).components
            let wait = Int32(max(0, min(1000, gap.seconds * 1000 + gap.attoseconds / 1_000_000_000_000_000 + 1)))
            _ = mcpconn_multi_poll(curl.multiPoll, multi, wait)
        }
    }

    /// Ends transfers past their linger time or deadline and releases drain waiters past theirs; returns when
    /// the next of those times comes (at most a second away).
    private func endOverdue(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        var nextWake = now + .seconds(1)
        for t in active.values {
            if let l = t.transition({ $0.lingerDeadline }) {
                if l <= now {
                    end(t, failure: nil)
                    continue
                }
                nextWake = min(nextWake, l)
            }
            if let d = t.deadline {
                if d <= now {
                    end(t, failure: .timeout)
                    continue
                }
                nextWake = min(nextWake, d)
            }
        }
        let expired = handOver.withLock { h in
            var expired: [CheckedContinuation<Bool, Never>] = []
            h.idleWaiters.removeAll { w in
                if w.deadline <= now { expired.append(w.continuation) } else { nextWake = min(nextWake, w.deadline) }
                return w.deadline <= now
            }
            return expired
        }
        for c in expired { c.resume(returning: false) }
        return nextWake
    }

    private func classify(_ code: CURLcode, _ t: CurlTransfer) -> TransportFailure? {
        switch code {
        case CURLE_OK: return nil
        // The consumer has its answer: whatever cut the stream short afterwards does not matter.
        case _ where t.transition({ $0.lingerDeadline }) != nil: return nil
        case CURLE_WRITE_ERROR where t.stopRequested: return nil
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        // A framing error (curl 7.88: negative Content-Length is WEIRD_SERVER_REPLY, a bad or overflowing
        // chunk size is RECV_ERROR "... in chunked-encoding") is the server's protocol fault, not its absence.
        case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .malformed(curlMessage(code, t))
        case CURLE_RECV_ERROR where curlMessage(code, t).contains("chunked-encoding"):
            return .malformed(curlMessage(code, t))
        case CURLE_PARTIAL_FILE:
            return .truncated(curl!.strerror(code))
        case CURLE_RECV_ERROR where t.headDelivered:
            return .truncated(curl!.strerror(code))
        case _ where TLSFailure.applies(code, url: t.request.url, headDelivered: t.headDelivered):
            return TLSFailure(
                code: code, verifyResult: verifyResult(t), handshakeDone: handshakeDone(t),
                message: curlMessage(code, t), url: t.request.url, tls: t.request.effectiveTLS
            ).failure
        case CURLE_GOT_NOTHING: return .truncated("the server closed the connection without answering")
        default: return .unreachable(curl!.strerror(code))
        }
    }

    /// The TLS library's verdict on the server's certificate (OpenSSL's X509_V_* code; 0 when it passed).
    private func verifyResult(_ t: CurlTransfer) -> Int {
        guard let curl, let easy = t.easy else { return 0 }
        var result = 0
        _ = mcpconn_curl_getinfo_long(curl.easyGetinfo, easy, CURLINFO_SSL_VERIFYRESULT, &result)
        return result
    }

    /// Whether the transfer's TLS handshake completed (CURLINFO_APPCONNECT_TIME_T is set then).
    private func handshakeDone(_ t: CurlTransfer) -> Bool {
        guard let curl, let easy = t.easy else { return false }
        var micros: curl_off_t = 0
        _ = mcpconn_curl_getinfo_off(curl.easyGetinfo, easy, CURLINFO_APPCONNECT_TIME_T, &micros)
        return micros > 0
    }

    /// curl's message for a failed transfer: its error buffer when filled, else the code's generic text.
    private func curlMessage(_ code: CURLcode, _ t: CurlTransfer) -> String {
        if let b = t.errorBuffer, b[0] != 0 { return ServerText.oneLine(String(cString: b), limit: 200) }
        return curl!.strerror(code)
    }

    private func attach(_ t: CurlTransfer) {
        guard t.transition({ $0.attach() }) else { return }  // cancelled while queued: it never reaches libcurl
        guard let curl, !t.failsToAttach, let easy = idleHandles.popLast() ?? mcpconn_easy_init(curl.easyInit) else {
            end(t, failure: .unreachable("cannot create a curl handle"))
            return
        }
        t.easy = easy
        let me = Unmanaged.passUnretained(t).toOpaque()
        let r = t.request
        let set = curl.easySetopt
        _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_URL, r.url)
        _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_NOSIGNAL, 1)
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_SSL_VERIFYHOST, 2)
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_ACCEPT_ENCODING, "")
        _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_USERAGENT, "mcpconn/\(MCPConnVersion.string)")
        switch r.method {
        case "GET": _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_HTTPGET, 1)
        case "POST":
            let body = r.body ?? []
            _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_POST, 1)
            _ = mcpconn_curl_setopt_off(set, easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            body.withUnsafeBufferPointer { p in
                _ = p.baseAddress.map { base in
                    mcpconn_curl_setopt_pointer(
                        set, easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                }
            }
            if body.isEmpty { _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_COPYPOSTFIELDS, "") }
        default: _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_CUSTOMREQUEST, r.method)
        }
        applyTLS(r, easy, curl)
        var list: UnsafeMutablePointer<curl_slist>?
        // curl adds "Expect: 100-continue" to big POSTs, costing a round trip: turn it off.
        for line in r.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            list = mcpconn_slist_append(curl.slistAppend, list, line)
        }
        t.headerList = list
        _ = mcpconn_curl_setopt_slist(set, easy, CURLOPT_HTTPHEADER, list)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer[0] = 0
        t.errorBuffer = errorBuffer
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_PRIVATE, me)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_WRITEDATA, me)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_HEADERDATA, me)
        _ = mcpconn_curl_setopt_write_function(set, easy, curlWrite)
        _ = mcpconn_curl_setopt_header_function(set, easy, curlHeader)
        t.sockets = sockets
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_SOCKOPTDATA, Unmanaged.passUnretained(sockets).toOpaque())
        _ = mcpconn_curl_setopt_sockopt_function(set, easy, curlSockopt)
        active[easy] = t
        _ = mcpconn_multi_add_handle(curl.multiAddHandle, multi, easy)
    }

    /// The connector's TLS settings (or the environment's CA bundle): an extra CA bundle on top of the system's
    /// store, and, for the connector's own origin, its client certificate (the key from memory) and pinned keys.
    private func applyTLS(_ r: HTTPRequest, _ easy: UnsafeMutableRawPointer, _ curl: CurlSymbols) {
        let tls = r.effectiveTLS
        let set = curl.easySetopt
        if let ca = tls.caFile {
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_CAINFO, ca)
            // CAINFO replaces the bundle; the system's CA directory keeps the public CAs trusted beside it.
            if let dir = curl.systemCADirectory { _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_CAPATH, dir) }
        }
        guard tls.bindsIdentity(to: r.url) else { return }
        if let cert = tls.clientCertFile, let key = tls.clientKey {
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_SSLCERT, cert)
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_SSLKEYTYPE, "PEM")
            _ = key.withUnsafeBytes { k in
                mcpconn_curl_setopt_blob(set, easy, CURLOPT_SSLKEY_BLOB, k.baseAddress, k.count)
            }
            // An encrypted key fails at once instead of OpenSSL asking for its passphrase on the terminal.
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_KEYPASSWD, "")
        }
        if tls.certificateCapture?.isEmpty == true, r.url.hasPrefix("https:") {
            _ = mcpconn_curl_setopt_long(set, easy, CURLOPT_CERTINFO, 1)
        }
        if let pins = tls.curlPinnedPublicKey {
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_PINNEDPUBLICKEY, pins)
        }
    }

    /// Ends an attached transfer on the curl thread: unless it already ended, takes it off the multi handle,
    /// keeps its handle for reuse and tells its consumer.
    private func end(_ t: CurlTransfer, failure: TransportFailure?) {
        guard t.transition({ $0.finish() }) else { return }
        if let curl, let easy = t.easy {
            keepCertificate(t, easy, curl)
            _ = mcpconn_multi_remove_handle(curl.multiRemoveHandle, multi, easy)
            active[easy] = nil
            mcpconn_slist_free_all(curl.slistFreeAll, t.headerList)
            t.headerList = nil
            t.easy = nil
            // A handle keeps its DNS and TLS session caches across reset: reuse it for the next transfer.
            mcpconn_easy_reset(curl.easyReset, easy)
            t.errorBuffer?.deallocate()
            t.errorBuffer = nil
            if idleHandles.count < 16 { idleHandles.append(easy) } else { mcpconn_easy_cleanup(curl.easyCleanup, easy) }
        }
        var f = failure
        if f == nil, !t.headDelivered {
            if t.head.status == 0 {
                f = .truncated("no response")
            } else {
                _ = t.deliverHeadIfNeeded()
            }
        }
        t.consumer.finished(f)
        transferEnded()
    }

    /// The server's leaf certificate, for a transfer that asked for it (CURLOPT_CERTINFO): libcurl gives the
    /// chain only when this transfer made the handshake, so a transfer over a reused connection leaves it to the
    /// next one.
    private func keepCertificate(_ t: CurlTransfer, _ easy: UnsafeMutableRawPointer, _ curl: CurlSymbols) {
        guard let tls = t.request.tls, let capture = tls.certificateCapture, capture.isEmpty,
            tls.bindsIdentity(to: t.request.url)
        else { return }
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard mcpconn_curl_getinfo_certinfo(curl.easyGetinfo, easy, &info) == CURLE_OK, let info,
            info.pointee.num_of_certs > 0, var field = info.pointee.certinfo?[0]
        else { return }
        while true {
            if let text = field.pointee.data, strncmp(text, "Cert:", 5) == 0 {
                capture.keep(String(cString: text + 5))
                return
            }
            guard let next = field.pointee.next else { return }
            field = next
        }
    }

    /// Counts a transfer as ended; at zero in flight, releases the drain waiters.
    private func transferEnded() {
        let waiters = handOver.withLock { h in
            h.inFlight -= 1
            guard h.inFlight == 0 else { return [CheckedContinuation<Bool, Never>]() }
            defer { h.idleWaiters.removeAll() }
            return h.idleWaiters.map(\.continuation)
        }
        for c in waiters { c.resume(returning: true) }
    }

    /// Waits until every transfer has ended (background DELETEs, say), or until `deadline`; true when all
    /// ended. The curl thread watches the deadline: no timer outlives the wait.
    @discardableResult
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let waiting = handOver.withLock { h in
                if h.inFlight > 0 { h.idleWaiters.append((deadline, c)) }
                return h.inFlight > 0
            }
            guard waiting else {
                c.resume(returning: true)
                return
            }
            wake()  // the curl thread's poll must end by this deadline
        }
    }
}
