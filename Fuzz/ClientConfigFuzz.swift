// Fuzz target: the hand-written readers of client config files (Sources/MCPConnCore/ClientConfig): JSONC
// comment stripping, `${…}` expansion and TOML table headers. Input: any bytes, taken as a config file's text.
//
// Beyond "no crash, no sanitizer report":
//   stripping keeps the byte count and every newline where it was (error lines stay the file's);
//   text that already parses as JSON comes back unchanged (so a stripped text that parses is a fixed point);
//   expansion with no syntax enabled returns its input; with every form enabled it terminates and, when the
//   text holds no `$`, returns it unchanged.

import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    let stripped = JSONComments.strip(text)
    require(stripped.utf8.count == text.utf8.count, "stripping changed the byte count: \(shown(text.utf8))")
    require(
        zip(stripped.utf8, text.utf8).allSatisfy { ($0 == 0x0A) == ($1 == 0x0A) },
        "stripping moved a newline: \(shown(text.utf8))")
    if (try? JSONValue.parse(text)) != nil {
        require(stripped == text, "stripping changed valid JSON: \(shown(text.utf8))")
    }

    let literal = Substitution(syntax: [], environment: [:], inputs: [:], workspaceFolder: "/w")
    require((try? literal.expand(text)) == text, "expansion without syntax changed the text: \(shown(text.utf8))")
    let every = Substitution(
        syntax: [.braced, .withDefault, .envPrefix, .bare, .editorVariables, .inputs],
        environment: ["A": "1", "HOME": "/h", "B_2": ""], inputs: ["id": "A"], workspaceFolder: "/w")
    if let expanded = try? every.expand(text), !text.contains("$") {
        require(expanded == text, "expansion changed text without a $: \(shown(text.utf8))")
    }

    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if let path = TOMLTableHeader.path(line) {
            require(!path.isEmpty, "a header with no key: \(shown(line.utf8))")
        }
    }
    return 0
}
