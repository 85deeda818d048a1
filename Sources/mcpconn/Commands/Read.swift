import ArgumentParser
import MCPConnCore

struct Read: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read a connector's resource and print its text.",
        discussion: """
            Text prints to stdout (its control characters escaped, as all server text is). A binary resource goes \
            to --out FILE or to a pipe, never to a terminal (refused, exit 64). --out writes the content as it came \
            (one content item; several exit 65: use --json). --json prints the whole result, blobs as base64.
            """)

    @Argument(help: "The connector's id or name.") var ref: String
    @Argument(help: "The resource's URI.") var uri: String
    @Option(help: ArgumentHelp("Write the content to this file instead of stdout.", valueName: "file"))
    var out: String?
    @OptionGroup var request: RequestOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if out != nil && global.json { throw ValidationError("give --out FILE or --json, not both") }
    }

    func run() async throws {
        let (settings, display) = try request.settings(connector: ref, json: global.json)
        defer { display.finish() }
        let result = try await global.manager().sessions.request(
            ref, ReadResource.self, .init(uri: uri), settings: settings)
        display.finish()
        if global.json { Output.json(result.value) }
        try InputRequired.check(result.value, "resource '\(uri)'")
        if global.json { return }
        let contents = try ResourceContent.items(result.value, uri: uri)
        if let out {
            guard contents.count <= 1 else {
                throw MCPConnError(
                    .dataError, "resource '\(uri)' has \(contents.count) contents: --out writes one (use --json)")
            }
            let written = (contents.first ?? .text("")).withBytes { bytes in
                Result { () throws(MCPConnError) in try Output.writeFile(bytes, to: out) }
            }
            try written.get()
            return
        }
        if let blob = contents.first(where: { if case .blob = $0 { true } else { false } }), Output.isTerminal {
            throw MCPConnError(
                .usage, "resource '\(uri)' is \(blob.summary): write it with --out FILE or pipe it, not to a terminal")
        }
        for content in contents {
            switch content {
            case .text(let text): Output.print(text.hasSuffix("\n") || text.isEmpty ? text : text + "\n")
            case .blob: content.withBytes { Output.bytes($0) }
            }
        }
    }
}
