#!/usr/bin/env bash
# Two builds of `ioam` side by side on the same capture, runs interleaved
# (old, new, old, new, ...) so that the drift of a shared machine's speed
# hits both alike: `ioam decode` in each format on one thread, and
# `ioam agent --read` into /dev/null (the jsonl file sink) and, when a
# receiver port is given, into an OTLP/HTTP receiver.
#
# Usage: benches/compare.sh OLD_IOAM NEW_IOAM CAPTURE [ROUNDS]
#   ROUNDS  runs of each command per build (default 7)
# Env: OTLP_PORT  a running interop/otlp_receiver.py on 127.0.0.1 (optional)
#
# Prints, per command and build, the least and the median CPU time (user +
# sys, from benches/src/bin/measure.rs), and new / old of both. Every run
# is pinned to core 1.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 capture=$3 rounds=${4:-7}
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release -p ioam-benches --bin measure
measure="$target/release/measure"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cmds=(
    "decode json|decode -q --format json --threads 1 $capture"
    "decode text|decode -q --format text --threads 1 $capture"
    "decode otlp-json|decode -q --format otlp-json --threads 1 $capture"
    "agent -> /dev/null|agent --read $capture --no-otlp --output /dev/null --stats-interval 0"
)
if [ -n "${OTLP_PORT:-}" ]; then
    cmds+=("agent -> OTLP/HTTP|agent --read $capture --otlp-endpoint http://127.0.0.1:$OTLP_PORT --stats-interval 0")
fi

printf '%-20s %-5s %9s %9s\n' what build min_s median_s
for c in "${cmds[@]}"; do
    label=${c%%|*} args=${c#*|}
    : >"$tmp/old" && : >"$tmp/new"
    for ((r = 0; r < rounds; r++)); do
        for b in old new; do
            bin=$old
            [ "$b" = new ] && bin=$new
            # shellcheck disable=SC2086 # the arguments are split on purpose
            taskset -c 1 "$measure" "$bin" $args 2>/dev/null | awk '{ print $2 + $3 }' >>"$tmp/$b"
        done
    done
    for b in old new; do
        sort -g "$tmp/$b" | awk -v l="$label" -v b="$b" '{ v[NR] = $1 } END {
            printf "%-20s %-5s %9.3f %9.3f\n", l, b, v[1], v[int((NR + 1) / 2)] }' | tee "$tmp/$b.line"
    done
    awk 'NR == FNR { m = $(NF - 1); d = $NF; next } {
        printf "%-20s %-5s %8.2fx %8.2fx   (new / old)\n", "", "ratio", $(NF - 1) / m, $NF / d }' \
        "$tmp/old.line" "$tmp/new.line"
done
