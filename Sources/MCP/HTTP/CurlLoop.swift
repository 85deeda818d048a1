import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a transfer's consumer wants after seeing data.
package enum TransferVerdict {
    /// Keep receiving.
    case more
    /// The answer is complete: resume the waiter now, let the server finish the stream briefly, then drop it.
    case done
    /// Stop the transfer now.
    case stop
}

/// Receives a transfer's head and body on the curl thread. Implementations must be quick and never block.
package protocol TransferConsumer: AnyObject {
    /// Called once per response head (before any body data).
    func head(_ head: HTTPHead) -> TransferVerdict
    /// Called with each piece of body.
    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict
    /// Called exactly once when the transfer ends for any reason (nil failure: it completed): on the curl
    /// thread, or, for a transfer cancelled before it reached libcurl, on the thread that started or cancelled it.
    func finished(_ failure: TransportFailure?)
}

/// One HTTP exchange driven by the curl thread.
///
/// Safe to share: its lifecycle (`machine`) changes only under `lock`, and cancel acts on this object itself, so
/// a late cancel finds it finished instead of hitting another transfer. The fields after `machine` are touched
/// only by the curl thread, between its attach and its end (the loop's lock hands the transfer over).
package final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let deadline: ContinuousClock.Instant?
    let maxBytes: Int
    let consumer: TransferConsumer
    /// Test seam: attach fails as if libcurl could not create a handle.
    var failsToAttach = false

    private let lock = NSLock()
    private var machine = TransferStateMachine()

    fileprivate var easy: UnsafeMutableRawPointer?
    fileprivate var headerList: UnsafeMutablePointer<curl_slist>?
    /// curl's own message for the transfer's failure (CURLOPT_ERRORBUFFER), more precise than its code's.
    fileprivate var errorBuffer: UnsafeMutablePointer<CChar>?
    fileprivate var head = HTTPHead()
    fileprivate var headDelivered = false
    fileprivate var received = 0
    fileprivate var failure: TransportFailure?
    fileprivate var stopRequested = false
    /// The sockets of the loop that runs this transfer, for the quick ACK at the end of a head.
    fileprivate var sockets: CurlSockets?

    package init(request: HTTPRequest, deadline: ContinuousClock.Instant?, maxBytes: Int, consumer: TransferConsumer) {
        self.request = request
        self.deadline = deadline
        self.maxBytes = maxBytes
        self.consumer = consumer
    }

    /// Changes the lifecycle under the lock; act on the result after it returns.
    fileprivate func transition<R>(_ change: (inout TransferStateMachine) -> R) -> R {
        lock.withLock { change(&machine) }
    }

    var state: TransferStateMachine.State { lock.withLock { machine.state } }

    fileprivate func deliverHeadIfNeeded() -> TransferVerdict {
        if headDelivered { return .more }
        headDelivered = true
        return consumer.head(head)
    }

    fileprivate func apply(_ verdict: TransferVerdict) -> Bool {
        switch verdict {
        case .more: return true
        case .done:
            transition { $0.answered(lingerUntil: .now + .milliseconds(500)) }
            return true
        case .stop:
            stopRequested = true
            return false
        }
    }
}

/// A libcurl multi handle on a dedicated thread: every HTTP transfer of the process runs here, concurrently,
/// so no Swift task ever blocks on network I/O, and connections, DNS and TLS sessions are reused across requests.
///
/// Safe to share: the hand-over queues, the in-flight count and the drain waiters live under `lock`; `active`
/// and `idleHandles` are touched only by the curl thread. Lock order: the loop's lock, then a transfer's.
package final class CurlLoop: @unchecked Sendable {
    static let shared: CurlLoop = {
        _ = created.claim()
        return CurlLoop()
    }()

    /// Whether `shared` exists: asking `shared` itself would create it, loading libcurl.
    private static let created = OnceFlag()
    static var isCreated: Bool { created.isTaken }

    private let lock = NSLock()
    private var pendingAdds: [CurlTransfer] = []
    private var pendingCancels: [CurlTransfer] = []
    private var thread: Thread?
    /// Transfers started and not yet ended, and who waits (until when) for that number to reach zero.
    private var inFlight = 0
    private var idleWaiters: [(deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Bool, Never>)] = []

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
        lock.lock()
        let action = transfer.transition { $0.start(unavailable: loadFailure) }
        if action == .enqueue {
            pendingAdds.append(transfer)
            inFlight += 1
            if thread == nil {
                let t = Thread { [unowned self] in self.run() }
                t.name = "mcpconn-curl"
                thread = t
                t.start()
            }
        }
        lock.unlock()
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
            lock.withLock { pendingCancels.append(transfer) }
            wake()
        }
    }

    private func wake() {
        if let curl { _ = mcpconn_multi_wakeup(curl.multiWakeup, multi) }
    }

    /// Transfers the loop counts as in flight (started, not ended).
    var inFlightCount: Int { lock.withLock { inFlight } }

    private func run() {
        guard let curl else { return }
        while true {
            lock.lock()
            let adds = pendingAdds
            let cancels = pendingCancels
            pendingAdds.removeAll()
            pendingCancels.removeAll()
            lock.unlock()
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
        lock.lock()
        var expired: [CheckedContinuation<Bool, Never>] = []
        idleWaiters.removeAll { w in
            if w.deadline <= now { expired.append(w.continuation) } else { nextWake = min(nextWake, w.deadline) }
            return w.deadline <= now
        }
        lock.unlock()
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
        if let pins = tls.curlPinnedPublicKey {
            _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_PINNEDPUBLICKEY, pins)
        }
    }

    /// Ends an attached transfer on the curl thread: unless it already ended, takes it off the multi handle,
    /// keeps its handle for reuse and tells its consumer.
    private func end(_ t: CurlTransfer, failure: TransportFailure?) {
        guard t.transition({ $0.finish() }) else { return }
        if let curl, let easy = t.easy {
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

    /// Counts a transfer as ended; at zero in flight, releases the drain waiters.
    private func transferEnded() {
        lock.lock()
        inFlight -= 1
        let waiters = inFlight == 0 ? idleWaiters.map(\.continuation) : []
        if inFlight == 0 { idleWaiters.removeAll() }
        lock.unlock()
        for c in waiters { c.resume(returning: true) }
    }

    /// Waits until every transfer has ended (background DELETEs, say), or until `deadline`; true when all
    /// ended. The curl thread watches the deadline: no timer outlives the wait.
    @discardableResult
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            lock.lock()
            guard inFlight > 0 else {
                lock.unlock()
                c.resume(returning: true)
                return
            }
            idleWaiters.append((deadline, c))
            lock.unlock()
            wake()  // the curl thread's poll must end by this deadline
        }
    }
}

/// A flag that lets exactly one of several racers act.
final class OnceFlag: Sendable {
    private let taken = Locked(false)
    var isTaken: Bool { taken.withLock { $0 } }
    func claim() -> Bool {
        taken.withLock { taken in
            if taken { return false }
            taken = true
            return true
        }
    }
}

/// Ignores a transfer's answer (fire-and-forget requests).
final class DiscardConsumer: TransferConsumer, @unchecked Sendable {
    func head(_ head: HTTPHead) -> TransferVerdict { .more }
    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict { .more }
    func finished(_ failure: TransportFailure?) {}
}

private let curlWrite: mcpconn_curl_data_callback = { ptr, size, count, user in
    let t = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    if t.stopRequested { return 0 }
    if !t.apply(t.deliverHeadIfNeeded()) { return 0 }
    t.received += n
    if t.received > t.maxBytes {
        t.failure = .oversized(t.maxBytes)
        return 0
    }
    guard let ptr, n > 0 else { return n }
    let verdict = t.consumer.body(UnsafeRawBufferPointer(start: ptr, count: n))
    return t.apply(verdict) ? n : 0
}

private let curlHeader: mcpconn_curl_data_callback = { ptr, size, count, user in
    let t = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    guard let ptr else { return n }
    let line = trimmedASCII(UnsafeRawBufferPointer(start: ptr, count: n)[...])
    if line.isEmpty {
        // End of the head. Servers that write head and body separately without TCP_NODELAY (uvicorn) wait
        // for our ACK before sending the body, and a kept-alive connection delays that ACK by 40 ms: ack now.
        t.sockets?.quickAck()
        // A final head goes to the consumer now, not with the first body byte: an event stream may send no
        // byte for a long time, and whoever waits for it to open must not wait for that.
        if t.head.status >= 200, !t.apply(t.deliverHeadIfNeeded()) { return 0 }
    } else if line.starts(with: "HTTP/".utf8) {
        // A new status line (after 100 Continue, say): start the head afresh.
        let parts = String(decoding: line, as: UTF8.self).split(separator: " ", maxSplits: 2)
        t.head = HTTPHead(status: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, headers: [])
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")), t.head.headers.count < 200 {
        t.head.headers.append(
            (
                name: String(decoding: trimmedASCII(line[..<colon]), as: UTF8.self),
                value: String(decoding: trimmedASCII(line[(colon + 1)...]), as: UTF8.self)
            ))
    }
    return n
}

/// `bytes` without the spaces, tabs and line ends around them. Header lines are ASCII framing: trimming them as
/// bytes, not with Foundation's Unicode-aware trimming, took 10% off serve's CPU per forwarded call.
private func trimmedASCII(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
    var lo = bytes.startIndex
    var hi = bytes.endIndex
    while lo < hi, isSpace(bytes[lo]) { lo += 1 }
    while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
    return bytes[lo..<hi]
}

/// The sockets one loop's curl opened, known from its sockopt callback. curl does not tell which connection a
/// transfer reuses, so a quick ACK goes to all of them: a few cheap syscalls; entries that are no longer sockets
/// are dropped.
// @unchecked Sendable: only the owning loop's thread touches it (curl's callbacks run there), and the loop keeps
// it alive for as long as its transfers may call back.
final class CurlSockets: @unchecked Sendable {
    private var fds: [curl_socket_t] = []

    fileprivate func add(_ fd: curl_socket_t) {
        if fds.count < 256 { fds.append(fd) }
    }

    /// Sends any pending TCP ACK at once on the sockets (Linux TCP_QUICKACK); elsewhere a no-op.
    fileprivate func quickAck() {
        #if os(Linux)
            var one: Int32 = 1
            fds.removeAll { fd in
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size)) != 0
            }
        #endif
    }
}

private let curlSockopt: mcpconn_curl_sockopt_callback = { user, fd, _ in
    Unmanaged<CurlSockets>.fromOpaque(user!).takeUnretainedValue().add(fd)
    return 0  // CURL_SOCKOPT_OK
}

/// The version string of mcpconn.
public enum MCPConnVersion {
    public static let string = "0.1.0"
}

/// Process-wide network housekeeping for the command line.
public enum Network {
    /// Starts loading libcurl on a thread of its own, for a command that will talk to a server: its dynamic
    /// linking and TLS set-up (the largest part of such a command's start-up) then overlap argument parsing and
    /// the store's work on the other core instead of following them. Await the result's ``CurlPrewarm/loaded()``
    /// before the process exits, even after an early error: exiting while that thread is inside dlopen or
    /// curl_global_init would run the libraries' destructors under it.
    public static func prewarm() async -> CurlPrewarm {
        // dlopen holds the dynamic loader's lock throughout, and creating a thread needs that lock: let Swift's
        // executor start its threads first, or the command's first hop to it waits for the whole load.
        await Task.detached {}.value
        let load = CurlPrewarm()
        Thread {
            _ = CurlSymbols.shared
            load.finish()
        }.start()
        return load
    }

    /// Lets background requests (session DELETEs) finish, for at most `seconds`.
    /// Commands that never talked to a server return at once, without loading libcurl.
    public static func drain(seconds: Double = 2) async {
        guard CurlLoop.isCreated else { return }
        await CurlLoop.shared.drain(until: .now + .milliseconds(Int(seconds * 1000)))
    }
}

/// A libcurl load running on its own thread (see ``Network/prewarm()``).
public final class CurlPrewarm: Sendable {
    private let done = OneTimeEvent()

    fileprivate func finish() { done.happen() }

    /// Returns once the load has ended, whether or not it succeeded.
    public func loaded() async { await done.wait() }
}
