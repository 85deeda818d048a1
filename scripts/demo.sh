#!/usr/bin/env bash
# The main job's embedded default: start a local reference MCP server (official Python SDK), add it to a
# throwaway store, verify it, list its tools, call one, check its health — and print what happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MCPCONN_BIN:-.build/debug/mcpconn}
PYTHON=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The server prints "PORT <n>" once it listens: reading that line is the readiness signal.
exec 4< <(exec "$PYTHON" Tests/Servers/reference_server.py --no-stdin-watch --name demo-server \
  --instructions "A demo server with echo and add tools." 2>"$work/server.log" </dev/null)
server_pid=$!
port=
read -r -t 60 word port <&4 || true
if [ "${word:-}" != PORT ] || [ -z "$port" ]; then
  echo "demo: the reference server did not start" >&2
  cat "$work/server.log" >&2
  exit 69
fi

export MCPCONN_DB="$work/mcpconn.db" XDG_CONFIG_HOME="$work/config"
run() { printf '\n$ mcpconn'; printf ' %q' "$@"; printf '\n'; "$BIN" "$@"; }
url="http://127.0.0.1:$port/mcp"
run add demo "$url" --description "local reference server"
run verify demo --expect-tool echo
run list
run tools demo
run call demo echo --arg text="hello from mcpconn"
run call demo add --args '{"a": 2, "b": 40}' --json
run health demo

# A local server (stdio): mcpconn starts it for each operation and ends it after.
run add local --env GREETING=hello -- "$PYTHON" "$(pwd)/Tests/Servers/stdio_server.py"
run call local env_var --arg name=GREETING
run list
printf '\ndemo: ok\n'
