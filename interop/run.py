#!/usr/bin/env python3
"""Interop suite driver: Linux IOAM routers in network namespaces, and tshark.

    python3 interop/run.py                 # every scenario
    python3 interop/run.py --only tshark   # scenarios whose name contains "tshark"
    python3 interop/run.py --record-sample # regenerate data/sample-linux.pcap

Prints one line per test case and ends with exactly `N passed, N failed`.
Exit status 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as H  # noqa: E402
import ioambytes as ib  # noqa: E402
import scenarios as S  # noqa: E402
import agent as A  # noqa: E402
import tsharkjson as TS  # noqa: E402
from netns import Topology, TopologyError, netns_available  # noqa: E402

SAMPLE = os.path.join(H.ROOT, "data", "sample-linux.pcap")

# W3C Trace Context example ids, so the sample reads like the documentation.
SAMPLE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def banner(msg: str) -> None:
    line = "!" * 78
    print(f"{line}\n!! {msg}\n{line}", flush=True)


def sample_packets(topo: Topology) -> list[H.Sent]:
    """The packets of data/sample-linux.pcap (ioam-cli/tests/decode_sample.rs depends on this layout)."""
    pkts = []
    span_base = 0x00F067AA0BA90200
    for i, tt in enumerate([0x800000, 0xC00000, 0xFFF000, 0x800002, 0xFFF002]):
        clt = {"trace_id": SAMPLE_TRACE_ID, "span_id": f"{span_base + i + 1:016x}", "trace_flags": 1}
        pkts.append(H.py_packet(f"ioam-interop sample {i + 1} type 0x{tt:06x}", tt, topo.routers, clt=clt))
    # 0xfff002 already overflows at r3 (60-byte records, RFC 9197 §4.4.1); one more with room for r1 only.
    clt = {"trace_id": SAMPLE_TRACE_ID, "span_id": f"{span_base + 9:016x}", "trace_flags": 1}
    pkts.append(H.py_packet("ioam-interop sample 6 overflow at r2", 0x800002, topo.routers, clt=clt,
                            space=(1 + 8 + 1 + 1) * 4))
    for p in pkts:
        if not ib.has_oss(p.trace_type):
            p.clt = None  # CLT travels in the opaque state only
    return pkts


def record_sample(run: S.Run, out: str) -> int:
    """Send CLT-tagged packets of several trace types (one overflows) and keep the receiver capture."""
    pkts = sample_packets(run.topo)
    got, _ = run.send_and_capture(pkts, "sample")
    frames = got[("rcv", "rcv0")]
    if len(frames) != len(pkts):
        print(f"sample: captured {len(frames)} of {len(pkts)} packets", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(out), exist_ok=True)
    ib.write_pcap(out, [d.frame for d in frames])
    if os.path.abspath(out) == os.path.abspath(SAMPLE):
        # ioam-trace's packaged tests carry their own copy (a crate cannot
        # read files outside itself); ioam-cli's tests check the two agree.
        ib.write_pcap(os.path.join(H.ROOT, "ioam-trace", "tests", "data", "sample-linux.pcap"), [d.frame for d in frames])
    over = sum(1 for d in frames if d.pkt["ioam"] and d.pkt["ioam"][0]["flags"]["overflow"])
    print(f"wrote {out}: {len(frames)} packets, {over} with Overflow set")
    return 0


def check_sample(results: H.Results, topo: Topology) -> None:
    """The committed sample still matches this topology's configuration, record by record."""
    with results.case(f"sample capture {os.path.relpath(SAMPLE, H.ROOT)} matches the topology") as c:
        if not c.check(os.path.exists(SAMPLE), "missing: run `bash interop/run.sh --record-sample`"):
            return
        frames = ib.decode_pcap(SAMPLE)
        want = sample_packets(topo)
        c.eq(len(frames), len(want), "packets")
        for d, p in zip(frames, want):
            c.eq(ib.udp_payload(d.ip6), p.payload, f"frame {d.pkt['frame']}: payload")
            p.exact_timestamps = False
            window = (d.frame.time - 2.0, d.frame.time)
            H.check_trace(c, d.pkt["ioam"][0], p, topo.routers, window, f"frame {d.pkt['frame']}")
        over = [d.pkt["frame"] for d in frames if d.pkt["ioam"] and d.pkt["ioam"][0]["flags"]["overflow"]]
        c.eq(over, [5, 6], "frames with Overflow set")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only test cases whose scenario name contains this text")
    ap.add_argument("--record-sample", action="store_true", help=f"regenerate {os.path.relpath(SAMPLE, H.ROOT)}")
    ap.add_argument("--sample-out", default=SAMPLE)
    ap.add_argument("--keep", action="store_true", help="keep the capture directory")
    ap.add_argument("--python-only", action="store_true", help="ignore the ioam binary even when built")
    ap.add_argument("--deviations", action="store_true", help="print the known tshark deviations (markdown) and exit")
    args = ap.parse_args()
    if args.deviations:
        import tshark_deviations

        print(tshark_deviations.as_markdown())
        return 0

    ok, why = netns_available()
    if not ok:
        print(f"interop: cannot create network namespaces: {why}\n"
              f"interop: run as root on a kernel with IPv6 IOAM (the suite has no skip that passes).",
              file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    for tool in ("tcpdump", "tshark"):
        if shutil.which(tool) is None:
            print(f"interop: `{tool}` not found (apt-get install -y tshark tcpdump)", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1

    removed = Topology.cleanup_stale()
    if removed:
        print(f"removed stale namespaces: {' '.join(removed)}")
    workdir = tempfile.mkdtemp(prefix="ioam-interop-")
    topo = Topology()
    results = H.Results()

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    t_start = time.monotonic()
    rc = 0
    try:
        try:
            topo.up()
        except TopologyError as e:
            print(f"interop: topology setup failed: {e}", file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
        run = S.Run(topo, results, workdir)
        if args.record_sample:
            return record_sample(run, args.sample_out)
        print(f"topology {topo.tag}: sender -> r1 -> r2 -> r3 -> receiver; {TS.tshark_version()}")
        cli = {} if args.python_only else {sub: H.ioam_has(sub) for sub in ("decode", "send", "craft", "agent")}
        print(f"ioam binary: {H.ioam_bin() or 'not built'}; subcommands available: "
              f"{', '.join(k for k, v in cli.items() if v) or 'none'}")

        run.cli_decode = bool(cli.get("decode"))

        def want(name: str) -> bool:
            return not args.only or args.only in name or name in args.only

        def py_make(tag, tt, clt, mode):
            return H.py_packet(tag, tt, topo.routers, clt=clt, mode=mode)

        def cli_make(tag, tt, clt, mode):
            return H.cli_packet(tag, tt, topo.routers, clt=clt, mode=mode)

        if want("sample"):
            check_sample(results, topo)
        if want("trace-type"):
            S.scenario_trace_types(run, "python sender", py_make, H.py_send)
            if cli.get("send"):
                S.scenario_trace_types(run, "ioam send", cli_make, H.cli_send)
        if want("overflow"):
            S.scenario_overflow(run, S.py_r1_only(topo), H.py_send, "python sender")
            if cli.get("send"):
                S.scenario_overflow(run, S.cli_r1_only(topo), H.cli_send, "ioam send")
        if want("kernel"):
            strict = {"python decoder": S.py_strict_errors}
            if cli.get("decode"):
                strict["ioam decode --strict"] = S.cli_strict_errors
            tw = {"transit.rs": S.rust_transit} if (S.transit_bin() and not args.python_only) else {}
            S.scenario_kernel_rules(run, strict, tw)
        if want("ioam disabled"):
            S.scenario_ioam_disabled(run)
        if want("destination"):
            lw = {"transit.rs --local": S.rust_transit_local} if (S.transit_bin() and not args.python_only) else {}
            S.scenario_destination_events(run, lw)
        if want("size") and cli.get("send"):
            S.scenario_cli_size(run)
        if want("agent") and cli.get("agent"):
            A.scenario_agent(run)
        if want("end to end") and cli.get("agent"):
            A.scenario_clt_e2e(run)
        if want("pipe") and cli.get("decode"):
            S.scenario_live_pipe(run)
        if want("tcp") and cli.get("send"):
            S.scenario_tcp_cli(run)
        if want("span"):
            S.scenario_span_per_packet_py(run)
            if cli.get("send"):
                S.scenario_span_per_packet_cli(run)
        if want("transit"):
            writers = {"python model": S.py_transit}
            if S.transit_bin() and not args.python_only:
                writers["ioam-trace transit writer (examples/transit.rs)"] = S.rust_transit
                writers["ioam-trace prepared-record writer (examples/transit.rs --prepared)"] = \
                    S.rust_transit_prepared
            else:
                print("note: ioam-trace examples/transit not built; transit differential uses the python model only")
            S.scenario_transit_differential(run, writers)
        if want("tshark"):
            stats = {"deviations": {}}
            pcaps = list(run.pcaps)
            if os.path.exists(SAMPLE):
                pcaps.append(SAMPLE)
            merged = run.path("all-captures.pcap")
            origin = S.merge_captures(pcaps, merged)
            results.facts["captures_merged"] = f"{len(pcaps)} captures, {len(origin)} frames in {merged}"
            S.tshark_diff(results, f"captured packets, python decoder ({len(pcaps)} captures)", [merged],
                          S.py_decoder, stats, origin)
            if cli.get("decode"):
                stats_cli = {"deviations": {}}
                S.tshark_diff(results, f"captured packets, ioam decode --lenient ({len(pcaps)} captures)", [merged],
                              S.cli_decoder, stats_cli, origin)
                S.decoder_diff(results, "captured packets, python decoder vs ioam decode --lenient", [merged],
                               S.py_decoder, S.cli_decoder)
                stats = stats_cli
                S.scenario_otlp_attributes(results, merged)
            results.facts["tshark_packets"] = stats.get("packets", 0)
            results.facts["tshark_deviations"] = dict(stats["deviations"])
        if want("golden") and cli.get("decode"):
            # The captures behind the golden outputs of ioam-cli/tests/golden:
            # the goldens are byte-for-byte checks of our own decoder, this
            # holds the captures' fields against tshark's dissector.
            golden = sorted(glob.glob(os.path.join(H.ROOT, "ioam-cli", "tests", "golden", "*.pcap*")))
            st = {"deviations": {}}
            S.tshark_diff(results, f"golden captures of ioam-cli/tests/golden ({len(golden)} files), "
                          "ioam decode --lenient", golden, S.cli_decoder, st)
            results.facts["golden_packets"] = st.get("packets", 0)
            results.facts["golden_deviations"] = dict(st["deviations"])
        if want("craft") and cli.get("decode") and cli.get("craft"):
            st = {"deviations": {}}
            S.scenario_craft_linktypes(run, st)
            results.facts["craft_linktype_packets"] = st.get("packets", 0)
        if want("corpus") and cli.get("decode"):
            import corpus as C

            path = run.path("corpus-python.pcap")
            n = C.write_corpus(path, seed=20261126, count=1500)
            st = {"deviations": {}}
            S.tshark_diff(results, f"random corpus from interop/corpus.py (seed 20261126, {n} packets), "
                          "ioam decode --lenient", [path], S.cli_decoder, st)
            results.facts["corpus_python_packets"] = st.get("packets", 0)
            results.facts["corpus_python_deviations"] = dict(st["deviations"])
            if cli.get("craft"):
                path = run.path("corpus-craft.pcap")
                S.craft_corpus(path, seed=7, count=1200)
                st = {"deviations": {}}
                S.tshark_diff(results, "random corpus from ioam craft --random (seed 7, 1200 packets), "
                              "ioam decode --lenient", [path], S.cli_decoder, st)
                results.facts["corpus_craft_packets"] = st.get("packets", 0)
                results.facts["corpus_craft_deviations"] = dict(st["deviations"])
    except KeyboardInterrupt as e:
        print(f"interrupted: {e}", file=sys.stderr)
        rc = 1
    finally:
        topo.down()
        if args.keep or results.failed:
            print(f"captures kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.record_sample:
        return rc
    for k, v in results.facts.items():
        print(f"{k}: {v}")
    print(f"suite time {time.monotonic() - t_start:.1f}s")
    print(f"{results.passed} passed, {results.failed + rc} failed")
    return 1 if (results.failed or rc) else 0


if __name__ == "__main__":
    try:
        code = main()
    except Exception:  # a crash of the driver itself is a failure with the summary line
        import traceback

        traceback.print_exc()
        print("0 passed, 1 failed")
        code = 1
    sys.exit(code)
