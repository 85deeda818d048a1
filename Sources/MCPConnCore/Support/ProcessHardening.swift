import CProcess

/// Process-wide protections for a process that holds secrets.
public enum ProcessHardening {
    private static let applied: Bool = mcpconn_forbid_core_dumps() == 0

    /// Forbids core dumps (RLIMIT_CORE 0, PR_SET_DUMPABLE 0) once per process: a core written after a crash
    /// or SIGQUIT would hold every decrypted secret in memory. Call before any secret is read; idempotent.
    @discardableResult
    public static func forbidCoreDumps() -> Bool { applied }

    /// Removes Swift's crash backtracer (it prints registers and the memory they point to, where a secret can
    /// be) unless the user asked for it with `SWIFT_BACKTRACE`; a crash then ends the process at once.
    public static func silenceCrashReports(environment: [String: String]) {
        if environment["SWIFT_BACKTRACE"] == nil { _ = mcpconn_reset_crash_handlers() }
    }

    /// Whether the kernel would write a core for this process (Linux; nil elsewhere).
    public static var isDumpable: Bool? {
        let v = mcpconn_is_dumpable()
        return v < 0 ? nil : v != 0
    }
}
