#!/usr/bin/env bash
# Writes the input captures of the golden decode outputs (run once; the
# captures are committed so that the goldens do not depend on the crafter).
set -euo pipefail
cd "$(dirname "$0")"
ioam="${IOAM:-../../../target/release/ioam}"
tp="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
"$ioam" craft --random --seed 7 --count 500 -o random.pcap
"$ioam" craft --trace-type 0x800002 --hops 3 --traceparent "$tp" --count 3 -o clt-800002.pcap
"$ioam" craft --trace-type 0xfff002 --hops 2 --traceparent "$tp" --count 2 --pcapng -o clt-fff002.pcapng
"$ioam" craft --trace-type 0xf00002 --hops 5 --traceparent "$tp" --count 2 --linktype ethernet --vlan 100 -o clt-f00002-vlan.pcap
"$ioam" craft --trace-type 0xf00000 --hops 7 --legacy-clt --ns 9 --traceparent "$tp" --count 2 -o legacy.pcap
"$ioam" craft --trace-type 0xc00000 --hops 4 --count 2 --no-originator -o no-originator.pcap
# Traces the crafter does not make (undefined bits, missing and earlier
# timestamps):
python3 make-undefined.py
