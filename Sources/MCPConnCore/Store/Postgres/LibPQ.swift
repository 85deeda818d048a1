import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libpq's entry points, found with dlopen/dlsym the first time a postgres URL is used, so SQLite users never
/// load libpq and its dependencies (see docs/performance.md, "PostgreSQL client: measured before choosing").
///
/// `@unchecked Sendable`: the fields are immutable addresses of functions in a library that is never unloaded.
struct LibPQ: @unchecked Sendable {
    let connectdbParams: UnsafeMutableRawPointer
    let conninfoParse: UnsafeMutableRawPointer
    let conninfoFree: UnsafeMutableRawPointer
    let freemem: UnsafeMutableRawPointer
    let finish: UnsafeMutableRawPointer
    let status: UnsafeMutableRawPointer
    let errorMessage: UnsafeMutableRawPointer
    let setNoticeProcessor: UnsafeMutableRawPointer
    let host: UnsafeMutableRawPointer
    let port: UnsafeMutableRawPointer
    let db: UnsafeMutableRawPointer
    let user: UnsafeMutableRawPointer
    let exec: UnsafeMutableRawPointer
    let execParams: UnsafeMutableRawPointer
    let resultStatus: UnsafeMutableRawPointer
    let resultErrorField: UnsafeMutableRawPointer
    let clear: UnsafeMutableRawPointer
    let ntuples: UnsafeMutableRawPointer
    let nfields: UnsafeMutableRawPointer
    let fnumber: UnsafeMutableRawPointer
    let getisnull: UnsafeMutableRawPointer
    let getvalue: UnsafeMutableRawPointer
    let getlength: UnsafeMutableRawPointer
    let cmdTuples: UnsafeMutableRawPointer
    let parameterStatus: UnsafeMutableRawPointer

    /// The loaded library, or why it could not be loaded.
    static let shared: Result<LibPQ, MCPConnError> = load()

    private static func load() -> Result<LibPQ, MCPConnError> {
        #if os(macOS)
            let names = ["libpq.5.dylib", "libpq.dylib"]
        #else
            let names = ["libpq.so.5", "libpq.so"]
        #endif
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            let why = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(.config("cannot load libpq (install libpq5) for a PostgreSQL store: \(why)"))
        }
        func sym(_ name: String) throws(MCPConnError) -> UnsafeMutableRawPointer {
            guard let p = dlsym(handle, name) else {
                throw .config("cannot load libpq (install libpq5) for a PostgreSQL store: it lacks \(name)")
            }
            return p
        }
        do throws(MCPConnError) {
            return .success(
                LibPQ(
                    connectdbParams: try sym("PQconnectdbParams"), conninfoParse: try sym("PQconninfoParse"),
                    conninfoFree: try sym("PQconninfoFree"), freemem: try sym("PQfreemem"),
                    finish: try sym("PQfinish"), status: try sym("PQstatus"),
                    errorMessage: try sym("PQerrorMessage"), setNoticeProcessor: try sym("PQsetNoticeProcessor"),
                    host: try sym("PQhost"), port: try sym("PQport"), db: try sym("PQdb"), user: try sym("PQuser"),
                    exec: try sym("PQexec"), execParams: try sym("PQexecParams"),
                    resultStatus: try sym("PQresultStatus"), resultErrorField: try sym("PQresultErrorField"),
                    clear: try sym("PQclear"), ntuples: try sym("PQntuples"), nfields: try sym("PQnfields"),
                    fnumber: try sym("PQfnumber"), getisnull: try sym("PQgetisnull"),
                    getvalue: try sym("PQgetvalue"), getlength: try sym("PQgetlength"),
                    cmdTuples: try sym("PQcmdTuples"), parameterStatus: try sym("PQparameterStatus")))
        } catch {
            return .failure(error)
        }
    }
}
