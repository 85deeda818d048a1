import ArgumentParser

/// The root command: lists the subcommands and nothing else.
struct MCPConn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcpconn",
        abstract: "Manage and call MCP (Model Context Protocol) server connectors.",
        discussion: """
            Exit codes: 0 ok, 1 operation failed, 64 usage, 65 bad data, 66 not found, 69 unavailable or \
            disabled, 75 timeout, 76 protocol error, 77 credentials refused, 78 configuration, 79 the server asked \
            for input (call, prompt, read, task), 80 refused by the connector's policy: a tool not approved in pinned \
            mode or outside its tool allow-list (call, refresh).
            """,
        version: "0.1.0 (commit \(BuildInfo.commit))",
        subcommands: [
            Add.self, List.self, Get.self, Update.self, Delete.self, Toggle.self, Tools.self, Scan.self, Approve.self,
            PinsCommand.self, Policy.self, ClientCommand.self, AuditCommand.self, Verify.self, Health.self,
            Refresh.self, Call.self,
            TaskCommand.self,
            Prompts.self,
            Prompt.self,
            Resources.self, Read.self,
            CompleteCommand.self, Watch.self, HistoryCommand.self, Agents.self, Login.self, Logout.self,
            Serve.self, Import.self, Export.self, DoctorCommand.self,
        ])

    /// Subcommands that always talk to servers: for these, libcurl starts loading before arguments are parsed.
    static let networkVerbs: Set<String> = [
        "call", "task", "prompts", "prompt", "resources", "read", "complete", "watch", "verify", "health", "refresh",
        "login",
        "logout",
        "serve",
    ]
}
