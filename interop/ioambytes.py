"""Independent IOAM byte handling for the interop suite (Python stdlib only).

This module is deliberately written without looking at the Rust crates: it is
a second opinion on the wire format (RFC 9197, RFC 9486) used to build the
packets the Linux routers process and to check what they wrote.

It provides
  * an encoder for the Hop-by-Hop header in the Linux layout
    `NH HEL | 01 00 | 31 LEN 00 00 | trace header | data | [01 02 00 00]`
    with an optional originator record (CLT opaque state, as clt-context encodes it);
  * a minimal pcap reader and writer (classic pcap, Ethernet or raw IPv6);
  * a decoder producing the same JSON shape as `ioam decode --format json`.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Iterator

OPT_IOAM = 0x31
OPT_IOAM_NOCHANGE = 0x11
CLT_SCHEMA_ID = 0x434C54
TRACE_DATA_MAX = 244

# Trace-Type bits (bit k is 1 << (23 - k)).
BIT = {k: 1 << (23 - k) for k in range(24)}
SHORT_BITS = list(range(0, 8)) + [11] + list(range(12, 22))
WIDE_BITS = [8, 9, 10]


def node_len(trace_type: int) -> int:
    """Words one node adds, excluding the opaque state snapshot."""
    n = 0
    for b in SHORT_BITS:
        if trace_type & BIT[b]:
            n += 1
    for b in WIDE_BITS:
        if trace_type & BIT[b]:
            n += 2
    return n


def has_oss(trace_type: int) -> bool:
    return bool(trace_type & BIT[22])


# ---------------------------------------------------------------------------
# Encoder
# ---------------------------------------------------------------------------


@dataclass
class NodeValues:
    """Values one node writes into its record (originator or a simulated hop)."""

    hop_limit: int = 64
    node_id: int = 0xFFFFFF
    ingress_if_id: int = 0xFFFF
    egress_if_id: int = 0xFFFF
    timestamp_secs: int = 0xFFFFFFFF
    timestamp_frac: int = 0xFFFFFFFF
    transit_delay: int = 0xFFFFFFFF
    namespace_data: int = 0xFFFFFFFF
    queue_depth: int = 0xFFFFFFFF
    checksum_complement: int = 0xFFFFFFFF
    node_id_wide: int = (1 << 56) - 1
    ingress_if_id_wide: int = 0xFFFFFFFF
    egress_if_id_wide: int = 0xFFFFFFFF
    namespace_data_wide: int = (1 << 64) - 1
    buffer_occupancy: int = 0xFFFFFFFF
    oss_schema_id: int = 0xFFFFFF
    oss_data: bytes = b""


def clt_oss_data(trace_id: bytes, span_id: bytes, flags: int) -> bytes:
    """CLT opaque state data, schema v1: trace-id(16) span-id(8) flags(1) rsv(3)."""
    assert len(trace_id) == 16 and len(span_id) == 8
    return trace_id + span_id + bytes([flags & 0xFF, 0, 0, 0])


def encode_record(trace_type: int, v: NodeValues) -> bytes:
    """One node-data record for `trace_type` with the values of `v`."""
    out = bytearray()
    t = trace_type
    if t & BIT[0]:
        out += struct.pack(">I", ((v.hop_limit & 0xFF) << 24) | (v.node_id & 0xFFFFFF))
    if t & BIT[1]:
        out += struct.pack(">HH", v.ingress_if_id, v.egress_if_id)
    if t & BIT[2]:
        out += struct.pack(">I", v.timestamp_secs)
    if t & BIT[3]:
        out += struct.pack(">I", v.timestamp_frac)
    if t & BIT[4]:
        out += struct.pack(">I", v.transit_delay)
    if t & BIT[5]:
        out += struct.pack(">I", v.namespace_data)
    if t & BIT[6]:
        out += struct.pack(">I", v.queue_depth)
    if t & BIT[7]:
        out += struct.pack(">I", v.checksum_complement)
    if t & BIT[8]:
        out += struct.pack(">Q", ((v.hop_limit & 0xFF) << 56) | (v.node_id_wide & ((1 << 56) - 1)))
    if t & BIT[9]:
        out += struct.pack(">II", v.ingress_if_id_wide, v.egress_if_id_wide)
    if t & BIT[10]:
        out += struct.pack(">Q", v.namespace_data_wide)
    if t & BIT[11]:
        out += struct.pack(">I", v.buffer_occupancy)
    for b in range(12, 22):
        if t & BIT[b]:
            out += b"\xff\xff\xff\xff"
    if t & BIT[22]:
        data = v.oss_data + b"\x00" * (-len(v.oss_data) % 4)
        out += struct.pack(">I", ((len(data) // 4) << 24) | (v.oss_schema_id & 0xFFFFFF))
        out += data
    return bytes(out)


def trace_header(ns: int, nodelen: int, flags: int, remlen: int, trace_type: int, reserved: int = 0) -> bytes:
    word = ((nodelen & 0x1F) << 11) | ((flags & 0xF) << 7) | (remlen & 0x7F)
    return struct.pack(">HHI", ns, word, ((trace_type & 0xFFFFFF) << 8) | reserved)


def build_hbh(
    ns: int,
    trace_type: int,
    space: int,
    originator: NodeValues | None = None,
    *,
    nodelen: int | None = None,
    flags: int = 0,
    misalign: bool = False,
    lead: bytes | None = None,
) -> bytes:
    """Hop-by-Hop header carrying one pre-allocated trace option.

    `space` is the node-data area in bytes (multiple of 4, <= 244); the
    originator record, when given, is written at its end. `nodelen` overrides
    the computed NodeLen (to make a mismatch). `misalign` puts the option at
    offset 2 instead of 4 (no leading PadN), which Linux must drop.
    The Next Header byte is left 0: the kernel rewrites it.
    """
    assert space % 4 == 0 and 0 <= space <= TRACE_DATA_MAX
    nl = node_len(trace_type) if nodelen is None else nodelen
    data = bytearray(space)
    rem = space // 4
    if originator is not None:
        rec = encode_record(trace_type, originator)
        rem -= len(rec) // 4
        assert rem >= 0, "originator record does not fit"
        data[rem * 4 : rem * 4 + len(rec)] = rec
    body = trace_header(ns, nl, flags, rem, trace_type) + bytes(data)
    opt = bytes([OPT_IOAM, 2 + len(body), 0, 0]) + body
    if misalign:
        inner = opt
    elif lead is not None:
        inner = lead + opt  # caller-chosen padding before the option (must keep 4n alignment)
    else:
        inner = b"\x01\x00" + opt
    total = 2 + len(inner)
    pad = -total % 8
    if pad == 1:
        inner += b"\x00"
    elif pad >= 2:
        inner += bytes([1, pad - 2]) + b"\x00" * (pad - 2)
    total = 2 + len(inner)
    assert total % 8 == 0
    return bytes([0, total // 8 - 1]) + inner


def space_for(trace_type: int, hops_oss_words: list[int], originator_oss_words: int | None) -> int:
    """Bytes of node-data space for the originator and the given hops."""
    nl = node_len(trace_type)
    words = 0
    if originator_oss_words is not None:
        words += nl + (1 + originator_oss_words if has_oss(trace_type) else 0)
    for w in hops_oss_words:
        words += nl + (w if has_oss(trace_type) else 0)
    return min(words * 4, TRACE_DATA_MAX)


# ---------------------------------------------------------------------------
# pcap
# ---------------------------------------------------------------------------

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL = 113


@dataclass
class Frame:
    number: int
    ts_sec: int
    ts_usec: int
    linktype: int
    data: bytes

    @property
    def time(self) -> float:
        return self.ts_sec + self.ts_usec / 1e6

    def ipv6(self) -> bytes | None:
        d = self.data
        if self.linktype == LINKTYPE_ETHERNET:
            if len(d) < 14:
                return None
            et = struct.unpack(">H", d[12:14])[0]
            off = 14
            while et == 0x8100 and len(d) >= off + 4:
                et = struct.unpack(">H", d[off + 2 : off + 4])[0]
                off += 4
            return d[off:] if et == 0x86DD else None
        if self.linktype in (LINKTYPE_RAW, LINKTYPE_IPV6):
            return d if d[:1] and d[0] >> 4 == 6 else None
        if self.linktype == LINKTYPE_LINUX_SLL:
            if len(d) < 16 or struct.unpack(">H", d[14:16])[0] != 0x86DD:
                return None
            return d[16:]
        return None


def read_pcap(path: str) -> list[Frame]:
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 24:
        return []
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", buf[20:24])[0] & 0x0FFFFFFF
    off = 24
    frames = []
    n = 0
    while off + 16 <= len(buf):
        sec, sub, incl, _orig = struct.unpack(e + "IIII", buf[off : off + 16])
        off += 16
        if off + incl > len(buf):
            break  # truncated last record (capture still being written)
        n += 1
        frames.append(Frame(n, sec, sub // 1000 if nano else sub, linktype, buf[off : off + incl]))
        off += incl
    return frames


def write_pcap(path: str, frames: list[Frame], linktype: int = LINKTYPE_ETHERNET) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for fr in frames:
            f.write(struct.pack("<IIII", fr.ts_sec, fr.ts_usec, len(fr.data), len(fr.data)))
            f.write(fr.data)


# ---------------------------------------------------------------------------
# Decoder (JSON shape of `ioam decode --format json`)
# ---------------------------------------------------------------------------


class DecodeError(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(f"offset {offset}: {message}")
        self.offset = offset
        self.message = message


IOAM_TYPE_NAMES = {0: "preallocated-trace", 1: "incremental-trace", 2: "pot", 3: "e2e", 4: "dex"}


def _u(b: bytes, off: int, n: int) -> int:
    return int.from_bytes(b[off : off + n], "big")


def decode_record(data: bytes, off: int, trace_type: int, nodelen: int) -> tuple[dict, int]:
    """Decode one record at `off` in the data area; returns (node, length)."""
    node: dict = {}
    p = off
    t = trace_type

    def need(n: int) -> None:
        if p + n > len(data):
            raise DecodeError(p, f"record field needs {n} bytes, {len(data) - p} left")

    fixed = nodelen * 4
    need(fixed)
    if t & BIT[0]:
        node["hop_limit"] = data[p]
        node["node_id"] = _u(data, p + 1, 3)
        p += 4
    if t & BIT[1]:
        node["ingress_if_id"] = _u(data, p, 2)
        node["egress_if_id"] = _u(data, p + 2, 2)
        p += 4
    for bit, key in ((2, "timestamp_secs"), (3, "timestamp_frac"), (4, "transit_delay")):
        if t & BIT[bit]:
            node[key] = _u(data, p, 4)
            p += 4
    if t & BIT[5]:
        node["namespace_data"] = "0x%08x" % _u(data, p, 4)
        p += 4
    for bit, key in ((6, "queue_depth"), (7, "checksum_complement")):
        if t & BIT[bit]:
            node[key] = _u(data, p, 4)
            p += 4
    if t & BIT[8]:
        node["hop_limit_wide"] = data[p]
        node["node_id_wide"] = _u(data, p + 1, 7)
        p += 8
    if t & BIT[9]:
        node["ingress_if_id_wide"] = _u(data, p, 4)
        node["egress_if_id_wide"] = _u(data, p + 4, 4)
        p += 8
    if t & BIT[10]:
        node["namespace_data_wide"] = "0x%016x" % _u(data, p, 8)
        p += 8
    if t & BIT[11]:
        node["buffer_occupancy"] = _u(data, p, 4)
        p += 4
    und = []
    for b in range(12, 22):
        if t & BIT[b]:
            und.append(_u(data, p, 4))
            p += 4
    if und:
        node["undefined"] = und
    p = off + fixed  # NodeLen decides the record size (words past the known fields are skipped)
    if t & BIT[22]:
        need(4)
        ln = data[p]
        sid = _u(data, p + 1, 3)
        p += 4
        need(ln * 4)
        node["oss"] = {"schema_id": sid, "data": data[p : p + ln * 4].hex()}
        p += ln * 4
    return node, p - off


def decode_trace(body: bytes, strict: bool = True, incremental: bool = False) -> dict:
    """Decode a pre-allocated trace body (from Namespace-ID on).

    Header fields are always reported; a problem adds an entry to "errors"
    (offsets relative to the body) and stops the node walk. Strict mode
    requires NodeLen to match the trace type (Linux); lenient mode trusts
    NodeLen for the record size (RFC 9197).
    """
    out: dict = {"nodes": [], "errors": []}
    if len(body) < 8:
        out["errors"].append({"offset": 0, "message": f"trace header needs 8 bytes, {len(body)} present"})
        return out
    ns = _u(body, 0, 2)
    w = _u(body, 2, 2)
    nodelen = (w >> 11) & 0x1F
    flags = (w >> 7) & 0xF
    remlen = w & 0x7F
    trace_type = _u(body, 4, 3)
    out.update({
        "namespace_id": ns,
        "node_len": nodelen,
        "flags": {"overflow": bool(flags & 8), "loopback": bool(flags & 4), "active": bool(flags & 2)},
        "remaining_len": remlen,
        "trace_type": "0x%06x" % trace_type,
    })
    data = body[8:]
    wire = []
    try:
        if strict and nodelen != node_len(trace_type):
            raise DecodeError(2, f"NodeLen {nodelen} differs from {node_len(trace_type)} computed from trace type")
        if nodelen < node_len(trace_type):
            raise DecodeError(2, f"NodeLen {nodelen} too small for trace type ({node_len(trace_type)} words)")
        if not incremental and remlen * 4 > len(data):
            raise DecodeError(3, f"RemainingLen {remlen} words exceeds the {len(data)}-byte data area")
        # Pre-allocated: records start after the free space; incremental: right after the header.
        p = 0 if incremental else remlen * 4
        while p < len(data):
            if nodelen == 0 and not has_oss(trace_type):
                raise DecodeError(8 + p, "NodeLen 0 without opaque state")
            node, ln = decode_record(data, p, trace_type, nodelen)
            wire.append(node)
            p += ln
    except DecodeError as e:
        out["errors"].append({"offset": e.offset, "message": e.message})
    path = list(reversed(wire))
    for i, n in enumerate(path):
        out["nodes"].append({"hop": i + 1, **n})
    return out


def find_clt(trace: dict) -> dict | None:
    for n in trace["nodes"]:
        o = n.get("oss")
        if o and o["schema_id"] == CLT_SCHEMA_ID and len(o["data"]) >= 56:
            d = bytes.fromhex(o["data"])
            tid, sid, fl = d[:16].hex(), d[16:24].hex(), d[24]
            return {
                "trace_id": tid,
                "span_id": sid,
                "trace_flags": fl,
                "encoding": "opaque-state",
                "traceparent": f"00-{tid}-{sid}-{fl:02x}",
            }
    return None


def iter_options(hdr: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(offset, type, data) for every option in a HbH/DO header (pads included)."""
    p = 2
    while p < len(hdr):
        t = hdr[p]
        if t == 0:
            yield p, 0, b""
            p += 1
            continue
        if p + 2 > len(hdr):
            raise DecodeError(p, "option header truncated")
        ln = hdr[p + 1]
        if p + 2 + ln > len(hdr):
            raise DecodeError(p, f"option length {ln} overruns the header")
        yield p, t, hdr[p + 2 : p + 2 + ln]
        p += 2 + ln


EXT_HDRS = {0: "hop-by-hop", 60: "destination", 43: "routing", 44: "fragment", 51: "ah"}


def decode_packet(ip6: bytes, strict: bool = True) -> dict:
    """Decode the IOAM options of one IPv6 packet into the CLI JSON shape."""
    res: dict = {"src": "", "dst": "", "ioam": [], "errors": []}
    if len(ip6) < 40:
        res["errors"].append({"offset": 0, "message": "IPv6 header truncated"})
        return res
    res["src"] = str(ipaddress.IPv6Address(ip6[8:24]))
    res["dst"] = str(ipaddress.IPv6Address(ip6[24:40]))
    res["hop_limit"] = ip6[7]
    nh = ip6[6]
    off = 40
    while nh in EXT_HDRS:
        if off + 2 > len(ip6):
            res["errors"].append({"offset": off, "message": "extension header truncated"})
            return res
        if nh == 44:
            ln = 8
        elif nh == 51:
            ln = (ip6[off + 1] + 2) * 4
        else:
            ln = (ip6[off + 1] + 1) * 8
        hdr = ip6[off : off + ln]
        if len(hdr) < ln:
            res["errors"].append({"offset": off, "message": "extension header beyond the packet"})
            return res
        if nh in (0, 60):
            try:
                padrun = 0
                for o, t, d in iter_options(hdr):
                    # Padding rules Linux enforces (RFC 4942 2.1.9.5): at most 7 consecutive pad bytes,
                    # PadN data all zero.
                    if t in (0, 1):
                        padrun += 1 if t == 0 else 2 + len(d)
                        if strict and t == 1 and any(d):
                            raise DecodeError(o, "PadN with non-zero data")
                        if strict and padrun > 7:
                            raise DecodeError(o, f"{padrun} consecutive padding bytes (at most 7)")
                        continue
                    padrun = 0
                    if t in (OPT_IOAM, OPT_IOAM_NOCHANGE) and len(d) < 2:
                        res["errors"].append({"offset": off + o, "message": f"IOAM option data length {len(d)} leaves no room for Reserved and IOAM-Type"})
                        break
                    if t in (OPT_IOAM, OPT_IOAM_NOCHANGE):
                        entry = {
                            "header": EXT_HDRS[nh],
                            "option_type": t,
                            "ioam_type": IOAM_TYPE_NAMES.get(d[1], "unknown"),
                            "ioam_type_value": d[1],
                            "option_offset": off + o,
                        }
                        if (o % 4) != 0:
                            entry["errors"] = [{"offset": off + o, "message": "IOAM option not 4n-aligned"}]
                            if strict:
                                res["ioam"].append(entry)
                                continue
                        if d[1] in (2, 3, 4) and len(d) >= 4:
                            entry["namespace_id"] = _u(d, 2, 2)
                        if d[1] in (0, 1):
                            tr = decode_trace(d[2:], strict, incremental=(d[1] == 1))
                            errs = tr.pop("errors")
                            entry.update(tr)
                            for e in errs:
                                entry.setdefault("errors", []).append(
                                    {"offset": off + o + 4 + e["offset"], "message": e["message"]}
                                )
                            clt = find_clt(entry)
                            if clt:
                                entry["clt"] = clt
                        res["ioam"].append(entry)
            except DecodeError as e:
                res["errors"].append({"offset": off + e.offset, "message": e.message})
        nh = ip6[off]
        off += ln
    res["upper_protocol"] = nh
    res["upper_offset"] = off
    return res


def rfc3339(ts_sec: int, ts_usec: int) -> str:
    t = _dt.datetime.fromtimestamp(ts_sec, _dt.timezone.utc).replace(microsecond=ts_usec)
    return t.isoformat().replace("+00:00", "Z")


@dataclass
class Decoded:
    frame: Frame
    ip6: bytes
    pkt: dict = field(default_factory=dict)
    cli: dict | None = None  # the same frame as `ioam decode --format json` reports it

    def views(self) -> list[tuple[str, dict]]:
        """(decoder name, packet object) for every decoder that read this frame."""
        out = [("python decoder", self.pkt)]
        if self.cli is not None:
            out.append(("ioam decode", self.cli))
        return out


def decode_pcap(path: str, strict: bool = True) -> list[Decoded]:
    out = []
    for fr in read_pcap(path):
        ip6 = fr.ipv6()
        if ip6 is None:
            continue
        d = decode_packet(ip6, strict)
        d["frame"] = fr.number
        d["time"] = rfc3339(fr.ts_sec, fr.ts_usec)
        out.append(Decoded(fr, ip6, d))
    return out


def udp_payload(ip6: bytes) -> bytes | None:
    d = decode_packet(ip6, strict=False)
    if d.get("upper_protocol") != 17:
        return None
    off = d["upper_offset"]
    return ip6[off + 8 :]
