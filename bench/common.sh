# Sourced by bench/run.sh and bench/ab.sh (from the repository's root, $PY and $PY1 set): a work directory removed
# at exit (kept when BENCH_KEEP is set) with the servers started in it; `start NAME CMD…`, which starts a server
# that prints "PORT <n>" and sets $port; `abs`, $stdio_server, `big_store` and $query for the stdio and `list`
# benches. Then starts the two reference servers every bench uses: $modern (SDK 2.3, 2026-07-28) and $old (SDK 1.x).
. bench/workdir.sh

start() {
  local name=$1; shift
  mkfifo "$work/$name.fifo"
  "$@" --no-stdin-watch >"$work/$name.fifo" 2>"$work/$name.log" &
  pids+=($!)
  read -r _ port <"$work/$name.fifo"
}
start modern "$PY" Tests/Servers/reference_server.py --name bench-modern; modern="http://127.0.0.1:$port/mcp"
start old "$PY1" Tests/Servers/reference_server.py --name bench-old; old="http://127.0.0.1:$port/mcp"

# Absolute paths for the stdio connectors (not realpath: a venv's python is a symlink that must stay one).
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
stdio_server=Tests/Servers/stdio_server.py

# big_store BIN DB: 10,000 connectors for `list`, the schema from that mcpconn, the rows from SQL.
big_store() {
  "$1" list --db "$2" >/dev/null
  sqlite3 "$2" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 10000)
    INSERT INTO user_mcp_connections (user_id, name, description, server_url, connector_type, auth_type,
      is_active, is_verified, tool_count, created_at, updated_at)
    SELECT 1, 'connector-' || i, 'a connector', 'https://mcp.example.com/' || i || '/mcp', 'generic', 'none', 1, 0,
      i % 50, '2026-11-24 12:00:00.000', '2026-11-24 12:00:00.000' FROM n;"
}
# What `list` reads, as sqlite3 runs it for the floor.
query="SELECT id, name, connector_type, auth_type, is_active, is_verified, tool_count, server_url
  FROM user_mcp_connections WHERE user_id = 1 ORDER BY id"
