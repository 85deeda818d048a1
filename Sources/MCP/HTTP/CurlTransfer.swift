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
/// Its lifecycle (`machine`) changes only inside the `Locked`, and cancel acts on this object itself, so a late
/// cancel finds it finished instead of hitting another transfer.
// @unchecked Sendable: the fields after `machine` (libcurl's handle, header list and error buffer, the head
// being read) are touched only by the curl thread, between its attach and its end, the loop's lock handing the
// transfer over; the consumer (not Sendable: it holds its own unlocked state) is called by one thread at a time,
// the curl thread, or whichever thread ends a transfer that never reached libcurl.
package final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    let deadline: ContinuousClock.Instant?
    let maxBytes: Int
    let consumer: TransferConsumer
    /// Test seam: attach fails as if libcurl could not create a handle. Set before the transfer starts.
    var failsToAttach = false

    private let machine = Locked(TransferStateMachine())

    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// curl's own message for the transfer's failure (CURLOPT_ERRORBUFFER), more precise than its code's.
    var errorBuffer: UnsafeMutablePointer<CChar>?
    var head = HTTPHead()
    private(set) var headDelivered = false
    fileprivate var received = 0
    fileprivate(set) var failure: TransportFailure?
    private(set) var stopRequested = false
    /// The sockets of the loop that runs this transfer, for the quick ACK at the end of a head.
    var sockets: CurlSockets?

    package init(request: HTTPRequest, deadline: ContinuousClock.Instant?, maxBytes: Int, consumer: TransferConsumer) {
        self.request = request
        self.deadline = deadline
        self.maxBytes = maxBytes
        self.consumer = consumer
    }

    /// Changes the lifecycle under the lock; act on the result after it returns.
    func transition<R>(_ change: (inout TransferStateMachine) -> R) -> R {
        machine.withLock { change(&$0) }
    }

    var state: TransferStateMachine.State { machine.withLock { $0.state } }

    func deliverHeadIfNeeded() -> TransferVerdict {
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

/// Ignores a transfer's answer (fire-and-forget requests). Stateless, so Sendable as checked.
final class DiscardConsumer: TransferConsumer, Sendable {
    func head(_ head: HTTPHead) -> TransferVerdict { .more }
    func body(_ bytes: UnsafeRawBufferPointer) -> TransferVerdict { .more }
    func finished(_ failure: TransportFailure?) {}
}

let curlWrite: mcpconn_curl_data_callback = { ptr, size, count, user in
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

let curlHeader: mcpconn_curl_data_callback = { ptr, size, count, user in
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
