import ArgumentParser
import MCPConnCore

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the set-up: the key, the store, libcurl (and with --connectors, every active connector).",
        discussion: """
            One line per check: ok, warning or problem. The store is opened as any command opens it; no key file \
            and no SQLite file is created. Exit 0 when there is no problem (warnings included), else the exit \
            code of the worst problem: 78 configuration (key, store, a CA bundle or client certificate that is \
            not readable PEM), 69 unavailable (libcurl, a connector), …
            """)

    @Flag(help: "Also check that every active connector answers (as health --all).") var connectors = false
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let keys = KeyProvider(environment: global.environment, notice: { Output.error($0) })
        let (keyFinding, key) = Doctor.key(keys, environment: global.environment)
        let (storeFindings, store) = Doctor.store(global.storeLocation, key: key)
        var findings =
            [keyFinding] + storeFindings + Doctor.curl()
            + Doctor.tlsFiles(environment: global.environment, store: store)
        if connectors, let store {
            let m = ConnectorManager(store: store, userID: try global.userID(), keys: keys)
            let settings = network.settings()
            do throws(MCPConnError) {
                let active = try m.storage.list(active: true)
                findings += Doctor.connectors(try await m.sessions.health(active, settings: settings))
            } catch {
                findings.append(.problem("connectors", error))
            }
        }
        if global.json {
            Output.json([
                "findings": .array(findings.map(\.json)), "status": .int(Int64(Doctor.status(findings).rawValue)),
            ])
        } else {
            var t = TextTable(header: ["", "CHECK", "DETAIL"])
            for f in findings { t.append([f.level.rawValue, f.check, f.message]) }
            Output.print(t.render())
        }
        let problems = findings.filter { $0.level == .problem }
        if let worst = problems.max(by: { $0.status.rawValue < $1.status.rawValue }) {
            throw MCPConnError(
                worst.status,
                "\(problems.count) problem\(problems.count == 1 ? "" : "s") found; the worst: \(worst.message)")
        }
    }
}
