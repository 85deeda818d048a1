import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a transfer's consumer wants after seeing data.
enum TransferVerdict {
    /// Keep receiving.
    case more
    /// The answer is complete: resume the waiter now, let the server finish the stream briefly, then drop it.
    case done
    /// Stop the transfer now.
    case stop
}

/// Receives a transfer's head and body on the curl thread. Implementations must be quick and never block.
protocol TransferConsumer: AnyObject {
    /// Called once per response head (before any body data).
    func head(_ head: HTTPHead) -> TransferVerdict
    /// Called with each piece of body.
    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict
    /// Called once when the transfer ends for any reason (nil failure: it completed).
    func finished(_ failure: TransportFailure?)
}

/// One HTTP exchange driven by the curl thread.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let deadline: ContinuousClock.Instant?
    let maxBytes: Int
    let consumer: TransferConsumer

    // State below is touched only on the curl thread.
    fileprivate var easy: UnsafeMutableRawPointer?
    fileprivate var headerList: UnsafeMutablePointer<curl_slist>?
    fileprivate var head = HTTPHead()
    fileprivate var headDelivered = false
    fileprivate var received = 0
    fileprivate var failure: TransportFailure?
    fileprivate var lingerUntil: ContinuousClock.Instant?
    fileprivate var stopRequested = false
    fileprivate var ended = false

    init(request: HTTPRequest, deadline: ContinuousClock.Instant?, maxBytes: Int, consumer: TransferConsumer) {
        self.request = request
        self.deadline = deadline
        self.maxBytes = maxBytes
        self.consumer = consumer
    }

    fileprivate func deliverHeadIfNeeded() -> TransferVerdict {
        if headDelivered { return .more }
        headDelivered = true
        return consumer.head(head)
    }

    fileprivate func apply(_ verdict: TransferVerdict) -> Bool {
        switch verdict {
        case .more: return true
        case .done:
            if lingerUntil == nil { lingerUntil = .now + .milliseconds(500) }
            return true
        case .stop:
            stopRequested = true
            return false
        }
    }
}

/// A libcurl multi handle on a dedicated thread: every HTTP transfer of the process runs here, concurrently,
/// so no Swift task ever blocks on network I/O, and connections, DNS and TLS sessions are reused across requests.
final class CurlLoop: @unchecked Sendable {
    static let shared: CurlLoop = {
        _ = created.claim()
        return CurlLoop()
    }()

    /// Whether `shared` exists: asking `shared` itself would create it, loading libcurl.
    private static let created = OnceFlag()
    static var isCreated: Bool { created.isTaken }

    private let lock = NSLock()
    private var pendingAdds: [CurlTransfer] = []
    private var pendingCancels: [ObjectIdentifier] = []
    private var multi: UnsafeMutableRawPointer?
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private var thread: Thread?
    /// Transfers started and not yet ended, and who waits for that number to reach zero.
    private var inFlight = 0
    private var idleWaiters: [(continuation: CheckedContinuation<Void, Never>, flag: OnceFlag)] = []

    /// libcurl's entry points; nil when it could not be loaded (every transfer then fails, saying why).
    private let curl: CurlSymbols?
    private let loadFailure: TransportFailure?

    private init() {
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

    /// Runs `transfer` and waits for the continuation `install` hands to its consumer, which resumes it on the
    /// curl thread; cancelling the task cancels the transfer.
    static func perform<R: Sendable>(_ transfer: CurlTransfer, _ install: (CheckedContinuation<R, Never>) -> Void) async -> R {
        await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                install(c)
                shared.start(transfer)
            }
        } onCancel: {
            shared.cancel(transfer)
        }
    }

    /// Starts a transfer; the consumer hears about it on the curl thread.
    func start(_ transfer: CurlTransfer) {
        guard let curl else {
            transfer.consumer.finished(loadFailure)
            return
        }
        lock.lock()
        pendingAdds.append(transfer)
        inFlight += 1
        if thread == nil {
            let t = Thread { [unowned self] in self.run() }
            t.name = "mcpconn-curl"
            thread = t
            t.start()
        }
        lock.unlock()
        _ = mcpconn_multi_wakeup(curl.multiWakeup, multi)
    }

    /// Stops a transfer; its consumer is told `.cancelled` unless it already ended.
    func cancel(_ transfer: CurlTransfer) {
        lock.lock()
        pendingCancels.append(ObjectIdentifier(transfer))
        lock.unlock()
        if let curl { _ = mcpconn_multi_wakeup(curl.multiWakeup, multi) }
    }

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
            if !cancels.isEmpty {
                for (easy, t) in active where cancels.contains(ObjectIdentifier(t)) {
                    end(easy, t, failure: .cancelled)
                }
            }
            var running: Int32 = 0
            _ = mcpconn_multi_perform(curl.multiPerform, multi, &running)
            var left: Int32 = 0
            while let msg = mcpconn_multi_info_read(curl.multiInfoRead, multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle, let t = active[easy] else {
                    continue
                }
                let code = msg.pointee.data.result
                end(easy, t, failure: t.failure ?? classify(code, t))
            }
            let now = ContinuousClock.now
            var nextWake = now + .seconds(1)
            for (easy, t) in active {
                if let l = t.lingerUntil {
                    if l <= now {
                        end(easy, t, failure: nil)
                        continue
                    }
                    nextWake = min(nextWake, l)
                }
                if let d = t.deadline {
                    if d <= now {
                        end(easy, t, failure: .timeout)
                        continue
                    }
                    nextWake = min(nextWake, d)
                }
            }
            let gap = (nextWake - now).components
            let wait = Int32(max(0, min(1000, gap.seconds * 1000 + gap.attoseconds / 1_000_000_000_000_000 + 1)))
            _ = mcpconn_multi_poll(curl.multiPoll, multi, wait)
        }
    }

    private func classify(_ code: CURLcode, _ t: CurlTransfer) -> TransportFailure? {
        switch code {
        case CURLE_OK: return nil
        case CURLE_WRITE_ERROR where t.stopRequested || t.lingerUntil != nil: return nil
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_PARTIAL_FILE:
            return .truncated(curl!.strerror(code))
        case CURLE_RECV_ERROR where t.headDelivered:
            return .truncated(curl!.strerror(code))
        case CURLE_GOT_NOTHING: return .truncated("the server closed the connection without answering")
        default:
            if t.lingerUntil != nil { return nil }
            return .unreachable(curl!.strerror(code))
        }
    }

    private func attach(_ t: CurlTransfer) {
        guard let curl, let easy = idleHandles.popLast() ?? mcpconn_easy_init(curl.easyInit) else {
            t.consumer.finished(.unreachable("cannot create a curl handle"))
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
                    mcpconn_curl_setopt_pointer(set, easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                }
            }
            if body.isEmpty { _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_COPYPOSTFIELDS, "") }
        default: _ = mcpconn_curl_setopt_string(set, easy, CURLOPT_CUSTOMREQUEST, r.method)
        }
        var list: UnsafeMutablePointer<curl_slist>?
        // curl adds "Expect: 100-continue" to big POSTs, costing a round trip: turn it off.
        for line in r.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            list = mcpconn_slist_append(curl.slistAppend, list, line)
        }
        t.headerList = list
        _ = mcpconn_curl_setopt_slist(set, easy, CURLOPT_HTTPHEADER, list)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_PRIVATE, me)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_WRITEDATA, me)
        _ = mcpconn_curl_setopt_pointer(set, easy, CURLOPT_HEADERDATA, me)
        _ = mcpconn_curl_setopt_write_function(set, easy, curlWrite)
        _ = mcpconn_curl_setopt_header_function(set, easy, curlHeader)
        _ = mcpconn_curl_setopt_sockopt_function(set, easy, curlSockopt)
        active[easy] = t
        _ = mcpconn_multi_add_handle(curl.multiAddHandle, multi, easy)
    }

    private func end(_ easy: UnsafeMutableRawPointer, _ t: CurlTransfer, failure: TransportFailure?) {
        guard !t.ended, let curl else { return }
        t.ended = true
        _ = mcpconn_multi_remove_handle(curl.multiRemoveHandle, multi, easy)
        active[easy] = nil
        mcpconn_slist_free_all(curl.slistFreeAll, t.headerList)
        t.headerList = nil
        // A handle keeps its DNS and TLS session caches across reset: reuse it for the next transfer.
        mcpconn_easy_reset(curl.easyReset, easy)
        if idleHandles.count < 16 { idleHandles.append(easy) } else { mcpconn_easy_cleanup(curl.easyCleanup, easy) }
        var f = failure
        if f == nil, !t.headDelivered {
            if t.head.status == 0 {
                f = .truncated("no response")
            } else {
                _ = t.deliverHeadIfNeeded()
            }
        }
        t.consumer.finished(f)
        lock.lock()
        inFlight -= 1
        let waiters = inFlight == 0 ? idleWaiters : []
        if inFlight == 0 { idleWaiters.removeAll() }
        lock.unlock()
        for w in waiters where w.flag.claim() { w.continuation.resume() }
    }

    /// Waits until every transfer has ended (background DELETEs, say), or until `deadline`.
    func drain(until deadline: ContinuousClock.Instant) async {
        let flag = OnceFlag()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            lock.lock()
            if inFlight == 0 {
                lock.unlock()
                c.resume()
                return
            }
            idleWaiters.append((c, flag))
            lock.unlock()
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if flag.claim() { c.resume() }
            }
        }
    }
}

/// A flag that lets exactly one of several racers act.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false
    var isTaken: Bool { lock.withLock { taken } }
    func claim() -> Bool {
        lock.withLock {
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
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.isEmpty {
        // End of the head. Servers that write head and body separately without TCP_NODELAY (uvicorn) wait
        // for our ACK before sending the body, and a kept-alive connection delays that ACK by 40 ms: ack now.
        quickAck()
    } else if line.hasPrefix("HTTP/") {
        // A new status line (after 100 Continue, say): start the head afresh.
        let parts = line.split(separator: " ", maxSplits: 2)
        t.head = HTTPHead(status: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, headers: [])
    } else if let colon = line.firstIndex(of: ":") {
        if t.head.headers.count < 200 {
            t.head.headers.append(
                (
                    name: String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                    value: String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                ))
        }
    }
    return n
}

/// The sockets curl opened, known from its sockopt callback (touched on the curl thread only).
/// curl does not tell which connection a transfer reuses, so a quick ACK goes to all of them: a few cheap
/// syscalls; entries that are no longer sockets are dropped.
nonisolated(unsafe) private var curlSockets: [curl_socket_t] = []

private let curlSockopt: mcpconn_curl_sockopt_callback = { _, fd, _ in
    if curlSockets.count < 256 { curlSockets.append(fd) }
    return 0  // CURL_SOCKOPT_OK
}

/// Sends any pending TCP ACK at once on our sockets (Linux TCP_QUICKACK); elsewhere a no-op.
private func quickAck() {
    #if os(Linux)
        var one: Int32 = 1
        curlSockets.removeAll { fd in
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size)) != 0
        }
    #endif
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
public final class CurlPrewarm: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    fileprivate func finish() {
        let ws = lock.withLock {
            done = true
            defer { waiters = [] }
            return waiters
        }
        for w in ws { w.resume() }
    }

    /// Returns once the load has ended, whether or not it succeeded.
    public func loaded() async {
        await withCheckedContinuation { c in
            let now = lock.withLock {
                if !done { waiters.append(c) }
                return done
            }
            if now { c.resume() }
        }
    }
}
