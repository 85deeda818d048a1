import Foundation

/// Expands the variable references of a client's config value at import time, as that client would when it
/// starts the server: `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `$VAR` (Gemini), the editors' `${userHome}`
/// and `${workspaceFolder}`, and VS Code's `${input:ID}` from a source the user names.
struct Substitution {
    struct Syntax: OptionSet, Sendable {
        let rawValue: Int
        /// `${VAR}`.
        static let braced = Syntax(rawValue: 1)
        /// `${VAR:-default}`.
        static let withDefault = Syntax(rawValue: 2)
        /// `${env:VAR}` (Cursor, VS Code).
        static let envPrefix = Syntax(rawValue: 4)
        /// `$VAR` without braces (Gemini).
        static let bare = Syntax(rawValue: 8)
        /// `${userHome}`, `${workspaceFolder}`, `${workspaceFolderBasename}`, `${pathSeparator}`.
        static let editorVariables = Syntax(rawValue: 16)
        /// `${input:ID}` (VS Code).
        static let inputs = Syntax(rawValue: 32)
    }

    /// Why a value could not be expanded; the entry is skipped with this reason.
    struct Failure: Error, Equatable {
        let reason: String
    }

    let syntax: Syntax
    let environment: [String: String]
    /// `${input:ID}` → the environment variable holding its value (`--input ID=VAR`).
    let inputs: [String: String]
    /// The folder `${workspaceFolder}` names: the project holding `.vscode/` or `.cursor/`.
    let workspaceFolder: String
    /// Variables a file may not read: mcpconn's own (the store's key, the serve token). A cloned project's
    /// `.mcp.json` could otherwise copy the key into an argument, or send it to any server as a header.
    var isRefused: @Sendable (String) -> Bool = { _ in false }

    func expand(_ text: String) throws(Failure) -> String {
        try render(text) { name throws(Failure) in try variable(name) }
    }

    /// For a local server's arguments, which are stored in clear: the value of a variable `keep` names is not put
    /// in the text but left as `${NAME}` and returned, to be sealed with the connector's environment and put back
    /// when the server starts (`StdioLaunch.argument`). Other variables, defaults and editor variables are
    /// expanded in place.
    func expandKeepingVariables(_ text: String, keeping keep: (String) -> Bool) throws(Failure)
        -> (text: String, variables: [(name: String, value: String)])
    {
        var found: [(name: String, value: String)] = []
        let out = try render(text) { name throws(Failure) in
            let value = try variable(name)
            guard keep(name) else { return value }
            found.append((name, value))
            return "${\(name)}"
        }
        return (out, found)
    }

    /// `text` with every reference replaced: a variable's by `resolve(NAME)`, the others by their value.
    private func render(_ text: String, _ resolve: (String) throws(Failure) -> String) throws(Failure) -> String {
        guard !syntax.isEmpty, text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let ch = text[i]
            guard ch == "$" else {
                out.append(ch)
                i = text.index(after: i)
                continue
            }
            let next = text.index(after: i)
            if next < text.endIndex, text[next] == "{", let close = text[next...].firstIndex(of: "}") {
                out += try braced(String(text[text.index(after: next)..<close]), resolve)
                i = text.index(after: close)
            } else if syntax.contains(.bare), let (name, end) = bareName(text, from: next) {
                out += try resolve(name)
                i = end
            } else {
                out.append(ch)
                i = next
            }
        }
        return out
    }

    /// The value of what stands between `${` and `}`.
    private func braced(_ body: String, _ resolve: (String) throws(Failure) -> String) throws(Failure) -> String {
        if syntax.contains(.envPrefix), body.hasPrefix("env:") { return try resolve(String(body.dropFirst(4))) }
        if syntax.contains(.inputs), body.hasPrefix("input:") {
            let id = String(body.dropFirst(6))
            guard let variableName = inputs[id] else {
                throw Failure(reason: "needs a secret for ${input:\(id)}: give it with --input \(id)=VAR")
            }
            return try resolve(variableName)
        }
        if syntax.contains(.editorVariables) {
            switch body {
            case "userHome": return environment["HOME"] ?? NSHomeDirectory()
            case "workspaceFolder": return workspaceFolder
            case "workspaceFolderBasename": return URL(fileURLWithPath: workspaceFolder).lastPathComponent
            case "pathSeparator", "/": return "/"
            default: break
            }
        }
        if syntax.contains(.withDefault), let sep = body.range(of: ":-") {
            let name = String(body[..<sep.lowerBound])
            if isName(name) {
                if let v = environment[name], !v.isEmpty || isRefused(name) { return try resolve(name) }
                return String(body[sep.upperBound...])
            }
        }
        if syntax.contains(.braced), isName(body) { return try resolve(body) }
        throw Failure(reason: "uses ${\(String(body.prefix(40)))}, which mcpconn cannot expand")
    }

    func variable(_ name: String) throws(Failure) -> String {
        if isRefused(name) { throw Failure(reason: "reads \(name), which is mcpconn's own and never imported") }
        guard let v = environment[name] else { throw Failure(reason: "the environment variable \(name) is not set") }
        return v
    }

    private func isName(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    /// `$NAME` at `start` (just after the `$`): the name and where it ends.
    private func bareName(_ text: String, from start: String.Index) -> (String, String.Index)? {
        var end = start
        while end < text.endIndex, let a = text[end].asciiValue,
            a == UInt8(ascii: "_") || isLetter(a) || (a >= 0x30 && a <= 0x39)
        {
            end = text.index(after: end)
        }
        let name = String(text[start..<end])
        return isName(name) ? (name, end) : nil
    }
}
