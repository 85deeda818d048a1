/// How bad a finding of `scan` is: `--fail-on` compares against it.
public enum ScanSeverity: String, CaseIterable, Comparable, Sendable {
    case low, medium, high

    public static func < (a: ScanSeverity, b: ScanSeverity) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .low: return 0
        case .medium: return 1
        case .high: return 2
        }
    }
}

/// One check of `scan`: its id (what scripts and docs name), its severity, and what it looks for.
public struct ScanRule: Sendable, Hashable {
    public let id: String
    public let severity: ScanSeverity
    public let summary: String

    init(_ id: String, _ severity: ScanSeverity, _ summary: String) {
        self.id = id
        self.severity = severity
        self.summary = summary
    }

    public static func == (a: ScanRule, b: ScanRule) -> Bool { a.id == b.id }
    public func hash(into h: inout Hasher) { h.combine(id) }
}

extension ScanRule {
    static let tagCharacters = ScanRule(
        "invisible.tag-characters", .high,
        "Unicode tag characters (U+E0000–U+E007F): ASCII text that models read and people do not see")
    static let bidiOverride = ScanRule(
        "invisible.bidi-override", .high,
        "bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): text shown in another order than it is read"
    )
    static let zeroWidth = ScanRule(
        "invisible.zero-width", .medium,
        "zero-width and other invisible format characters (U+200B–U+200F, U+2060–U+2064, U+FEFF, U+180E, U+061C, U+00AD)"
    )
    static let variationSelectors = ScanRule(
        "invisible.variation-selectors", .medium,
        "supplementary variation selectors (U+E0100–U+E01EF): one hidden byte each, after any character")
    static let hiddenInstructions = ScanRule(
        "tool-poisoning.hidden-instructions", .high,
        "instructions to the model hidden from the user: <IMPORTANT> and similar tags, \"ignore previous instructions\", \"do not tell the user\""
    )
    static let directive = ScanRule(
        "tool-poisoning.directive", .low,
        "orders about other tools or what to do first (\"before using this tool\", \"always use this tool\")")
    static let secretKeyPath = ScanRule(
        "secrets.key-path", .high, "paths to private keys: ~/.ssh, id_rsa, id_ed25519, .gnupg, /etc/shadow")
    static let secretPath = ScanRule(
        "secrets.path", .medium,
        "paths to files that hold secrets: .env, credentials files, .netrc, .npmrc, .pypirc, .docker/config.json, .kube/config, mcp.json"
    )
    static let suspiciousURL = ScanRule(
        "exfiltration.suspicious-url", .high,
        "a URL to a request-capture or tunnel service (webhook.site, ngrok, pipedream, …) or to a bare IP address")
    static let url = ScanRule("exfiltration.url", .low, "any other http(s) URL: where data could be sent")
    static let shadowing = ScanRule(
        "shadowing.other-connector-tool", .medium,
        "the name of another connector's tool (one with _ - . a digit or an inner capital, not the connector's own)")
    static let excessiveLength = ScanRule(
        "length.excessive", .medium, "a field over 4000 characters, or a schema too big to scan whole")
    static let secretField = ScanRule(
        "schema.secret-field", .medium,
        "an input property or prompt argument named for a secret: password, api_key, token, private_key, …")

    /// Every rule, in the order findings of one field are listed.
    public static let all: [ScanRule] = [
        tagCharacters, bidiOverride, zeroWidth, variationSelectors, hiddenInstructions, secretKeyPath, secretPath,
        suspiciousURL, shadowing, secretField, excessiveLength, directive, url,
    ]
}

/// A fixed phrase a rule looks for, in lowercase ASCII (or UTF-8); a space matches any run of whitespace.
struct ScanPhrase: Sendable {
    let bytes: [UInt8]
    let rule: ScanRule
    /// The byte before must not be a letter, digit or `_` (`.env` is not `process.env`).
    let wordStart: Bool
    /// The byte after must not be a letter or digit (`.env` is not `.environment`).
    let wordEnd: Bool
    /// A URL's scheme: the host decides the rule.
    let isURL: Bool

    init(_ text: String, _ rule: ScanRule, wordEnd: Bool = false, isURL: Bool = false) {
        bytes = Array(text.utf8)
        self.rule = rule
        let first = bytes[0]
        wordStart = ScanPhrase.isWordByte(first) || first == UInt8(ascii: ".")
        self.wordEnd = wordEnd
        self.isURL = isURL
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }
}

extension ScanPhrase {
    /// The phrases of every phrase rule. Written from the published descriptions of tool poisoning (hidden
    /// `<IMPORTANT>` blocks that tell the model to read ~/.ssh or mcp.json and pass it in a spare parameter, to keep
    /// quiet about it, or to change how another server's tool is used).
    static let all: [ScanPhrase] = {
        let hidden: [String] = [
            "<important>", "</important>", "<system>", "</system>", "<instructions>", "<secret>", "<hidden>",
            "<|im_start|>", "<|system|>", "ignore previous", "ignore all previous", "ignore the previous",
            "ignore any previous", "ignore prior", "ignore all prior", "ignore the above", "ignore all above",
            "disregard previous", "disregard all previous", "disregard the previous", "disregard prior",
            "disregard the above", "forget previous", "forget all previous", "forget your instructions",
            "do not tell the user", "don't tell the user", "don\u{2019}t tell the user", "never tell the user",
            "do not inform the user", "do not mention this", "don't mention this", "do not mention that",
            "do not reveal", "without telling the user", "without informing the user", "without the user knowing",
            "without notifying the user", "not visible to the user", "hide this from the user",
            "the user must not know", "the user should not know", "the user must never know",
        ]
        let directives: [String] = [
            "before using this tool", "before calling this tool", "before using any other tool",
            "before any other tool", "you must first", "always use this tool", "always call this tool",
            "instead of any other tool", "important side effect",
        ]
        let keyPaths: [String] = [
            "~/.ssh", ".ssh/", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".gnupg", "/etc/shadow",
        ]
        let secretPaths: [String] = [
            "/credentials", ".credentials", "-credentials", "credentials.json", "credentials.yaml", "credentials.yml",
            "credentials.toml", ".netrc", ".npmrc", ".pypirc", ".docker/config.json", ".kube/config", "mcp.json",
            "/etc/passwd", ".bash_history", ".zsh_history", "wallet.dat",
        ]
        var all: [ScanPhrase] = []
        all += hidden.map { ScanPhrase($0, .hiddenInstructions) }
        all += directives.map { ScanPhrase($0, .directive) }
        all += keyPaths.map { ScanPhrase($0, .secretKeyPath) }
        all.append(ScanPhrase(".env", .secretPath, wordEnd: true))
        all += secretPaths.map { ScanPhrase($0, .secretPath) }
        all += ["http://", "https://"].map { ScanPhrase($0, .url, isURL: true) }
        return all
    }()

    /// Hosts (and their subdomains) of services that record whatever is sent to them, or tunnel it to a
    /// private machine: a description has no honest reason to send data there.
    static let captureHosts = [
        "webhook.site", "requestbin.com", "requestbin.net", "pipedream.net", "ngrok.io", "ngrok.app", "ngrok.dev",
        "ngrok-free.app", "ngrok-free.dev", "burpcollaborator.net", "oastify.com", "oast.fun", "oast.pro",
        "oast.live", "oast.site", "oast.online", "oast.me", "interact.sh", "beeceptor.com", "hookbin.com",
        "requestcatcher.com", "canarytokens.com", "trycloudflare.com", "serveo.net", "loca.lt", "localtunnel.me",
        "pastebin.com",
    ]

    /// Property and argument names (lowercased, without `_`, `-` and `.`) that ask for a secret: ending with one
    /// of these (`client_secret`, `github_token`; not `max_tokens`), or equal to one of ``secretExactNames``.
    static let secretNameEndings = [
        "password", "passwd", "passphrase", "apikey", "secret", "token", "privatekey", "sshkey", "credential",
        "credentials", "cookie", "mnemonic", "seedphrase",
    ]
    /// Too short to look for at the end of a name (`spin`).
    static let secretExactNames: Set<String> = ["pin", "cvv", "otp", "auth"]
    /// Tokens that are not secrets: the cursors of paged APIs.
    static let notSecretNames = ["pagetoken", "nexttoken", "continuationtoken", "cursortoken", "synctoken"]
}
