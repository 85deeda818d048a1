#!/usr/bin/env bash
# The protocol floor of one 2026-07-28 request with plain curl: one self-contained POST, its answer to stdout.
#   bench/curl-request.sh URL METHOD NAME PARAMS_JSON [CURL_OPTION…]   (NAME: the Mcp-Name header: a tool, prompt or URI)
set -euo pipefail
url=$1 method=$2 name=$3 params=${4%\}}
shift 4
exec curl -sS "$url" -H 'Accept: application/json, text/event-stream' -H 'Content-Type: application/json' \
  -H 'MCP-Protocol-Version: 2026-07-28' -H "Mcp-Method: $method" -H "Mcp-Name: $name" \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params,\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}" "$@"
