import Foundation
import MCPConnTestSupport

@testable import MCPConnCore

/// A manager over a fresh store in a temporary directory, with a fixed encryption key. The store is created off
/// Swift's pool: its migrations commit with fsync, which on a loaded disk held a pool thread for seconds (a
/// ThreadSanitizer run, seen with PoolProbe and gdb).
func makeManager(key: String = String(repeating: "ab", count: 32), user: Int64 = 1) async throws -> ConnectorManager {
    PoolProbe.startIfRequested()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-test-\(UUID().uuidString)")
    let store = try await offPool { try Store(path: dir.appendingPathComponent("mcpconn.db").path) }
    return ConnectorManager(store: store, userID: user, keys: KeyProvider(environment: ["TOKEN_ENCRYPTION_KEY": key]))
}
