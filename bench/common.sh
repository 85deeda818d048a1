# Sourced by bench/run.sh and bench/ab.sh: a work directory removed at exit (kept when BENCH_KEEP is set) with the
# servers started in it, and `start NAME CMD…`, which starts a server that prints "PORT <n>" and sets $port.
# Then starts the two reference servers every bench uses: $modern (SDK 2.3, 2026-07-28) and $old (SDK 1.x).
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

start() {
  local name=$1; shift
  mkfifo "$work/$name.fifo"
  "$@" --no-stdin-watch >"$work/$name.fifo" 2>"$work/$name.log" &
  pids+=($!)
  read -r _ port <"$work/$name.fifo"
}
start modern "$PY" Tests/Servers/reference_server.py --name bench-modern; modern="http://127.0.0.1:$port/mcp"
start old "$PY1" Tests/Servers/reference_server.py --name bench-old; old="http://127.0.0.1:$port/mcp"
