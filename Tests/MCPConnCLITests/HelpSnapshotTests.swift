import Foundation
import MCPConnTestSupport
import Testing

/// `--help` of the root command and of every verb, pinned: a change to a flag, its help or the exit codes is a
/// visible diff in Tests/Fixtures/help/. After an intended change, regenerate them with
/// `MCPCONN_UPDATE_HELP=1 swift test --filter HelpSnapshot` and review the diff.
@Suite("CLI: help text pinned")
struct HelpSnapshotTests {
    static let verbs = [
        "", "add", "list", "get", "update", "delete", "toggle", "tools", "scan", "approve", "pins", "policy", "client",
        "audit",
        "verify",
        "health", "refresh", "call",
        "task", "prompts",
        "prompt", "resources", "read", "complete", "watch",
        "history", "agents", "login", "logout", "serve", "import", "export", "doctor",
    ]
    /// Verbs with verbs of their own: each of those pinned too (`client-add.txt`).
    static let subverbs = ["client add", "client rotate", "client remove", "client list"]
    static let folder = TestServer.repoRoot.appendingPathComponent("Tests/Fixtures/help")

    @Test(arguments: verbs + subverbs)
    func helpIsPinned(verb: String) async throws {
        let words = verb.split(separator: " ").map(String.init)
        let r = await CLISandbox().run(words + ["--help"], env: ["COLUMNS": "100"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r)")
        let file = Self.folder.appendingPathComponent(
            (verb.isEmpty ? "mcpconn" : words.joined(separator: "-")) + ".txt")
        if ProcessInfo.processInfo.environment["MCPCONN_UPDATE_HELP"] == "1" {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            try r.stdout.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let pinned = try String(contentsOf: file, encoding: .utf8)
        let (got, want) = (
            r.stdout.split(separator: "\n", omittingEmptySubsequences: false),
            pinned.split(separator: "\n", omittingEmptySubsequences: false)
        )
        let first = Array(zip(got, want)).firstIndex { $0 != $1 } ?? min(got.count, want.count)
        #expect(
            r.stdout == pinned,
            "`\(verb) --help` differs from \(file.lastPathComponent) at line \(first + 1): got '\(first < got.count ? got[first] : "<end>")', pinned '\(first < want.count ? want[first] : "<end>")' (MCPCONN_UPDATE_HELP=1 regenerates)"
        )
    }

    /// `--version` names the commit the binary was built from (and `-dirty` for uncommitted changes).
    @Test func versionNamesTheCommit() async throws {
        let r = await CLISandbox().run(["--version"])
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", TestServer.repoRoot.path, "rev-parse", "--short=12", "HEAD"]
        let out = await Pipe.closeOnExec()
        git.standardOutput = out
        try await git.runOffPool()
        let head = String(decoding: await out.readToEnd(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(r.status == 0 && r.stdout.hasPrefix("0.1.0 (commit \(head)"), "\(r) vs HEAD \(head)")
        #expect(r.stdout.hasSuffix(")\n") && head.count == 12)
    }

    /// Every verb the root lists has a pinned help, so a new verb cannot go unpinned.
    @Test func everyVerbIsPinned() async throws {
        let root = await CLISandbox().run(["--help"], env: ["COLUMNS": "100"])
        // A verb's line starts with two spaces and its name; a wrapped abstract continues further in.
        let listed = root.stdout.split(separator: "\n").drop { !$0.hasPrefix("SUBCOMMANDS:") }.dropFirst()
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "See" }
        #expect(Set(listed).subtracting(["help"]) == Set(Self.verbs.dropFirst()), "\(listed)")
        let client = await CLISandbox().run(["client", "--help"], env: ["COLUMNS": "100"])
        let subverbs = client.stdout.split(separator: "\n").drop { !$0.hasPrefix("SUBCOMMANDS:") }.dropFirst()
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map { "client " + $0 } }.filter { $0 != "client See" }
        #expect(Set(subverbs) == Set(Self.subverbs), "\(subverbs)")
    }
}
