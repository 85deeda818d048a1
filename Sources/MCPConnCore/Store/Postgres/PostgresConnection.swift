import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libpq connection. Not thread-safe by itself: the owner serializes use (a lock).
///
/// SIGPIPE: libpq sends with MSG_NOSIGNAL on Linux and sets SO_NOSIGPIPE on macOS (and blocks the signal
/// around TLS writes), so a server that went away yields an error here, never a signal.
///
/// `@unchecked Sendable`: `conn` is a libpq handle, not thread-safe, and changes at `close`; each owner uses it
/// from one thread at a time: ``PostgresStore`` one transaction at a time (its `oneTransaction` lock), an
/// advisory lock's own connection one poll attempt after another, then `release` once.
final class PostgresConnection: @unchecked Sendable {
    private let pq: LibPQ
    private var conn: OpaquePointer?
    /// The URL without its password, `postgresql://user@host:port/db`, for messages.
    let displayName: String
    /// `host:port/db`, for messages.
    let location: String

    private init(pq: LibPQ, conn: OpaquePointer, displayName: String, location: String) {
        self.pq = pq
        self.conn = conn
        self.displayName = displayName
        self.location = location
    }

    deinit { close() }

    /// Connects. `url` is a postgresql:// or postgres:// URL, which libpq parses: sslmode, PGPASSWORD, ~/.pgpass,
    /// PGSSLMODE and the like work as with psql.
    ///
    /// Our settings, by libpq's rule that later keywords override earlier ones and the URL's fields sit where
    /// `dbname` is: `connect_timeout` (unless PGCONNECT_TIMEOUT is set), keepalives and
    /// `fallback_application_name=mcpconn` come before it, so the URL (or PGAPPNAME) overrides them;
    /// `client_encoding=UTF8` comes after, because results are decoded as UTF-8. Time zone and date style are
    /// set once connected (timestamps are read as ISO in UTC); the URL's `options` are the user's.
    static func connect(url: String, connectTimeout: Int = 10) throws(MCPConnError) -> PostgresConnection {
        let pq = try LibPQ.shared.get()
        var secrets = urlPasswords(url)
        if let p = getenv("PGPASSWORD") { secrets.append(String(cString: p)) }

        // Parsed first: a malformed URL gets a message of its own, and the parse names the password to scrub.
        var parseError: UnsafeMutablePointer<CChar>?
        guard let parsed = mcpconn_PQconninfoParse(pq.conninfoParse, url, &parseError) else {
            let why = parseError.map { String(cString: $0) } ?? "out of memory"
            if let parseError { mcpconn_PQfreemem(pq.freemem, parseError) }
            throw .config("invalid PostgreSQL URL: \(scrub(why, secrets))")
        }
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val, String(cString: keyword) == "password" {
                secrets.append(String(cString: value))
            }
            option += 1
        }
        mcpconn_PQconninfoFree(pq.conninfoFree, parsed)

        // Before `dbname` (the URL), so the URL or the environment may say otherwise. TCP keepalives: a host
        // that vanished is noticed by both ends in about a minute, not after the kernel's two hours (the server
        // then drops its advisory locks).
        var settings: [(String, String)] = [
            ("fallback_application_name", "mcpconn"), ("keepalives", "1"), ("keepalives_idle", "30"),
            ("keepalives_interval", "10"), ("keepalives_count", "3"), ("tcp_user_timeout", "60000"),
        ]
        if getenv("PGCONNECT_TIMEOUT") == nil { settings.append(("connect_timeout", String(connectTimeout))) }
        settings += [("dbname", url), ("client_encoding", "UTF8")]
        let keywords = settings.map { strdup($0.0) }
        let values = settings.map { strdup($0.1) }
        defer { for p in keywords + values { free(p) } }
        guard
            let conn = withCStringArray(
                keywords,
                { k in
                    withCStringArray(values) { v in mcpconn_PQconnectdbParams(pq.connectdbParams, k, v, 1) }
                })
        else { throw .config("cannot connect to the PostgreSQL store: out of memory") }
        mcpconn_PQdiscardNotices(pq.setNoticeProcessor, conn)

        func fact(_ s: UnsafePointer<CChar>?) -> String { s.map { String(cString: $0) } ?? "" }
        let host = fact(mcpconn_PQhost(pq.host, conn))
        let port = fact(mcpconn_PQport(pq.port, conn))
        let db = fact(mcpconn_PQdb(pq.db, conn))
        let user = fact(mcpconn_PQuser(pq.user, conn))
        // An IPv6 address is bracketed, a socket directory percent-encoded, as in a URL.
        let hostInURL = host.hasPrefix("/") ? percentEncoded(host) : host.contains(":") ? "[\(host)]" : host
        let location = "\(host.hasPrefix("/") ? host : hostInURL):\(port)/\(db)"

        guard mcpconn_PQstatus(pq.status, conn) == CONNECTION_OK else {
            let why = String(cString: mcpconn_PQerrorMessage(pq.errorMessage, conn))
            mcpconn_PQfinish(pq.finish, conn)
            throw .config("cannot connect to the PostgreSQL store at \(location): \(scrub(why, secrets))")
        }
        let connection = PostgresConnection(pq: pq, conn: conn, displayName: withoutPassword(url), location: location)
        // Dates are read as ISO text in UTC. Set here rather than in the startup packet's `options`, which PGTZ
        // and PGDATESTYLE override and which would hide a service file's own options.
        do throws(PostgresError) {
            try connection.run("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'")
        } catch {
            throw .config("cannot set up the PostgreSQL store at \(location): \(scrub(error.message, secrets))")
        }
        // Connector text is any Unicode; a database in another encoding would refuse some of it later.
        let encoding = mcpconn_PQparameterStatus(pq.parameterStatus, conn, "server_encoding").map {
            String(cString: $0)
        }
        guard encoding == "UTF8" else {
            throw .config(
                "the PostgreSQL store at \(location) uses the \(encoding ?? "unknown") encoding: create it with ENCODING 'UTF8'"
            )
        }
        return connection
    }

    /// The URL as given, every parameter kept (`sslmode`, `sslrootcert`, several hosts…) but the password, in
    /// the user part or as `password=` in the query: what a bridge written into a client's config may say.
    static func withoutPassword(_ url: String) -> String {
        guard let u = PostgresURL(url) else { return url }
        let query = u.query.filter { !$0.hasPrefix("password=") }
        return u.scheme + (u.user.map { $0 + "@" } ?? "") + u.hostPort + u.path
            + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    var isConnected: Bool {
        guard let conn else { return false }
        return mcpconn_PQstatus(pq.status, conn) == CONNECTION_OK
    }

    /// Runs one statement with text-format parameters (`$1`, `$2` … placeholders); nil is SQL NULL.
    func execute(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> PostgresResult {
        let conn = try open()
        // A C string ends at NUL, so such a parameter would reach the server cut short; PostgreSQL's text types
        // cannot hold NUL anyway, and 22021 is the SQLSTATE the server gives for one.
        if let i = parameters.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(sqlState: "22021", message: "parameter $\(i + 1) contains a NUL character")
        }
        let values = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for p in values { free(p) } }
        let result = withCStringArray(values) {
            mcpconn_PQexecParams(pq.execParams, conn, sql, Int32(values.count), $0)
        }
        return try checked(result, conn)
    }

    /// Runs statements without parameters, several separated by `;` if need be (BEGIN, COMMIT, migrations).
    func run(_ sql: String) throws(PostgresError) {
        let conn = try open()
        _ = try checked(mcpconn_PQexec(pq.exec, conn, sql), conn)
    }

    /// Closes the connection; idempotent.
    func close() {
        if let conn { mcpconn_PQfinish(pq.finish, conn) }
        conn = nil
    }

    private func open() throws(PostgresError) -> OpaquePointer {
        guard let conn else {
            throw PostgresError(sqlState: nil, message: "the PostgreSQL connection is closed", connectionLost: true)
        }
        return conn
    }

    /// The result if the statement succeeded; else the server's SQLSTATE and primary message, or libpq's.
    private func checked(_ result: OpaquePointer?, _ conn: OpaquePointer) throws(PostgresError) -> PostgresResult {
        if let result {
            switch mcpconn_PQresultStatus(pq.resultStatus, result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                return PostgresResult(pq: pq, result: result)
            default: break
            }
        }
        func field(_ code: Character) -> String? {
            guard let result, let v = mcpconn_PQresultErrorField(pq.resultErrorField, result, Int32(code.asciiValue!))
            else { return nil }
            return String(cString: v)
        }
        let message = field("M") ?? String(cString: mcpconn_PQerrorMessage(pq.errorMessage, conn))
        let error = PostgresError(
            // Empty for a status that is no error, only unexpected: COPY's, which nothing here uses.
            sqlState: field("C"), message: message.isEmpty ? "unexpected result (COPY is not supported)" : message,
            connectionLost: mcpconn_PQstatus(pq.status, conn) == CONNECTION_BAD)
        if let result { mcpconn_PQclear(pq.clear, result) }
        throw error
    }

    /// The password of the URL's user info and of a `password=` query parameter, as written and decoded, found
    /// without libpq so that even a URL it cannot parse is scrubbed.
    static func urlPasswords(_ url: String) -> [String] {
        guard let u = PostgresURL(url) else { return [] }
        let found =
            [u.password].compactMap { $0 }
            + u.query.filter { $0.hasPrefix("password=") }.map { $0.dropFirst("password=".count) }
        return found.filter { !$0.isEmpty }.flatMap { [String($0), percentDecoded($0)] }
    }

    /// `text` with every occurrence of each secret replaced by `***`.
    static func scrub(_ text: String, _ secrets: [String]) -> String {
        // Longest first, so a password containing a shorter one is replaced whole.
        secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
            .reduce(text) { $0.replacing($1, with: "***") }
    }

    private static func percentDecoded(_ s: Substring) -> String {
        let utf8 = Array(s.utf8)
        var bytes: [UInt8] = []
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count,
                let v = UInt8(String(decoding: utf8[i + 1...i + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if b > 0x20, b < 0x7F, !"%/@:?#[]&=".utf8.contains(b) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Calls `body` with a C array of the given C strings (nil entries stay NULL), NULL-terminated as
/// PQconnectdbParams needs.
private func withCStringArray<R>(
    _ strings: [UnsafeMutablePointer<CChar>?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
) -> R {
    (strings.map { $0.map { UnsafePointer($0) } } + [nil]).withUnsafeBufferPointer { body($0.baseAddress) }
}

/// A failed statement.
struct PostgresError: Error, Sendable {
    /// The server's SQLSTATE, e.g. "23505" (unique violation), "40001" (serialization), "55P03" (lock not
    /// available); nil when the failure is libpq's own (connection lost, out of memory).
    let sqlState: String?
    /// One line: the server's primary message, or libpq's.
    let message: String
    /// The connection is unusable now (PQstatus is CONNECTION_BAD): the owner reconnects.
    let connectionLost: Bool

    init(sqlState: String?, message: String, connectionLost: Bool = false) {
        self.sqlState = sqlState
        self.message = MCPConnError.oneLine(message)
        self.connectionLost = connectionLost
    }
}

/// A query's rows, in text format. Owns the PGresult.
///
/// `@unchecked Sendable`: a PGresult is not changed after libpq returns it, and its accessors only read it.
final class PostgresResult: @unchecked Sendable {
    private let pq: LibPQ
    private let result: OpaquePointer
    let rowCount: Int
    let columnCount: Int

    fileprivate init(pq: LibPQ, result: OpaquePointer) {
        self.pq = pq
        self.result = result
        rowCount = Int(mcpconn_PQntuples(pq.ntuples, result))
        columnCount = Int(mcpconn_PQnfields(pq.nfields, result))
    }

    deinit { mcpconn_PQclear(pq.clear, result) }

    /// The column's index. libpq folds `name` to lower case unless it is double-quoted; ours are lower-case.
    func columnIndex(_ name: String) -> Int? {
        let i = mcpconn_PQfnumber(pq.fnumber, result, name)
        return i < 0 ? nil : Int(i)
    }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        mcpconn_PQgetisnull(pq.getisnull, result, Int32(row), Int32(column)) == 1
    }

    /// The value's text, without copying: valid while this result lives. Empty for NULL.
    func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        guard let p = mcpconn_PQgetvalue(pq.getvalue, result, Int32(row), Int32(column)) else {
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        let count = Int(mcpconn_PQgetlength(pq.getlength, result, Int32(row), Int32(column)))
        return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// The value's text, nil for NULL.
    func string(_ row: Int, _ column: Int) -> String? {
        isNull(row, column) ? nil : String(decoding: bytes(row, column), as: UTF8.self)
    }

    /// The rows an INSERT, UPDATE, DELETE (and the like) touched; 0 for other statements.
    var affectedRows: Int { Int(String(cString: mcpconn_PQcmdTuples(pq.cmdTuples, result))) ?? 0 }
}

/// The parts of a postgresql:// URL that mcpconn reads itself (libpq parses it to connect): split once by the
/// URL's delimiters, as written, for the passwords to scrub, the URL without them and the database it names.
struct PostgresURL {
    /// `postgresql://` or `postgres://`.
    let scheme: Substring
    /// The user part before `@`: the user, and the password after its first `:`.
    let user: Substring?
    let password: Substring?
    let hostPort: Substring
    /// `/database`, or empty.
    let path: Substring
    /// The `&`-separated parameters after `?`.
    let query: [Substring]

    init?(_ url: String) {
        guard let s = url.firstRange(of: "://") else { return nil }
        scheme = url[..<s.upperBound]
        let rest = url[s.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            let colon = info.firstIndex(of: ":")
            user = info[..<(colon ?? info.endIndex)]
            password = colon.map { info[info.index(after: $0)...] }
            hostPort = authority[authority.index(after: at)...]
        } else {
            (user, password, hostPort) = (nil, nil, authority)
        }
        let tail = rest[authorityEnd...]
        let q = tail.firstIndex(of: "?")
        path = tail[..<(q ?? tail.endIndex)]
        query = q.map { tail[tail.index(after: $0)...].split(separator: "&") } ?? []
    }
}
