#!/usr/bin/env python3
"""Markdown table of the benchmark results.

Joins the criterion medians ($CARGO_TARGET_DIR/criterion/<group>/<function>/
<fixture>/new/estimates.json) with the instruction counts printed by
benches/icount.sh, and puts each case beside the floor and the peer of the
same group and fixture.

Usage: benches/report.py ICOUNT_OUTPUT [CRITERION_DIR]
"""
import json
import os
import sys


def main():
    icount_file = sys.argv[1]
    crit = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
    cases = []
    for line in open(icount_file):
        parts = line.split()
        if len(parts) != 3 or parts[0] == "case":
            continue
        cid, role, instr = parts
        group, function, fixture = cid.split("/", 2)
        cases.append((group, function, fixture, role, float(instr)))

    def median_ns(group, function, fixture):
        path = os.path.join(crit, group, function, fixture, "new", "estimates.json")
        try:
            with open(path) as f:
                return json.load(f)["median"]["point_estimate"]
        except OSError:
            return None

    by_key = {}
    for c in cases:
        by_key.setdefault((c[0], c[2]), []).append(c)

    print("| case | median | vs floor (time) | vs peer (time) | instr/op | vs floor (instr) | vs peer (instr) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for group, function, fixture, role, instr in cases:
        med = median_ns(group, function, fixture)
        floor = next((c for c in by_key[(group, fixture)] if c[3] == "Floor"), None)
        peer = next((c for c in by_key[(group, fixture)] if c[3] == "Peer"), None)
        def ratio(other, use_instr):
            if other is None or role not in ("Subject", "Prototype"):
                return ""
            if use_instr:
                return f"{instr / other[4]:.1f}x"
            om = median_ns(other[0], other[1], other[2])
            if med is None or om is None:
                return ""
            return f"{med / om:.1f}x"
        name = f"{group}/{function}/{fixture}" + ("" if role == "Subject" else f" ({role.lower()})")
        m = "" if med is None else (f"{med:.1f} ns" if med < 10_000 else f"{med / 1000:.2f} µs")
        print(f"| {name} | {m} | {ratio(floor, False)} | {ratio(peer, False)} | {instr:.0f} | {ratio(floor, True)} | {ratio(peer, True)} |")


if __name__ == "__main__":
    main()
