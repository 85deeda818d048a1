import ArgumentParser
import MCPConnCore

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Revoke a connector's OAuth tokens (RFC 7009, where offered) and remove them.",
        discussion: """
            The registered OAuth client is kept for the next login. If revocation fails, the tokens are still \
            removed locally and the exit code is 69.
            """)

    @Argument(help: "Connector id or name.") var ref: String
    @OptionGroup var network: NetworkOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let revoked = try await global.manager().oauth.logout(ref, settings: network.settings())
        if global.json { Output.json(.object(["revoked": .bool(revoked)])) }
    }
}
