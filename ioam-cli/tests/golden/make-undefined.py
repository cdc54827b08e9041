#!/usr/bin/env python3
"""Writes undefined.pcap: pre-allocated traces that `ioam craft` does not
make (it refuses the undefined bits 12-21): undefined words beside and
without an opaque state, a hop without a timestamp and one whose
timestamp is earlier than the first timestamped hop's. Run once; the
capture is committed."""
import struct


def trace_option(trace_type, node_len, records):
    """PadN(0) then a pre-allocated trace option (namespace 123, no free space)."""
    body = struct.pack('>HHI', 123, node_len << 11, trace_type << 8) + b''.join(records)
    return bytes([1, 0, 0x31, 2 + len(body), 0, 0]) + body


def packet(options):
    total = 2 + len(options)
    pad = (-total) % 8
    padding = b'\x00' if pad == 1 else (bytes([1, pad - 2]) + bytes(pad - 2) if pad else b'')
    hbh = bytes([59, (total + pad) // 8 - 1]) + options + padding
    src = bytes.fromhex('20010db8000000000000000000000001')
    dst = bytes.fromhex('20010db8000000000000000000000002')
    return struct.pack('>IHBB', 6 << 28, len(hbh), 0, 64) + src + dst + hbh


def words(*values):
    return b''.join(struct.pack('>I', v) for v in values)


def hop(hop_limit, node_id, *rest):
    return words((hop_limit << 24) | node_id, *rest)


OSS_NONE = words(0x00ffffff)
OSS_DATA = words((2 << 24) | 0x434c54) + b'\xab' * 8
packets = [
    # Bits 0, 12, 13 (wire order: newest hop first).
    packet(trace_option(0x800c00, 3, [hop(62, 3, 0xffffffff, 0x12), hop(63, 2, 1, 0xffffffff)])),
    # The same with an opaque state: the undefined column is not the last.
    packet(trace_option(0x800c02, 3, [hop(62, 3, 0xffffffff, 0x12) + OSS_NONE,
                                      hop(63, 2, 1, 0xffffffff) + OSS_DATA])),
    # Every undefined bit.
    packet(trace_option(0x800ffe, 11, [hop(62, 3, *range(10)) + OSS_NONE,
                                       hop(63, 2, *[0xffffffff] * 10) + OSS_DATA])),
    # Bits 0, 2, 3: the first hop without a timestamp, the last one earlier
    # than the second.
    packet(trace_option(0xb00000, 3, [hop(61, 4, 1_700_000_000, 0),
                                      hop(62, 3, 1_700_000_005, 1000),
                                      hop(63, 2, 0xffffffff, 0)])),
]
with open('undefined.pcap', 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    for i, p in enumerate(packets):
        f.write(struct.pack('<IIII', 1_700_000_000 + i, 0, len(p), len(p)))
        f.write(p)
