#!/usr/bin/env bash
# `ioam decode --format json` against `tshark -T fields` on the same capture
# of IOAM packets crafted by `ioam craft`.
#
# Usage: benches/decode_throughput.sh [PACKETS [TSHARK_PACKETS]]
#   PACKETS         packets decoded by ioam (default 1000000)
#   TSHARK_PACKETS  packets given to tshark (default PACKETS); when smaller,
#                   tshark reads the first TSHARK_PACKETS of the same packets
#                   and the ratio compares per-packet rates.
# Env: TRACE_TYPE (default 0x800002), HOPS (transit hops, default 3),
#      CPU (core to pin both tools to, default 1), CARGO_TARGET_DIR.
#
# Both tools run pinned to one core, output to /dev/null. Reported: wall
# time and CPU time (user + sys); the packets/s and the ratio use CPU time,
# which is what a shared machine does not distort.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
nt="${2:-$n}"
tt="${TRACE_TYPE:-0x800002}"
hops="${HOPS:-3}"
cpu="${CPU:-1}"
target="${CARGO_TARGET_DIR:-target}"
tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
cargo build --quiet --release -p ioam-cli -p ioam-benches --bin ioam --bin decode_core
ioam="$target/release/ioam"
core="$target/release/decode_core"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

craft() { # count file
    "$ioam" craft --trace-type "$tt" --hops "$hops" --traceparent "$tp" --count "$1" -o "$2"
}
craft "$n" "$tmp/ioam.pcap"
if [[ "$nt" -lt "$n" ]]; then craft "$nt" "$tmp/tshark.pcap"; else cp "$tmp/ioam.pcap" "$tmp/tshark.pcap"; fi
echo "capture: $n packets, trace type $tt, originator + $hops hops, $(stat -c %s "$tmp/ioam.pcap") bytes"

# The IOAM fields tshark's dissector offers for these packets, plus the
# addresses and time that ioam's JSON carries too.
fields=(frame.number frame.time_epoch ipv6.src ipv6.dst
    ipv6.opt.ioam.opt_type ipv6.opt.ioam.trace.ns ipv6.opt.ioam.trace.nodelen
    ipv6.opt.ioam.trace.flags ipv6.opt.ioam.trace.remlen ipv6.opt.ioam.trace.type
    ipv6.opt.ioam.trace.node.hlim ipv6.opt.ioam.trace.node.id
    ipv6.opt.ioam.trace.node.iif ipv6.opt.ioam.trace.node.eif
    ipv6.opt.ioam.trace.node.tss ipv6.opt.ioam.trace.node.tsf
    ipv6.opt.ioam.trace.node.trdelay ipv6.opt.ioam.trace.node.nsdata
    ipv6.opt.ioam.trace.node.qdepth ipv6.opt.ioam.trace.node.csum
    ipv6.opt.ioam.trace.node.id_wide ipv6.opt.ioam.trace.node.iif_wide
    ipv6.opt.ioam.trace.node.eif_wide ipv6.opt.ioam.trace.node.nsdata_wide
    ipv6.opt.ioam.trace.node.bufoccup ipv6.opt.ioam.trace.node.oss.len
    ipv6.opt.ioam.trace.node.oss.scid ipv6.opt.ioam.trace.node.oss.data)
targs=()
for f in "${fields[@]}"; do targs+=(-e "$f"); done

measure() { # label packets command... ; prints "wall cpu"
    local label="$1" packets="$2"
    shift 2
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" taskset -c "$cpu" "$@" >"$tmp/out" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    read -r wall user sys <"$tmp/time"
    awk -v l="$label" -v n="$packets" -v w="$wall" -v u="$user" -v s="$sys" -v b="$(stat -c %s "$tmp/out")" 'BEGIN {
        c = u + s; if (c <= 0) c = 0.001
        printf "%-8s %8d packets  wall %7.2f s  cpu %7.2f s  %10.0f packets/s (cpu)  %8.1f ns/packet  output %d bytes\n",
            l, n, w, c, n / c, c * 1e9 / n, b }'
    echo "$user $sys" >"$tmp/$label.cpu"
}

# Sanity, on the first 1000 packets: both see a trace in every packet.
craft 1000 "$tmp/sanity.pcap"
"$ioam" decode --format json -q "$tmp/sanity.pcap" | grep -c '"namespace_id"' >"$tmp/nio" || true
tshark -r "$tmp/sanity.pcap" -n -T fields -e ipv6.opt.ioam.trace.ns 2>/dev/null | grep -c . >"$tmp/nts" || true
echo "packets with a trace (of 1000): ioam $(cat "$tmp/nio"), tshark $(cat "$tmp/nts")"

measure ioam "$n" "$ioam" decode --format json -q "$tmp/ioam.pcap"
measure core "$n" "$core" "$tmp/ioam.pcap"
echo "         (core crates only, no output: $(cat "$tmp/out"))"
measure tshark "$nt" tshark -r "$tmp/tshark.pcap" -n -T fields "${targs[@]}"
read -r iu is <"$tmp/ioam.cpu"
read -r tu ts <"$tmp/tshark.cpu"
awk -v n="$n" -v nt="$nt" -v iu="$iu" -v is="$is" -v tu="$tu" -v ts="$ts" 'BEGIN {
    i = (iu + is) / n; t = (tu + ts) / nt
    printf "ratio: ioam decode is %.0fx faster than tshark per packet (cpu time)%s\n", t / i,
        (nt < n ? sprintf("; tshark measured on %d packets, ioam on %d", nt, n) : "") }'
