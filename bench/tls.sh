#!/usr/bin/env bash
# `mcpconn call` over HTTPS with a private CA (the connector's --ca-file) vs one curl POST over HTTPS (curl reads
# the CA from CURL_CA_BUNDLE), and the same two over plain HTTP, interleaved in one run: what TLS adds to each,
# and whether mcpconn's ratio to curl holds over TLS. The server: the SDK 2.3 reference server (2026-07-28),
# under uvicorn with a certificate made here by openssl (EC P-256). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MCPCONN_BIN:-.build/release/mcpconn}")
PY=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-20}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source bench/hf.sh

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req "${ec[@]}" -keyout "$work/server.key" -out "$work/server.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial 2 -days 2 \
  -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null

# serve NAME ARGS… : starts the reference server, which prints "PORT <n>", and sets $port.
serve() {
  local name=$1; shift
  mkfifo "$work/$name.fifo"
  "$PY" Tests/Servers/reference_server.py --name "bench-$name" --no-stdin-watch "$@" >"$work/$name.fifo" 2>/dev/null &
  pids+=($!)
  read -r _ port <"$work/$name.fifo"
}
serve tls --tls-cert "$work/server.pem" --tls-key "$work/server.key"; https="https://127.0.0.1:$port/mcp"
serve plain; http="http://127.0.0.1:$port/mcp"

export MCPCONN_DB="$work/bench.db" XDG_CONFIG_HOME="$work/config" CURL_CA_BUNDLE="$work/ca.pem"
"$BIN" add tls "$https" --ca-file "$work/ca.pem" >/dev/null && "$BIN" verify tls
"$BIN" add plain "$http" >/dev/null && "$BIN" verify plain
hf tls "$BIN call tls echo --arg text=hi" "bench/curl-modern.sh $https" \
  "$BIN call plain echo --arg text=hi" "bench/curl-modern.sh $http"

"$PY" - "$work" <<'PY'
import glob, json, statistics, sys
work = sys.argv[1]
rounds = [json.load(open(f))["results"] for f in sorted(glob.glob(f"{work}/tls.*.json"))]
med = [statistics.median(t for r in rounds for t in r[i]["times"]) * 1000 for i in range(4)]
print("| command | median ms | ratio to curl over the same transport |")
print("|---|---:|---:|")
for label, m, floor in [("mcpconn call, https (--ca-file)", med[0], med[1]), ("curl: one POST, https", med[1], med[1]),
                        ("mcpconn call, http", med[2], med[3]), ("curl: one POST, http", med[3], med[3])]:
    print(f"| {label} | {m:.1f} | {m / floor:.2f}× |")
PY
