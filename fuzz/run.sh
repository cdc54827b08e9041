#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 30), one after
# the other, with the committed corpus as seeds, and prints the executions
# libFuzzer reports for each. Fails on the first crash (the reproducer is
# left in fuzz/artifacts/<target>/).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
shift || true
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
# Release build with debug assertions and overflow checks (the cargo-fuzz
# default): an arithmetic overflow is a crash too.
cargo +nightly fuzz build >logs/build.log 2>&1 || { cat logs/build.log; exit 1; }
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    # New inputs go to a scratch directory so the committed corpus stays small.
    work="target/corpus-work/$t"
    mkdir -p "$work"
    if cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 \
        -rss_limit_mb=2048 -timeout=10 >"logs/$t.log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    execs=$(grep -a 'stat::number_of_executed_units' "logs/$t.log" | tail -1 | awk '{print $2}')
    # After a crash there are no final stats: take the last progress line.
    [ -n "$execs" ] || execs=$(grep -a -o '^#[0-9]*' "logs/$t.log" | tail -1 | tr -d '#')
    cov=$(grep -a -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | awk '{print $2}')
    printf '%-20s %-5s executions=%s coverage=%s\n' "$t" "$result" "${execs:-?}" "${cov:-?}"
    if [ "$result" = CRASH ]; then
        grep -a -E 'panicked|ERROR|Test unit written' "logs/$t.log" | head -5 || true
        break
    fi
done
exit "$status"
