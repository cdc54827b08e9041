"""The interop scenarios (issue 7), run against Linux routers in namespaces."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import harness as H
import ioambytes as ib
import tsharkjson as TS
import tshark_deviations as DEV
from capture import HBH_UDP_FILTER, Capture
from netns import IOAM_NS, OTHER_NS, Topology, sh

TRACE_TYPES = [0x800000, 0xC00000, 0xFFF000, 0xFFF002, 0x800002]


class Run:
    """State shared by the scenarios of one run."""

    def __init__(self, topo: Topology, results: H.Results, workdir: str):
        self.topo = topo
        self.results = results
        self.workdir = workdir
        self.pcaps: list[str] = []  # every capture, for the tshark differential
        self.seq = 0
        self.cli_decode = False  # also decode every capture with `ioam decode --format json`

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def tag(self, what: str) -> str:
        self.seq += 1
        return f"ioam-interop {what} #{self.seq}"

    def capture(self, points: list[tuple[str, str]], label: str) -> list[Capture]:
        caps = []
        try:
            for role, iface in points:
                p = self.path(f"{label}-{role}-{iface}.pcap")
                caps.append(Capture(self.topo.ns(role), iface, p).start())
        except Exception:
            for c in caps:
                c.stop()
            raise
        for c in caps:
            self.pcaps.append(c.path)
        return caps

    def send_and_capture(self, packets: list[H.Sent], label: str, points=None, expect_at_rcv: int | None = None,
                         sender=None):
        """Send, capture at the receiver (and other points), return decoded frames per point and the window."""
        points = points or [("rcv", "rcv0")]
        caps = self.capture(points, label)
        try:
            t0 = time.time()
            (sender or H.py_send)(self.topo, packets)
            n = expect_at_rcv if expect_at_rcv is not None else len(packets)
            caps[0].wait_for(n, timeout=3.0)
            # Every other point saw the packets before the receiver did.
            for c in caps[1:]:
                c.wait_for(n, timeout=1.0)
            if expect_at_rcv is not None and expect_at_rcv < len(packets):
                time.sleep(0.3)
            t1 = time.time()
        finally:
            for c in caps:
                c.stop()
        out = {}
        for (role, iface), c in zip(points, caps):
            frames = ib.decode_pcap(c.path)
            if self.cli_decode and frames:
                by_frame = {o.get("frame"): o for o in H.ioam_decode_json(c.path)}
                for d in frames:
                    d.cli = by_frame.get(d.pkt["frame"])
            out[(role, iface)] = frames
        return out, (t0, t1)


def by_tag(decoded: list[ib.Decoded]) -> dict[str, ib.Decoded]:
    m = {}
    for d in decoded:
        pl = ib.udp_payload(d.ip6)
        if pl is not None:
            m[pl.decode(errors="replace")] = d
    return m


def snmp6(topo: Topology, role: str) -> dict[str, int]:
    out = sh("cat", "/proc/net/snmp6", ns=topo.ns(role)).stdout
    res = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            res[parts[0]] = int(parts[1])
    return res


# ---------------------------------------------------------------------------
# Scenario 1: trace types carrying CLT


def scenario_trace_types(run: Run, sender_name: str, make_packet, send) -> None:
    topo = run.topo
    for tt in TRACE_TYPES:
        for mode in ("sockopt", "cmsg"):
            name = f"trace-type 0x{tt:06x} {mode} ({sender_name})"
            with run.results.case(name) as c:
                # CLT travels in the originator's opaque state (the CLT opaque state of clt-context): only with
                # bit 22; other types go out without it (`ioam send --no-clt`).
                clt = H.new_clt() if ib.has_oss(tt) else None
                p = make_packet(run.tag(f"tt-{tt:06x}-{mode}"), tt, clt, mode)
                got, window = run.send_and_capture([p], f"tt{tt:06x}-{mode}", sender=send)
                rx = by_tag(got[("rcv", "rcv0")])
                d = rx.get(p.tag)
                if not c.check(d is not None, f"packet not captured at the receiver ({len(rx)} frames)"):
                    continue
                c.eq(d.ip6[7], p.hop_limit - 3, "IPv6 hop limit at the receiver")
                if run.cli_decode:
                    c.check(d.cli is not None, "ioam decode did not report the packet")
                for who, pkt in d.views():
                    opts = pkt.get("ioam", [])
                    if not c.eq(len(opts), 1, f"{who}: IOAM options"):
                        continue
                    H.check_trace(c, opts[0], p, topo.routers, window, who)
                    c.check(not pkt.get("errors") and not opts[0].get("errors"),
                            f"{who}: decode errors: {pkt.get('errors')} {opts[0].get('errors')}")


# ---------------------------------------------------------------------------
# Scenario 2: overflow


def scenario_overflow(run: Run, make_r1_only, send, sender_name: str) -> None:
    """make_r1_only(tag, trace_type, clt) -> Sent with room for the originator and r1 only."""
    topo = run.topo
    for tt in (0x800002, 0xFFF000):
        with run.results.case(f"overflow 0x{tt:06x}: room for the originator and r1 only ({sender_name})") as c:
            clt = H.new_clt() if ib.has_oss(tt) else None
            p = make_r1_only(run.tag(f"overflow-{tt:06x}"), tt, clt)
            got, window = run.send_and_capture([p], f"overflow{tt:06x}", sender=send)
            d = by_tag(got[("rcv", "rcv0")]).get(p.tag)
            if not c.check(d is not None, "packet not captured"):
                continue
            wrote, overflow, rem = H.expected_hops(tt, p.initial_rem, topo.routers)
            c.eq([r.name for r in wrote], ["r1"], "routers expected to write (model)")
            c.eq(overflow, True, "model overflow")
            for who, pkt in d.views():
                opt = pkt["ioam"][0]
                H.check_trace(c, opt, p, topo.routers, window, who)
                c.eq(opt["flags"]["overflow"], True, f"{who}: Overflow set by r2")
                c.eq(len(opt["nodes"]), 2, f"{who}: records: originator + r1")


def scenario_cli_size(run: Run) -> None:
    """`ioam send --size`: room in bytes for routers whose records differ (r3 adds its schema's data), where
    `--hops` (one size per router) leaves r3 without room."""
    topo = run.topo
    tt = 0xF00002
    nl = ib.node_len(tt)
    orig = (nl + 8) * 4
    need = sum((nl + r.oss_words()) * 4 for r in topo.routers)
    for label, extra, rem, writers in (
        ("--hops 3", [], 3 * (nl + 1), ["r1", "r2"]),
        (f"--size {orig + need}", ["--size", str(orig + need)], need // 4, ["r1", "r2", "r3"]),
    ):
        with run.results.case(f"ioam send {label} 0x{tt:06x}: r3's opaque state needs {(nl + topo.routers[2].oss_words()) * 4} bytes") as c:
            p = H.cli_packet(run.tag(f"size-{label}"), tt, topo.routers, clt=H.new_clt(), hops=3)
            p.initial_rem = rem
            got, window = run.send_and_capture([p], f"size{len(extra)}", sender=lambda t, ps: H.cli_send(t, ps, extra))
            d = by_tag(got[("rcv", "rcv0")]).get(p.tag)
            if not c.check(d is not None, "packet not captured"):
                continue
            wrote, overflow, _ = H.expected_hops(tt, p.initial_rem, topo.routers)
            c.eq([r.name for r in wrote], writers, "routers expected to write (model)")
            for who, pkt in d.views():
                opt = pkt["ioam"][0]
                H.check_trace(c, opt, p, topo.routers, window, who)
                c.eq(opt["flags"]["overflow"], overflow, f"{who}: Overflow flag")
                c.eq(len(opt["nodes"]), 1 + len(writers), f"{who}: records")


def py_r1_only(topo: Topology):
    r1 = topo.routers[0]

    def make(tag, tt, clt):
        nl = ib.node_len(tt)
        orig_words = nl + (1 + 7 if clt is not None else 0)
        r1_words = nl + (r1.oss_words() if ib.has_oss(tt) else 0)
        return H.py_packet(tag, tt, topo.routers, clt=clt, space=(orig_words + r1_words) * 4)
    return make


def cli_r1_only(topo: Topology):
    def make(tag, tt, clt):
        return H.cli_packet(tag, tt, topo.routers, clt=clt, hops=1)
    return make


# ---------------------------------------------------------------------------
# Scenario 3: what the kernel drops


def scenario_kernel_rules(run: Run, strict_decoders: dict, transit_writers: dict | None = None) -> None:
    """Bad packets are each followed by a valid marker on the same path."""
    topo = run.topo
    # (kind, description, Linux drops it, our strict decoders must agree)
    cases = [
        ("misaligned", "misaligned IOAM option (offset 2)", True, True),
        ("nodelen", "NodeLen one more than the trace type needs", True, True),
        ("remlen-overrun", "RemainingLen beyond the option", True, True),
        ("optlen0", "IOAM option with Opt Data Len 0", True, True),
        ("unknown-ns", "namespace no router knows", False, True),
        ("incremental", "incremental trace (IOAM type 1)", False, True),
        ("pot", "Proof of Transit option (IOAM type 2)", False, True),
        # Generic option rules Linux enforces (RFC 9486 §4, RFC 8200 §4.2).
        ("pad8", "8 bytes of padding before the IOAM option", True, True),
        ("padn-nonzero", "PadN with a non-zero payload", True, True),
    ]
    for kind, desc, dropped, must_agree in cases:
        with run.results.case(f"kernel rule: {desc} -> {'dropped by r1' if dropped else 'forwarded untouched'}") as c:
            tt = 0x800002
            clt = H.new_clt()
            bad = H.py_packet(run.tag(f"bad-{kind}"), tt, topo.routers, clt=clt,
                              kind=("valid" if kind == "unknown-ns" else kind),
                              ns=(OTHER_NS if kind == "unknown-ns" else IOAM_NS))
            marker = H.py_packet(run.tag(f"marker-{kind}"), tt, topo.routers, clt=H.new_clt())
            before = snmp6(topo, "r1")
            got, window = run.send_and_capture([bad, marker], f"rule-{kind}",
                                               points=[("rcv", "rcv0"), ("r1", "r1i")],
                                               expect_at_rcv=(1 if dropped else 2))
            after = snmp6(topo, "r1")
            rx = by_tag(got[("rcv", "rcv0")])
            at_r1 = by_tag(got[("r1", "r1i")])
            c.check(bad.tag in at_r1, "bad packet did not reach r1's ingress")
            c.check(marker.tag in rx, "marker did not reach the receiver")
            deltas = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
            interesting = {k: v for k, v in deltas.items() if "Err" in k or "Discard" in k or "Drop" in k}
            if dropped:
                c.check(bad.tag not in rx, "bad packet reached the receiver")
                c.eq(interesting.get("Ip6InHdrErrors"), 1, "r1 Ip6InHdrErrors delta")
                c.note(f"r1 counters moved: {interesting}")
            else:
                d = rx.get(bad.tag)
                if c.check(d is not None, f"{desc}: packet dropped"):
                    sent_body = bad.hbh[2:]
                    off = d.pkt["ioam"][0]["option_offset"] - 40 if d.pkt["ioam"] else 0
                    c.eq(d.ip6[40 + 2:40 + len(bad.hbh)].hex(), sent_body.hex(), "HbH options untouched")
                    c.eq(off, 4, "option offset")
            # Our strict decoders report the same packets as malformed.
            for who, strict_decoder in strict_decoders.items():
                if bad.tag in at_r1:
                    errs = strict_decoder(at_r1[bad.tag])
                    if not must_agree and who == "python decoder":
                        c.note(f"{who} (not asserted): {errs if errs else 'no error'}")
                        continue
                    if dropped:
                        c.check(bool(errs), f"{who} accepted a packet Linux drops ({kind})")
                    else:
                        c.check(not errs, f"{who} rejected a packet Linux forwards: {errs}")
                    c.note(f"{who}: {errs if errs else 'no error'}")
                if marker.tag in at_r1:
                    errs = strict_decoder(at_r1[marker.tag])
                    c.check(not errs, f"{who} rejected the valid marker: {errs}")
            # Our transit writer, configured like r1, takes the same decision as Linux r1.
            for who, writer in (transit_writers or {}).items():
                if bad.tag not in at_r1:
                    continue
                pkt_in = at_r1[bad.tag].ip6
                try:
                    out = writer(pkt_in, topo.routers[0])
                    verdict = None
                except Exception as e:  # noqa: BLE001
                    out, verdict = None, str(e)
                if dropped:
                    c.check(verdict is not None, f"{who} forwarded a packet Linux drops ({kind})")
                    c.note(f"{who}: {verdict}")
                else:
                    want = bytearray(pkt_in)
                    want[7] -= 1
                    c.check(out == bytes(want), f"{who} changed a packet Linux forwards untouched ({desc}): {verdict or ''}")


def scenario_ioam_disabled(run: Run) -> None:
    """r1 with ioam6_enabled=0 on its ingress: what it still enforces."""
    topo = run.topo
    r1 = topo.routers[0]
    n = topo.ns("r1")
    sh("sysctl", "-qw", f"net.ipv6.conf.{r1.in_if}.ioam6_enabled=0", ns=n)
    try:
        with run.results.case("ioam disabled on r1 ingress: r1 writes nothing, r2 and r3 write") as c:
            tt = 0x800002
            p = H.py_packet(run.tag("disabled-valid"), tt, topo.routers, clt=H.new_clt())
            got, window = run.send_and_capture([p], "disabled-valid")
            d = by_tag(got[("rcv", "rcv0")]).get(p.tag)
            if c.check(d is not None, "packet not captured"):
                opt = d.pkt["ioam"][0]
                H.check_trace(c, opt, p, topo.routers[1:], window, "rcv")
                # r2 is the first writer but the second hop: its hop limit is two below the sender's.
                if len(opt["nodes"]) == 3:
                    c.eq(opt["nodes"][1].get("hop_limit"), p.hop_limit - 2, "r2 hop limit")
        with run.results.case("ioam disabled on r1 ingress: misaligned option still dropped by r1") as c:
            bad = H.py_packet(run.tag("disabled-misaligned"), 0x800002, topo.routers, clt=H.new_clt(),
                              kind="misaligned")
            marker = H.py_packet(run.tag("disabled-marker"), 0x800002, topo.routers, clt=H.new_clt())
            got, _ = run.send_and_capture([bad, marker], "disabled-misaligned",
                                          points=[("rcv", "rcv0"), ("r2", "r2i")], expect_at_rcv=1)
            rx = by_tag(got[("rcv", "rcv0")])
            c.check(marker.tag in rx, "marker lost")
            c.check(bad.tag not in rx, "misaligned packet reached the receiver")
            c.check(bad.tag not in by_tag(got[("r2", "r2i")]), "misaligned packet passed r1")
        with run.results.case("ioam disabled on r1 ingress: NodeLen mismatch passes r1, dropped by r2") as c:
            bad = H.py_packet(run.tag("disabled-nodelen"), 0x800002, topo.routers, clt=H.new_clt(), kind="nodelen")
            marker = H.py_packet(run.tag("disabled-marker2"), 0x800002, topo.routers, clt=H.new_clt())
            got, _ = run.send_and_capture([bad, marker], "disabled-nodelen",
                                          points=[("rcv", "rcv0"), ("r2", "r2i")], expect_at_rcv=1)
            rx = by_tag(got[("rcv", "rcv0")])
            at_r2 = by_tag(got[("r2", "r2i")])
            c.check(marker.tag in rx, "marker lost")
            c.check(bad.tag in at_r2, "NodeLen-mismatch packet did not pass r1 (IOAM disabled there)")
            c.check(bad.tag not in rx, "NodeLen-mismatch packet reached the receiver")
    finally:
        sh("sysctl", "-qw", f"net.ipv6.conf.{r1.in_if}.ioam6_enabled=1", ns=n)


def cli_strict_errors(d: ib.Decoded) -> list[str]:
    """What `ioam decode --strict` reports for the packet's bytes."""
    b = H.ioam_bin()
    r = subprocess.run([b, "decode", "--strict", "--format", "json", "-q", "--hex", d.ip6.hex()],
                       capture_output=True, text=True)
    # 3: decoded, and malformed (what these packets are for).
    if r.returncode not in (0, 3):
        raise RuntimeError(f"ioam decode --hex failed: {r.stderr.strip()}")
    errs = []
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        o = json.loads(line)
        errs += [e.get("message", str(e)) for e in o.get("errors", [])]
        for opt in o.get("ioam", []):
            errs += [e.get("message", str(e)) for e in opt.get("errors", [])]
    return errs


def py_strict_errors(d: ib.Decoded) -> list[str]:
    pkt = ib.decode_packet(d.ip6, strict=True)
    errs = [e["message"] for e in pkt["errors"]]
    for o in pkt["ioam"]:
        errs += [e["message"] for e in o.get("errors", [])]
    return errs


# ---------------------------------------------------------------------------
# Scenario 4: per-datagram span ids


def scenario_span_per_packet_py(run: Run) -> None:
    topo = run.topo
    with run.results.case("span per packet: cmsg per datagram, 8 datagrams (python sender)") as c:
        trace_id = H.new_clt()["trace_id"]
        pkts = []
        for i in range(8):
            clt = {"trace_id": trace_id, "span_id": H.new_clt()["span_id"], "trace_flags": 1}
            pkts.append(H.py_packet(run.tag(f"span-{i}"), 0x800002, topo.routers, clt=clt, mode="cmsg"))
        got, window = run.send_and_capture(pkts, "span-per-packet")
        rx = by_tag(got[("rcv", "rcv0")])
        c.eq(len(rx), len(pkts), "datagrams captured")
        for p in pkts:
            d = rx.get(p.tag)
            if c.check(d is not None, f"{p.tag} missing"):
                for who, pkt in d.views():
                    clt = pkt["ioam"][0].get("clt") or {}
                    c.eq(clt.get("span_id"), p.clt["span_id"], f"{who}: {p.tag} span id")
                    c.eq(clt.get("trace_id"), trace_id, f"{who}: {p.tag} trace id")
        c.eq(len({p.clt["span_id"] for p in pkts}), len(pkts), "span ids distinct")


# ---------------------------------------------------------------------------
# Scenario 5: transit differential (r1 ingress vs r1 egress)


def scenario_span_per_packet_cli(run: Run) -> None:
    topo = run.topo
    with run.results.case("span per packet: ioam send --span-per-packet --count 8 (span ids from its log)") as c:
        parent = H.new_clt()
        caps = run.capture([("rcv", "rcv0")], "cli-span-per-packet")
        try:
            t0 = time.time()
            args = [H.ioam_bin(), "send", "--to", f"[{topo.receiver_addr}]:{H.UDP_PORT}",
                    "--traceparent", H.traceparent(parent), "--trace-type", "0x800002",
                    "--hops", str(H.cli_hops(0x800002, topo.routers)), "--count", "8", "--interval-ms", "0",
                    "--span-per-packet"] + H.CLI_SENDER_ARGS
            r = sh(*args, ns=topo.ns("snd"), check=False)
            caps[0].wait_for(8)
            t1 = time.time()
        finally:
            for cap in caps:
                cap.stop()
        if not c.check(r.returncode == 0, f"ioam send failed: {r.stderr.strip()}"):
            return
        logs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        c.eq(len(logs), 8, "log lines")
        frames = ib.decode_pcap(caps[0].path)
        if run.cli_decode:
            by_frame = {o.get("frame"): o for o in H.ioam_decode_json(caps[0].path)}
            for d in frames:
                d.cli = by_frame.get(d.pkt["frame"])
        rx = by_tag(frames)
        c.eq(len(rx), 8, "datagrams captured")
        c.eq(len({x.get("span_id") for x in logs}), 8, "span ids distinct")
        for x in logs:
            payload = f"ioam send {x.get('seq')}"
            d = rx.get(payload)
            if not c.check(d is not None, f"datagram {payload!r} (seq {x.get('seq')}) not captured"):
                continue
            c.eq(x.get("trace_id"), parent["trace_id"], f"seq {x.get('seq')}: logged trace id")
            c.check(x.get("span_id") != parent["span_id"], f"seq {x.get('seq')}: span id not renewed")
            sent = H.cli_packet(payload, 0x800002, topo.routers,
                                clt={"trace_id": parent["trace_id"], "span_id": x.get("span_id"),
                                     "trace_flags": parent["trace_flags"]})
            for who, pkt in d.views():
                H.check_trace(c, pkt["ioam"][0], sent, topo.routers, (t0, t1), who)


def py_transit(ip6: bytes, r, ingress_hl_minus_one: bool = True) -> bytes:
    """The suite's own model of a Linux transit node (RFC 9197 §4.4.2 as net/ipv6/ioam6.c writes it), for self-checking."""
    pkt = bytearray(ip6)
    d = ib.decode_packet(bytes(pkt), strict=True)
    opt = d["ioam"][0]
    off = opt["option_offset"] + 4  # body (Namespace-ID)
    tt = int(opt["trace_type"], 16)
    nl = opt["node_len"]
    w = int.from_bytes(pkt[off + 2:off + 4], "big")
    rem = w & 0x7F
    if w & 0x0400:
        pkt[7] -= 1
        return bytes(pkt)
    oss = r.oss_words() if ib.has_oss(tt) else 0
    if rem < nl + oss:
        w |= 0x0400
        pkt[off + 2:off + 4] = w.to_bytes(2, "big")
        pkt[7] -= 1
        return bytes(pkt)
    v = ib.NodeValues(hop_limit=pkt[7] - 1, node_id=r.node_id, ingress_if_id=r.in_id, egress_if_id=r.out_id,
                      timestamp_secs=0, timestamp_frac=0, namespace_data=r.ns_data, queue_depth=0,
                      node_id_wide=r.node_id_wide, ingress_if_id_wide=r.in_id_wide, egress_if_id_wide=r.out_id_wide,
                      namespace_data_wide=r.ns_data_wide)
    if r.schema_id is not None:
        v.oss_schema_id = r.schema_id
        v.oss_data = r.schema_data
    rec = ib.encode_record(tt, v)
    newrem = rem - len(rec) // 4
    start = off + 8 + newrem * 4
    pkt[start:start + len(rec)] = rec
    w = (w & ~0x7F) | newrem
    pkt[off + 2:off + 4] = w.to_bytes(2, "big")
    pkt[7] -= 1  # forwarding
    return bytes(pkt)


def mask_volatile(ip6: bytes) -> bytes:
    """Zero the timestamp and queue-depth words of every record (IPv6 hop limit kept)."""
    pkt = bytearray(ip6)
    d = ib.decode_packet(bytes(pkt), strict=False)
    for opt in d["ioam"]:
        if opt.get("ioam_type_value") != 0 or "nodes" not in opt:
            continue
        off = opt["option_offset"] + 4
        tt = int(opt["trace_type"], 16)
        nl = opt["node_len"]
        rem = opt["remaining_len"]
        p = off + 8 + rem * 4
        end = off + (pkt[opt["option_offset"] + 1] - 2)
        while p < end:
            q = p
            if tt & ib.BIT[0]:
                q += 4
            if tt & ib.BIT[1]:
                q += 4
            for b in (2, 3):
                if tt & ib.BIT[b]:
                    pkt[q:q + 4] = b"\0\0\0\0"
                    q += 4
            if tt & ib.BIT[4]:
                q += 4
            if tt & ib.BIT[5]:
                q += 4
            if tt & ib.BIT[6]:
                pkt[q:q + 4] = b"\0\0\0\0"
            p += nl * 4
            if ib.has_oss(tt):
                p += 4 + pkt[p] * 4
    return bytes(pkt)


DIFF_TYPES = TRACE_TYPES + [
    0xFFF000 & ~0x000002,
    0x800800,  # bit 12 (undefined): Linux fills 0xffffffff
    0x8007FE,  # bits 12-21 and 22
    0x800001,  # bit 23 (reserved): no data
    0x000002,  # opaque state only, NodeLen 0
    0x3F0000,  # bits 2-7
    0x00F002,  # wide fields and buffer occupancy
]


def scenario_transit_differential(run: Run, writers: dict) -> None:
    """writers: name -> function(ip6_in: bytes, router) -> bytes (ip6_out) or raises.

    Captures on both sides of r1 (no schema) and of r3 (schema bound), and
    asks each writer, configured like that router, to turn the packet the
    router received into the packet it sent.
    """
    topo = run.topo
    pkts = []
    for tt in DIFF_TYPES:
        clt = H.new_clt() if ib.has_oss(tt) else None
        pkts.append(H.py_packet(run.tag(f"diff-{tt:06x}"), tt, topo.routers, clt=clt))
    # Overflow at r1, a trace that arrives overflowed, and one with no originator record.
    pkts.append(H.py_packet(run.tag("diff-overflow-at-r1"), 0x800002, topo.routers, clt=H.new_clt(),
                            space=(1 + 8) * 4))
    pkts.append(H.py_packet(run.tag("diff-arrives-overflowed"), 0xC00002, topo.routers, clt=H.new_clt(),
                            flags=0x8))
    pkts.append(H.py_packet(run.tag("diff-loopback-flag"), 0x800000, topo.routers, clt=None, flags=0x4))
    points = [("rcv", "rcv0"), ("r1", "r1i"), ("r1", "r1o"), ("r3", "r3i"), ("r3", "r3o")]
    got, window = run.send_and_capture(pkts, "transit-diff", points=points)
    sides = {"r1": (by_tag(got[("r1", "r1i")]), by_tag(got[("r1", "r1o")])),
             "r3": (by_tag(got[("r3", "r3i")]), by_tag(got[("r3", "r3o")]))}
    for name, fn in writers.items():
        for rname, (ins, outs) in sides.items():
            r = topo.router(rname)
            with run.results.case(f"transit differential: {name} configured like {rname} vs Linux {rname} "
                                  f"({len(pkts)} packets)") as c:
                compared = 0
                for p in pkts:
                    a, b = ins.get(p.tag), outs.get(p.tag)
                    if not c.check(a is not None and b is not None, f"{p.tag}: not captured on both sides of {rname}"):
                        continue
                    c.eq(b.ip6[7], a.ip6[7] - 1, f"{p.tag}: forwarding decrements the IPv6 hop limit")
                    try:
                        ours = fn(a.ip6, r)
                    except Exception as e:  # noqa: BLE001
                        c.check(False, f"{p.tag}: writer failed: {e}")
                        continue
                    ma, mb = mask_volatile(ours), mask_volatile(b.ip6)
                    if ma != mb:
                        diff = [i for i in range(max(len(ma), len(mb))) if ma[i:i + 1] != mb[i:i + 1]]
                        c.check(False, f"{p.tag}: differs at byte offsets {diff[:16]}; ours {ma.hex()} linux {mb.hex()}")
                    else:
                        compared += 1
                c.note(f"{compared} packets byte-identical (timestamps, queue depth masked)")


# ---------------------------------------------------------------------------
# tshark differential


def _bump(stats: dict, key: str, dev_id: str) -> None:
    stats.setdefault(key, {})
    stats[key][dev_id] = stats[key].get(dev_id, 0) + 1


def compare_options(c: H.Case, where: str, ours: list[dict], theirs: list[dict], stats: dict) -> None:
    """Field-by-field comparison; stats["deviations"] counts options a listed deviation had to explain."""
    keep = []
    for o in ours:
        devs = DEV.explain(o)
        if any(d.exclude for d in devs):
            for d in devs:
                if d.exclude:
                    _bump(stats, "deviations", d.id)
            continue
        keep.append((o, devs))
    if not c.eq(len(theirs), len(keep), f"{where}: number of IOAM options (ours vs tshark)"):
        return
    for i, ((o, devs), t) in enumerate(zip(keep, theirs)):
        a = canonical(o)
        b = canonical(t)
        if a != b:
            used = []
            for d in devs:
                a2, b2 = d.adjust(a, b)
                if a2 != a or b2 != b:
                    used.append(d.id)
                a, b = a2, b2
            if a == b:
                for u in used:
                    _bump(stats, "deviations", u)
        if a != b:
            keys = sorted(set(a) | set(b))
            diffs = [f"{k}: ours={a.get(k)!r} tshark={b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]
            c.check(False, f"{where} option {i}: " + "; ".join(diffs)[:1500])


CANON_KEYS = ("header", "option_type", "ioam_type_value", "namespace_id", "node_len", "flags", "remaining_len",
              "trace_type", "nodes")


def canonical(o: dict) -> dict:
    out = {k: o[k] for k in CANON_KEYS if k in o}
    if o.get("ioam_type_value") in (0, 1) and "trace_type" in out:
        out.setdefault("nodes", [])  # "no records decoded" is the same as an empty list
    if "flags" in out:
        out["flags"] = {k: bool(out["flags"].get(k)) for k in ("overflow", "loopback", "active")}
    if "nodes" in out:
        nodes = []
        for n in out["nodes"]:
            n = {k: v for k, v in n.items() if k not in ("_unmapped",)}
            if "oss" in n:
                n["oss"] = {"schema_id": n["oss"].get("schema_id"), "data": n["oss"].get("data", "")}
            nodes.append(n)
        out["nodes"] = nodes
    return out


def tshark_diff(results: H.Results, label: str, pcaps: list[str], decoder, stats: dict,
                labels: dict[int, str] | None = None) -> None:
    """decoder(pcap) -> {frame: packet object with "ioam" and "errors"} in the CLI JSON shape.

    labels: frame -> original capture and frame, for a merged file."""
    with results.case(f"tshark differential: {label}") as c:
        total = 0
        for pcap in pcaps:
            if not os.path.exists(pcap):
                continue
            name = os.path.basename(pcap)

            def where(frame: int, name=name) -> str:
                return f"{name}#{frame}" + (f" ({labels[frame]})" if labels and frame in labels else "")
            ours = decoder(pcap)
            theirs = {e["frame"]: e for e in TS.normalise(TS.run_tshark(pcap))}
            for frame, pkt in ours.items():
                opts = pkt.get("ioam", [])
                t = theirs.get(frame)
                if not c.check(t is not None, f"{where(frame)}: tshark did not show the frame"):
                    continue
                if not opts and not t["ioam"]:
                    continue
                theirs_opts = t["ioam"]
                for dev in DEV.explain_packet(pkt):
                    kept_ours, kept_theirs = dev.adjust(opts, theirs_opts)
                    if (kept_ours, kept_theirs) != (opts, theirs_opts):
                        _bump(stats, "deviations", dev.id)
                    opts, theirs_opts = kept_ours, kept_theirs
                if not opts and not theirs_opts:
                    total += 1
                    continue
                if not opts:
                    c.check(False, f"{where(frame)}: tshark shows IOAM, our decoder shows none "
                                   f"(errors: {pkt.get('errors')})")
                    continue
                for o in t["ioam"]:
                    for n in o.get("nodes", []):
                        if "_unmapped" in n:
                            c.check(False, f"{where(frame)}: unmapped tshark fields {n['_unmapped']}")
                compare_options(c, f"{where(frame)}", opts, theirs_opts, stats)
                total += 1
            for frame, t in theirs.items():
                if t["ioam"] and frame not in ours:
                    c.check(False, f"{where(frame)}: tshark shows IOAM, our decoder did not report the frame")
        stats["packets"] = stats.get("packets", 0) + total
        c.note(f"{total} packets compared; deviations applied: {stats['deviations'] or 'none'}")
        c.check(total > 0, "no packet compared")


def py_decoder(pcap: str) -> dict[int, dict]:
    return {d.pkt["frame"]: d.pkt for d in ib.decode_pcap(pcap, strict=False) if d.pkt["ioam"] or d.pkt["errors"]}


def cli_decoder(pcap: str) -> dict[int, dict]:
    """`ioam decode --lenient`: like tshark, an RFC 9197 receiver that trusts NodeLen and decodes what it can."""
    return {o["frame"]: o for o in H.ioam_decode_json(pcap, strict=False) if o.get("ioam") or o.get("errors")}


def decoder_diff(results: H.Results, label: str, pcaps: list[str], dec_a, dec_b, names=("python", "ioam")) -> int:
    """Two of our decoders must agree exactly (header fields, records, CLT) on well-formed options."""
    total = 0
    with results.case(f"decoder agreement: {label}") as c:
        for pcap in pcaps:
            if not os.path.exists(pcap):
                continue
            a = {f: p["ioam"] for f, p in dec_a(pcap).items() if p.get("ioam")}
            b = {f: p["ioam"] for f, p in dec_b(pcap).items() if p.get("ioam")}
            c.eq(sorted(a), sorted(b), f"{os.path.basename(pcap)}: frames with IOAM ({names[0]} vs {names[1]})")
            for frame in sorted(set(a) & set(b)):
                oa, ob = a[frame], b[frame]
                if not c.eq(len(oa), len(ob), f"{os.path.basename(pcap)}#{frame}: options"):
                    continue
                for i, (x, y) in enumerate(zip(oa, ob)):
                    if x.get("errors") or y.get("errors"):
                        c.check(bool(x.get("errors")) == bool(y.get("errors")),
                                f"{os.path.basename(pcap)}#{frame} option {i}: one decoder reports errors: "
                                f"{names[0]}={x.get('errors')} {names[1]}={y.get('errors')}")
                        continue
                    cx, cy = canonical(x), canonical(y)
                    cx["clt"], cy["clt"] = x.get("clt"), y.get("clt")
                    if cx != cy:
                        keys = sorted(set(cx) | set(cy))
                        c.check(False, f"{os.path.basename(pcap)}#{frame} option {i}: " + "; ".join(
                            f"{k}: {names[0]}={cx.get(k)!r} {names[1]}={cy.get(k)!r}" for k in keys if cx.get(k) != cy.get(k))[:1500])
                total += 1
        c.note(f"{total} packets compared")
        c.check(total > 0, "no packet compared")
    return total


def craft_corpus(path: str, seed: int, count: int) -> None:
    b = H.ioam_bin()
    r = subprocess.run([b, "craft", "--random", "--seed", str(seed), "--count", str(count), "-o", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ioam craft --random failed ({r.returncode}): {r.stderr.strip()}")


def transit_bin() -> str | None:
    cands = [os.environ.get("IOAM_TRANSIT_BIN", "")]
    tdir = os.environ.get("CARGO_TARGET_DIR") or os.path.join(H.ROOT, "target")
    cands += [os.path.join(tdir, "release", "examples", "transit"),
              os.path.join(H.ROOT, "target", "release", "examples", "transit")]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def rust_transit_local(ip6: bytes, r) -> bytes:
    """ioam-trace's transit writer as the destination node (`--local`)."""
    return rust_transit(ip6, r, local=True)


def rust_transit_prepared(ip6: bytes, r) -> bytes:
    """ioam-trace's prepared-record writer (`transit --prepared`) configured like router r."""
    return rust_transit(ip6, r, prepared=True)


def rust_transit(ip6: bytes, r, local: bool = False, prepared: bool = False) -> bytes:
    """ioam-trace's transit writer (examples/transit.rs) configured like router r.

    local: r is the destination (`--local`: egress ids and queue depth unavailable).
    prepared: write through PreparedRecord + write_transit_prepared (`--prepared`)."""
    args = [transit_bin(), "--ns", str(IOAM_NS), "--node-id", hex(r.node_id), "--node-id-wide", hex(r.node_id_wide),
            "--in-if-id", str(r.in_id), "--in-if-id-wide", hex(r.in_id_wide),
            "--ns-data", hex(r.ns_data), "--ns-data-wide", hex(r.ns_data_wide),
            "--timestamp-secs", "0", "--timestamp-frac", "0"]
    if prepared:
        args.append("--prepared")
    if local:
        args.append("--local")
    else:
        args += ["--out-if-id", str(r.out_id), "--out-if-id-wide", hex(r.out_id_wide), "--queue-depth", "0"]
    if r.schema_id is not None:
        args += ["--schema-id", hex(r.schema_id), "--schema-data", r.schema_data.hex()]
    p = subprocess.run(args, input=ip6.hex(), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"transit exit {p.returncode}: {p.stderr.strip()}")
    return bytes.fromhex("".join(p.stdout.split()))


CRAFT_LINKTYPES = [("raw", []), ("ipv6", []), ("ethernet", []), ("ethernet", ["--vlan", "100"]), ("sll", []),
                   ("sll2", []), ("null", []), ("loop", []), ("raw", ["--pcapng"])]


def scenario_craft_linktypes(run: Run, stats: dict) -> None:
    """`ioam craft` traces in every link type it writes: tshark and ioam decode must agree, CLT intact."""
    clt = H.new_clt()
    pcaps = []
    with run.results.case(f"ioam craft: CLT traces in {len(CRAFT_LINKTYPES)} link-layer framings, "
                          "decoded by ioam decode") as c:
        for i, (lt, extra) in enumerate(CRAFT_LINKTYPES):
            tt = [0x800002, 0xFFF002, 0xC00002, 0xF00002, 0x3F0002][i % 5]
            path = run.path(f"craft-{i}-{lt}{''.join(extra).replace('-', '')}.{'pcapng' if extra == ['--pcapng'] else 'pcap'}")
            r = subprocess.run([H.ioam_bin(), "craft", "-o", path, "--linktype", lt, "--traceparent", H.traceparent(clt),
                                "--trace-type", "0x%06x" % tt, "--hops", "2", "--count", "3"] + extra,
                               capture_output=True, text=True)
            if not c.check(r.returncode == 0, f"ioam craft --linktype {lt} {extra}: {r.stderr.strip()}"):
                continue
            pcaps.append(path)
            objs = H.ioam_decode_json(path)
            c.eq(len(objs), 3, f"{lt} {extra}: packets decoded")
            for o in objs:
                opt = (o.get("ioam") or [{}])[0]
                got = opt.get("clt") or {}
                c.eq((got.get("trace_id"), got.get("span_id")), (clt["trace_id"], clt["span_id"]),
                     f"{lt} {extra} frame {o.get('frame')}: CLT context")
                c.eq(opt.get("trace_type"), "0x%06x" % tt, f"{lt} {extra}: trace type")
                c.check(not o.get("errors") and not opt.get("errors"), f"{lt} {extra}: errors {o.get('errors')} {opt.get('errors')}")
    tshark_diff(run.results, f"ioam craft traces in every link type ({len(pcaps)} captures), ioam decode --lenient",
                pcaps, cli_decoder, stats)


def merge_captures(pcaps: list[str], out: str) -> dict[int, str]:
    """Concatenate Ethernet captures into one file (one tshark run); returns merged frame -> origin."""
    frames, origin = [], {}
    for pcap in pcaps:
        if not os.path.exists(pcap):
            continue
        for fr in ib.read_pcap(pcap):
            if fr.linktype != ib.LINKTYPE_ETHERNET:
                raise ValueError(f"{pcap}: link type {fr.linktype}, merge expects Ethernet")
            frames.append(ib.Frame(len(frames) + 1, fr.ts_sec, fr.ts_usec, fr.linktype, fr.data))
            origin[len(frames)] = f"{os.path.basename(pcap)}#{fr.number}"
    ib.write_pcap(out, frames)
    return origin


def scenario_tcp_cli(run: Run) -> None:
    """`ioam send --tcp`: the header set on a connected TCP socket reaches the receiver on the data segments."""
    topo = run.topo
    with run.results.case("ioam send --tcp: Hop-by-Hop header on a connected socket, every field of every hop") as c:
        clt = H.new_clt()
        tt = 0x800002
        p = H.cli_packet("tcp", tt, topo.routers, clt=clt)
        path = run.path("tcp-rcv-rcv0.pcap")
        cap = Capture(topo.ns("rcv"), "rcv0", path, bpf="ip6[6] == 0 and ip6[40] == 6").start()
        run.pcaps.append(path)
        try:
            t0 = time.time()
            args = [H.ioam_bin(), "send", "--tcp", "--to", f"[{topo.receiver_addr}]:{H.UDP_PORT}",
                    "--traceparent", H.traceparent(clt), "--trace-type", "0x%06x" % tt, "--hops", str(p.hops),
                    "--count", "3", "--interval-ms", "20"] + H.CLI_SENDER_ARGS
            r = sh(*args, ns=topo.ns("snd"), check=False)
            cap.wait_for(1, timeout=3)
            time.sleep(0.2)
            t1 = time.time()
        finally:
            cap.stop()
        if not c.check(r.returncode == 0, f"ioam send --tcp failed: {r.stderr.strip()}"):
            return
        frames = ib.decode_pcap(path)
        if run.cli_decode:
            by_frame = {o.get("frame"): o for o in H.ioam_decode_json(path)}
            for d in frames:
                d.cli = by_frame.get(d.pkt["frame"])
        data = [d for d in frames if d.pkt["ioam"]]
        c.check(len(data) >= 1, f"no TCP segment with IOAM captured ({len(frames)} frames)")
        for d in data:
            for who, pkt in d.views():
                H.check_trace(c, pkt["ioam"][0], p, topo.routers, (t0, t1), f"{who} frame {d.pkt['frame']}")
        c.note(f"{len(data)} TCP segments with IOAM captured")


RECEIVER = dict(node_id=0x0A0004, node_id_wide=0x0A00000000AA04, in_if="rcv0", in_id=401, in_id_wide=0x0B000401,
                ns_data=0xD4000004, ns_data_wide=0xD4D4000000000004)


def _receiver_router():
    from netns import Router
    r = RECEIVER
    # Delivered locally: egress ids unavailable (net/ipv6/ioam6.c). out_if is only used for the sysctl names.
    return Router("r4", r["node_id"], r["node_id_wide"], r["in_if"], "lo", r["in_id"], 0xFFFF, r["in_id_wide"],
                  0xFFFFFFFF, r["ns_data"], r["ns_data_wide"], local=True)


def scenario_destination_events(run: Run, writers: dict) -> None:
    """The receiver as the IOAM destination: its own record, seen through the kernel's IOAM6 netlink events."""
    topo = run.topo
    n = topo.ns("rcv")
    r = RECEIVER
    sh("sysctl", "-qw", f"net.ipv6.ioam6_id={r['node_id']}", f"net.ipv6.ioam6_id_wide={r['node_id_wide']}",
       "net.ipv6.conf.rcv0.ioam6_enabled=1", f"net.ipv6.conf.rcv0.ioam6_id={r['in_id']}",
       f"net.ipv6.conf.rcv0.ioam6_id_wide={r['in_id_wide']}", ns=n)
    sh("ip", "ioam", "namespace", "add", str(IOAM_NS), "data", str(r["ns_data"]), "wide", f"{r['ns_data_wide']:016x}",
       ns=n, check=False)
    rcv = _receiver_router()
    path = topo.routers + [rcv]
    pkts = [
        H.py_packet(run.tag("dest-800002"), 0x800002, path, clt=H.new_clt()),
        H.py_packet(run.tag("dest-c20000"), 0xC20000, path, clt=None),
        H.py_packet(run.tag("dest-fff000"), 0xFFF000, path, clt=None, with_originator=False),
        H.py_packet(run.tag("dest-03e002"), 0x03E002, path, clt=H.new_clt()),
    ]
    mon = subprocess.Popen(["ip", "netns", "exec", n, "python3", os.path.join(H.HERE, "ioam6_events.py"), "4"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with run.results.case(f"destination: the receiver's own record via IOAM6 netlink events ({len(pkts)} packets)") as c:
            first = mon.stdout.readline().strip()
            if not c.check(first == "ready", f"event listener: {first} {mon.stderr.read() if mon.poll() is not None else ''}"):
                return
            got, window = run.send_and_capture(pkts, "destination")
            events = []
            deadline = time.monotonic() + 3
            while len(events) < len(pkts) and time.monotonic() < deadline:
                line = mon.stdout.readline()
                if not line:
                    break
                events.append(json.loads(line))
            c.eq(len(events), len(pkts), "events received")
            rx = by_tag(got[("rcv", "rcv0")])
            compared: dict[str, int] = {}
            for p, ev in zip(pkts, events):
                d = rx.get(p.tag)
                if not c.check(d is not None, f"{p.tag}: not captured"):
                    continue
                c.eq(ev["namespace"], IOAM_NS, f"{p.tag}: event namespace")
                c.eq(ev["type"] >> 8, p.trace_type, f"{p.tag}: event trace type")
                c.eq(ev["nodelen"], ib.node_len(p.trace_type), f"{p.tag}: event NodeLen")
                # The event carries the populated records, newest (the receiver's) first.
                data = bytes.fromhex(ev["data"])
                body = ib.trace_header(IOAM_NS, ib.node_len(p.trace_type), 0, 0, p.trace_type) + data
                tr = ib.decode_trace(body, strict=True)
                c.check(not tr["errors"], f"{p.tag}: event data does not decode: {tr['errors']}")
                opt = dict(tr, remaining_len=(d.pkt["ioam"][0]["remaining_len"]
                                              - ib.node_len(p.trace_type) - (1 if ib.has_oss(p.trace_type) else 0)))
                opt["flags"] = d.pkt["ioam"][0]["flags"]
                clt = ib.find_clt(opt)
                if clt:
                    opt["clt"] = clt
                H.check_trace(c, opt, p, path, window, f"{p.tag} event")
                # Older records are the bytes the capture shows.
                cap_opt = d.pkt["ioam"][0]
                c.eq([{k: v for k, v in x.items() if k != "hop"} for x in opt["nodes"][:-1]],
                     [{k: v for k, v in x.items() if k != "hop"} for x in cap_opt["nodes"]],
                     f"{p.tag}: event records other than the receiver's equal the captured ones")
                # Our transit writer in local-delivery mode, configured like the receiver.
                for name, fn in writers.items():
                    try:
                        out = fn(d.ip6, rcv)
                    except Exception as e:  # noqa: BLE001
                        c.check(False, f"{p.tag}: {name} failed: {e}")
                        continue
                    od = ib.decode_packet(out, strict=True)["ioam"][0]
                    body_off = od["option_offset"] + 4
                    rem = od["remaining_len"]
                    end = od["option_offset"] + 2 + out[od["option_offset"] + 1]
                    ours = mask_records(out[body_off + 8 + rem * 4:end], p.trace_type)
                    if c.eq(ours.hex(), mask_records(data, p.trace_type).hex(),
                            f"{p.tag}: {name} (local delivery) vs the kernel's records, timestamps masked"):
                        compared[name] = compared.get(name, 0) + 1
            c.note(f"byte-identical to the kernel's records: {compared or 'no writer built'}")
    finally:
        if mon.poll() is None:
            mon.terminate()
        mon.wait(timeout=3)
        sh("sysctl", "-qw", "net.ipv6.conf.rcv0.ioam6_enabled=0", ns=n)


def mask_records(data: bytes, tt: int) -> bytes:
    """Zero the timestamp words of every record in a populated data area (newest first)."""
    out = bytearray(data)
    nl = ib.node_len(tt)
    p = 0
    while p < len(out):
        q = p + (4 if tt & ib.BIT[0] else 0) + (4 if tt & ib.BIT[1] else 0)
        for b in (2, 3):
            if tt & ib.BIT[b]:
                out[q:q + 4] = bytes(4)
                q += 4
        p += nl * 4
        if ib.has_oss(tt):
            if p >= len(out):
                break
            p += 4 + out[p] * 4
        if nl == 0 and not ib.has_oss(tt):
            break
    return bytes(out)


def collector_attributes(opt: dict) -> list[tuple[str, str]]:
    """The CLT reference collector's (Advanced-Observability/ioam-collector-go-jaeger) `ioam_namespace<ns>_node<i>` strings, from a decoded trace."""
    tt = int(opt["trace_type"], 16)
    out = []
    for n in opt["nodes"]:
        v = ""
        if tt & ib.BIT[0]:
            v += f"HopLimit={n['hop_limit']}; Id={n['node_id']}; "
        if tt & ib.BIT[1]:
            v += f"IngressId={n['ingress_if_id']}; EgressId={n['egress_if_id']}; "
        if tt & ib.BIT[2]:
            v += f"TimestampSecs={n['timestamp_secs']}; "
        if tt & ib.BIT[3]:
            v += f"TimestampFrac={n['timestamp_frac']}; "
        if tt & ib.BIT[4]:
            v += f"TransitDelay={n['transit_delay']}; "
        if tt & ib.BIT[5]:
            v += f"NamespaceData={n['namespace_data']}; "
        if tt & ib.BIT[6]:
            v += f"QueueDepth={n['queue_depth']}; "
        if tt & ib.BIT[7]:
            v += f"CsumComp={n['checksum_complement']}; "
        if tt & ib.BIT[8]:
            v += f"HopLimit={n['hop_limit_wide']}; IdWide={n['node_id_wide']}; "
        if tt & ib.BIT[9]:
            v += f"IngressIdWide={n['ingress_if_id_wide']}; EgressIdWide={n['egress_if_id_wide']}; "
        if tt & ib.BIT[10]:
            v += f"NamespaceDataWide={n['namespace_data_wide']}; "
        if tt & ib.BIT[11]:
            v += f"BufferOccupancy={n['buffer_occupancy']}; "
        if tt & ib.BIT[22]:
            v += f"OpaqueStateSchemaId={n['oss']['schema_id']}; OpaqueStateData=0x{n['oss']['data']}; "
        out.append((f"ioam_namespace{opt['namespace_id']}_node{n['hop']}", v))
    return out


def scenario_otlp_attributes(results: H.Results, pcap: str) -> None:
    """`ioam decode --format otlp-json`: one ioam-span per CLT-tagged trace, ids and per-hop attributes as the
    reference collector writes them, recomputed here from the suite's own decode."""
    with results.case("otlp-json: ioam-span ids and collector attributes of every CLT-tagged captured trace") as c:
        expected = []
        for d in ib.decode_pcap(pcap, strict=True):
            for opt in d.pkt["ioam"]:
                if opt.get("clt") and not opt.get("errors"):
                    expected.append((opt["clt"], collector_attributes(opt)))
        r = subprocess.run([H.ioam_bin(), "decode", "-q", "--format", "otlp-json", pcap], capture_output=True, text=True)
        if not c.check(r.returncode in (0, 3), f"ioam decode --format otlp-json: {r.stderr.strip()}"):
            return
        doc = json.loads(r.stdout)
        spans = [sp for rs in doc.get("resourceSpans", []) for ss in rs.get("scopeSpans", []) for sp in ss.get("spans", [])]
        if not c.eq(len(spans), len(expected), "one ioam-span per CLT-tagged trace"):
            return
        for i, (sp, (clt, attrs)) in enumerate(zip(spans, expected)):
            c.eq(sp.get("name"), "ioam-span", f"span {i} name")
            c.eq(sp.get("traceId"), clt["trace_id"], f"span {i} traceId")
            c.eq(sp.get("parentSpanId"), clt["span_id"], f"span {i} parentSpanId")
            got = [(a.get("key"), a.get("value", {}).get("stringValue")) for a in sp.get("attributes", [])
                   if str(a.get("key", "")).startswith("ioam_namespace")]
            c.eq(got, attrs, f"span {i} (trace {clt['trace_id']}) collector attributes")
        c.note(f"{len(spans)} spans compared")


def scenario_live_pipe(run: Run) -> None:
    """`tcpdump -w - | ioam decode -`: decoding a live capture stream on the receiver."""
    topo = run.topo
    with run.results.case("live pipe: tcpdump -U -w - | ioam decode --format json - on the receiver") as c:
        pkts = [H.py_packet(run.tag(f"pipe-{i}"), 0x800002, topo.routers, clt=H.new_clt()) for i in range(5)]
        tcpdump = subprocess.Popen(["ip", "netns", "exec", topo.ns("rcv"), "tcpdump", "-i", "rcv0", "-U",
                                    "--immediate-mode", "-n", "-s", "0", "-w", "-", HBH_UDP_FILTER],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dec = subprocess.Popen([H.ioam_bin(), "decode", "-q", "--format", "json", "-"], stdin=tcpdump.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        tcpdump.stdout.close()
        try:
            line = b""
            deadline = time.monotonic() + 5
            while b"listening on" not in line and time.monotonic() < deadline:
                chunk = tcpdump.stderr.readline()
                if not chunk:
                    break
                line += chunk
            if not c.check(b"listening on" in line, f"tcpdump did not start: {line!r}"):
                return
            t0 = time.time()
            H.py_send(topo, pkts)
            time.sleep(0.5)
            t1 = time.time()
        finally:
            tcpdump.send_signal(signal.SIGINT)
            try:
                tcpdump.wait(timeout=3)
            except subprocess.TimeoutExpired:
                tcpdump.kill()
            try:
                out, err = dec.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                dec.kill()
                out, err = dec.communicate()
        c.eq(dec.returncode, 0, f"ioam decode exit status ({err.strip()})")
        objs = [json.loads(x) for x in out.splitlines() if x.strip()]
        c.eq(len(objs), len(pkts), "packets decoded from the stream")
        for p, o in zip(pkts, objs):
            opts = o.get("ioam", [])
            if c.check(len(opts) == 1, f"{p.tag}: IOAM options {len(opts)}"):
                H.check_trace(c, opts[0], p, topo.routers, (t0, t1), f"pipe frame {o.get('frame')}")
