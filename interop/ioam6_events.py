"""Listen to the kernel's IOAM6 generic-netlink trace events (Python stdlib only).

When a Linux node is the destination of a packet with a Pre-allocated Trace
it processes (IOAM enabled on the ingress, namespace known), it fills its own
record and then multicasts the whole trace (from Namespace-ID on) to the
"ioam6_events" group of the "IOAM6" family. This is what `ip ioam monitor`
prints on newer iproute2; the one on this machine (6.1) does not have it.
It is the only way to see the last node's record: a capture sees the packet
before the receiver writes.

Run inside the receiver namespace:
    ip netns exec NS python3 ioam6_events.py SECONDS
Prints "ready" once subscribed, then one JSON line per event:
    {"namespace": n, "nodelen": n, "type": n, "data": "<hex of the trace body>"}
"""

import json
import os
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
NLM_F_REQUEST = 1
NLMSG_ERROR = 2

# include/uapi/linux/ioam6_genl.h
IOAM6_EVENT_TRACE = 1
ATTR_NAMESPACE, ATTR_NODELEN, ATTR_TYPE, ATTR_DATA = 1, 2, 3, 4


def attrs(buf: bytes) -> list[tuple[int, bytes]]:
    out, p = [], 0
    while p + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, p)
        if ln < 4:
            break
        out.append((typ & 0x3FFF, buf[p + 4 : p + ln]))
        p += (ln + 3) & ~3
    return out


def resolve(sock: socket.socket, family: str) -> tuple[int, dict[str, int]]:
    name = family.encode() + b"\0"
    nla = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
    nla += b"\0" * (-len(nla) % 4)
    payload = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + nla
    msg = struct.pack("=IHHII", 16 + len(payload), GENL_ID_CTRL, NLM_F_REQUEST, 1, 0) + payload
    sock.send(msg)
    data = sock.recv(65536)
    ln, typ = struct.unpack_from("=IH", data, 0)
    if typ == NLMSG_ERROR:
        err = struct.unpack_from("=i", data, 16)[0]
        raise OSError(-err, f"generic netlink family {family} not found")
    fam_id, groups = None, {}
    for t, v in attrs(data[20:ln]):
        if t == CTRL_ATTR_FAMILY_ID:
            fam_id = struct.unpack("=H", v[:2])[0]
        elif t == CTRL_ATTR_MCAST_GROUPS:
            for _, grp in attrs(v):
                g = dict(attrs(grp))
                gname = g.get(CTRL_ATTR_MCAST_GRP_NAME, b"").rstrip(b"\0").decode()
                if CTRL_ATTR_MCAST_GRP_ID in g:
                    groups[gname] = struct.unpack("=I", g[CTRL_ATTR_MCAST_GRP_ID][:4])[0]
    if fam_id is None:
        raise OSError("no family id in the reply")
    return fam_id, groups


def main() -> int:
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    try:
        fam_id, groups = resolve(sock, "IOAM6")
    except OSError as e:
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    if "ioam6_events" not in groups:
        print(json.dumps({"error": f"no ioam6_events group: {groups}"}), flush=True)
        return 1
    sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, groups["ioam6_events"])
    print("ready", flush=True)
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        p = 0
        while p + 16 <= len(data):
            ln, typ = struct.unpack_from("=IH", data, p)
            if ln < 16:
                break
            if typ == fam_id and ln >= 20 and data[p + 16] == IOAM6_EVENT_TRACE:
                a = dict(attrs(data[p + 20 : p + ln]))
                ev = {
                    "namespace": struct.unpack("=H", a.get(ATTR_NAMESPACE, b"\0\0")[:2])[0],
                    "nodelen": a.get(ATTR_NODELEN, b"\0")[0],
                    "type": struct.unpack("=I", a.get(ATTR_TYPE, b"\0\0\0\0")[:4])[0],
                    "data": a.get(ATTR_DATA, b"").hex(),
                }
                print(json.dumps(ev), flush=True)
            p += (ln + 3) & ~3
    os.close(sock.detach())
    return 0


if __name__ == "__main__":
    sys.exit(main())
