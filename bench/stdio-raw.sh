#!/usr/bin/env bash
# The raw floor of one tool call on a stdio server: start it, write the messages a call needs on its stdin,
# read the answer from its stdout, close stdin and wait for it to exit. No client library, no process but the
# server and this shell.
#   stdio-raw.sh modern COMMAND ARGS…     one tools/call carrying the 2026-07-28 envelope
#   stdio-raw.sh handshake COMMAND ARGS…  initialize, notifications/initialized, tools/call
set -euo pipefail
era=$1; shift
coproc SERVER { "$@" 2>/dev/null; }
call='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}'
if [ "$era" = modern ]; then
  envelope='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
  printf '%s,%s}}\n' "$call" "$envelope" >&"${SERVER[1]}"
else
  printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}' >&"${SERVER[1]}"
  read -r _ <&"${SERVER[0]}"
  printf '%s\n%s}}\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$call" >&"${SERVER[1]}"
fi
read -r answer <&"${SERVER[0]}"
exec {SERVER[1]}>&-
wait "$SERVER_PID" || true
case $answer in *'"id":2'*) ;; *) echo "unexpected: $answer" >&2; exit 1 ;; esac
