import Foundation
import MCPConnTestSupport
import Testing

@testable import MCP
@testable import MCPConnCore

/// Every byte mcpconn left behind for a sandbox: its output and the store's files (database, WAL).
private func storeBytes(_ s: CLISandbox) -> Data {
    var all = Data()
    for suffix in ["", "-wal", "-shm"] {
        all += (try? Data(contentsOf: URL(fileURLWithPath: s.databasePath + suffix))) ?? Data()
    }
    return all
}

/// Makes the store's file unwritable, even for root (chattr +i); returns a function that undoes it. chattr runs
/// off Swift's pool (it waits for the spawn gate and for the child).
private func makeReadOnly(_ path: String) async throws -> @Sendable () async -> Void {
    @Sendable func chattr(_ flag: String) async -> Int32 {
        (try? await offPool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            p.arguments = [flag, path]
            p.standardError = FileHandle.nullDevice
            try p.runGated()
            p.waitUntilExit()
            return p.terminationStatus
        }) ?? -1
    }
    if geteuid() == 0 {
        try #require(await chattr("+i") == 0, "chattr +i is needed to make a file read-only for root")
        return { _ = await chattr("-i") }
    }
    chmod(path, 0o444)
    return { chmod(path, 0o600) }
}

/// Issue 12's hardening defects 1, 4-9 and 11, each run through the binary.
@Suite("CLI: hardening against hostile servers and bad local input", .timeLimit(.minutes(3)))
struct HardeningCLITests {
    static let secret = "sk-live-TOPSECRET-8c1f"

    // Defect 1: a result counts only once stored.
    @Test func aResultThatCannotBeStoredFails() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.reference()
        #expect(await s.run(["add", "ref", server.base + "/mcp"]).status == 0)
        #expect(await s.run(["verify", "ref"]).status == 0)
        let undo = try await makeReadOnly(s.databasePath)
        for verb in ["verify", "refresh", "health"] {
            let r = await s.run([verb, "ref", "--json"])
            #expect(r.status == 78, "\(verb): \(r)")
            #expect(r.stderr.contains("could not be stored"), "\(verb): \(r)")
            let reported = json(r)
            #expect((reported.arrayValue?.first ?? reported)["ok"] != true, "\(verb): \(r)")
        }
        let fleet = await s.run(["refresh", "--all", "--fail-on-change"])
        #expect(fleet.status == 1, "\(fleet)")
        await undo()  // nothing above throws: the #expects record and go on
    }

    // Defect 4: a server that echoes the credential gets it neither stored nor printed.
    @Test(arguments: ["rpc", "iserror", "text", "401", "500", "identity", "tools"])
    func anEchoedSecretIsRedactedEverywhere(at: String) async throws {
        let s = CLISandbox()
        let server = try await CLIServers.faults()
        let url = "\(server.base)/hostile/echo-secret?at=\(at)"
        #expect(await s.run(["add", "e", url, "--auth", "api_key", "--secret-stdin"], stdin: Self.secret).status == 0)
        var outputs: [CLIResult] = []
        for args in [
            ["verify", "e"], ["verify", "e", "--json"], ["health", "e"], ["health", "e", "--json"], ["tools", "e"],
            ["call", "e", "echo"], ["call", "e", "echo", "--json"], ["call", "e", "echo", "--format", "agent"],
            ["get", "e"], ["get", "e", "--json"], ["list"], ["list", "--json"], ["history", "e"],
            ["history", "e", "--json"], ["agents", "--json"],
        ] {
            outputs.append(await s.run(args))
        }
        let printed = outputs.map { $0.stdout + $0.stderr }.joined()
        #expect(!printed.contains(Self.secret), "\(at): \(printed)")
        // The server did echo it: the redaction mark shows where.
        #expect(printed.contains(Redactor.mark), "\(at): \(printed)")
        #expect(storeBytes(s).range(of: Data(Self.secret.utf8)) == nil, "\(at): the store holds the secret in clear")
    }

    // Defect 5: a wrong or malformed key changes nothing.
    @Test func aWrongKeyWritesNothing() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.keyed()
        let add = await s.run(
            ["add", "k", server.base + "/mcp", "--auth", "api_key", "--key-header", "X-Team-Key", "--secret-stdin"],
            stdin: "cli-s3cret-key")
        #expect(add.status == 0)
        #expect(await s.run(["verify", "k"]).status == 0)
        let before = try await s.run(["history", "k", "--json"]).stdout
        for key in [String(repeating: "ab", count: 32), "not-a-key"] {
            for verb in [
                ["verify", "k"], ["refresh", "k"], ["health", "k"], ["verify", "--all"], ["call", "k", "echo"],
            ] {
                let r = await s.run(verb, env: ["TOKEN_ENCRYPTION_KEY": key])
                #expect(r.status == 78, "\(verb) with key \(key): \(r)")
            }
        }
        let got = json(await s.run(["get", "k", "--json"]))
        #expect(got["is_verified"] == true)
        #expect(got["last_error"] == .null)
        #expect(try await s.run(["history", "k", "--json"]).stdout == before)
        #expect(json(await s.run(["agents", "--json"])).arrayValue?.count == 1)
    }

    // Defect 6: a directory where a file is expected is "cannot read", not a crash.
    @Test func aDirectoryAsInputFileExits66() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.reference()
        await s.run(["add", "ref", server.base + "/mcp"])
        let dir = s.dir.path
        for args in [
            ["call", "ref", "echo", "--args", "@" + dir],
            ["add", "x", server.base + "/mcp", "--auth", "api_key", "--secret-file", dir],
            ["update", "ref", "--auth", "api_key", "--secret-file", dir],
        ] {
            let r = await s.run(args)
            #expect(r.status == 66, "\(args): \(r)")
            #expect(r.stderr.hasPrefix("mcpconn: cannot read") && r.stderr.contains("directory"), "\(r)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
    }

    // Defect 7: the process cannot dump core, so no core holds a decrypted secret; nor does a crash print
    // Swift's backtrace, which shows registers and the memory they point to.
    @Test func aRunningCommandCannotDumpCore() async throws {
        let s = CLISandbox()
        let server = try await privateSlowServer()
        let add = await s.run(
            ["add", "slow", "\(server.base)/mcp-slow?delay=60", "--auth", "api_key", "--secret-stdin"],
            stdin: Self.secret)
        #expect(add.status == 0)
        _ = try await getJSON("\(server.base)/stats")  // POST resets the counters
        let errors = s.dir.appendingPathComponent("stderr")
        let (p, exit) = try await s.start(["call", "slow", "echo", "--timeout", "90"], stderr: errors)
        // Wait (bounded) until the call is at the server: its credential is decrypted by then. The server holds it
        // 60 s (the test kills it long before), so that a check under a loaded suite's slow process starts (each
        // a curl) cannot miss it.
        #expect(
            try await eventually(every: spawnInterval) {
                try await getJSON("\(server.base)/stats")["in_flight"]?.intValue ?? 0 > 0
            })
        let limits = try String(contentsOfFile: "/proc/\(p.processIdentifier)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") } ?? ""
        #expect(
            core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
        kill(p.processIdentifier, SIGSEGV)
        #expect(await exit.wait() == 128 + SIGSEGV)
        #expect(try String(contentsOf: errors, encoding: .utf8) == "")
    }

    @Test func theHardeningCallForbidsCoreDumpsInProcess() {
        #expect(ProcessHardening.forbidCoreDumps())
        #expect(ProcessHardening.isDumpable == false)
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        #expect(limit.rlim_cur == 0 && limit.rlim_max == 0)
    }

    // Output that cannot be written is an error (74), and a closed or full stderr is no crash.
    @Test func unwritableOutputIsAnErrorNotACrash() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "ref", "http://127.0.0.1:1/mcp"]).status == 0)
        func redirected(_ redirection: String, _ args: [String]) async -> CLIResult {
            await s.run(args, wrapper: ["/bin/sh", "-c", "exec \"$0\" \"$@\" \(redirection)"])
        }
        for args in [["list"], ["get", "ref"], ["get", "ref", "--json"], ["list", "--json"]] {
            let full = await redirected(">/dev/full", args)
            #expect(full.status == 74, "\(args): \(full)")
            #expect(full.stderr == "mcpconn: cannot write to standard output: No space left on device\n")
            #expect(await redirected(">&-", args).status == 74, "\(args)")
        }
        // Nowhere to say it, but the exit status still tells.
        #expect(await redirected("2>/dev/full", ["get", "nosuch"]).status == 66)
        #expect(await redirected("2>&-", ["get", "nosuch"]).status == 66)
        #expect(await redirected(">/dev/full 2>&-", ["list"]).status == 74)
    }

    // Defect 8: impossible URLs are usage errors at add, and never echo a password.
    @Test func impossibleURLsAreRefusedAtAdd() async throws {
        let s = CLISandbox()
        for url in ["http://127.0.0.1:99999/", "http://127.0.0.1:0/mcp", "https://h:65536/"] {
            let r = await s.run(["add", "u", url])
            #expect(r.status == 64, "\(url): \(r)")
            #expect(r.stderr.contains("port"), "\(r)")
        }
        for url in [#"http:/\alice:pw-SECRET@host/"#, "http:alice:pw-SECRET@host/", "http://alice:pw-SECRET@host/"] {
            let r = await s.run(["add", "u", url])
            #expect(r.status == 64, "\(url): \(r)")
            #expect(!r.stderr.contains("pw-SECRET"), "\(r)")
        }
        #expect(await s.run(["add", "ok", "http://127.0.0.1:65535/mcp"]).status == 0)
    }

    // Defect 9: a key file other users can read is refused, as ssh refuses such a private key.
    @Test func aKeyFileOpenToOthersIsRefused() async throws {
        let s = CLISandbox()
        let server = try await CLIServers.reference()
        #expect(
            await s.run(["add", "k", server.base + "/mcp", "--auth", "api_key", "--secret-stdin"], stdin: "k-1").status
                == 0)
        let keyFile = s.dir.appendingPathComponent("config/mcpconn/key").path
        for mode in [0o644, 0o640, 0o604, 0o660] as [mode_t] {
            chmod(keyFile, mode)
            let r = await s.run(["verify", "k"])
            #expect(r.status == 78, "mode \(String(mode, radix: 8)): \(r)")
            #expect(r.stderr.contains("chmod 600"), "\(r)")
        }
        chmod(keyFile, 0o600)
        #expect(await s.run(["verify", "k"]).status == 0)
    }

    // Defect 11: names that hide characters would let two connectors look alike.
    @Test func invisibleCharactersInNamesAreRefused() async throws {
        let s = CLISandbox()
        #expect(await s.run(["add", "github", "http://127.0.0.1:1/mcp"]).status == 0)
        for name in [
            "git\u{200B}hub", "github\u{202E}", "\u{2066}github", "git\u{00AD}hub", "git\u{FEFF}hub", "git\u{3164}hub",
        ] {
            let r = await s.run(["add", name, "http://127.0.0.1:1/mcp"])
            #expect(r.status == 64, "\(name.unicodeScalars.map { String($0.value, radix: 16) }): \(r)")
            #expect(await s.run(["update", "github", "--name", name]).status == 64)
        }
        #expect(await s.run(["add", "café ü", "http://127.0.0.1:1/mcp"]).status == 0)
    }
}
