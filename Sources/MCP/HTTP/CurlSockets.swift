import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
    func quickAck() {
        #if os(Linux)
            var one: Int32 = 1
            fds.removeAll { fd in
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size)) != 0
            }
        #endif
    }
}

let curlSockopt: mcpconn_curl_sockopt_callback = { user, fd, _ in
    Unmanaged<CurlSockets>.fromOpaque(user!).takeUnretainedValue().add(fd)
    return 0  // CURL_SOCKOPT_OK
}
