#!/usr/bin/env bash
# Benchmarks of a shared PostgreSQL store (issue 16), for docs/performance.md, against a PostgreSQL server this
# script starts in a temp dir (as the postgres user when run as root) on a free loopback port:
#   10. `list` of 10,000 connectors vs psql running the same SELECT, unaligned and aligned (and `list --json`);
#   11. `refresh --all --claim` over 40 servers that take 200 ms per HTTP request: one runner vs four runners
#       started together (each with --concurrency 2), the claims table emptied before each run.
# Prints a Markdown report. Needs hyperfine and PostgreSQL (make deps). SKIP_FLEET=1 runs only 10.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${MCPCONN_BIN:-.build/release/mcpconn}")
PY=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-20}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  as_pg "$PGBIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_pg "$PGBIN/initdb" -D "$work/pg" -A trust -U postgres -E UTF8 --locale=C >/dev/null
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/pg_ctl" -D "$work/pg" -w -l "$work/pg/log" \
  -o "-p $pgport -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
PSQL=("$PGBIN/psql" -X -q -h 127.0.0.1 -p "$pgport" -U postgres)
"${PSQL[@]}" -c "CREATE DATABASE big" -c "CREATE DATABASE fleet"
export TOKEN_ENCRYPTION_KEY=$(printf 'ab%.0s' {1..32})
big="postgresql://postgres@127.0.0.1:$pgport/big"
fleet="postgresql://postgres@127.0.0.1:$pgport/fleet"

# 10,000 connectors for `list`: the schema from mcpconn, the rows from SQL (as bench/run.sh does for SQLite).
"$BIN" list --db "$big" >/dev/null
"${PSQL[@]}" -d big -c "INSERT INTO user_mcp_connections (user_id, name, description, server_url, connector_type,
    auth_type, is_active, is_verified, tool_count, created_at, updated_at)
  SELECT 1, 'connector-' || i, 'a connector', 'https://mcp.example.com/' || i || '/mcp', 'generic', 'none', true,
    false, i % 50, '2026-11-24 12:00:00+00', '2026-11-24 12:00:00+00' FROM generate_series(1, 10000) i"
query="SELECT id, name, connector_type, auth_type, is_active, is_verified, tool_count, server_url
  FROM user_mcp_connections WHERE user_id = 1 ORDER BY id"

# A slow fleet: 40 connectors on the fault server's /mcp-slow (200 ms per HTTP request).
"$PY" Tests/Servers/fault_server.py --no-stdin-watch >"$work/fault.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q PORT "$work/fault.out" && break; sleep 0.1; done
fport=$(awk '/PORT/ {print $2; exit}' "$work/fault.out")
for i in $(seq 1 40); do
  "$BIN" add "slow-$i" "http://127.0.0.1:$fport/mcp-slow?delay=0.2&era=handshake&n=$i" --db "$fleet" >/dev/null
done
reset_claims="${PSQL[*]} -d fleet -c 'DELETE FROM connector_claims'"
cat >"$work/four.sh" <<EOF
#!/bin/sh
for r in 1 2 3 4; do "$BIN" refresh --all --quiet --claim 3600 --concurrency 2 --db "$fleet" & done
wait
EOF
chmod +x "$work/four.sh"

. bench/hf.sh
hf pglist "$BIN list --db $big" "${PSQL[*]} -d big -A -t -c '$query'" "$BIN list --json --db $big" \
  "${PSQL[*]} -d big -c '$query'"
[ "${SKIP_FLEET:-}" ] || RUNS=${FLEET_RUNS:-6} hf claim --prepare "$reset_claims" \
  "$BIN refresh --all --quiet --claim 3600 --concurrency 2 --db $fleet" "$work/four.sh"

python3 - "$work" <<'PY'
import json, glob, statistics, sys
work = sys.argv[1]
def medians(name):
    times = {}
    for f in glob.glob(f"{work}/{name}.*.json"):
        for i, r in enumerate(json.load(open(f))["results"]):
            times.setdefault(i, []).extend(r["times"])
    return [statistics.median(times[i]) * 1000 for i in sorted(times)]
def table(name, labels, base):
    m = medians(name)
    print("| command | median ms | ratio |\n|---|---:|---:|")
    for label, v in zip(labels, m):
        print(f"| {label} | {v:.1f} | {v / m[base]:.2f}× |")
    print()
print("### list with 10,000 connectors in a PostgreSQL store (loopback)\n")
table("pglist", ["mcpconn list", "psql -A -t (unaligned, no header), same SELECT", "mcpconn list --json",
                 "psql (aligned table, as mcpconn prints), same SELECT"], base=1)
if glob.glob(f"{work}/claim.*.json"):
    print("### refresh --all --claim over 40 servers at 200 ms per request, --concurrency 2 per runner\n")
    table("claim", ["one runner", "four runners started together"], base=0)
PY
