import Foundation
import MCPConnTestSupport

@testable import MCPConnCore

/// A manager over a fresh store in a temporary directory, with a fixed encryption key.
func makeManager(key: String = String(repeating: "ab", count: 32), user: Int64 = 1) throws -> ConnectorManager {
    PoolProbe.startIfRequested()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mcpconn-test-\(UUID().uuidString)")
    let store = try Store(path: dir.appendingPathComponent("mcpconn.db").path)
    return ConnectorManager(store: store, userID: user, keys: KeyProvider(environment: ["TOKEN_ENCRYPTION_KEY": key]))
}
