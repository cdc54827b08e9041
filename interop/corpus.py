"""A reproducible random corpus of IOAM packets, built by the suite's own encoder.

Complements `ioam craft --random` (the project's generator) in the tshark
differential: an independent generator catches blind spots both the codec and
its own crafting tool might share. Valid packets of every option type and
malformed variants (truncations, bad lengths, misalignment, NodeLen mismatch,
RemainingLen overrun, reserved bits, overflow).
"""

from __future__ import annotations

import random
import struct

import ioambytes as ib

SRC = bytes.fromhex("20010db8000000010000000000000001")
DST = bytes.fromhex("20010db8000000040000000000000002")
ETH = bytes.fromhex("020000000402020000000401") + b"\x86\xdd"

KNOWN_BITS = list(range(0, 12)) + [22]


def _pad_to8(opts: bytes) -> bytes:
    """Options area (after NH/HEL) padded so the header is a multiple of 8."""
    total = 2 + len(opts)
    pad = -total % 8
    if pad == 1:
        opts += b"\x00"
    elif pad >= 2:
        opts += bytes([1, pad - 2]) + b"\x00" * (pad - 2)
    return opts


def _align4(opts: bytes) -> bytes:
    """Pad so the next option starts at 4n from the header start (header starts with 2 bytes)."""
    cur = 2 + len(opts)
    pad = -cur % 4
    if pad == 1:
        return opts + b"\x00"
    if pad >= 2:
        return opts + bytes([1, pad - 2]) + b"\x00" * (pad - 2)
    return opts


def random_values(rng: random.Random) -> ib.NodeValues:
    v = ib.NodeValues(
        hop_limit=rng.randrange(256),
        node_id=rng.randrange(1 << 24),
        ingress_if_id=rng.randrange(1 << 16),
        egress_if_id=rng.randrange(1 << 16),
        timestamp_secs=rng.randrange(1 << 32),
        timestamp_frac=rng.randrange(1_000_000),
        transit_delay=rng.choice([rng.randrange(1 << 31), 0x80000000 | rng.randrange(1 << 31), 0xFFFFFFFF]),
        namespace_data=rng.randrange(1 << 32),
        queue_depth=rng.randrange(1 << 32),
        checksum_complement=rng.randrange(1 << 32),
        node_id_wide=rng.randrange(1 << 56),
        ingress_if_id_wide=rng.randrange(1 << 32),
        egress_if_id_wide=rng.randrange(1 << 32),
        namespace_data_wide=rng.randrange(1 << 64),
        buffer_occupancy=rng.randrange(1 << 32),
    )
    k = rng.choice([0, 0, 1, 2, 7])
    if k == 0:
        v.oss_schema_id, v.oss_data = rng.choice([(0xFFFFFF, b""), (rng.randrange(1 << 24), b"")])
    else:
        v.oss_schema_id = rng.choice([ib.CLT_SCHEMA_ID, rng.randrange(1 << 24)])
        v.oss_data = bytes(rng.randrange(256) for _ in range(4 * k))
    return v


def random_trace_type(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.1:
        return ib.BIT[22]  # NodeLen 0, OSS only
    if r < 0.2:
        return rng.choice([0x800000, 0xC00000, 0xFFF000, 0xFFF002, 0x800002, 0xF00000, 0x0F0000])
    bits = [b for b in KNOWN_BITS if rng.random() < 0.4]
    if rng.random() < 0.1:
        bits.append(rng.randrange(12, 22))
    if not bits:
        bits = [0]
    t = 0
    for b in bits:
        t |= ib.BIT[b]
    return t


def trace_body(rng: random.Random, incremental: bool = False) -> bytes:
    tt = random_trace_type(rng)
    nl = ib.node_len(tt)
    recs = [ib.encode_record(tt, random_values(rng)) for _ in range(rng.randrange(0, 5))]
    used = sum(len(r) for r in recs)
    while used > ib.TRACE_DATA_MAX and recs:
        used -= len(recs.pop())
    flags = rng.choice([0, 0, 0, 0x8, 0x4, 0x2, 0x1])
    if flags == 0x4:
        tt = 0x800000 if rng.random() < 0.5 else tt
        nl = ib.node_len(tt)
        recs = [ib.encode_record(tt, random_values(rng)) for _ in range(rng.randrange(0, 4))]
        used = sum(len(r) for r in recs)
    ns = rng.choice([0, 123, rng.randrange(1 << 16)])
    if incremental:
        budget = rng.randrange(0, 60)
        return ib.trace_header(ns, nl, flags, budget, tt) + b"".join(recs)
    free_words = rng.randrange(0, max(1, (ib.TRACE_DATA_MAX - used) // 4 + 1))
    free_words = min(free_words, 127)
    data = b"\x00" * (free_words * 4) + b"".join(reversed(recs))
    return ib.trace_header(ns, nl, flags, free_words, tt) + data


def ioam_option(code: int, ioam_type: int, body: bytes) -> bytes:
    return bytes([code, 2 + len(body), 0, ioam_type]) + body


def pot_body(rng: random.Random) -> bytes:
    t = rng.choice([0, 0, 0, 5])
    data = struct.pack(">QQ", rng.randrange(1 << 64), rng.randrange(1 << 64)) if t == 0 else bytes(8)
    return struct.pack(">HBB", rng.randrange(1 << 16), t, 0) + data


def e2e_body(rng: random.Random) -> bytes:
    bits = rng.choice([0x8000, 0x4000, 0xA000, 0xF000, 0x3000, 0x1000])
    out = struct.pack(">HH", rng.randrange(1 << 16), bits)
    if bits & 0x8000:
        out += struct.pack(">Q", rng.randrange(1 << 64))
    if bits & 0x4000:
        out += struct.pack(">I", rng.randrange(1 << 32))
    if bits & 0x2000:
        out += struct.pack(">I", rng.randrange(1 << 32))
    if bits & 0x1000:
        out += struct.pack(">I", rng.randrange(1 << 32))
    return out


def dex_body(rng: random.Random) -> bytes:
    ext = rng.choice([0, 0x80, 0x40, 0xC0])
    out = struct.pack(">HBB", rng.randrange(1 << 16), 0, ext) + struct.pack(">I", (random_trace_type(rng) << 8))
    for m in (0x80, 0x40):
        if ext & m:
            out += struct.pack(">I", rng.randrange(1 << 32))
    return out


def ext_header(opts: list[bytes], rng: random.Random, aligned: bool = True) -> bytes:
    area = b""
    for o in opts:
        if aligned:
            area = _align4(area)
        area += o
    area = _pad_to8(area)
    return bytes([0, (2 + len(area)) // 8 - 1]) + area


def ipv6_packet(hbh: bytes | None, dest: bytes | None, payload: bytes, hop_limit: int = 64) -> bytes:
    chain = []
    if hbh is not None:
        chain.append((0, hbh))
    if dest is not None:
        chain.append((60, dest))
    nh_first = chain[0][0] if chain else 17
    body = b""
    for i, (_, h) in enumerate(chain):
        nxt = chain[i + 1][0] if i + 1 < len(chain) else 17
        body += bytes([nxt]) + h[1:]
    udp = struct.pack(">HHHH", 40000, 9999, 8 + len(payload), 0) + payload
    body += udp
    hdr = struct.pack(">IHBB", 0x60000000, len(body), nh_first, hop_limit) + SRC + DST
    return hdr + body


def one_packet(rng: random.Random, i: int) -> bytes:
    payload = f"corpus {i}".encode()
    kind = rng.random()
    hbh_opts: list[bytes] = []
    do_opts: list[bytes] = []
    aligned = True
    if kind < 0.45:
        hbh_opts.append(ioam_option(0x31, 0, trace_body(rng)))
    elif kind < 0.52:
        hbh_opts.append(ioam_option(0x31, 0, trace_body(rng)))
        hbh_opts.append(ioam_option(0x31, 0, trace_body(rng)[:8] + b""))
    elif kind < 0.58:
        hbh_opts.append(ioam_option(0x31, 1, trace_body(rng, incremental=True)))
    elif kind < 0.64:
        hbh_opts.append(ioam_option(0x31, 2, pot_body(rng)))
    elif kind < 0.70:
        do_opts.append(ioam_option(0x11, 3, e2e_body(rng)))
    elif kind < 0.74:
        hbh_opts.append(ioam_option(0x11, 4, dex_body(rng)))
    elif kind < 0.78:
        do_opts.append(ioam_option(0x31, 0, trace_body(rng)))
    elif kind < 0.81:
        hbh_opts.append(ioam_option(0x31, rng.choice([5, 64, 200]), bytes(rng.randrange(256) for _ in range(8))))
    else:
        # Malformed variants of a pre-allocated trace.
        body = bytearray(trace_body(rng))
        m = rng.choice(["nodelen", "remlen", "misaligned", "odd-body", "short-body", "reserved", "truncate",
                        "optlen"])
        if m == "nodelen" and len(body) >= 4:
            body[2] = (body[2] & 0x07) | (((body[2] >> 3) + rng.choice([1, 2, 31])) & 0x1F) << 3
        elif m == "remlen":
            body[3] = (body[3] & 0x80) | min(127, (len(body) - 8) // 4 + rng.randrange(1, 10))
        elif m == "misaligned":
            aligned = False
        elif m == "odd-body":
            body = body[:249] + bytes(rng.randrange(1, 4))
        elif m == "short-body":
            body = body[: rng.randrange(0, 8)]
        elif m == "reserved":
            body[7] = rng.randrange(1, 256)
            body[2] |= 0x00
            body[3] |= 0x80
        opt = bytearray(ioam_option(0x31, 0, bytes(body)))
        if m == "optlen":
            opt[1] = (opt[1] + rng.choice([-3, -1, 1, 4])) & 0xFF
        hbh_opts.append(bytes(opt))
        hbh = ext_header(hbh_opts, rng, aligned=aligned)
        pkt = ipv6_packet(hbh, None, payload)
        if m == "truncate":
            pkt = pkt[: rng.randrange(41, len(pkt))]
        return pkt
    hbh = ext_header(hbh_opts, rng) if hbh_opts else None
    dest = ext_header(do_opts, rng) if do_opts else None
    return ipv6_packet(hbh, dest, payload)


def write_corpus(path: str, seed: int, count: int) -> int:
    rng = random.Random(seed)
    frames = []
    for i in range(count):
        pkt = one_packet(rng, i)
        frames.append(ib.Frame(i + 1, 1_700_000_000 + i, 0, ib.LINKTYPE_ETHERNET, ETH + pkt))
    ib.write_pcap(path, frames)
    return len(frames)
