import ArgumentParser
import Foundation
import MCPConnCore

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write connectors as a client's MCP config, with no secret in it.",
        discussion: """
            Prints the config on stdout, or merges it into a file with --write (other servers and keys kept, a \
            timestamped backup beside it, the file replaced atomically, its mode kept). A connector with \
            credentials, or one the client cannot reach by itself, is written as a bridge: the client runs \
            `mcpconn serve NAME` (with this export's --db and --user), which opens the sealed store. Without \
            REFs every active connector is written.
            """)

    @Option(
        help: ArgumentHelp(
            "The client: \(ClientFormat.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var to: String
    @Argument(help: "Connectors (id or name); none for every active one.") var refs: [String] = []
    @Option(help: ArgumentHelp("Merge into this config file instead of printing.", valueName: "path"))
    var write: String?
    @Option(
        help: ArgumentHelp(
            "The program a bridge entry runs (a full path if the client's PATH lacks mcpconn).", valueName: "path"))
    var bridgeCommand = "mcpconn"
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let format = try ClientFormat.parse(to)
        let manager = try global.manager()
        let entries = try manager.storage.exportEntries(refs, format: format, bridge: bridge(manager))
        if entries.contains(where: { $0.bridged != nil }),
            global.environment["TOKEN_ENCRYPTION_KEY"].map({ !$0.isEmpty }) == true
        {
            Output.error(
                "note: the key comes from TOKEN_ENCRYPTION_KEY here; a bridge finds it only if the client's environment has it too (it is never written)"
            )
        }
        guard let write else {
            if global.json {
                Output.json(Self.json(entries, file: nil))
            } else {
                Output.print(ConfigExport.document(entries, format: format))
            }
            return
        }
        let written = try manager.storage.write(entries, format: format, to: write)
        if global.json { Output.json(Self.json(entries, file: written)) }
        if written.commentsLost {
            Output.error(
                "note: \(written.path) was rewritten whole, so its comments are gone; the backup \(written.backup ?? "") has them"
            )
        }
    }

    /// The bridge runs against this export's store and user, wherever the client starts it.
    private func bridge(_ manager: ConnectorManager) -> BridgeCommand {
        var options: [String] = []
        if global.db != nil || global.environment["MCPCONN_DB"].map({ !$0.isEmpty }) == true {
            // A shared store's URL goes without its password: the client's host finds it in ~/.pgpass or
            // PGPASSWORD, as psql would.
            let store = manager.store
            options += [
                "--db", store.isShared ? store.path : URL(fileURLWithPath: store.path).standardizedFileURL.path,
            ]
        }
        if let user = try? global.userID(), user != 1 { options += ["--user", String(user)] }
        var environment: [(name: String, value: String)] = []
        if let keyFile = global.environment["MCPCONN_KEY_FILE"], !keyFile.isEmpty {
            environment.append(("MCPCONN_KEY_FILE", URL(fileURLWithPath: keyFile).standardizedFileURL.path))
        }
        return BridgeCommand(program: bridgeCommand, options: options, environment: environment)
    }

    static func json(_ entries: [ExportedEntry], file: ConfigWriter.Written?) -> JSONValue {
        var o: JSONObject = [
            "servers": .array(
                entries.map { e in
                    [
                        "name": .string(e.name), "bridge": .bool(e.bridged != nil), "reason": .optional(e.bridged),
                        "entry": e.entry,
                    ]
                })
        ]
        if let file {
            o["file"] = .string(file.path)
            o["backup"] = .optional(file.backup)
            o["commentsKept"] = .bool(!file.commentsLost)
            o["unchanged"] = .bool(file.unchanged)
        }
        return .object(o)
    }
}
