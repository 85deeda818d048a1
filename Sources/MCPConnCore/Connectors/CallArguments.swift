import Foundation

/// Builds a tool call's arguments from `--args JSON|@FILE|-` and `--arg key=value` pairs.
public enum CallArguments {
    /// Arguments files and stdin are capped like answers are.
    static let maxBytes = 16 * 1024 * 1024

    /// The arguments object. `--arg` values are JSON when they parse as JSON, else strings; they override `--args`.
    public static func build(args: String?, pairs: [String]) throws(MCPConnError) -> JSONObject {
        try build(args: args, pairs: pairs, readStdin: { LocalInput.read(fd: 0, limit: maxBytes) })
    }

    static func build(args: String?, pairs: [String], readStdin: () -> Result<[UInt8], LocalInput.Failure>)
        throws(MCPConnError) -> JSONObject
    {
        var object = JSONObject()
        if let args {
            let text: String
            if args == "-" {
                text = try contents(readStdin(), "the arguments on standard input")
            } else if args.hasPrefix("@") {
                let path = String(args.dropFirst())
                text = try contents(
                    LocalInput.read(path: path, limit: maxBytes).map(\.bytes), "the arguments file \(path)")
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
            let (key, raw) = try split(pair, flag: "--arg")
            object[key] = (try? JSONValue.parse(raw)) ?? .string(raw)
        }
        return object
    }

    /// `key=value` pairs whose values are strings as given (prompt arguments, completion context); a later
    /// key replaces an earlier one. `flag` names the option in the error.
    public static func strings(_ pairs: [String], flag: String) throws(MCPConnError) -> JSONObject {
        var object = JSONObject()
        for pair in pairs {
            let (key, value) = try split(pair, flag: flag)
            object[key] = .string(value)
        }
        return object
    }

    /// `key=value` at its first `=`; a pair without one, or with an empty key, is a usage error naming `flag`.
    static func split(_ pair: String, flag: String) throws(MCPConnError) -> (key: String, value: String) {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw .usage("\(flag) expects key=value, not '\(pair)'")
        }
        return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
    }

    /// The text of a file or stdin the user named (`what` says which): unreadable is "not found" (66),
    /// oversized bad data (65).
    static func contents(_ read: Result<[UInt8], LocalInput.Failure>, _ what: String) throws(MCPConnError)
        -> String
    {
        switch read {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(.tooLarge): throw .data("\(what) is \(LocalInput.Failure.tooLarge.reason(limit: maxBytes))")
        case .failure(let f): throw .init(.notFound, "cannot read \(what): \(f.reason(limit: maxBytes))")
        }
    }
}
