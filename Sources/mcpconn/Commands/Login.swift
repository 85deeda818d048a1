import ArgumentParser
import Foundation
import MCPConnCore

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to an OAuth-protected server: authorization code flow with PKCE.",
        discussion: """
            Discovers the authorization server from the MCP server (RFC 9728, RFC 8414), uses the given client, \
            <TYPE>_CLIENT_ID/<TYPE>_CLIENT_SECRET from the environment, or registers one (RFC 7591), and waits \
            on 127.0.0.1 for the browser's redirect. The authorization URL is printed alone on one stderr line \
            (and opened in a browser, with xdg-open or macOS's open, unless --no-browser). Tokens are stored encrypted; the connector's auth \
            becomes oauth. See docs/oauth.md.
            """)

    @Argument(help: "Connector id or name.") var ref: String
    @Flag(help: "Do not open a browser; only print the URL.") var noBrowser = false
    @Option(help: ArgumentHelp("A pre-registered OAuth client id.", valueName: "id")) var clientID: String?
    @Option(
        name: .customLong("client-secret-env"),
        help: ArgumentHelp("Read the client secret from this environment variable.", valueName: "VAR"))
    var clientSecretEnv: String?
    @Option(
        help: ArgumentHelp(
            "Scopes to request (space-separated; default: what the server advertises).", valueName: "scopes"))
    var scope: String?
    @Option(
        help: ArgumentHelp(
            "Listen for the redirect on this 127.0.0.1 port (a pre-registered client's redirect URI, http://127.0.0.1:PORT/callback).",
            valueName: "port"))
    var port: Int?
    @Option(help: ArgumentHelp("Seconds to wait for the browser.", valueName: "seconds"))
    var timeout: Double = 300
    @Flag(help: "Log the OAuth discovery to stderr.") var verbose = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if !(timeout > 0 && timeout <= 86400) { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
        if clientSecretEnv != nil && clientID == nil { throw ValidationError("--client-secret-env needs --client-id") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1…65535") }
    }

    func run() async throws {
        var options = LoginOptions()
        options.clientID = clientID
        if let clientSecretEnv {
            options.clientSecret = try SecretSource(stdin: false, env: clientSecretEnv, file: nil)?.read()
        }
        options.scopes = scope.map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) }
        options.timeout = timeout
        options.port = port
        options.openBrowser = !noBrowser
        options.announce = { url in Output.stderrLine(url) }
        let settings = NetworkSettings(timeout: 30, trace: verbose ? Output.trace : nil)
        let connector = try await global.manager().oauth.login(ref, options: options, settings: settings)
        if global.json {
            Output.json(connector.json())
        } else if Progress.isInteractive {
            Output.error("logged in to '\(connector.name)': token \(connector.tokenState)")
        }
    }
}
