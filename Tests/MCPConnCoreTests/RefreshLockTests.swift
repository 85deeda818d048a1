import Foundation
import Testing

@testable import MCPConnCore

#if canImport(Glibc)
    import Glibc
#endif

/// The per-connector OAuth refresh lock, held by "another process" (this test's own descriptor: flock locks
/// belong to open files, so a second open in the same process conflicts like another process would).
@Suite("OAuth refresh lock: bounded and cancellable", .timeLimit(.minutes(1)))
struct RefreshLockTests {
    /// A connector whose refresh lock is held; close the descriptor to release it.
    func connectorWithHeldLock() async throws -> (ConnectorManager, Connector, Int32) {
        let m = try await makeManager()
        let c = try m.storage.add(ConnectorInput(name: "o", serverURL: "http://127.0.0.1:9/mcp"))
        let fd = open(m.store.path + ".oauth-\(c.id ?? 0).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        try #require(flock(fd, LOCK_EX | LOCK_NB) == 0)
        return (m, c, fd)
    }

    @Test func aLockHeldPastTheTimeoutIs75() async throws {
        let (m, c, fd) = try await connectorWithHeldLock()
        defer { close(fd) }
        let error = await #expect(throws: MCPConnError.self) {
            _ = try await m.oauth.refreshTokens(c, rejected: nil, settings: NetworkSettings(timeout: 0.3))
        }
        #expect(error?.status == .timeout)
        #expect(error?.message.contains("refresh lock") == true)
        #expect(error?.message.contains("\n") == false)
    }

    @Test func waitingForTheLockEndsWhenTheTaskIsCancelled() async throws {
        let (m, c, fd) = try await connectorWithHeldLock()
        defer { close(fd) }
        // A deadline an hour away: only the cancel can end the wait within the test's time limit.
        let task = Task { () async -> MCPConnError? in
            do {
                _ = try await m.oauth.refreshTokens(c, rejected: nil, settings: NetworkSettings(timeout: 3600))
                return nil
            } catch { return error as? MCPConnError }
        }
        task.cancel()
        let error = await task.value
        #expect(error?.status == .failure)
        #expect(error?.message.contains("cancelled") == true)
    }
}
