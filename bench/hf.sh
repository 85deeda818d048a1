# Sourced by the bench scripts (needs $work and $RUNS).
# hf NAME CMD… : hyperfine in interleaved rounds of two runs per command. The machine is shared and its speed
# drifts by tens of percent within minutes; run one command after the other and the drift lands in the ratios.
hf() {
  local name=$1; shift
  hyperfine -N --style none --warmup 3 --runs 2 "$@" >/dev/null 2>&1
  for r in $(seq 1 $((RUNS / 2))); do
    hyperfine -N --style none --runs 2 --export-json "$work/$name.$r.json" "$@" >/dev/null 2>&1
  done
}
