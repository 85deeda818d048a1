import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One thing `mcpconn doctor` checked: what, how it went, and the exit status a problem stands for.
public struct Finding: Sendable {
    public enum Level: String, Sendable { case ok, warning, problem }

    public var check: String
    public var level: Level
    public var message: String
    /// The status a command would exit with for this problem (0 when it is none).
    public var status: ExitStatus

    static func ok(_ check: String, _ message: String) -> Finding {
        Finding(check: check, level: .ok, message: message, status: .ok)
    }
    static func warning(_ check: String, _ message: String) -> Finding {
        Finding(check: check, level: .warning, message: message, status: .ok)
    }
    public static func problem(_ check: String, _ error: MCPConnError) -> Finding {
        Finding(check: check, level: .problem, message: error.message, status: error.status)
    }

    public var json: JSONValue {
        [
            "check": .string(check), "level": .string(level.rawValue), "message": .string(message),
            "status": .int(Int64(status.rawValue)),
        ]
    }
}

/// `mcpconn doctor`: the set-up checked piece by piece, each finding one line. Nothing is created or changed:
/// no key file, no store (a store that does not exist yet is reported, not made).
public enum Doctor {
    /// The key: where it comes from, whether that file is private, whether it parses.
    public static func key(_ keys: KeyProvider, environment: [String: String]) -> (Finding, EncryptionKey?) {
        let fromEnvironment = environment["TOKEN_ENCRYPTION_KEY"].map { !$0.isEmpty } ?? false
        let source = fromEnvironment ? "TOKEN_ENCRYPTION_KEY" : "the key file \(keys.keyFilePath)"
        do throws(MCPConnError) {
            let key = try keys.key(create: false)
            // A key file is read only when it is its owner's alone (see KeyProvider).
            return (.ok("key", "from \(source)\(fromEnvironment ? "" : " (private to its owner)")"), key)
        } catch {
            if !fromEnvironment, !FileManager.default.fileExists(atPath: keys.keyFilePath) {
                return (
                    .warning("key", "none yet: \(keys.keyFilePath) is created when the first secret is stored"), nil
                )
            }
            return (.problem("key", error), nil)
        }
    }

    /// The store: it opens (and so its migrations are current), its file is private, SQLite's integrity check,
    /// and the key matches the one its credentials were sealed with.
    public static func store(_ location: String, key: EncryptionKey?) -> ([Finding], Store?) {
        if !PostgresStore.isURL(location), !FileManager.default.fileExists(atPath: location) {
            return (
                [.warning("store", "\(location) does not exist yet: it is created by the first command that needs it")],
                nil
            )
        }
        let store: Store
        do throws(MCPConnError) { store = try Store.open(location) } catch { return ([.problem("store", error)], nil) }
        var findings: [Finding] = []
        do throws(MCPConnError) {
            let (connectors, sealed, migrations) = try store.read { db in
                (
                    try db.int("SELECT COUNT(*) FROM \(Connector.table)") ?? 0,
                    try db.int(
                        "SELECT COUNT(*) FROM \(Connector.table) WHERE \(Connector.Columns.authConfig.name) IS NOT NULL"
                    ) ?? 0,
                    try db.int("SELECT COUNT(*) FROM grdb_migrations") ?? 0
                )
            }
            let kind = store.isShared ? "PostgreSQL store" : "SQLite store"
            findings.append(
                .ok(
                    "store",
                    "\(kind) \(store.path): schema v\(migrations), \(connectors) connectors, \(sealed) with sealed credentials"
                ))
            // Opening brought an older schema up to date; a newer one was written by a newer mcpconn.
            if migrations > Schema.version {
                findings.append(
                    .warning(
                        "schema",
                        "the store has \(migrations) migrations and this mcpconn knows \(Schema.version): a newer mcpconn wrote it; update this one"
                    ))
            }
            if !store.isShared { findings += fileFindings(store) }
            if let key {
                do throws(MCPConnError) {
                    try store.read { db in try KeyGuard.checkForRead(key, db) }
                    findings.append(.ok("key/store", "the key is the one this store's credentials were sealed with"))
                    findings.append(try seals(store, key))
                    findings.append(try pinPolicy(store, key))
                } catch {
                    findings.append(.problem("key/store", error))
                }
            } else if sealed > 0 {
                findings.append(
                    .problem(
                        "key/store",
                        .config("\(sealed) connectors hold sealed credentials and there is no key to open them")))
            }
        } catch {
            findings.append(.problem("store", error))
        }
        return (findings, store)
    }

    /// Whether every connector, of every user, is as mcpconn sealed it (docs/security.md: a writer of the store
    /// without the key). A store an earlier version wrote is sealed by its first use, not by doctor.
    private static func seals(_ store: Store, _ key: EncryptionKey) throws(MCPConnError) -> Finding {
        let (format, rows) = try store.read { db in (try SealMigration.format(db), try db.everyConnector(lock: false)) }
        guard format == SealMigration.current else {
            return .warning(
                "seals", "written by an earlier mcpconn: its rows are sealed by the first command that uses them")
        }
        let seals = ConnectorSeals(key: key)
        let changed = rows.compactMap { row -> String? in
            let columns = seals.changedColumns(row)
            return columns.isEmpty ? nil : "'\(row.name)' of user \(row.userID) (\(columns.joined(separator: ", ")))"
        }
        guard changed.isEmpty else {
            return .problem(
                "seals",
                .data(
                    "\(changed.count) connectors were changed outside mcpconn and are refused: \(changed.prefix(10).joined(separator: ", "))\(changed.count > 10 ? ", …" : ""); check each with `mcpconn get`, then `mcpconn update REF --accept-change`"
                ))
        }
        return .ok("seals", "\(rows.count) connectors, each as mcpconn sealed it")
    }

    /// The store-wide pinned mode (`policy`), and whether its seal checks.
    private static func pinPolicy(_ store: Store, _ key: EncryptionKey) throws(MCPConnError) -> Finding {
        let policy = try store.read { db in PinPolicy.read(try db.meta(PinPolicy.metaKey), RecordSeal(key: key)) }
        guard !policy.changedOutside else {
            return .problem(
                "pinned mode",
                .data(
                    "the store's pinned-mode setting was changed outside mcpconn: enforced as pinned until `mcpconn policy --pinned` (or --unpinned) sets it again"
                ))
        }
        return .ok(
            "pinned mode", policy.pinned ? "every connector (policy --pinned)" : "per connector (update --pinned)")
    }

    /// A SQLite file: private (0600, owned by this user) and sound.
    private static func fileFindings(_ store: Store) -> [Finding] {
        var findings: [Finding] = []
        var info = stat()
        if stat(store.path, &info) == 0 {
            let mode = info.st_mode & 0o777
            if mode & 0o077 != 0 || info.st_uid != geteuid() {
                findings.append(
                    .warning(
                        "store file",
                        "\(store.path) is mode \(String(mode, radix: 8)) owned by uid \(info.st_uid): it should be 0600 and yours (chmod 600)"
                    ))
            }
        }
        do throws(MCPConnError) {
            let result = try store.integrityCheck()
            findings.append(
                result == "ok"
                    ? .ok("integrity", "SQLite's integrity check: ok")
                    : .problem("integrity", .config("SQLite's integrity check: \(result)")))
        } catch {
            findings.append(.problem("integrity", error))
        }
        return findings
    }

    /// libcurl, for every verb that talks to servers: it loads, its version and TLS library, its CA bundle.
    public static func curl() -> [Finding] {
        switch CurlSymbols.shared {
        case .failure(.unreachable(let why)): return [.problem("libcurl", MCPConnError(.unavailable, why))]
        case .failure(let f): return [.problem("libcurl", f.error("libcurl"))]
        case .success(let curl):
            var findings: [Finding] = [.ok("libcurl", curl.describe())]
            if let ca = curl.defaultCABundle() {
                findings.append(
                    FileManager.default.isReadableFile(atPath: ca)
                        ? .ok("CA bundle", ca)
                        : .problem(
                            "CA bundle",
                            MCPConnError(
                                .unavailable,
                                "libcurl's CA bundle \(ca) cannot be read: https servers cannot be checked (install ca-certificates)"
                            )))
            }
            return findings
        }
    }

    /// The TLS files mcpconn is told to use: the environment's CA bundle (``TLSSettings/environmentCAFile(_:)``)
    /// and every connector's CA bundle and client certificate, each readable and PEM. A missing or broken one
    /// fails every request that uses it, so it is a configuration problem (78).
    public static func tlsFiles(environment: [String: String], store: Store?) -> [Finding] {
        var findings: [Finding] = []
        if let (variable, path) = TLSSettings.environmentCAFile(environment) {
            findings.append(
                PEMFile.problem(path, holding: .certificate).map { .problem("CA file", .config("\(variable): \($0)")) }
                    ?? .ok("CA file", "\(path) (from \(variable), for connectors without --ca-file)"))
        }
        guard let store, let rows = try? store.read({ db in try db.everyConnector(lock: false) }) else {
            return findings
        }
        var checked = 0
        for row in rows {
            let tls = row.tls
            let files: [(String, String?, PEMFile.Content)] = [
                ("--ca-file", tls.caFile, .certificate), ("--client-cert", tls.clientCert, .certificate),
            ]
            for case (let flag, let path?, let content) in files {
                checked += 1
                if let why = PEMFile.problem(path, holding: content) {
                    findings.append(
                        .problem("TLS files", .config("connector '\(row.name)' of user \(row.userID), \(flag): \(why)"))
                    )
                }
            }
        }
        if checked > 0, !findings.contains(where: { $0.check == "TLS files" }) {
            findings.append(
                .ok("TLS files", "\(checked) CA bundles and client certificates of connectors, each readable PEM"))
        }
        return findings
    }

    /// One finding per connector a `health` checked.
    public static func connectors(_ reports: [ConnectorReport]) -> [Finding] {
        reports.map { r in
            if r.ok {
                let server =
                    r.identity.map { " (\($0.name ?? "?") \($0.version ?? ""), protocol \($0.protocolVersion))" } ?? ""
                return .ok("connector", "\(r.name): answers in \(r.latencyMs ?? 0) ms\(server)")
            }
            return .problem("connector", r.error ?? MCPConnError(.failure, "\(r.name): failed"))
        }
    }

    /// The worst status among findings (0 when all is well).
    public static func status(_ findings: [Finding]) -> ExitStatus {
        findings.map(\.status).max { $0.rawValue < $1.rawValue } ?? .ok
    }
}
