#!/usr/bin/env bash
# Two builds of mcpconn side by side (issue 30: the MCP engine before and after its rewrite), each table one
# hyperfine run in interleaved rounds (bench/hf.sh) holding before, after and the floor, against the local
# servers bench/run.sh uses:
#   1. `call` on a 2026-07-28 server (SDK 2.3) vs one curl POST (bench/curl-modern.sh);
#   2. `call` on a handshake-era server (SDK 1.x) vs three curl processes (bench/curl-handshake.sh);
#   3. `call` on a stdio server (SDK 2.3) vs the raw pipe floor (bench/stdio-raw.sh);
#   4. `list` with 10,000 connectors vs sqlite3 running the same query;
#   5. 200 sequential calls from the Python SDK client (bench/serve_calls.py) through `mcpconn serve` (stdio) of
#      each build, and straight to the server (handshake era, as in docs/performance.md), in alternating rounds;
#   6. instructions (callgrind) of `list` on an empty store and of `call modern echo --arg text=hi`, on copies
#      without debug info (valgrind 3.19 cannot read this toolchain's DWARF 5), next to a copy of the reaper.
#
#   bench/ab.sh BEFORE_DIR AFTER_DIR    each a checkout where `make release` has run
#
# Each build makes and uses its own store (--db; MCPCONN_DB under callgrind); the key file is shared.
# Prints a Markdown report on stdout. RUNS (40), STDIO_RUNS (16), SERVE_ROUNDS (5), CALLGRIND_RUNS (3);
# BENCH_KEEP=1 keeps the work directory (callgrind's output files, for callgrind_annotate) and names it on stderr.
set -euo pipefail
[ $# = 2 ] || { echo "usage: bench/ab.sh BEFORE_DIR AFTER_DIR" >&2; exit 64; }
before_dir=$(realpath "$1")
after_dir=$(realpath "$2")
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PY1=${PYTHON1:-.venv-mcp1/bin/python}
RUNS=${RUNS:-40}
SERVE_ROUNDS=${SERVE_ROUNDS:-5}
CALLGRIND_RUNS=${CALLGRIND_RUNS:-3}
for side in before after; do
  dir=${side}_dir
  [ -x "${!dir}/.build/release/mcpconn" ] || { echo "ab.sh: no ${!dir}/.build/release/mcpconn" >&2; exit 66; }
done

# The work directory, `start`, the two reference servers ($modern, $old), `abs`, `big_store`, $query.
source bench/common.sh
export XDG_CONFIG_HOME="$work/config"
unset MCPCONN_DB

for side in before after; do
  dir=${side}_dir
  bin="$work/$side/mcpconn"
  mkdir -p "$work/$side"
  # The release programs, copied so that the builds can be rebuilt meanwhile; the reaper next to mcpconn.
  cp "${!dir}/.build/release/mcpconn" "${!dir}/.build/release/mcpconn-reaper" "$work/$side/"
  db="$work/$side.db"
  "$bin" add modern "$modern" --db "$db" >/dev/null && "$bin" verify modern --db "$db" >/dev/null
  "$bin" add old "$old" --db "$db" >/dev/null && "$bin" verify old --db "$db" >/dev/null
  "$bin" add stdio-new --db "$db" -- "$(abs "$PY")" "$(abs $stdio_server)" >/dev/null
  "$bin" verify stdio-new --db "$db" >/dev/null
  big_store "$bin" "$work/$side-big.db"
  "$bin" list --db "$work/$side-empty.db" >/dev/null
done
B="$work/before/mcpconn" A="$work/after/mcpconn"

. bench/hf.sh
call="echo --arg text=hi"
hf modern "$B call modern $call --db $work/before.db" "$A call modern $call --db $work/after.db" \
  "bench/curl-modern.sh $modern"
hf old "$B call old $call --db $work/before.db" "$A call old $call --db $work/after.db" \
  "bench/curl-handshake.sh $old"
RUNS=${STDIO_RUNS:-16} hf stdio "$B call stdio-new $call --db $work/before.db" \
  "$A call stdio-new $call --db $work/after.db" "bench/stdio-raw.sh modern $PY $stdio_server"
hf list "$B list --db $work/before-big.db" "$A list --db $work/after-big.db" "sqlite3 $work/after-big.db '$query'"

for _ in $(seq 1 "$SERVE_ROUNDS"); do
  "$PY" bench/serve_calls.py 200 stdio "$B" serve modern --db "$work/before.db" >>"$work/serve-before.jsonl"
  "$PY" bench/serve_calls.py 200 stdio "$A" serve modern --db "$work/after.db" >>"$work/serve-after.jsonl"
  "$PY" bench/serve_calls.py 200 url "$modern" legacy >>"$work/serve-direct.jsonl"
done

# Total instructions (Ir) of one command under callgrind, one number per line in $work/ir-NAME.
for side in before after; do
  mkdir -p "$work/cg-$side"
  strip -g -o "$work/cg-$side/mcpconn" "$work/$side/mcpconn"
  cp "$work/$side/mcpconn-reaper" "$work/cg-$side/"
done
# callgrind NAME RUN DB CMD…
callgrind() {
  local name=$1 run=$2 db=$3; shift 3
  local out="$work/cg-$name.$run.out"
  if ! MCPCONN_DB=$db valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$out.log"; then
    echo "ab.sh: callgrind failed on $name (BENCH_KEEP=1 keeps $out.log)" >&2; exit 70
  fi
  awk '/^summary:|^totals:/ {print $2; exit}' "$out" >>"$work/ir-$name"
}
for r in $(seq 1 "$CALLGRIND_RUNS"); do
  for side in before after; do
    callgrind "list-$side" "$r" "$work/$side-empty.db" "$work/cg-$side/mcpconn" list
    callgrind "call-$side" "$r" "$work/$side.db" "$work/cg-$side/mcpconn" call modern $call
  done
done

python3 - "$work" <<'PY'
import glob, json, os, platform, statistics, sys
work = sys.argv[1]
def load(name):
    # One list of times per command, over every round.
    rounds = [json.load(open(f))["results"] for f in sorted(glob.glob(f"{work}/{name}.*.json"))]
    return [[t * 1000 for rs in rounds for t in rs[i]["times"]] for i in range(len(rounds[0]))]
def table(title, name, floor):
    before, after, base = load(name)
    med = [statistics.median(x) for x in (before, after, base)]
    print(f"### {title}\n")
    print("| command | median ms | mean ± sd ms | runs | ratio to the floor |\n|---|---:|---:|---:|---:|")
    for label, times, m in zip(["mcpconn before", "mcpconn after", floor], (before, after, base), med):
        sd = statistics.stdev(times)
        print(f"| {label} | {m:.1f} | {statistics.mean(times):.1f} ± {sd:.1f} | {len(times)} | {m / med[2]:.2f}× |")
    # Run i of before and of after are neighbours in time (one round): their ratio cancels most of the drift.
    q = statistics.quantiles([a / b for a, b in zip(after, before)], n=4)
    print(f"\nafter / before: {med[1] / med[0]:.3f}× of the medians; paired by run {q[1]:.3f}× "
          f"(quartiles {q[0]:.3f}–{q[2]:.3f})\n")
print(f"Machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}\n")
table("call on a 2026-07-28 server (SDK 2.3)", "modern", "curl: one POST")
table("call on a handshake-era server (SDK 1.x)", "old", "curl: initialize + initialized + tools/call (3 processes)")
table("call on a stdio server (SDK 2.3)", "stdio", "raw floor: the server fed one tools/call on its pipes")
table("list with 10,000 connectors", "list", "sqlite3, same query")
print("### 200 sequential calls over one session, Python SDK client (per-call median, median of the rounds)\n")
per = {k: [json.loads(l)["median_ms"] for l in open(f"{work}/serve-{k}.jsonl")] for k in ("before", "after", "direct")}
med = {k: statistics.median(v) for k, v in per.items()}
print("| path | ms per call | rounds | vs direct |\n|---|---:|---|---:|")
for label, k in [("through mcpconn serve (stdio), before", "before"), ("through mcpconn serve (stdio), after", "after"),
                 ("direct, handshake era (legacy mode)", "direct")]:
    print(f"| {label} | {med[k]:.2f} | {', '.join(f'{v:.2f}' for v in per[k])} | {med[k] / med['direct']:.2f}× |")
print(f"\nafter / before: {med['after'] / med['before']:.3f}×\n")
print("### instructions (callgrind, total Ir)\n")
print("| command | before | after | after / before |\n|---|---:|---:|---:|")
for label, k in [("list, empty store", "list"), ("call modern echo --arg text=hi", "call")]:
    b, a = ([int(x) for x in open(f"{work}/ir-{k}-{s}")] for s in ("before", "after"))
    fmt = lambda xs: f"{statistics.median(xs) / 1e6:.2f} M ({min(xs) / 1e6:.2f}–{max(xs) / 1e6:.2f})"
    print(f"| {label} | {fmt(b)} | {fmt(a)} | {statistics.median(a) / statistics.median(b):.3f}× |")
print()
PY
