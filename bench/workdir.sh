# Sourced by the bench scripts: $work, a work directory removed at exit (kept, and named on stderr, when
# BENCH_KEEP is set), and $pids, the processes started in it, killed at exit.
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
