import GRDB

/// The database schema, as ordered migrations. Never edit a shipped migration: add a new one.
enum Schema {
    /// Bumped with every new migration; kept in `PRAGMA user_version` once all have run.
    static let version = 16

    /// Runs pending migrations. An up-to-date store costs one PRAGMA read instead of the migrator's checks:
    /// every command opens the store, so this is on the start-up path.
    static func migrateIfNeeded(_ queue: DatabaseQueue) throws {
        if try queue.read({ db in try Int.fetchOne(db, sql: "PRAGMA user_version") }) == version { return }
        try migrator.migrate(queue)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(version)") }
    }

    /// SQLite: GRDB's migrator over ``migrations(_:)``, which records them in its `grdb_migrations` table.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        for (name, statements) in migrations(.sqlite) {
            m.registerMigration(name) { db in
                for sql in statements { try db.execute(sql: sql) }
            }
        }
        return m
    }

    /// The migrations, in order, as each database spells them. Both record them in a `grdb_migrations` table
    /// (GRDB's own on SQLite), so the two stores have one schema and one history of it.
    static func migrations(_ d: SQLDialect) -> [(String, [String])] {
        [
            (
                "v1 connectors",
                [
                    """
                    CREATE TABLE user_mcp_connections (
                        id \(d.autoIncrementKey),
                        user_id \(d.integer) NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT,
                        server_url TEXT NOT NULL,
                        connector_type TEXT NOT NULL DEFAULT 'generic',
                        auth_type TEXT NOT NULL DEFAULT 'none' CHECK (auth_type IN ('none', 'api_key', 'oauth')),
                        auth_config TEXT,
                        is_active BOOLEAN NOT NULL DEFAULT \(d.boolean(true)),
                        is_verified BOOLEAN NOT NULL DEFAULT \(d.boolean(false)),
                        discovered_tools TEXT,
                        tool_count INTEGER NOT NULL DEFAULT 0,
                        last_verified_at \(d.timestamp),
                        last_error TEXT,
                        created_at \(d.timestamp) NOT NULL,
                        updated_at \(d.timestamp) NOT NULL,
                        UNIQUE (user_id, name)
                    )
                    """,
                    "CREATE INDEX user_mcp_connections_user_type ON user_mcp_connections (user_id, connector_type)",
                    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
                ]
            ),
            // What verify/refresh/health learnt, so `call` can go straight to the right protocol path.
            (
                "v2 negotiated protocol",
                [
                    "protocol_version", "protocol_era", "transport", "server_name", "server_version",
                    "server_instructions",
                ]
                .map { "ALTER TABLE user_mcp_connections ADD COLUMN \($0) TEXT" }
            ),
            (
                "v3 history",
                [
                    """
                    CREATE TABLE connector_history (
                        id \(d.autoIncrementKey),
                        connector_id \(d.integer) NOT NULL REFERENCES user_mcp_connections (id) ON DELETE CASCADE,
                        at \(d.timestamp) NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('verify', 'refresh', 'health')),
                        ok BOOLEAN NOT NULL,
                        latency_ms INTEGER,
                        error TEXT,
                        diff TEXT
                    )
                    """,
                    "CREATE INDEX connector_history_by_connector ON connector_history (connector_id, id)",
                ]
            ),
            // Rows of one user in id order without a sort: `list` over thousands of connectors used a temporary
            // B-tree ordered by id after searching the (user_id, name) index.
            ("v4 listing index", ["CREATE INDEX user_mcp_connections_user ON user_mcp_connections (user_id)"]),
            // When the OAuth access token expires and whether it can be refreshed: not secret, and `list`/`get`
            // show them without decrypting anything. The tokens themselves stay sealed in auth_config.
            (
                "v5 oauth token state",
                [
                    "ALTER TABLE user_mcp_connections ADD COLUMN token_expires_at \(d.timestamp)",
                    "ALTER TABLE user_mcp_connections ADD COLUMN token_refreshable BOOLEAN NOT NULL DEFAULT \(d.boolean(false))",
                ]
            ),
            // A local server launched as a child process: its program, its arguments (a JSON array), its working
            // directory and the names of its environment variables (their values are sealed in auth_config).
            // server_url keeps the command line as shown, so listings need no change.
            (
                "v6 stdio connectors",
                ["command", "command_args", "working_directory", "env_names"]
                    .map { "ALTER TABLE user_mcp_connections ADD COLUMN \($0) TEXT" }
            ),
            // `--claim`: which runner works on a connector for which kind of check, until when (a lease), and when
            // one last finished, so runners sharing a store split a fleet instead of repeating it.
            (
                "v7 claims",
                [
                    """
                    CREATE TABLE connector_claims (
                        connector_id \(d.integer) NOT NULL REFERENCES user_mcp_connections (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        runner TEXT NOT NULL,
                        lease_until \(d.timestamp) NOT NULL,
                        done_at \(d.timestamp),
                        PRIMARY KEY (connector_id, kind)
                    )
                    """
                ]
            ),
            // Each row's seal (``ConnectorSeals``): its security-relevant columns authenticated under the store key.
            // Rows written before are sealed, and their credentials re-sealed bound to them, on first use with the
            // key (``SealMigration``).
            ("v8 row seals", ["ALTER TABLE user_mcp_connections ADD COLUMN row_seal TEXT"]),
            // An HTTPS connector's TLS settings (``ConnectorTLS``): CA bundle and client certificate paths, pinned
            // keys, as a JSON object. Sealed with the row (seal format 3, ``SealMigration``).
            ("v9 tls settings", ["ALTER TABLE user_mcp_connections ADD COLUMN tls TEXT"]),
            // The rest of a server's surface beside discovered_tools, as JSON arrays: its prompts, resources and
            // resource templates, stored by verify/refresh for drift. NULL until the next verify/refresh.
            (
                "v10 discovered surface",
                ["discovered_prompts", "discovered_resources", "discovered_resource_templates"]
                    .map { "ALTER TABLE user_mcp_connections ADD COLUMN \($0) TEXT" }
            ),
            // Approvals (`approve`, `pins`): the form of each approved tool, prompt, resource or template as
            // canonical JSON and its SHA-256, who approved it and when; sealed under the store key like the
            // connector's row (``PinTable``), and gone with the connector.
            (
                "v11 tool pins",
                [
                    """
                    CREATE TABLE tool_pins (
                        connector_id \(d.integer) NOT NULL REFERENCES user_mcp_connections (id) ON DELETE CASCADE,
                        kind TEXT NOT NULL CHECK (kind IN ('tools', 'prompts', 'resources', 'templates')),
                        name TEXT NOT NULL,
                        hash TEXT NOT NULL,
                        form TEXT NOT NULL,
                        approved_by TEXT NOT NULL,
                        approved_by_user \(d.integer) NOT NULL,
                        approved_at \(d.timestamp) NOT NULL,
                        seal TEXT,
                        PRIMARY KEY (connector_id, kind, name)
                    )
                    """
                ]
            ),
            // Pinned mode per connector (`update REF --pinned`) and its tool allow-list (`update REF --allow-tools`,
            // a JSON object text): sealed with the row (seal format 4).
            (
                "v12 pinned mode and tool filter",
                [
                    "ALTER TABLE user_mcp_connections ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT \(d.boolean(false))",
                    "ALTER TABLE user_mcp_connections ADD COLUMN tool_filter TEXT",
                ]
            ),
            // Server identity pinning (`approve --server`): the key of an HTTPS server's certificate as verify,
            // refresh and health learn it (not sealed, like the tool lists), and the approved identity (name,
            // version, key) per connector, sealed like a tool's pin (``ServerPinTable``).
            (
                "v13 server key",
                [
                    "ALTER TABLE user_mcp_connections ADD COLUMN server_key TEXT",
                    """
                    CREATE TABLE server_pins (
                        connector_id \(d.integer) PRIMARY KEY NOT NULL
                            REFERENCES user_mcp_connections (id) ON DELETE CASCADE,
                        hash TEXT NOT NULL,
                        form TEXT NOT NULL,
                        approved_by TEXT NOT NULL,
                        approved_by_user \(d.integer) NOT NULL,
                        approved_at \(d.timestamp) NOT NULL,
                        seal TEXT
                    )
                    """,
                ]
            ),
            // Clients of `serve --http --clients` (issue 26): a name, the user whose connectors each reaches, its
            // rules and rate, the SHA-256 of its token (never the token), sealed under the store key
            // (``ClientTable``). updated_at moves with every write, for PostgreSQL's change token.
            (
                "v14 gateway clients",
                [
                    """
                    CREATE TABLE gateway_clients (
                        id \(d.autoIncrementKey),
                        name TEXT NOT NULL UNIQUE,
                        user_id \(d.integer) NOT NULL,
                        token_hash TEXT NOT NULL,
                        access TEXT NOT NULL,
                        rate_per_minute \(d.integer),
                        metrics BOOLEAN NOT NULL DEFAULT \(d.boolean(false)),
                        created_at \(d.timestamp) NOT NULL,
                        updated_at \(d.timestamp) NOT NULL,
                        seal TEXT
                    )
                    """,
                    "CREATE INDEX gateway_clients_token ON gateway_clients (token_hash)",
                ]
            ),
            // Replicas of `serve --http --clients` on one store share each client's rate (issue 26): every replica
            // adds up what it admitted per client, and charges its own buckets with what the others admitted
            // (``RateUsage``). Not sealed: a count, whose rewriting can only limit a client more or less.
            (
                "v15 gateway rate usage",
                [
                    """
                    CREATE TABLE gateway_rate_usage (
                        client TEXT NOT NULL,
                        replica TEXT NOT NULL,
                        admitted \(d.integer) NOT NULL,
                        updated_at \(d.timestamp) NOT NULL,
                        PRIMARY KEY (client, replica)
                    )
                    """
                ]
            ),
            // The audit trail of serve (issue 26): one row per tools/call through the gateway, written in batches
            // off the call's path (``AuditWriter``). The arguments as a SHA-256 of their canonical JSON, sealed
            // only with `serve --audit-args`. Read newest first by user, client or connector (``AuditTable``).
            (
                "v16 gateway audit",
                [
                    """
                    CREATE TABLE gateway_audit (
                        id \(d.autoIncrementKey),
                        at \(d.timestamp) NOT NULL,
                        user_id \(d.integer) NOT NULL,
                        client TEXT,
                        connector TEXT NOT NULL,
                        tool TEXT NOT NULL,
                        args_digest TEXT NOT NULL,
                        args_sealed TEXT,
                        outcome TEXT NOT NULL,
                        latency_ms \(d.integer) NOT NULL,
                        bytes \(d.integer) NOT NULL
                    )
                    """,
                    "CREATE INDEX gateway_audit_user ON gateway_audit (user_id, at)",
                    "CREATE INDEX gateway_audit_client ON gateway_audit (user_id, client, at)",
                    "CREATE INDEX gateway_audit_connector ON gateway_audit (user_id, connector, at)",
                ]
            ),
        ]
    }
}
