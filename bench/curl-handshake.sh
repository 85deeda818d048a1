#!/usr/bin/env bash
# The protocol floor of the handshake era with plain curl: initialize, notifications/initialized, tools/call
# (three processes, as a shell script would do it).
set -euo pipefail
url=$1
h=$(mktemp)
trap 'rm -f "$h"' EXIT
accept='Accept: application/json, text/event-stream'
ctype='Content-Type: application/json'
curl -sS -o /dev/null -D "$h" "$url" -H "$accept" -H "$ctype" \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
sid=$(awk 'tolower($1)=="mcp-session-id:"{print $2}' "$h" | tr -d '\r')
curl -sS -o /dev/null "$url" -H "$accept" -H "$ctype" -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
curl -sS "$url" -H "$accept" -H "$ctype" -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'
