#!/usr/bin/env bash
# The agent pipeline on the mixed capture of benches/mixed_capture.sh (60 %
# of the packets CLT-tagged), at growing sizes, each run beside its floor:
#
#   agent -> OTLP/HTTP   `ioam agent --read` into interop/otlp_receiver.py
#                        on loopback, which parses every protobuf body with
#                        the official definitions and counts the spans; the
#                        script checks that every CLT packet arrived as a span
#   agent -> /dev/null   the same with the local JSONL file sink into
#                        /dev/null and no OTLP (`--no-otlp --output /dev/null`)
#   floor-span_core      the agent's per-packet work without threads or I/O:
#                        decode -> IoamSpan -> OTLP protobuf, batches of 512
#                        (benches/src/bin/span_core.rs)
#   decode otlp-json     `ioam decode --format otlp-json` (the same spans as
#                        one OTLP JSON request)
#
# Usage: benches/agent_throughput.sh [PACKETS...]   (default: 100000 1000000)
# Env: CARGO_TARGET_DIR.
#
# The agent (its reader and its export thread) and the other runs are
# pinned to core 1 (`taskset -c 1`), the receiver to core 0. Reported per
# run: wall and CPU time (user + sys, from `measure`, benches/src/bin/
# measure.rs), packets/s of CPU time, spans/s of wall time, peak RSS, and
# for the OTLP run the receiver's CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
target="${CARGO_TARGET_DIR:-target}"
python3 -c 'import opentelemetry.proto' || { echo "needs opentelemetry-proto (pip install opentelemetry-proto)" >&2; exit 1; }
command -v mergecap >/dev/null || { echo "needs mergecap (apt-get install tshark)" >&2; exit 1; }
cargo build --quiet --release -p ioam-cli -p ioam-benches --bin ioam --bin span_core --bin measure
ioam="$target/release/ioam"
span_core="$target/release/span_core"
measure="$target/release/measure"
tmp="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
taskset -c 0 python3 interop/otlp_receiver.py "$port" --count-only >"$tmp/rx.log" 2>&1 &
rx=$!
trap 'kill $rx 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q ready "$tmp/rx.log" && break; sleep 0.1; done
grep -q ready "$tmp/rx.log" || { echo "the receiver did not start" >&2; cat "$tmp/rx.log" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
rx_cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$rx/stat"; }

# line PACKETS LABEL SPANS "wall user sys rss" [EXTRA]
line() {
    read -r wall user sys rss <<<"$4"
    awk -v n="$1" -v l="$2" -v s="$3" -v w="$wall" -v u="$user" -v y="$sys" -v r="$rss" -v x="${5:-}" 'BEGIN {
        c = u + y
        printf "%-10s %-22s %9.3f %9.3f %12.0f %12.0f %8.1f  %s\n", n, l, w, c, n / c, s / w, r / 1024, x }'
}

printf '%-10s %-22s %9s %9s %12s %12s %8s  %s\n' packets what wall_s cpu_s pkt/s_cpu spans/s_wall rss_MB notes
for n in "${sizes[@]}"; do
    benches/mixed_capture.sh "$ioam" "$n" "$tmp/c.pcap"
    spans=$((n * 6 / 10))
    before=$(tail -n 1 "$tmp/rx.log" | awk '/^spans/ { print $2 } !/^spans/ { print 0 }')
    rx0=$(rx_cpu)
    r=$(taskset -c 1 "$measure" "$ioam" agent --read "$tmp/c.pcap" --otlp-endpoint "http://127.0.0.1:$port" --stats-interval 0 2>"$tmp/err")
    grep -q "exported=$spans " "$tmp/err" || { echo "agent did not export $spans spans:" >&2; cat "$tmp/err" >&2; exit 1; }
    for _ in $(seq 100); do
        got=$(tail -n 1 "$tmp/rx.log" | awk '{ print $2 }')
        [ "$((got - before))" -ge "$spans" ] && break
        sleep 0.1
    done
    [ "$((got - before))" -eq "$spans" ] || { echo "the receiver counted $((got - before)) spans, not $spans" >&2; exit 1; }
    line "$n" "agent -> OTLP/HTTP" "$spans" "$r" "receiver CPU $(echo "$(rx_cpu) - $rx0" | bc) s; $spans spans counted"
    r=$(taskset -c 1 "$measure" "$ioam" agent --read "$tmp/c.pcap" --no-otlp --output /dev/null --stats-interval 0 2>"$tmp/err")
    grep -q "written=$spans" "$tmp/err" || { echo "agent did not write $spans spans:" >&2; cat "$tmp/err" >&2; exit 1; }
    line "$n" "agent -> /dev/null" "$spans" "$r" "JSONL file sink"
    # span_core times its loops itself (it first reads the whole file into
    # memory, which is not the agent's work): its protobuf pass, CPU = wall.
    secs=$(taskset -c 1 "$span_core" "$tmp/c.pcap" | awk '/-> protobuf/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "s:") print $i }')
    line "$n" "floor-span_core" "$spans" "$secs $secs 0 0" "one thread, no I/O (timed inside; RSS not shown)"
    r=$(taskset -c 1 "$measure" "$ioam" decode -q --format otlp-json --threads 1 "$tmp/c.pcap")
    line "$n" "decode otlp-json" "$spans" "$r"
    rm -f "$tmp/c.pcap"
done
