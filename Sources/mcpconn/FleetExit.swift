import MCPConnCore

/// The exit rule of fleet verbs: failures go to stderr, one line each; a single target fails with its own
/// status, several with 1.
enum FleetExit {
    static func check(_ reports: [ConnectorReport], single: Bool) throws {
        let failed = reports.filter { !$0.ok }
        guard !failed.isEmpty else { return }
        if single, let e = failed[0].error { throw e }
        Output.flush()
        for f in failed { Output.error(f.error?.message ?? "\(f.name): failed") }
        throw MCPConnError(.failure, "\(failed.count) of \(reports.count) connectors failed")
    }
}
