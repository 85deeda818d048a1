import Foundation

/// Builds a tool call's arguments from `--args JSON|@FILE|-` and `--arg key=value` pairs.
public enum CallArguments {
    /// Arguments files and stdin are capped like answers are.
    static let maxBytes = 16 * 1024 * 1024

    /// The arguments object. `--arg` values are JSON when they parse as JSON, else strings; they override `--args`.
    public static func build(args: String?, pairs: [String], readStdin: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() })
        throws(MCPConnError) -> JSONObject
    {
        var object = JSONObject()
        if let args {
            let text: String
            if args == "-" {
                let d = readStdin()
                if d.count > maxBytes { throw .data("the arguments on standard input are over 16 MiB") }
                text = String(decoding: d, as: UTF8.self)
            } else if args.hasPrefix("@") {
                let path = String(args.dropFirst())
                guard let h = FileHandle(forReadingAtPath: path) else {
                    throw .init(.notFound, "cannot read the arguments file \(path)")
                }
                defer { try? h.close() }
                let d = h.readData(ofLength: maxBytes + 1)
                if d.count > maxBytes { throw .data("the arguments file \(path) is over 16 MiB") }
                text = String(decoding: d, as: UTF8.self)
            } else {
                text = args
            }
            let value: JSONValue
            do {
                value = try JSONValue.parse(text)
            } catch {
                throw .data("--args is not valid JSON: \(error)")
            }
            guard let o = value.objectValue else { throw .data("--args must be a JSON object") }
            object = o
        }
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw .usage("--arg expects key=value, not '\(pair)'")
            }
            let key = String(pair[..<eq])
            let raw = String(pair[pair.index(after: eq)...])
            object[key] = (try? JSONValue.parse(raw)) ?? .string(raw)
        }
        return object
    }
}
