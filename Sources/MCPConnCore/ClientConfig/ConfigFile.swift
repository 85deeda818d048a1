import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A client's config file as read: its text and its content as a JSON tree (a TOML file converted).
struct ConfigFile {
    let path: String
    let text: String
    let document: JSONValue
    /// The file's permission bits, kept when it is rewritten.
    let mode: mode_t
    /// True when the text had `//` or `/* */` comments or trailing commas (VS Code's files may): a rewrite
    /// cannot keep them.
    let hadComments: Bool

    /// Config files are small; 64 MiB holds ~300,000 entries and keeps a mistaken `/dev/zero` from eating memory.
    static let maxBytes = 64 << 20

    /// Reads and parses `path`: 66 when it cannot be read, is no regular file (a FIFO would block import for
    /// good) or another user owns it, 65 when it is not valid JSON or TOML (with the line).
    static func read(_ path: String, toml: Bool) throws(MCPConnError) -> ConfigFile {
        let file: (bytes: [UInt8], info: stat)
        switch LocalInput.read(path: path, limit: maxBytes, regularOnly: true) {
        case .success(let f): file = f
        case .failure(.tooLarge): throw .data("\(path) is \(LocalInput.Failure.tooLarge.reason(limit: maxBytes))")
        case .failure(let f): throw .notFound("cannot read \(path): \(f.reason(limit: maxBytes))")
        }
        // Someone else's file could name any command for mcpconn to store and later run as this user.
        guard file.info.st_uid == geteuid() else {
            throw .notFound(
                "\(path) belongs to another user (uid \(file.info.st_uid)): copy it to a file of your own to import it")
        }
        guard let text = String(validating: file.bytes, as: UTF8.self) else { throw .data("\(path) is not UTF-8 text") }
        let mode = file.info.st_mode & 0o7777
        if toml {
            return ConfigFile(
                path: path, text: text, document: try TOMLDocument.parse(text, path: path), mode: mode,
                hadComments: false)
        }
        let plain = JSONComments.strip(text)
        do {
            let doc = try JSONValue.parse(plain, maxDepth: 64)
            return ConfigFile(path: path, text: text, document: doc, mode: mode, hadComments: plain != text)
        } catch {
            throw .data("\(path), line \(line(of: error.offset, in: plain)): invalid JSON (\(error.reason))")
        }
    }

    /// A key that an object holds twice, with the line of its second occurrence.
    struct DuplicateKey: Equatable {
        /// The keys leading to the object.
        let path: [String]
        let key: String
        let line: Int
    }

    /// The keys held twice by the objects at or under `scopes` (key paths), or held twice on the way to one
    /// (`mcpServers` itself). Looked for in the text only when the parsed tree has such a key: a clean file costs
    /// one look at its servers. A TOML file has none (toml++ refuses them).
    func duplicateKeys(at scopes: [[String]]) -> [DuplicateKey] {
        func onTheWay(_ path: [String], _ key: String) -> Bool { scopes.contains { $0.starts(with: path + [key]) } }
        func inside(_ path: [String]) -> Bool { scopes.contains { path.starts(with: $0) } }
        let suspect = scopes.contains { scope in
            var value: JSONValue? = document
            for (i, key) in scope.enumerated() {
                guard let o = value?.objectValue else { return false }
                if o.pairs.lazy.filter({ $0.key == key }).count > 1 { return true }
                value = o[key]
                if i == scope.count - 1 { return value?.hasDuplicateKeys ?? false }
            }
            return false
        }
        guard suspect else { return [] }
        return JSONDuplicateKey.all(in: JSONComments.strip(text), maxDepth: 64)
            .filter { onTheWay($0.path, $0.key) || inside($0.path) }
            .map { DuplicateKey(path: $0.path, key: $0.key, line: Self.line(of: $0.offset, in: text)) }
    }

    /// The 1-based line of a byte offset.
    static func line(of offset: Int, in text: String) -> Int {
        text.utf8.prefix(offset).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }
}
