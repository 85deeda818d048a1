import GRDB

/// The database schema, as ordered migrations. Never edit a shipped migration: add a new one.
enum Schema {
    /// Bumped with every new migration; kept in `PRAGMA user_version` once all have run.
    static let version = 6

    /// Runs pending migrations. An up-to-date store costs one PRAGMA read instead of the migrator's checks:
    /// every command opens the store, so this is on the start-up path.
    static func migrateIfNeeded(_ queue: DatabaseQueue) throws {
        if try queue.read({ db in try Int.fetchOne(db, sql: "PRAGMA user_version") }) == version { return }
        try migrator.migrate(queue)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(version)") }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1 connectors") { db in
            try db.execute(
                sql: """
                    CREATE TABLE user_mcp_connections (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT,
                        server_url TEXT NOT NULL,
                        connector_type TEXT NOT NULL DEFAULT 'generic',
                        auth_type TEXT NOT NULL DEFAULT 'none' CHECK (auth_type IN ('none', 'api_key', 'oauth')),
                        auth_config TEXT,
                        is_active BOOLEAN NOT NULL DEFAULT 1,
                        is_verified BOOLEAN NOT NULL DEFAULT 0,
                        discovered_tools TEXT,
                        tool_count INTEGER NOT NULL DEFAULT 0,
                        last_verified_at DATETIME,
                        last_error TEXT,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL,
                        UNIQUE (user_id, name)
                    );
                    CREATE INDEX user_mcp_connections_user_type ON user_mcp_connections (user_id, connector_type);
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    """)
        }
        m.registerMigration("v2 negotiated protocol") { db in
            // What verify/refresh/health learnt, so `call` can go straight to the right protocol path.
            for column in ["protocol_version", "protocol_era", "transport", "server_name", "server_version", "server_instructions"] {
                try db.execute(sql: "ALTER TABLE user_mcp_connections ADD COLUMN \(column) TEXT")
            }
        }
        m.registerMigration("v3 history") { db in
            try db.execute(
                sql: """
                    CREATE TABLE connector_history (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        connector_id INTEGER NOT NULL REFERENCES user_mcp_connections (id) ON DELETE CASCADE,
                        at DATETIME NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('verify', 'refresh', 'health')),
                        ok BOOLEAN NOT NULL,
                        latency_ms INTEGER,
                        error TEXT,
                        diff TEXT
                    );
                    CREATE INDEX connector_history_by_connector ON connector_history (connector_id, id);
                    """)
        }
        m.registerMigration("v4 listing index") { db in
            // Rows of one user in id order without a sort: `list` over thousands of connectors used a temporary
            // B-tree ordered by id after searching the (user_id, name) index.
            try db.execute(sql: "CREATE INDEX user_mcp_connections_user ON user_mcp_connections (user_id)")
        }
        m.registerMigration("v5 oauth token state") { db in
            // When the OAuth access token expires and whether it can be refreshed: not secret, and `list`/`get`
            // show them without decrypting anything. The tokens themselves stay sealed in auth_config.
            try db.execute(sql: "ALTER TABLE user_mcp_connections ADD COLUMN token_expires_at DATETIME")
            try db.execute(sql: "ALTER TABLE user_mcp_connections ADD COLUMN token_refreshable BOOLEAN NOT NULL DEFAULT 0")
        }
        m.registerMigration("v6 stdio connectors") { db in
            // A local server launched as a child process: its program, its arguments (a JSON array), its working
            // directory and the names of its environment variables (their values are sealed in auth_config).
            // server_url keeps the command line as shown, so listings need no change.
            for column in ["command", "command_args", "working_directory", "env_names"] {
                try db.execute(sql: "ALTER TABLE user_mcp_connections ADD COLUMN \(column) TEXT")
            }
        }
        return m
    }
}
