"""Test-case bookkeeping, senders and expectations shared by the scenarios."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field

import ioambytes as ib
from netns import IOAM_NS, Router, Topology, sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UDP_PORT = 9999


class CheckFailed(Exception):
    pass


@dataclass
class Case:
    name: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self, cond: bool, msg: str) -> bool:
        if not cond:
            self.failures.append(msg)
        return bool(cond)

    def eq(self, got, want, what: str) -> bool:
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def note(self, msg: str) -> None:
        self.notes.append(msg)


class Results:
    def __init__(self, verbose: bool = False):
        self.cases: list[Case] = []
        self.verbose = verbose
        self.facts: dict[str, object] = {}

    @contextmanager
    def case(self, name: str):
        c = Case(name)
        t0 = time.monotonic()
        try:
            yield c
        except CheckFailed as e:
            c.failures.append(str(e))
        except Exception as e:  # a broken scenario is a failed case, not a crash
            c.failures.append(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
        self.cases.append(c)
        dt = time.monotonic() - t0
        status = "ok  " if not c.failures else "FAIL"
        print(f"{status} {c.name} ({dt:.1f}s)", flush=True)
        for n in c.notes:
            print(f"       note: {n}")
        for f in c.failures[:25]:
            print("       - " + f.replace("\n", "\n         "))
        if len(c.failures) > 25:
            print(f"       ... and {len(c.failures) - 25} more")

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if not c.failures)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if c.failures)


# ---------------------------------------------------------------------------
# What a packet carried when it left the sender


@dataclass
class Sent:
    tag: str  # unique, also the UDP payload
    trace_type: int
    space: int
    hop_limit: int = 64
    ns: int = IOAM_NS
    originator: ib.NodeValues | None = None
    initial_rem: int = 0
    clt: dict | None = None
    kind: str = "valid"  # valid | misaligned | nodelen | remlen-overrun | unknown-ns
    hbh: bytes = b""
    mode: str = "sockopt"
    sent_at: float = 0.0
    hops: int = 0  # `ioam send --hops`
    exact_timestamps: bool = True  # originator timestamps known exactly (python sender)

    @property
    def payload(self) -> bytes:
        return self.tag.encode()


SENDER_IDS = dict(
    node_id=0x5E0001,
    ingress_if_id=0xFFFF,
    egress_if_id=1,
    node_id_wide=0x5E000000005E01,
    ingress_if_id_wide=0xFFFFFFFF,
    egress_if_id_wide=1,
    namespace_data=0x5E5E5E5E,
    namespace_data_wide=0x5E5E5E5E5E5E5E5E,
    queue_depth=0,
)


def new_clt(flags: int = 1) -> dict:
    return {"trace_id": secrets.token_hex(16), "span_id": secrets.token_hex(8), "trace_flags": flags}


def py_packet(tag: str, trace_type: int, routers: list[Router], *, clt: dict | None, hop_limit: int = 64,
              space: int | None = None, kind: str = "valid", ns: int = IOAM_NS, mode: str = "sockopt",
              flags: int = 0, with_originator: bool = True) -> Sent:
    """Build a packet with the suite's own encoder (the Python sender)."""
    orig = None
    if with_originator and (clt is not None or trace_type):
        now = time.time()
        orig = ib.NodeValues(hop_limit=hop_limit, timestamp_secs=int(now), timestamp_frac=int((now % 1) * 1e6),
                             **SENDER_IDS)
        if clt is not None:
            orig.oss_schema_id = ib.CLT_SCHEMA_ID
            orig.oss_data = ib.clt_oss_data(bytes.fromhex(clt["trace_id"]), bytes.fromhex(clt["span_id"]),
                                            clt["trace_flags"])
    orig_oss = (len(orig.oss_data) + 3) // 4 if orig is not None else None
    if space is None:
        space = ib.space_for(trace_type, [r.oss_words() for r in routers], orig_oss)
    nodelen = None
    if kind == "nodelen":
        nodelen = ib.node_len(trace_type) + 1
    lead = {"pad8": b"\x01\x08" + bytes(8), "padn-nonzero": b"\x01\x04\xaa\xbb\xcc\xdd"}.get(kind)
    hbh = ib.build_hbh(ns, trace_type, space, orig, nodelen=nodelen, misalign=(kind == "misaligned"), flags=flags,
                       lead=lead)
    if kind == "optlen0":
        # An IOAM option with Opt Data Len 0: PadN(0) | 31 00 | PadN(0) (8 bytes).
        hbh = bytes([0, 0, 1, 0, 0x31, 0, 1, 0])
        return Sent(tag=tag, trace_type=trace_type, space=0, hop_limit=hop_limit, ns=ns, originator=None,
                    initial_rem=0, clt=None, kind=kind, hbh=hbh, mode=mode)
    if kind in ("incremental", "pot"):
        # Option types Linux does not process: an incremental trace (type 1, budget of 12 words, no record
        # yet) and a POT type 0 body (PktID, Cumulative); both in option 0x31 at 4n.
        if kind == "incremental":
            body = ib.trace_header(ns, ib.node_len(trace_type), 0, 12, trace_type)
            itype = 1
        else:
            body = bytes.fromhex("007b0000") + bytes(range(1, 17))
            itype = 2
        opt = bytes([ib.OPT_IOAM, 2 + len(body), 0, itype]) + body
        inner = b"\x01\x00" + opt
        pad = -(2 + len(inner)) % 8
        inner += (b"\x00" if pad == 1 else (bytes([1, pad - 2]) + bytes(pad - 2) if pad else b""))
        hbh = bytes([0, (2 + len(inner)) // 8 - 1]) + inner
        return Sent(tag=tag, trace_type=trace_type, space=0, hop_limit=hop_limit, ns=ns, originator=None,
                    initial_rem=0, clt=None, kind=kind, hbh=hbh, mode=mode)
    if kind == "remlen-overrun":
        # RemainingLen claims more words than the option holds.
        hbh = bytearray(hbh)
        base = 4 if hbh[2] == 1 else 2
        hbh[base + 4 + 3] = (hbh[base + 4 + 3] & 0x80) | 0x7F
        hbh = bytes(hbh)
    body_off = {"misaligned": 2, "pad8": 12, "padn-nonzero": 8}.get(kind, 4) + 4
    rem = hbh[body_off + 3] & 0x7F
    return Sent(tag=tag, trace_type=trace_type, space=space, hop_limit=hop_limit, ns=ns, originator=orig,
                initial_rem=rem, clt=clt, kind=kind, hbh=hbh, mode=mode)


def py_send(topo: Topology, packets: list[Sent], gap: float = 0.0) -> None:
    job = {
        "dst": topo.receiver_addr,
        "port": UDP_PORT,
        "hop_limit": packets[0].hop_limit if packets else 64,
        "gap": gap,
        "packets": [{"hbh": p.hbh.hex(), "payload": p.payload.hex(), "mode": p.mode} for p in packets],
    }
    hl = {p.hop_limit for p in packets}
    assert len(hl) <= 1, "one hop limit per batch"
    r = sh("python3", os.path.join(HERE, "pysend.py"), ns=topo.ns("snd"), input=json.dumps(job))
    for line in r.stdout.splitlines():
        d = json.loads(line)
        packets[d["i"]].sent_at = d["sent"]


# ---------------------------------------------------------------------------
# The `ioam` binary (when built)


def ioam_bin() -> str | None:
    cand = [os.environ.get("IOAM_BIN", "")]
    tdir = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    cand += [os.path.join(tdir, "release", "ioam"), os.path.join(ROOT, "target", "release", "ioam")]
    for c in cand:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


# A subcommand counts as available when its --help shows the options the suite uses.
SUBCOMMAND_MARKERS = {"decode": "--format", "send": "--to", "craft": "--random"}


def ioam_has(subcommand: str) -> bool:
    b = ioam_bin()
    if not b:
        return False
    r = subprocess.run([b, subcommand, "--help"], capture_output=True, text=True)
    return r.returncode == 0 and SUBCOMMAND_MARKERS.get(subcommand, "") in r.stdout


def ioam_decode_json(path: str, strict: bool | None = None) -> list[dict]:
    b = ioam_bin()
    assert b
    cmd = [b, "decode", "--format", "json"]
    if strict is True:
        cmd.append("--strict")
    elif strict is False:
        cmd.append("--lenient")
    cmd.append(path)
    r = subprocess.run(cmd, capture_output=True, text=True)
    # 3: every packet decoded, some malformed (the corpora hold such packets).
    if r.returncode not in (0, 3):
        raise RuntimeError(f"ioam decode failed ({r.returncode}): {r.stderr.strip()}")
    malformed = any(p.get("errors") or any(o.get("errors") for o in p.get("ioam", []))
                    for p in (json.loads(line) for line in r.stdout.splitlines() if line.strip()))
    if (r.returncode == 3) != malformed:
        raise RuntimeError(f"ioam decode exit status {r.returncode} does not match the malformed packets it reported")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# Expectations


def expected_hops(trace_type: int, initial_rem: int, routers: list[Router]) -> tuple[list[Router], bool, int]:
    """Routers that write (in path order), whether Overflow ends set, final RemainingLen."""
    nl = ib.node_len(trace_type)
    rem = initial_rem
    overflow = False
    wrote = []
    for r in routers:
        if overflow:
            continue
        need = nl + (r.oss_words() if ib.has_oss(trace_type) else 0)
        if rem < need:
            overflow = True
            continue
        rem -= need
        wrote.append(r)
    return wrote, overflow, rem


def check_router_record(c: Case, node: dict, r: Router, hop_index: int, sent: Sent, window: tuple[float, float],
                        where: str) -> None:
    """Every field of router `r`'s record, hop_index = 1 for r1."""
    t = sent.trace_type
    B = ib.BIT
    hl = (sent.hop_limit - hop_index) & 0xFF
    exp: dict = {}
    if t & B[0]:
        exp["hop_limit"] = hl
        exp["node_id"] = r.node_id
    if t & B[1]:
        exp["ingress_if_id"] = r.in_id
        exp["egress_if_id"] = r.out_id
    if t & B[4]:
        exp["transit_delay"] = 0xFFFFFFFF
    if t & B[5]:
        exp["namespace_data"] = "0x%08x" % r.ns_data
    if t & B[7]:
        exp["checksum_complement"] = 0xFFFFFFFF
    if t & B[8]:
        exp["hop_limit_wide"] = hl
        exp["node_id_wide"] = r.node_id_wide
    if t & B[9]:
        exp["ingress_if_id_wide"] = r.in_id_wide
        exp["egress_if_id_wide"] = r.out_id_wide
    if t & B[10]:
        exp["namespace_data_wide"] = "0x%016x" % r.ns_data_wide
    if t & B[11]:
        exp["buffer_occupancy"] = 0xFFFFFFFF
    und = [0xFFFFFFFF for b in range(12, 22) if t & B[b]]
    if und:
        exp["undefined"] = und
    if t & B[22]:
        if r.schema_id is None:
            exp["oss"] = {"schema_id": 0xFFFFFF, "data": ""}
        else:
            data = r.schema_data + b"\x00" * (-len(r.schema_data) % 4)
            exp["oss"] = {"schema_id": r.schema_id, "data": data.hex()}
    for k, v in exp.items():
        got = node.get(k)
        if isinstance(got, dict) and isinstance(v, dict):
            got = {kk: got.get(kk) for kk in v}
        c.eq(got, v, f"{where} {r.name} {k}")
    # Timestamps: CLOCK_REALTIME at the router, POSIX format (seconds, microseconds).
    lo, hi = window
    if t & B[2]:
        s = node.get("timestamp_secs")
        c.check(isinstance(s, int) and int(lo) <= s <= int(hi) + 1,
                f"{where} {r.name} timestamp_secs {s} outside [{int(lo)}, {int(hi) + 1}]")
    if t & B[3]:
        f = node.get("timestamp_frac")
        c.check(isinstance(f, int) and 0 <= f < 1_000_000, f"{where} {r.name} timestamp_frac {f} not below 10^6")
        if t & B[2] and isinstance(node.get("timestamp_secs"), int) and isinstance(f, int):
            ts = node["timestamp_secs"] + f / 1e6
            c.check(lo - 0.05 <= ts <= hi + 0.05, f"{where} {r.name} timestamp {ts:.6f} outside window [{lo:.6f}, {hi:.6f}]")
    if t & B[6]:
        q = node.get("queue_depth")
        if r.local:
            c.eq(q, 0xFFFFFFFF, f"{where} {r.name} queue_depth (delivered locally: unavailable)")
        else:
            c.check(isinstance(q, int) and q != 0xFFFFFFFF, f"{where} {r.name} queue_depth {q!r} not present")
    # No unexpected keys.
    allowed = set(exp) | {"hop", "timestamp_secs", "timestamp_frac", "queue_depth"}
    extra = set(node) - allowed
    c.check(not extra, f"{where} {r.name}: unexpected fields {sorted(extra)}")


def check_originator(c: Case, node: dict, sent: Sent, where: str, window: tuple[float, float] | None = None) -> None:
    o = sent.originator
    if o is None:
        return
    want = ib.decode_record(ib.encode_record(sent.trace_type, o), 0, sent.trace_type, ib.node_len(sent.trace_type))[0]
    loose = set() if sent.exact_timestamps else {"timestamp_secs", "timestamp_frac", "queue_depth"}
    for k, v in want.items():
        if k in loose:
            c.check(isinstance(node.get(k), int), f"{where} originator {k} missing")
            continue
        c.eq(node.get(k), v, f"{where} originator {k}")
    if not sent.exact_timestamps and window and "timestamp_secs" in want and "timestamp_frac" in want:
        s, f = node.get("timestamp_secs"), node.get("timestamp_frac")
        if isinstance(s, int) and isinstance(f, int):
            c.check(f < 1_000_000, f"{where} originator timestamp_frac {f} not below 10^6")
            ts = s + f / 1e6
            c.check(window[0] - 0.05 <= ts <= window[1] + 0.05,
                    f"{where} originator timestamp {ts:.6f} outside [{window[0]:.6f}, {window[1]:.6f}]")


def check_trace(c: Case, opt: dict, sent: Sent, routers: list[Router], window: tuple[float, float], where: str,
                check_orig: bool = True) -> None:
    """The whole trace option as it reaches the receiver."""
    c.eq(opt.get("namespace_id"), sent.ns, f"{where} namespace_id")
    c.eq(opt.get("trace_type"), "0x%06x" % sent.trace_type, f"{where} trace_type")
    c.eq(opt.get("node_len"), ib.node_len(sent.trace_type), f"{where} node_len")
    wrote, overflow, rem = expected_hops(sent.trace_type, sent.initial_rem, routers)
    c.eq(opt.get("flags", {}).get("overflow"), overflow, f"{where} overflow flag")
    c.eq(opt.get("flags", {}).get("loopback"), False, f"{where} loopback flag")
    c.eq(opt.get("remaining_len"), rem, f"{where} remaining_len")
    nodes = opt.get("nodes", [])
    n_orig = 1 if sent.originator is not None else 0
    if not c.eq(len(nodes), n_orig + len(wrote), f"{where} number of records"):
        return
    for i, n in enumerate(nodes):
        c.eq(n.get("hop"), i + 1, f"{where} hop numbering")
    if n_orig and check_orig:
        check_originator(c, nodes[0], sent, where, window)
    for i, r in enumerate(wrote):
        check_router_record(c, nodes[n_orig + i], r, r.hop, sent, window, where)
    # Hop limits decrease by one per hop along the path (originator: hop 0).
    if sent.trace_type & ib.BIT[0]:
        hls = [n.get("hop_limit") for n in nodes]
        hops = ([0] if n_orig else []) + [r.hop for r in wrote]
        c.check(all(isinstance(x, int) for x in hls)
                and all(hls[i] - hls[i + 1] == hops[i + 1] - hops[i] for i in range(len(hls) - 1)),
                f"{where} hop limits do not decrease by one per hop: {hls} at hops {hops}")
    if sent.clt is None:
        c.check(opt.get("clt") is None, f"{where} CLT context decoded where none was sent: {opt.get('clt')}")
    else:
        clt = opt.get("clt")
        if c.check(clt is not None, f"{where} no CLT context decoded"):
            c.eq(clt.get("trace_id"), sent.clt["trace_id"], f"{where} CLT trace_id")
            c.eq(clt.get("span_id"), sent.clt["span_id"], f"{where} CLT span_id")
            c.eq(clt.get("trace_flags"), sent.clt["trace_flags"], f"{where} CLT trace_flags")
            if "traceparent" in clt:
                c.eq(clt["traceparent"],
                     f"00-{sent.clt['trace_id']}-{sent.clt['span_id']}-{sent.clt['trace_flags']:02x}",
                     f"{where} CLT traceparent")


# ---------------------------------------------------------------------------
# `ioam send` as the sender

CLI_SENDER_ARGS = ["--node-id", "0x5e0001", "--node-id-wide", "0x5e000000005e01", "--egress-id", "1",
                   "--egress-id-wide", "1", "--ns-data", "0x5e5e5e5e", "--ns-data-wide", "0x5e5e5e5e5e5e5e5e"]


def cli_originator(hop_limit: int, clt: dict | None) -> ib.NodeValues:
    """The record `ioam send` writes with CLI_SENDER_ARGS (timestamps and queue depth checked loosely)."""
    v = ib.NodeValues(hop_limit=hop_limit, node_id=0x5E0001, ingress_if_id=0xFFFF, egress_if_id=1,
                      namespace_data=0x5E5E5E5E, queue_depth=0, node_id_wide=0x5E000000005E01,
                      ingress_if_id_wide=0xFFFFFFFF, egress_if_id_wide=1, namespace_data_wide=0x5E5E5E5E5E5E5E5E)
    if clt is not None:
        v.oss_schema_id = ib.CLT_SCHEMA_ID
        v.oss_data = ib.clt_oss_data(bytes.fromhex(clt["trace_id"]), bytes.fromhex(clt["span_id"]), clt["trace_flags"])
    return v


def cli_hops(trace_type: int, routers: list[Router]) -> int:
    """Smallest `--hops` giving room for every router (r3's schema needs more than one OSS word),
    or the most that fit in 244 bytes."""
    nl = ib.node_len(trace_type)
    oss = ib.has_oss(trace_type)
    per_hop = nl + (1 if oss else 0)
    orig = nl + (8 if oss else 0)
    need = sum(nl + (r.oss_words() if oss else 0) for r in routers)
    h = -(-need // per_hop) if per_hop else len(routers)
    while h > 0 and (orig + h * per_hop) * 4 > ib.TRACE_DATA_MAX:
        h -= 1
    return h


def cli_packet(tag: str, trace_type: int, routers: list[Router], *, clt: dict | None, mode: str = "sockopt",
               hops: int | None = None, hop_limit: int = 64) -> Sent:
    """What `ioam send` is expected to put on the wire (space = originator + hops x (NodeLen + 1 OSS word))."""
    h = cli_hops(trace_type, routers) if hops is None else hops
    nl = ib.node_len(trace_type)
    per_hop = nl + (1 if ib.has_oss(trace_type) else 0)
    return Sent(tag=tag, trace_type=trace_type, space=0, hop_limit=hop_limit, originator=cli_originator(hop_limit, clt),
                initial_rem=h * per_hop, clt=clt, mode=mode, hops=h, exact_timestamps=False)


def traceparent(clt: dict) -> str:
    return f"00-{clt['trace_id']}-{clt['span_id']}-{clt['trace_flags']:02x}"


def cli_send(topo: Topology, packets: list[Sent], extra: list[str] | None = None) -> list[dict]:
    """One `ioam send` per packet (payload = tag); returns the sender's JSON log lines."""
    b = ioam_bin()
    logs = []
    for p in packets:
        tp = traceparent(p.clt) if p.clt else traceparent({"trace_id": secrets.token_hex(16),
                                                           "span_id": secrets.token_hex(8), "trace_flags": 1})
        room = [] if "--size" in (extra or []) else ["--hops", str(p.hops)]
        args = [b, "send", "--to", f"[{topo.receiver_addr}]:{UDP_PORT}", "--traceparent", tp,
                "--ns", str(p.ns), "--trace-type", "0x%06x" % p.trace_type, *room,
                "--hop-limit", str(p.hop_limit), "--count", "1", "--payload", p.tag] + CLI_SENDER_ARGS
        if p.mode == "cmsg":
            args.append("--per-packet")
        if not p.clt:
            # A trace type without bit 22 has nowhere to carry CLT (the CLT opaque state of clt-context).
            args.append("--no-clt")
        args += extra or []
        r = sh(*args, ns=topo.ns("snd"), check=False)
        if r.returncode != 0:
            raise RuntimeError(f"ioam send failed ({r.returncode}): {r.stderr.strip()}\n{' '.join(args)}")
        for line in r.stdout.splitlines():
            if line.strip():
                logs.append(json.loads(line))
        p.sent_at = time.time()
    return logs
