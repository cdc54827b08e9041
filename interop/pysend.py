"""UDP sender with a caller-built Hop-by-Hop header (IPV6_HOPOPTS, RFC 3542).

Run inside the sender namespace: `ip netns exec NS python3 pysend.py < job.json`.
job = {"dst": "2001:db8:4::2", "port": 9999, "hop_limit": 64,
       "packets": [{"hbh": "<hex>", "payload": "<hex>", "mode": "sockopt"|"cmsg"}]}
Prints one JSON line per datagram: {"i": n, "sent": <unix time>, "len": bytes}.
"""

import json
import socket
import sys
import time

IPV6_HOPOPTS = 54  # linux/in6.h


def main() -> int:
    job = json.load(sys.stdin)
    dst = (job["dst"], int(job["port"]), 0, 0)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, int(job.get("hop_limit", 64)))
    gap = float(job.get("gap", 0.0))
    for i, p in enumerate(job["packets"]):
        hbh = bytes.fromhex(p["hbh"])
        payload = bytes.fromhex(p["payload"])
        if p.get("mode", "sockopt") == "cmsg":
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, b"")
            n = sock.sendmsg([payload], [(socket.IPPROTO_IPV6, IPV6_HOPOPTS, hbh)], 0, dst)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_HOPOPTS, hbh)
            n = sock.sendto(payload, dst)
        print(json.dumps({"i": i, "sent": time.time(), "len": n}), flush=True)
        if gap:
            time.sleep(gap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
