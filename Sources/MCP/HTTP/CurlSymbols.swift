import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libcurl's entry points, found with dlopen/dlsym when a command is about to talk to a server (see
/// ``Network/prewarm()``) or first does, so commands that do not (list, get, add, …) never pay for loading
/// libcurl and its dependencies.
// @unchecked Sendable: the fields are immutable addresses of functions in a library that is never unloaded.
package struct CurlSymbols: @unchecked Sendable {
    let globalInit: UnsafeMutableRawPointer
    let easyInit: UnsafeMutableRawPointer
    let easyCleanup: UnsafeMutableRawPointer
    let easyReset: UnsafeMutableRawPointer
    let easyStrerror: UnsafeMutableRawPointer
    let easySetopt: UnsafeMutableRawPointer
    let slistAppend: UnsafeMutableRawPointer
    let slistFreeAll: UnsafeMutableRawPointer
    let multiInit: UnsafeMutableRawPointer
    let multiSetopt: UnsafeMutableRawPointer
    let multiAddHandle: UnsafeMutableRawPointer
    let multiRemoveHandle: UnsafeMutableRawPointer
    let multiPerform: UnsafeMutableRawPointer
    let multiInfoRead: UnsafeMutableRawPointer
    let multiPoll: UnsafeMutableRawPointer
    let multiWakeup: UnsafeMutableRawPointer
    let versionInfo: UnsafeMutableRawPointer
    let easyGetinfo: UnsafeMutableRawPointer

    /// The loaded library, globally initialised, or why it could not be loaded.
    package static let shared: Result<CurlSymbols, TransportFailure> = load()

    private static func load() -> Result<CurlSymbols, TransportFailure> {
        #if os(macOS)
            let names = ["libcurl.4.dylib", "libcurl.dylib"]
        #else
            let names = ["libcurl.so.4", "libcurl.so"]
        #endif
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            return .failure(.unreachable("cannot load libcurl (install libcurl4): \(String(cString: dlerror()))"))
        }
        func sym(_ name: String) throws(TransportFailure) -> UnsafeMutableRawPointer {
            guard let p = dlsym(handle, name) else { throw .unreachable("libcurl lacks \(name)") }
            return p
        }
        do throws(TransportFailure) {
            let symbols = CurlSymbols(
                globalInit: try sym("curl_global_init"), easyInit: try sym("curl_easy_init"),
                easyCleanup: try sym("curl_easy_cleanup"), easyReset: try sym("curl_easy_reset"),
                easyStrerror: try sym("curl_easy_strerror"), easySetopt: try sym("curl_easy_setopt"),
                slistAppend: try sym("curl_slist_append"), slistFreeAll: try sym("curl_slist_free_all"),
                multiInit: try sym("curl_multi_init"), multiSetopt: try sym("curl_multi_setopt"),
                multiAddHandle: try sym("curl_multi_add_handle"),
                multiRemoveHandle: try sym("curl_multi_remove_handle"),
                multiPerform: try sym("curl_multi_perform"), multiInfoRead: try sym("curl_multi_info_read"),
                multiPoll: try sym("curl_multi_poll"), multiWakeup: try sym("curl_multi_wakeup"),
                versionInfo: try sym("curl_version_info"), easyGetinfo: try sym("curl_easy_getinfo"))
            // Part of loading: curl_global_init must finish before any other libcurl call, in any thread.
            _ = mcpconn_global_init(symbols.globalInit, Int(CURL_GLOBAL_DEFAULT))
            return .success(symbols)
        } catch {
            return .failure(error)
        }
    }

    func strerror(_ code: CURLcode) -> String { String(cString: mcpconn_easy_strerror(easyStrerror, code)) }

    /// `libcurl 7.88.1, OpenSSL/3.0.17`: the version and the TLS library it was built with.
    package func describe() -> String {
        guard let info = mcpconn_curl_version_info(versionInfo) else { return "libcurl (version unknown)" }
        let version = info.pointee.version.map { String(cString: $0) } ?? "?"
        let tls = info.pointee.ssl_version.map { String(cString: $0) } ?? "no TLS"
        return "libcurl \(version), \(tls)"
    }

    /// The system's CA directory (hashed certificates), kept beside a connector's own CA bundle: libcurl's
    /// default (CURLINFO_CAPATH, libcurl 7.84+), else /etc/ssl/certs when it exists; nil when neither.
    var systemCADirectory: String? { Self.caDirectory }

    private static let caDirectory: String? = {
        guard case .success(let c) = shared, let h = mcpconn_easy_init(c.easyInit) else { return nil }
        defer { mcpconn_easy_cleanup(c.easyCleanup, h) }
        var path: UnsafeMutablePointer<CChar>?
        if mcpconn_curl_getinfo_string(c.easyGetinfo, h, CURLINFO_CAPATH, &path) == CURLE_OK, let path {
            return String(cString: path)
        }
        var isDirectory: ObjCBool = false
        let fallback = "/etc/ssl/certs"
        return FileManager.default.fileExists(atPath: fallback, isDirectory: &isDirectory) && isDirectory.boolValue
            ? fallback : nil
    }()

    /// The CA bundle libcurl checks servers against by default (CURLINFO_CAINFO, libcurl 7.84+); nil when it
    /// uses a directory or the TLS library's own store, or is older.
    package func defaultCABundle() -> String? {
        guard let h = mcpconn_easy_init(easyInit) else { return nil }
        defer { mcpconn_easy_cleanup(easyCleanup, h) }
        var path: UnsafeMutablePointer<CChar>?
        guard mcpconn_curl_getinfo_string(easyGetinfo, h, CURLINFO_CAINFO, &path) == CURLE_OK, let path else {
            return nil
        }
        return String(cString: path)
    }
}
