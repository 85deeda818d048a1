#!/usr/bin/env bash
# The gateway under load (issue 26), for docs/performance.md: wrk with $CONNECTIONS (64) keep-alive connections
# sending 2026-07-28 tool calls of `echo` for $SECONDS_PER_RUN (30) s, against
#   (1) `serve --http --no-audit` with serve's one token: no clients, no audit trail, no metrics (the reference),
#   (2) `serve --http --clients` with a client's token: its rules checked, every call audited (in batches, to the
#       same SQLite store), metrics kept and scraped every second by a `--metrics` client, plus $GATEWAY_FLAGS,
# both in front of one fast upstream (bench/fast_upstream.py: raw asyncio, so that the upstream is not what is
# measured; each run reports its CPU per call beside serve's), in $ROUNDS (3) interleaved rounds. Reports calls/s,
# p50, p99 and their ratios to (1), and the RSS of each mcpconn-serve-http sampled every second (mean of the first
# and of the last 5 s of each run: flat or not). Prints Markdown on stdout. Needs wrk (installed with apt if
# missing) and a release build (`swift build -c release`; MCPCONN_BIN to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MCPCONN_BIN:-.build/release/mcpconn}")
PY=${PYTHON:-.venv/bin/python}
CONNECTIONS=${CONNECTIONS:-64}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
ROUNDS=${ROUNDS:-3}
GATEWAY_FLAGS=${GATEWAY_FLAGS:-}
if ! command -v wrk >/dev/null; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y -qq wrk >/dev/null
fi

. bench/workdir.sh

mkfifo "$work/fast.fifo"
"$PY" bench/fast_upstream.py >"$work/fast.fifo" 2>"$work/fast.log" &
upstream_pid=$!; pids+=("$upstream_pid")
read -r _ port <"$work/fast.fifo"
export MCPCONN_DB="$work/bench.db" XDG_CONFIG_HOME="$work/config"
"$BIN" add fast "http://127.0.0.1:$port/mcp" >/dev/null && "$BIN" verify fast >/dev/null
load_token=$("$BIN" client add load | tail -1)
scrape_token=$("$BIN" client add prometheus --metrics | tail -1)

# serve_http NAME ARGS…: `mcpconn serve fast --http` on a free port (it execs mcpconn-serve-http: same pid);
# sets $url and $spid.
serve_http() {
  local name=$1; shift
  "$BIN" serve fast --http 127.0.0.1:0 "$@" 2>"$work/$name.log" &
  spid=$!; pids+=("$spid")
  for _ in $(seq 1 400); do grep -q "listening on" "$work/$name.log" && break; sleep 0.05; done
  url=$(grep -o 'http://[^ ]*' "$work/$name.log")
}
plain_token="bench-token-$RANDOM$RANDOM$RANDOM"
MCPCONN_SERVE_TOKEN=$plain_token serve_http plain --no-audit; plain_url=$url; plain_pid=$spid
# shellcheck disable=SC2086 # GATEWAY_FLAGS is a list of flags
serve_http gateway --clients $GATEWAY_FLAGS; gateway_url=$url; gateway_pid=$spid

# A short warm-up of each (the upstream sessions opened, the allocator grown), not reported.
SERVE_TOKEN=$plain_token "$PY" bench/gateway_load.py "$plain_url" "$CONNECTIONS" 2 "$plain_pid" "$upstream_pid" >/dev/null
SERVE_TOKEN=$load_token "$PY" bench/gateway_load.py "$gateway_url" "$CONNECTIONS" 2 "$gateway_pid" "$upstream_pid" \
  >"$work/warm-gateway.jsonl"
for _ in $(seq 1 "$ROUNDS"); do
  SERVE_TOKEN=$plain_token "$PY" bench/gateway_load.py "$plain_url" "$CONNECTIONS" "$SECONDS_PER_RUN" "$plain_pid" \
    "$upstream_pid" >>"$work/plain.jsonl"
  SERVE_TOKEN=$load_token SCRAPE_TOKEN=$scrape_token "$PY" bench/gateway_load.py "$gateway_url" "$CONNECTIONS" \
    "$SECONDS_PER_RUN" "$gateway_pid" "$upstream_pid" >>"$work/gateway.jsonl"
done

# The gateway ends as an operator ends it (SIGTERM): its audit queue written, every call a row.
kill -TERM "$gateway_pid"; wait "$gateway_pid" || true
audit_rows=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM gateway_audit").fetchone()[0])' "$work/bench.db")

python3 - "$work" "$CONNECTIONS" "$SECONDS_PER_RUN" "$GATEWAY_FLAGS" "$audit_rows" <<'PY'
import json, statistics, sys
work, connections, seconds, flags, audit_rows = sys.argv[1:6]
runs = {name: [json.loads(l) for l in open(f"{work}/{name}.jsonl")] for name in ("plain", "gateway")}
med = lambda name, key: statistics.median(r[key] for r in runs[name])
print(f"### {connections} connections for {seconds} s, {len(runs['plain'])} interleaved rounds (medians)\n")
print("| serve | calls/s | p50 ms | p99 ms | calls/s vs plain | p50 vs plain | CPU/call serve µs | CPU/call upstream µs"
      " | failed |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, label in (("plain", "`serve --http` (one token)"),
                    ("gateway", f"`serve --http --clients {flags}`".replace(" `", "`") + ", metrics scraped each second")):
    cpu = [statistics.median(r["cpu_us_per_call"][i] for r in runs[name]) for i in (0, 1)]
    print(f"| {label} | {med(name, 'calls_per_s'):,.0f} | {med(name, 'p50_ms'):.2f} | {med(name, 'p99_ms'):.2f} | "
          f"{med(name, 'calls_per_s') / med('plain', 'calls_per_s'):.3f}x | "
          f"{med(name, 'p50_ms') / med('plain', 'p50_ms'):.3f}x | {cpu[0]:.0f} | {cpu[1]:.0f} | "
          f"{sum(r['failed'] for r in runs[name])} |")
print("\nRSS of mcpconn-serve-http (MiB), mean of the first and of the last 5 samples of each run:\n")
print("| serve | " + " | ".join(f"round {i + 1}" for i in range(len(runs["plain"]))) + " |")
print("|---|" + "---:|" * len(runs["plain"]))
for name in ("plain", "gateway"):
    cells = []
    for r in runs[name]:
        s = r["rss_kib"]
        cells.append(f"{statistics.mean(s[:5]) / 1024:.1f} → {statistics.mean(s[-5:]) / 1024:.1f}")
    print(f"| {name} | " + " | ".join(cells) + " |")
scrapes = sum(r["failed_scrapes"] for r in runs["gateway"])
print(f"\nFailed scrapes of /metrics: {scrapes}.")
calls = sum(r["calls"] for name in ("warm-gateway", "gateway") for r in
            [json.loads(l) for l in open(f"{work}/{name}.jsonl")])
print(f"Audit rows written by the gateway: {audit_rows} for {calls} calls answered.")
PY
