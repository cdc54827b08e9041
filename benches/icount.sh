#!/usr/bin/env bash
# Instructions per operation of every benchmark case, under callgrind.
#
# Each case runs twice, with N1 and N2 iterations; instructions/op is
# (I(N2) - I(N1)) / (N2 - N1), so the start-up cost (process start, fixture
# building and verification) cancels out. Counts are deterministic, unlike
# timings on a shared machine.
#
# Usage: benches/icount.sh [FILTER] (a substring of the case ids)
# Env:   N1, N2 (default 1000, 11000), CARGO_TARGET_DIR (default target).
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
n1="${N1:-1000}"
n2="${N2:-11000}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --profile bench -p ioam-benches --bin icount
bin="$target/release/icount"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

count() { # case iterations -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    awk '/^summary:/ { print $2 }' "$tmp/out"
}

printf '%-48s %-8s %10s\n' "case" "role" "instr/op"
"$bin" --list | while IFS=$'\t' read -r id role; do
    [[ -n "$filter" && "$id" != *"$filter"* ]] && continue
    a="$(count "$id" "$n1")"
    b="$(count "$id" "$n2")"
    awk -v id="$id" -v role="$role" -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" \
        'BEGIN { printf "%-48s %-8s %10.1f\n", id, role, (b - a) / (n2 - n1) }'
done
