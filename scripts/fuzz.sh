#!/usr/bin/env bash
# Runs the fuzz targets built by `make fuzz`, one after another: scripts/fuzz.sh TARGET:MAX_LEN...
# Each runs FUZZ_SECONDS from a fresh copy of its seed corpus (Fuzz/corpus/TARGET stays as committed), in one
# process (no -jobs/-workers: two shared cores). The Swift runtime's backtracer is off so that a failed
# invariant ends the run at once with libFuzzer's report. Exits 1 when any target failed, after all ran.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${FUZZ_DIR:-.build-fuzz}
seconds=${FUZZ_SECONDS:-60}
failed=""
for spec in "$@"; do
  t=${spec%%:*}
  max_len=${spec#*:}
  work=$dir/corpus/$t
  out=$dir/artifacts/$t
  log=$dir/logs/$t.log
  rm -rf "$work" "$out"
  mkdir -p "$work" "$out" "$dir/logs"
  cp Fuzz/corpus/"$t"/* "$work"/
  echo "fuzz $t: ${seconds} s from $(ls Fuzz/corpus/"$t" | wc -l) seeds, inputs up to $max_len bytes (log: $log)"
  if SWIFT_BACKTRACE=enable=no "$dir/$t-fuzz" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 \
      -timeout=10 -dict=Fuzz/"$t".dict -artifact_prefix="$out/" -print_final_stats=1 "$work" >"$log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE|average_exec_per_sec' "$log" | sed 's/^/  /'
  else
    echo "fuzz $t FAILED:"
    tail -n 40 "$log" | sed 's/^/  /'
    failed="$failed $t"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed; the inputs that failed:"
  find "$dir/artifacts" -type f | sed 's/^/  /'
  exit 1
fi
