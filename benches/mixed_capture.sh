#!/usr/bin/env bash
# Writes the mixed capture the decode and agent benchmarks read: ten kinds of
# IOAM packet crafted by `ioam craft`, interleaved in capture order, then
# copied until the capture holds PACKETS packets.
#
# Usage: benches/mixed_capture.sh IOAM PACKETS OUT
#   IOAM     the ioam binary
#   PACKETS  a multiple of 10000 (10000, 100000, 1000000, 10000000, ...)
#   OUT      the pcap to write
#
# The 10,000-packet base: 9 trace types, 2 to 8 records per trace, 60 % of
# the packets CLT-tagged (span context in the originator's opaque state).
# Needs mergecap (wireshark-common).
set -euo pipefail
ioam=$1 n=$2 out=$3
(( n % 10000 == 0 && n > 0 )) || { echo "PACKETS must be a positive multiple of 10000" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
i=0
piece() { # trace-type hops [clt]
    local args=(craft --trace-type "$1" --hops "$2" --count 1000 --time 1700000000 -o "$tmp/p$i.pcap")
    [[ ${3:-} == clt ]] && args+=(--traceparent "$tp")
    "$ioam" "${args[@]}"
    i=$((i + 1))
}
piece 0x800000 7
piece 0xc00000 4
piece 0xf00000 1
piece 0xfff000 2
piece 0x800002 3 clt
piece 0x800002 7 clt
piece 0xf00002 5 clt
piece 0xfff002 2 clt
piece 0xff0002 3 clt
piece 0xc00002 1 clt
# Same start time and 1 ms spacing: a chronological merge interleaves them.
mergecap -F pcap -w "$tmp/base.pcap" "$tmp"/p*.pcap
cur="$tmp/base.pcap" have=10000
while (( have < n )); do
    k=$(( n / have >= 10 ? 10 : n / have ))
    (( have * k <= n )) || k=1
    copies=()
    for ((j = 0; j < k; j++)); do copies+=("$cur"); done
    mergecap -F pcap -a -w "$tmp/next.pcap" "${copies[@]}"
    mv "$tmp/next.pcap" "$tmp/cur.pcap"
    cur="$tmp/cur.pcap" have=$((have * k))
done
(( have == n )) || { echo "PACKETS must be 10000 times a power of ten" >&2; exit 2; }
mv "$cur" "$out"
