"""Every known way tshark's IOAM dissection differs from this project's decoder.

This is the ONE place where a tshark deviation may be excused. The
differential (run.py, scenario `tshark-diff`) compares, field by field, what
tshark shows and what `ioam decode --format json` (and the suite's own Python
decoder) report for the same packet. A difference is accepted only when one
of the entries below recognises the packet and explains it; each entry says
which side is right and why. Everything else fails the suite.

Each entry:
  id         short name used in the report
  wrong      which side is wrong: "tshark" or "ioam" (or "neither": a
             presentation difference with the RFCs silent)
  reason     why the two differ
  applies    predicate over (option, raw option bytes) of *our* decode
  adjust     function (ours, theirs) -> (ours', theirs') removing the
             explained difference before comparing again
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ioambytes import node_len

BIT22 = 0x000002


@dataclass(frozen=True)
class Deviation:
    id: str
    wrong: str
    reason: str
    applies: Callable[[dict], bool]
    adjust: Callable[[dict, dict], tuple[dict, dict]]
    exclude: bool = False  # tshark does not show the option as IOAM at all


def _tt(o: dict) -> int:
    try:
        return int(o.get("trace_type", "0x0"), 16)
    except ValueError:
        return 0


def _drop_nodes(ours: dict, theirs: dict) -> tuple[dict, dict]:
    ours = dict(ours)
    theirs = dict(theirs)
    ours["nodes"] = []
    theirs["nodes"] = []
    return ours, theirs


def _drop_all_but_header(ours: dict, theirs: dict) -> tuple[dict, dict]:
    keep = ("header", "option_type", "ioam_type_value")
    return {k: v for k, v in ours.items() if k in keep}, {k: v for k, v in theirs.items() if k in keep}


DEVIATIONS: list[Deviation] = [
    Deviation(
        id="nodelen0-oss-only",
        wrong="tshark",
        reason=(
            "Trace type with only bit 22 (opaque state) set has NodeLen 0 by RFC 9197 section 4.4 "
            "(NodeLen excludes the opaque state snapshot); tshark 4.0 marks NodeLen 0 as invalid "
            "and does not decode the node data list."
        ),
        applies=lambda o: o.get("node_len") == 0 and _tt(o) == BIT22,
        adjust=_drop_nodes,
    ),
    Deviation(
        id="ioam-in-destination-options",
        wrong="neither",
        reason=(
            "tshark 4.0 warns 'IOAM Option must use a hop-by-hop options header' for an option 0x31 in "
            "a Destination Options header. For the types option 0x31 carries (trace, POT) that is right "
            "(RFC 9486 section 3), and ioam decode reports the same finding; E2E, whose place is the "
            "Destination Options header, uses option 0x11, which tshark does not know (see "
            "option-0x11-not-ioam). Only the warning is involved; the fields are compared normally."
        ),
        applies=lambda o: o.get("header") == "destination",
        adjust=lambda a, b: (a, b),
    ),
    Deviation(
        id="pot-e2e-raw",
        wrong="tshark",
        reason=(
            "tshark 4.0 shows Proof-of-Transit (type 2) and Edge-to-Edge (type 3) bodies as raw "
            "bytes, without their fields (RFC 9197 sections 4.5 and 4.6); only the option header "
            "is compared."
        ),
        applies=lambda o: o.get("ioam_type_value") in (2, 3),
        adjust=_drop_all_but_header,
    ),
    Deviation(
        id="dex-not-decoded",
        wrong="tshark",
        reason="tshark 4.0 predates RFC 9326 and does not decode Direct Export (type 4); only the option header is compared.",
        applies=lambda o: o.get("ioam_type_value") == 4,
        adjust=_drop_all_but_header,
    ),
    Deviation(
        id="option-0x11-not-ioam",
        wrong="tshark",
        reason=(
            "IPv6 option code 0x11 (IOAM, chg=0, RFC 9486 section 3) is not registered in "
            "tshark 4.0, which shows it as an unknown option; such options are not compared."
        ),
        applies=lambda o: o.get("option_type") == 0x11,
        adjust=lambda a, b: (a, b),
        exclude=True,
    ),
    Deviation(
        id="incremental-remlen-as-space",
        wrong="tshark",
        reason=(
            "For an incremental trace (type 1) RemainingLen is a budget, not space present in the "
            "packet (RFC 9197 section 4.4); tshark 4.0 treats it as free space inside the option "
            "and starts the node list after it, so the node list is not compared."
        ),
        applies=lambda o: o.get("ioam_type_value") == 1,
        adjust=_drop_nodes,
    ),
]


def _common_wire_prefix(ours: dict, theirs: dict) -> tuple[dict, dict]:
    """Keep the records both decoders read whole, in wire order (newest first), without hop numbers."""
    a, b = dict(ours), dict(theirs)
    wa = [{k: v for k, v in n.items() if k != "hop"} for n in reversed(a.get("nodes", []))]
    wb = [{k: v for k, v in n.items() if k != "hop"} for n in reversed(b.get("nodes", []))]
    k = min(len(wa), len(wb))
    a["nodes"], b["nodes"] = wa[:k], wb[:k]
    return a, b


DEVIATIONS.append(
    Deviation(
        id="malformed-partial-records",
        wrong="neither",
        reason=(
            "On a malformed trace (our decoder reports an error with its offset) the two decoders stop "
            "at different points: tshark also shows the readable fields of the record where the error "
            "is, ioam decode stops after the last whole record. Header fields and the whole records "
            "both read (in wire order) are compared."
        ),
        applies=lambda o: bool(o.get("errors")),
        adjust=_common_wire_prefix,
    )
)


DEVIATIONS.append(
    Deviation(
        id="misaligned-not-flagged",
        wrong="tshark",
        reason=(
            "RFC 9486 section 4 requires the IOAM option to be 4n-aligned and Linux drops a packet whose "
            "IOAM option is not (observed: Ip6InHdrErrors at r1); tshark 4.0 decodes it without a warning. "
            "ioam decode reports the rule (strict: the option is not decoded; lenient: decoded, with the "
            "error). The fields are compared with the lenient decode, so only the missing warning differs."
        ),
        applies=lambda o: any("multiple of 4" in e.get("message", "") or "aligned" in e.get("message", "")
                              for e in o.get("errors", [])),
        adjust=lambda a, b: (a, b),
    )
)


def _newest_record_without_oss(ours: dict, theirs: dict) -> tuple[dict, dict]:
    a, b = dict(ours), dict(theirs)
    for d in (a, b):
        nodes = d.get("nodes", [])
        newest = nodes[-1:]  # path order: the newest record is last
        stripped = [{k: v for k, v in n.items() if k not in ("hop", "oss")} for n in newest]
        d["nodes"] = [n for n in stripped if n]  # a record with no Trace-Type field shows nothing
    return a, b


def _nodelen_mismatch(o: dict) -> bool:
    if "node_len" not in o or "trace_type" not in o or o.get("ioam_type_value") != 0:
        return False
    return o["node_len"] != node_len(_tt(o)) and not (o["node_len"] == 0 and _tt(o) == BIT22)


DEVIATIONS.extend([
    Deviation(
        id="integrity-types-not-decoded",
        wrong="neither",
        reason=(
            "IOAM types 64-67 are the integrity-protected variants of draft-ietf-ippm-ioam-data-integrity "
            "(temporary code points); tshark 4.0 does not know them and shows the body as unknown data. "
            "Only the option header is compared."
        ),
        applies=lambda o: 64 <= int(o.get("ioam_type_value", 0)) <= 67,
        adjust=_drop_all_but_header,
    ),
    Deviation(
        id="short-trace-header-read-past-option",
        wrong="tshark",
        reason=(
            "When an IOAM trace option is shorter than its 8-byte trace header (RFC 9197 section 4.4), "
            "tshark 4.0 flags 'Invalid length' but still shows Namespace-ID, NodeLen, Flags, RemainingLen "
            "and Trace-Type read from the bytes that follow the option (padding, next option, upper "
            "layer). ioam decode reports the truncation and shows no trace header fields; only the "
            "option header is compared."
        ),
        applies=lambda o: bool(o.get("errors")) and "trace_type" not in o and o.get("ioam_type_value") in (0, 1),
        adjust=_drop_all_but_header,
    ),
    Deviation(
        id="nodelen-mismatch-stops-after-first-record",
        wrong="tshark",
        reason=(
            "When NodeLen differs from the value the Trace-Type implies, RFC 9197 section 4.4 has "
            "receivers rely on NodeLen to delimit records (ioam decode --lenient does; Linux and "
            "ioam decode --strict reject the packet). tshark 4.0 flags the mismatch, decodes the "
            "Trace-Type fields of the newest record only and shows the rest, including that record's "
            "opaque state snapshot, as undissected data. The header fields and the newest record's "
            "Trace-Type fields are compared."
        ),
        applies=_nodelen_mismatch,
        adjust=_newest_record_without_oss,
    ),
])


def explain(ours: dict) -> list[Deviation]:
    """Deviations that apply to one of our decoded IOAM options."""
    return [d for d in DEVIATIONS if d.applies(ours)]



# ---------------------------------------------------------------------------
# Packet-level: ioam decode rejects a whole extension header (a packet-level
# error) where tshark still shows IOAM options from it. `adjust` here takes
# (our options, tshark options) of the packet and drops tshark's options of
# every header type that ours reports nothing for.


def _msg_has(*words: str) -> Callable[[dict], bool]:
    return lambda p: any(all(w in e.get("message", "") for w in words) for e in p.get("errors", []))


def _drop_headers_we_rejected(ours: list, theirs: list) -> tuple[list, list]:
    ours_headers = {o.get("header") for o in ours}
    return ours, [t for t in theirs if t.get("header") in ours_headers]


PACKET_DEVIATIONS: list[Deviation] = [
    Deviation(
        id="extension-header-beyond-packet",
        wrong="neither",
        reason=(
            "The Hop-by-Hop or Destination Options header is longer than the captured packet (a "
            "truncated capture or a lying Hdr Ext Len, RFC 8200 section 4.3). ioam decode rejects the "
            "whole header with the offset and the byte counts; tshark dissects the options that fit "
            "and marks the rest as malformed. The options of that header are not compared."
        ),
        applies=lambda p: any(("needs" in e.get("message", "") and "available" in e.get("message", ""))
                              or "beyond" in e.get("message", "") or "truncated" in e.get("message", "")
                              for e in p.get("errors", [])),
        adjust=_drop_headers_we_rejected,
    ),
    Deviation(
        id="hop-by-hop-not-first",
        wrong="neither",
        reason=(
            "A Hop-by-Hop Options header that does not immediately follow the IPv6 header violates RFC "
            "8200 section 4.1. ioam decode "
            "reports the packet as malformed and does not decode that header; tshark adds a warning and "
            "decodes the options anyway. The options of that header are not compared."
        ),
        applies=_msg_has("Hop-by-Hop", "immediately follow"),
        adjust=_drop_headers_we_rejected,
    ),
    Deviation(
        id="ioam-option-shorter-than-its-header",
        wrong="tshark",
        reason=(
            "An IOAM option with Opt Data Len 0 or 1 has no room for Reserved and IOAM Option-Type (RFC "
            "9486 section 4; Linux r1 drops the packet, scenario 'kernel rule'). tshark flags 'Invalid length' but reads the "
            "IOAM-Type and the trace header from the bytes after the option, then goes on with the "
            "following options; ioam decode reports the error and stops decoding that header. The "
            "options of that header are not compared."
        ),
        applies=_msg_has("leaves no room for Reserved"),
        adjust=_drop_headers_we_rejected,
    ),
]


def explain_packet(packet: dict) -> list[Deviation]:
    """Packet-level deviations that apply to one of our decoded packets."""
    return [d for d in PACKET_DEVIATIONS if d.applies(packet)]


def as_markdown() -> str:
    lines = ["| id | wrong side | reason |", "|---|---|---|"]
    for d in DEVIATIONS + PACKET_DEVIATIONS:
        lines.append(f"| {d.id} | {d.wrong} | {d.reason} |")
    return "\n".join(lines)
