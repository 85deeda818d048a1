import Testing

@testable import MCPConnCore

@Suite("Redactor")
struct RedactorTests {
    let r = Redactor(secrets: ["sk-abcdef123456", "sk-abc"])

    @Test func everyOccurrenceGoesLongestFirst() {
        #expect(r.redact("a sk-abcdef123456 b sk-abc c") == "a [redacted] b [redacted] c")
        #expect(r.redact("nothing here") == "nothing here")
    }

    @Test func aMessageCutInsideASecretLosesTheSecretsStart() {
        // MCPConnError shortens long messages with "…": the cut can fall inside an echoed secret.
        let long = String(repeating: "x", count: 495) + " sk-abcdef123456 tail"
        let e = r.redact(MCPConnError(.failure, long))
        #expect(!e.message.contains("sk-abcd"))
        #expect(e.message.hasSuffix(Redactor.mark + "…"))
        #expect(r.redact("ends with sk-abcdef1…") == "ends with [redacted]…")
        #expect(r.redact("plain end…") == "plain end…")
    }

    @Test func jsonKeysValuesAndIdentityAreRedacted() {
        let v: JSONValue = ["sk-abc": ["text": "key sk-abcdef123456"], "n": 1]
        #expect(r.redact(v) == ["[redacted]": ["text": "key [redacted]"], "n": 1])
        let id = ServerIdentity(
            name: "srv sk-abc", version: "sk-abc", protocolVersion: "2025-11-25", instructions: nil,
            capabilities: nil, transport: "streamable-http", era: .handshake)
        #expect(r.redact(id).name == "srv [redacted]" && r.redact(id).version == "[redacted]")
    }
}
