import Foundation

/// A directory the client shares with a server that asks for its roots (MCP's `roots/list`): `call --root DIR`.
public struct ClientRoot: Sendable, Equatable {
    /// Absolute and standardized, without a trailing slash (but `/`).
    public let path: String

    /// Checks `text` names an existing directory (66 otherwise) and makes it absolute.
    public init(_ text: String, relativeTo base: String = FileManager.default.currentDirectoryPath)
        throws(MCPConnError)
    {
        let absolute = text.hasPrefix("/") ? text : base + "/" + text
        let path = URL(fileURLWithPath: absolute).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MCPConnError(.notFound, "--root '\(text)': no such directory")
        }
        self.path = path
    }

    /// The spec's Root: a `file://` URI and, as its name, the directory's last component.
    var json: JSONValue {
        let uri = URL(fileURLWithPath: path, isDirectory: true).absoluteString
        let name = (path as NSString).lastPathComponent
        return .object(["uri": .string(uri), "name": .string(name.isEmpty ? path : name)])
    }

    /// The handlers a session needs to answer with these roots: none for no roots (the unattended empty list,
    /// and no capability declared), else a `roots/list` handler (declaring `roots`).
    static func handlers(_ roots: [ClientRoot]) -> ServerRequestHandlers {
        var handlers = ServerRequestHandlers()
        guard !roots.isEmpty else { return handlers }
        let list = roots.map(\.json)
        handlers.on(ListRoots.self) { _ in .success(ListRoots.Result(roots: list)) }
        return handlers
    }
}
