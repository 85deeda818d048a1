#!/usr/bin/env bash
# stress-test.sh N: runs the whole test suite N times from the current build (`make test` or `make build` first;
# nothing is rebuilt) while a busy loop keeps one core busy, and reports:
#   - per run: its status, wall time, the tests that failed with their messages, and the pool probe's summary
#     (how long a job waited for Swift's cooperative pool: Tests/TestSupport/PoolProbe.swift);
#   - at the end: "stress-test: K passed, M failed" over the N runs; the exit status is 1 when any run failed.
# Logs stay in STRESS_DIR (default: a new temp dir, printed). The Makefile's `make stress-test` sets the paths
# of the test servers as `make test` does; run by hand, set MCPCONN_TEST_PYTHON and the others the same way.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-5}
case "$runs" in '' | *[!0-9]* | 0) echo "usage: $0 N (N >= 1 runs)" >&2; exit 64 ;; esac
dir=${STRESS_DIR:-$(mktemp -d /tmp/mcpconn-stress-XXXXXX)}
mkdir -p "$dir"
config=${CONFIG:-debug}
export MCPCONN_BIN=${MCPCONN_BIN:-$PWD/.build/$config/mcpconn}
[ -x "$MCPCONN_BIN" ] || { echo "stress-test: no build at $MCPCONN_BIN: run make test (or make build) first" >&2; exit 69; }

# The added load: one process that never sleeps, at the same priority as the suite. It is the machine's second
# core kept busy (the suite alone already fills both at times), ended with this script however it ends.
busy() { while :; do :; done; }
busy &
load=$!
trap 'kill "$load" 2>/dev/null' EXIT INT TERM

echo "stress-test: $runs run(s) of the suite with one core kept busy (pid $load); logs in $dir"
passed=0
failed=0
for i in $(seq 1 "$runs"); do
    log=$dir/run-$i.log
    probe=$dir/pool-probe-$i.log
    rm -f "$probe"
    start=$(date +%s)
    MCPCONN_TEST_POOL_PROBE=$probe stdbuf -oL swift test -c "$config" --skip-build >"$log" 2>&1
    status=$?
    seconds=$(($(date +%s) - start))
    summary=$(grep -a '^pool-probe: samples' "$probe" 2>/dev/null | tail -1)
    # A run passes when swift test exits 0 and its own closing line says so (a crash of the runner is a failure).
    if [ "$status" = 0 ] && grep -aq '^✔ Test run with .* passed' "$log"; then
        passed=$((passed + 1))
        echo "run $i: passed in ${seconds} s; ${summary:-pool-probe: no summary}"
    else
        failed=$((failed + 1))
        echo "run $i: FAILED (status $status) in ${seconds} s; ${summary:-pool-probe: no summary}"
        # Every issue a test recorded (its message is on that line), else the runner's last words.
        if grep -aq '^✘ Test .* recorded an issue' "$log"; then
            grep -a '^✘ Test .* recorded an issue' "$log" | sed 's/^/    /'
        else
            tail -5 "$log" | sed 's/^/    /'
        fi
        grep -a '^pool-probe: a job has waited' "$probe" 2>/dev/null | head -3 | sed 's/^/    /'
    fi
done
echo "stress-test: $passed passed, $failed failed"
[ "$failed" = 0 ]
