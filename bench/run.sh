#!/usr/bin/env bash
# Benchmarks for docs/performance.md, all against local servers on loopback:
#   1. `mcpconn call` on a 2026-07-28 server vs one curl POST, and vs the Python SDK client;
#   2. `mcpconn call` on a handshake-era (SDK 1.x) server vs three curl processes, and vs the Python SDK client;
#   3. `health --all` over 40 servers that take 200 ms per HTTP request (handshake and modern era);
#   4. `list` with 10,000 connectors vs sqlite3 running the same query;
#   5. peak memory (max RSS) of `call`;
#   6. `mcpconn call` on a stdio server (SDK 2.3 and SDK 1.x) vs the raw floor (the same server fed the messages
#      of a call on its pipes by bench/stdio-raw.sh) and vs the Python SDK's stdio client;
#   7. 200 sequential calls over one session from the Python SDK client: straight to the SDK 2.3 server, through
#      `mcpconn serve` (stdio and --http), and through mcp-proxy (PyPI, in .venv-proxy), per call;
#   8. 16 clients at once (wrk) through `mcpconn serve --http` against a fast upstream (bench/fast_upstream.py),
#      and straight to that upstream: calls per second and CPU per call;
#   9. `import` of a 10,000-server config file (bench/big_config.py: Claude Code JSON and Codex TOML) into a
#      fresh store, and again (all unchanged), vs sqlite3 inserting 10,000 rows in one transaction.
# Prints a Markdown report on stdout. Needs hyperfine, sqlite3, GNU time and wrk (installed with apt if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MCPCONN_BIN:-.build/release/mcpconn}")
PY=${PYTHON:-.venv/bin/python}
PY1=${PYTHON1:-.venv-mcp1/bin/python}
RUNS=${RUNS:-40}
for tool in hyperfine sqlite3 /usr/bin/time wrk; do
  if ! command -v "$tool" >/dev/null; then
    pkg=$tool; [ "$tool" = /usr/bin/time ] && pkg=time
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq "$pkg" >/dev/null
  fi
done

# The work directory, `start`, the two reference servers ($modern, $old), `abs`, `big_store`, $query.
source bench/common.sh
start slow "$PY" Tests/Servers/fault_server.py; slow="http://127.0.0.1:$port"

export MCPCONN_DB="$work/bench.db" XDG_CONFIG_HOME="$work/config"
"$BIN" add modern "$modern" >/dev/null && "$BIN" verify modern
"$BIN" add old "$old" >/dev/null && "$BIN" verify old
for i in $(seq 1 40); do
  "$BIN" add --db "$work/slow-h.db" "h$i" "$slow/mcp-slow?delay=0.2&era=handshake&n=$i" >/dev/null
  "$BIN" add --db "$work/slow-m.db" "m$i" "$slow/mcp-slow?delay=0.2&era=modern&n=$i" >/dev/null
done
"$BIN" refresh --all --quiet --db "$work/slow-h.db" >/dev/null
"$BIN" refresh --all --quiet --db "$work/slow-m.db" >/dev/null

"$BIN" add stdio-new -- "$(abs "$PY")" "$(abs $stdio_server)" >/dev/null && "$BIN" verify stdio-new
"$BIN" add stdio-old -- "$(abs "$PY1")" "$(abs $stdio_server)" >/dev/null && "$BIN" verify stdio-old

big_store "$BIN" "$work/big.db"

. bench/hf.sh
hf modern "$BIN call modern echo --arg text=hi" "bench/curl-modern.sh $modern" "$PY bench/sdk_call.py $modern auto"
hf old "$BIN call old echo --arg text=hi" "bench/curl-handshake.sh $old" "$PY bench/sdk_call.py $old legacy"
RUNS=8 hf fleet "$BIN health --all --db $work/slow-h.db" "$BIN health --all --db $work/slow-m.db" \
  "$BIN refresh --all --quiet --db $work/slow-h.db"
RUNS=${STDIO_RUNS:-16} hf stdio "$BIN call stdio-new echo --arg text=hi" "bench/stdio-raw.sh modern $PY $stdio_server" \
  "$PY bench/sdk_stdio_call.py auto $PY $stdio_server"
RUNS=${STDIO_RUNS:-16} hf stdio_old "$BIN call stdio-old echo --arg text=hi" \
  "bench/stdio-raw.sh handshake $PY1 $stdio_server" "$PY bench/sdk_stdio_call.py legacy $PY1 $stdio_server"
hf list "$BIN list --db $work/big.db" "sqlite3 $work/big.db '$query'" "$BIN list --json --db $work/big.db"

if [ ! -x .venv-proxy/bin/mcp-proxy ]; then
  python3 -m venv .venv-proxy && .venv-proxy/bin/pip install -q --disable-pip-version-check mcp-proxy==0.13.0
fi
# serve_http NAME CONNECTOR: `mcpconn serve CONNECTOR --http` on a free port; sets $url and $spid.
export SERVE_TOKEN="bench-token-$RANDOM$RANDOM$RANDOM"
serve_http() {
  MCPCONN_SERVE_TOKEN=$SERVE_TOKEN "$BIN" serve "$2" --http 127.0.0.1:0 2>"$work/$1.log" &
  spid=$!; pids+=("$spid")
  for _ in $(seq 1 400); do grep -q "listening on" "$work/$1.log" && break; sleep 0.05; done
  url=$(grep -o 'http://[^ ]*' "$work/$1.log")
}
serve_http serve-modern modern; served_modern=$url
for round in 1 2 3; do
  "$PY" bench/serve_calls.py 200 url "$served_modern" auto >>"$work/serve-http.jsonl"
  "$PY" bench/serve_calls.py 200 url "$served_modern" legacy >>"$work/serve-http-legacy.jsonl"
  SERVE_TOKEN= "$PY" bench/serve_calls.py 200 url "$modern" legacy >>"$work/serve-direct.jsonl"
  SERVE_TOKEN= "$PY" bench/serve_calls.py 200 url "$modern" auto >>"$work/serve-direct-modern.jsonl"
  "$PY" bench/serve_calls.py 200 stdio "$BIN" serve modern >>"$work/serve-mcpconn.jsonl"
  "$PY" bench/serve_calls.py 200 stdio .venv-proxy/bin/mcp-proxy --transport streamablehttp "$modern" \
    >>"$work/serve-proxy.jsonl" 2>/dev/null
done

start fast "$PY" bench/fast_upstream.py; fast="http://127.0.0.1:$port/mcp"; fast_pid=${pids[-1]}
"$BIN" add fast "$fast" >/dev/null && "$BIN" verify fast >/dev/null
serve_http serve-fast fast
for round in 1 2 3; do
  SERVE_TOKEN= "$PY" bench/serve_load.py "$fast" 10 "$fast_pid" >>"$work/load-direct.jsonl"
  "$PY" bench/serve_load.py "$url" 10 "$spid" "$fast_pid" >>"$work/load-serve.jsonl"
done

# 9. import of 10,000 servers. Each run starts from a store that has the schema and the key but no connector.
python3 bench/big_config.py claude-code 10000 "$work/big.mcp.json"
python3 bench/big_config.py codex 10000 "$work/big.config.toml"
export BENCH_KEY="bench-key-$RANDOM$RANDOM"
"$BIN" import "$work/big.mcp.json" --db "$work/empty.db" --dry-run >/dev/null
"$BIN" add seed https://seed.example/mcp --auth api_key --secret-env BENCH_KEY --db "$work/empty.db" >/dev/null
"$BIN" delete seed --db "$work/empty.db"
cp "$work/empty.db" "$work/again.db" && "$BIN" import "$work/big.mcp.json" --db "$work/again.db" >/dev/null
python3 - "$work/inserts.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("BEGIN;\n")
    for i in range(10000):
        f.write("INSERT INTO user_mcp_connections (user_id, name, server_url, connector_type, auth_type, is_active, "
                f"is_verified, tool_count, created_at, updated_at) VALUES (1, 'server-{i}', "
                f"'https://mcp{i}.example.com/mcp', 'generic', 'none', 1, 0, 0, '2026-11-28 12:00:00.000', "
                "'2026-11-28 12:00:00.000');\n")
    f.write("COMMIT;\n")
PY
RUNS=10 hf import --prepare "cp $work/empty.db $work/fresh.db" \
  "$BIN import $work/big.mcp.json --db $work/fresh.db" "$BIN import $work/big.config.toml --db $work/fresh.db" \
  "sh -c 'sqlite3 $work/fresh.db < $work/inserts.sql'" "$BIN import $work/big.mcp.json --db $work/again.db"

rss=()
for _ in $(seq 1 10); do
  rss+=("$( { /usr/bin/time -f '%M' "$BIN" call modern echo --arg text=hi >/dev/null; } 2>&1 | tail -1)")
done
rss_old=()
for _ in $(seq 1 10); do
  rss_old+=("$( { /usr/bin/time -f '%M' "$BIN" call old echo --arg text=hi >/dev/null; } 2>&1 | tail -1)")
done

python3 - "$work" "${rss[*]}" "${rss_old[*]}" <<'PY'
import glob, json, statistics, sys, platform, os
work, rss, rss_old = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def load(name):
    # One result per command with the times of every round.
    rounds = [json.load(open(f)) ["results"] for f in sorted(glob.glob(f"{work}/{name}.*.json"))]
    out = []
    for i, r in enumerate(rounds[0]):
        times = [t for rs in rounds for t in rs[i]["times"]]
        out.append({"times": times, "mean": statistics.mean(times), "stddev": statistics.stdev(times)})
    return out
def table(name, labels, base=0):
    rs = load(name)
    med = [statistics.median(r["times"]) * 1000 for r in rs]
    print("| command | median ms | mean ± sd ms | ratio to first |")
    print("|---|---:|---:|---:|")
    for label, r, m in zip(labels, rs, med):
        print(f"| {label} | {m:.1f} | {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} | {m/med[base]:.2f}× |")
    print()
print(f"Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}\n")
print("### call on a 2026-07-28 server (SDK 2.3), one tool call end to end\n")
table("modern", ["mcpconn call", "curl: one POST", "Python SDK Client (auto)"])
print("### call on a handshake-era server (SDK 1.x)\n")
table("old", ["mcpconn call", "curl: initialize + initialized + tools/call (3 processes)", "Python SDK Client (legacy)"])
print("### 40 servers, 200 ms per HTTP request, --concurrency 8 (default)\n")
table("fleet", ["health --all (handshake era)", "health --all (2026-07-28)", "refresh --all (handshake era)"])
print("### call on a stdio server, SDK 2.3 (2026-07-28)\n")
table("stdio", ["mcpconn call", "raw floor: the server fed one tools/call on its pipes", "Python SDK Client (auto)"], base=1)
print("### call on a stdio server, SDK 1.x (handshake era)\n")
table("stdio_old", ["mcpconn call", "raw floor: initialize, initialized, tools/call on its pipes", "Python SDK Client (legacy)"], base=1)
print("### list with 10,000 connectors\n")
table("list", ["mcpconn list", "sqlite3, same query", "mcpconn list --json"], base=1)
print("### import of a 10,000-server config file into a fresh store (one transaction)\n")
table("import", ["mcpconn import (Claude Code JSON)", "mcpconn import (Codex TOML)",
                 "sqlite3: 10,000 INSERTs in one transaction", "mcpconn import again (all unchanged)"], base=2)
print("### 200 sequential calls over one session, Python SDK client (median per call, median of 3 runs)\n")
def per_call(name):
    return statistics.median(json.loads(l)["median_ms"] for l in open(f"{work}/serve-{name}.jsonl"))
direct, modern_direct = per_call("direct"), per_call("direct-modern")
served, proxied = per_call("mcpconn"), per_call("proxy")
print("| path | ms per call | vs direct (handshake) | vs mcp-proxy |\n|---|---:|---:|---:|")
http, http_legacy = per_call("http"), per_call("http-legacy")
for label, v in [("direct, handshake era (legacy mode)", direct), ("direct, 2026-07-28 (auto mode)", modern_direct),
                 ("through mcpconn serve (stdio)", served), ("through mcpconn serve --http (auto: 2026-07-28)", http),
                 ("through mcpconn serve --http (legacy: handshake)", http_legacy),
                 ("through mcp-proxy 0.13 (stdio)", proxied)]:
    print(f"| {label} | {v:.2f} | {v/direct:.2f}× | {v/proxied:.2f}× |")
print()
print("### 16 clients at once (wrk, 10 s, median of 3 rounds), 2026-07-28 calls to a fast upstream\n")
def load(name):
    rounds = [json.loads(l) for l in open(f"{work}/load-{name}.jsonl")]
    pick = sorted(rounds, key=lambda r: r["calls_per_s"])[len(rounds) // 2]
    return pick, sum(r["failed"] for r in rounds)
(d, d_failed), (sv, sv_failed) = load("direct"), load("serve")
print("| path | calls/s | CPU µs per call: mcpconn serve | CPU µs per call: upstream | failed |\n|---|---:|---:|---:|---:|")
print(f"| straight to the upstream | {d['calls_per_s']:.0f} | — | {d['cpu_us_per_call'][0]:.0f} | {d_failed} |")
print(f"| through mcpconn serve --http | {sv['calls_per_s']:.0f} | {sv['cpu_us_per_call'][0]:.0f} | {sv['cpu_us_per_call'][1]:.0f} | {sv_failed} |")
print()
kb = lambda xs: statistics.median(int(x) for x in xs) / 1024
print(f"### peak memory of call (max RSS, median of 10)\n\n- modern server: {kb(rss):.1f} MiB\n- handshake server: {kb(rss_old):.1f} MiB\n")
PY
