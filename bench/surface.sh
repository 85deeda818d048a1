#!/usr/bin/env bash
# Issue 24's verbs against their floor, in the same run (bench/hf.sh's interleaved rounds), on the SDK 2.3
# reference server with --surface (2026-07-28, streamable HTTP, loopback):
#   1. `read REF memo://big` (a 1 MiB text resource, to a file) vs curl's one POST of resources/read (to a file);
#   2. `prompt REF greet --arg name=ann` vs curl's one POST of prompts/get;
#   3. `call REF echo --arg text=hi` vs curl's one POST of tools/call (the line the others are held to: 1.6×).
# Prints a Markdown report on stdout. RUNS (40).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MCPCONN_BIN:-.build/release/mcpconn}")
PY=${PYTHON:-.venv/bin/python}
PY1=${PYTHON1:-.venv-mcp1/bin/python}
RUNS=${RUNS:-40}
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null

source bench/common.sh
start surface "$PY" Tests/Servers/reference_server.py --name bench-surface --surface; surface="http://127.0.0.1:$port/mcp"
export MCPCONN_DB="$work/bench.db" XDG_CONFIG_HOME="$work/config"
"$BIN" add surf "$surface" >/dev/null && "$BIN" verify surf

. bench/hf.sh
curl=bench/curl-request.sh
hf read "$BIN read surf memo://big --out $work/big.mcpconn" \
  "$curl $surface resources/read memo://big '{\"uri\":\"memo://big\"}' -o $work/big.curl"
hf prompt "$BIN prompt surf greet --arg name=ann" \
  "$curl $surface prompts/get greet '{\"name\":\"greet\",\"arguments\":{\"name\":\"ann\"}}'"
hf call "$BIN call surf echo --arg text=hi" "$curl $surface tools/call echo '{\"name\":\"echo\",\"arguments\":{\"text\":\"hi\"}}'"
cmp <(tr -d 'x' <"$work/big.mcpconn" | wc -c) <(echo 0) >/dev/null || { echo "surface.sh: read wrote something else" >&2; exit 1; }

python3 - "$work" <<'PY'
import glob, json, statistics, sys, os, platform
work = sys.argv[1]
def table(name, labels):
    rounds = [json.load(open(f))["results"] for f in sorted(glob.glob(f"{work}/{name}.*.json"))]
    med = [statistics.median(t for rs in rounds for t in rs[i]["times"]) * 1000 for i in range(len(labels))]
    print("| command | median ms | ratio to the floor |\n|---|---:|---:|")
    for label, m in zip(labels, med):
        print(f"| {label} | {m:.1f} | {m / med[-1]:.2f}× |")
    print()
print(f"Machine: {os.cpu_count()} cores, {platform.machine()}\n")
print("### read of a 1 MiB text resource (2026-07-28, SDK 2.3)\n")
table("read", ["mcpconn read --out FILE", "curl: one POST of resources/read -o FILE"])
print("### prompt (prompts/get, 2026-07-28, SDK 2.3)\n")
table("prompt", ["mcpconn prompt", "curl: one POST of prompts/get"])
print("### call (tools/call, 2026-07-28, SDK 2.3), the same run\n")
table("call", ["mcpconn call", "curl: one POST of tools/call"])
PY
