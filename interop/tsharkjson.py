"""Run tshark on a capture and normalise its IOAM dissection.

`tshark -T json` prints objects with repeated keys (one `ipv6.opt` per
option, `hlim` twice when trace bits 0 and 8 are both set), so the JSON is
read with `object_pairs_hook` keeping every pair in order. The result has the
shape of `ioam decode --format json` (see ioambytes.decode_packet), with
numbers as ints, so the two can be compared field by field.
"""

from __future__ import annotations

import json
import subprocess

NODE = "ipv6.opt.ioam.trace.node."
TRACE = "ipv6.opt.ioam.trace."

SIMPLE_NODE_FIELDS = {
    "id": "node_id",
    "iif": "ingress_if_id",
    "eif": "egress_if_id",
    "tss": "timestamp_secs",
    "tsf": "timestamp_frac",
    "trdelay": "transit_delay",
    "qdepth": "queue_depth",
    "csum": "checksum_complement",
    "id_wide": "node_id_wide",
    "iif_wide": "ingress_if_id_wide",
    "eif_wide": "egress_if_id_wide",
    "bufoccup": "buffer_occupancy",
}


class Pairs(list):
    """A JSON object kept as an ordered list of (key, value) pairs."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def all(self, key):
        return [v for k, v in self if k == key]


def _load(text: str):
    return json.loads(text, object_pairs_hook=Pairs)


def _int(s) -> int:
    s = str(s)
    return int(s, 16) if s.lower().startswith("0x") else int(s)


def run_tshark(pcap: str, extra: list[str] | None = None) -> list:
    cmd = ["tshark", "-n", "-r", pcap, "-T", "json", "-J", "frame ipv6"] + (extra or [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tshark failed on {pcap}: {r.stderr.strip()}")
    return _load(r.stdout) if r.stdout.strip() else []


def tshark_version() -> str:
    r = subprocess.run(["tshark", "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.stdout else "unknown"


def _walk(obj, visit, path=()):
    """Depth-first over Pairs, calling visit(key, value, path) in order."""
    if isinstance(obj, Pairs):
        for k, v in obj:
            visit(k, v, path)
            _walk(v, visit, path + (k,))
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, visit, path)


def _node(pairs: Pairs, trace_type: int) -> dict:
    """Fields of one `Node N` subtree, in order."""
    node: dict = {}
    items: list[tuple[str, object, tuple]] = []
    _walk(pairs, lambda k, v, p: items.append((k, v, p)))
    for k, v, p in items:
        if not k.startswith(NODE):
            continue
        name = k[len(NODE):]
        group = p[-1] if p else ""
        if name == "hlim":
            wide = "(wide)" in group
            node["hop_limit_wide" if wide else "hop_limit"] = _int(v)
        elif name in SIMPLE_NODE_FIELDS:
            node[SIMPLE_NODE_FIELDS[name]] = _int(v)
        elif name == "nsdata":
            node["namespace_data"] = "0x%08x" % _int(v)
        elif name == "nsdata_wide":
            node["namespace_data_wide"] = "0x%016x" % _int(v)
        elif name == "undefined":
            node.setdefault("undefined", []).append(_int(v))
        elif name == "oss.len":
            node.setdefault("oss", {})["length"] = _int(v)
        elif name == "oss.scid":
            node.setdefault("oss", {})["schema_id"] = _int(v)
        elif name == "oss.data":
            node.setdefault("oss", {})["data"] = str(v).replace(":", "")
        else:
            node.setdefault("_unmapped", []).append(k)
    if "oss" in node:
        node["oss"].setdefault("data", "")
    return node


def _trace(opt: Pairs) -> dict:
    out: dict = {}
    items: list[tuple[str, object, tuple]] = []
    _walk(opt, lambda k, v, p: items.append((k, v, p)))
    nodes = []
    for k, v, p in items:
        if k.startswith("Node ") and isinstance(v, Pairs) and p and p[-1] == "Trace Data":
            nodes.append(v)
        if not k.startswith(TRACE) or k.startswith(NODE) or any(x.startswith("Node ") for x in p):
            continue
        name = k[len(TRACE):]
        if name == "ns":
            out["namespace_id"] = _int(v)
        elif name == "nodelen":
            out["node_len"] = _int(v)
        elif name == "remlen":
            out["remaining_len"] = _int(v)
        elif name == "type":
            out["trace_type"] = "0x%06x" % _int(v)
        elif name in ("flag.o", "flag.l", "flag.a"):
            out.setdefault("flags", {})[{"o": "overflow", "l": "loopback", "a": "active"}[name[-1]]] = v in ("1", "True", "true")
        elif name == "free_space":
            out["free_space"] = str(v).replace(":", "")
        elif name.startswith("invalid_"):
            out.setdefault("tshark_invalid", []).append(name)
        elif name in ("rsv", "flags", "flag.rsv") or name.startswith("type."):
            pass
    tt = int(out.get("trace_type", "0x0"), 16)
    wire = [_node(n, tt) for n in nodes]
    out["nodes"] = [{"hop": i + 1, **n} for i, n in enumerate(reversed(wire))]
    return out


def normalise(packets: list) -> list[dict]:
    """Per frame: {"frame": n, "ioam": [...], "expert": [...]}."""
    result = []
    for pkt in packets:
        layers = pkt.get("_source", Pairs()).get("layers", Pairs())
        frame = layers.get("frame", Pairs())
        num = _int(frame.get("frame.number", 0))
        ip6 = layers.get("ipv6")
        entry: dict = {"frame": num, "ioam": [], "expert": []}
        if not isinstance(ip6, Pairs):
            result.append(entry)
            continue
        for hname, hkey in (("hop-by-hop", "ipv6.hopopts"), ("destination", "ipv6.dstopts")):
            for hdr in ip6.all(hkey):
                if not isinstance(hdr, Pairs):
                    continue
                for opt in hdr.all("ipv6.opt"):
                    if not isinstance(opt, Pairs):
                        continue
                    t = _int(opt.get("ipv6.opt.type", "0"))
                    if opt.get("ipv6.opt.ioam.opt_type") is None:
                        continue
                    e = {"header": hname, "option_type": t, "ioam_type_value": _int(opt.get("ipv6.opt.ioam.opt_type"))}
                    if e["ioam_type_value"] in (0, 1):
                        e.update(_trace(opt))
                    entry["ioam"].append(e)
        exp: list = []
        _walk(layers, lambda k, v, p: exp.append(v.get("_ws.expert.message", "")) if k == "_ws.expert" and isinstance(v, Pairs) else None)
        entry["expert"] = exp
        result.append(entry)
    return result
