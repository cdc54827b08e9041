#!/usr/bin/env bash
# `ioam agent --read` into a local OTLP/HTTP receiver (interop/otlp_receiver.py,
# which parses every protobuf body with the official definitions), beside
# `ioam decode --format otlp-json` on the same capture, for growing captures:
# spans/s and peak RSS (which must stay flat as the capture grows).
#
# Usage: benches/agent_throughput.sh [PACKETS...]   (default: 100000 400000)
# Env: TRACE_TYPE (default 0xf00002), HOPS (default 3), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 400000)
tt="${TRACE_TYPE:-0xf00002}"
hops="${HOPS:-3}"
target="${CARGO_TARGET_DIR:-target}"
tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
python3 -c 'import opentelemetry.proto' || { echo "needs opentelemetry-proto (pip install opentelemetry-proto)" >&2; exit 1; }
cargo build --quiet --release -p ioam-cli --bin ioam
ioam="$target/release/ioam"
tmp="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
python3 interop/otlp_receiver.py "$port" --count-only >"$tmp/rx.log" 2>&1 &
rx=$!
trap 'kill $rx 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q ready "$tmp/rx.log" && break; sleep 0.1; done

measure() { # label, then the command; prints "label wall_s cpu_s rss_kb"
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    read -r wall user sys rss <"$tmp/time"
    echo "$label $wall $(echo "$user + $sys" | bc) $rss"
}

printf '%-10s %-28s %10s %10s %12s %10s\n' packets what wall_s cpu_s spans_per_s peak_rss_MB
for n in "${sizes[@]}"; do
    "$ioam" craft --trace-type "$tt" --hops "$hops" --traceparent "$tp" --count "$n" -o "$tmp/c.pcap"
    before=$(grep -c '^spans' "$tmp/rx.log" || true)
    read -r _ wall cpu rss < <(measure agent "$ioam" agent --read "$tmp/c.pcap" --otlp-endpoint "http://127.0.0.1:$port" --stats-interval 0)
    grep -q "exported=$n " "$tmp/err" || { echo "agent did not export $n spans:" >&2; cat "$tmp/err" >&2; exit 1; }
    printf '%-10s %-28s %10s %10s %12.0f %10.1f\n' "$n" "agent --read -> OTLP/HTTP" "$wall" "$cpu" "$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
    read -r _ wall cpu rss < <(measure decode "$ioam" decode -q --format otlp-json "$tmp/c.pcap")
    printf '%-10s %-28s %10s %10s %12.0f %10.1f\n' "$n" "decode --format otlp-json" "$wall" "$cpu" "$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
echo "receiver: $(tail -n 1 "$tmp/rx.log")"
