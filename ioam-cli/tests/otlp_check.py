#!/usr/bin/env python3
"""Load `ioam decode --format otlp-json` output with the official OpenTelemetry
protobuf definitions (opentelemetry-proto) and check every span.

Usage: otlp_check.py FILE EXPECTED_SPANS

OTLP/JSON differs from the canonical protobuf JSON mapping in one point: trace
and span ids are hex strings, not base64. As an OTLP receiver does, the ids are
converted from hex before `google.protobuf.json_format.Parse`, which is strict:
unknown fields, wrong types or malformed 64-bit integers are errors.

Exit status 0 when the request loads and passes the checks; 1 with a message
otherwise; 77 when the Python modules are missing (the caller reports a skip).
"""

import base64
import json
import sys

try:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2
except ImportError as e:  # pragma: no cover - depends on the environment
    print(f"otlp_check: missing Python module: {e}", file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print(f"otlp_check: {msg}", file=sys.stderr)
    sys.exit(1)


def hex_to_b64(value, size, where):
    if not isinstance(value, str) or len(value) != 2 * size:
        fail(f"{where}: expected {2 * size} hex digits, got {value!r}")
    if value != value.lower():
        fail(f"{where}: OTLP/JSON ids are lowercase hex, got {value!r}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        fail(f"{where}: not hex: {value!r}")
    return base64.b64encode(raw).decode()


def main():
    if len(sys.argv) != 3:
        fail("usage: otlp_check.py FILE EXPECTED_SPANS")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    expected = int(sys.argv[2])

    ids = []
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for i, span in enumerate(ss.get("spans", [])):
                where = f"span {i}"
                ids.append((span.get("traceId"), span.get("spanId"), span.get("parentSpanId")))
                span["traceId"] = hex_to_b64(span.get("traceId"), 16, where + " traceId")
                span["spanId"] = hex_to_b64(span.get("spanId"), 8, where + " spanId")
                span["parentSpanId"] = hex_to_b64(span.get("parentSpanId"), 8, where + " parentSpanId")

    req = trace_service_pb2.ExportTraceServiceRequest()
    try:
        json_format.Parse(json.dumps(doc), req, ignore_unknown_fields=False)
    except json_format.ParseError as e:
        fail(f"not a valid ExportTraceServiceRequest: {e}")

    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    if len(spans) != expected:
        fail(f"expected {expected} spans, found {len(spans)}")
    seen = set()
    for i, (s, (tid, sid, pid)) in enumerate(zip(spans, ids)):
        if s.name != "ioam-span":
            fail(f"span {i}: name {s.name!r}")
        if len(s.trace_id) != 16 or len(s.span_id) != 8 or len(s.parent_span_id) != 8:
            fail(f"span {i}: id lengths {len(s.trace_id)}/{len(s.span_id)}/{len(s.parent_span_id)}")
        if s.trace_id.hex() != tid or s.span_id.hex() != sid or s.parent_span_id.hex() != pid:
            fail(f"span {i}: ids changed while loading")
        if s.trace_id == bytes(16) or s.span_id == bytes(8):
            fail(f"span {i}: all-zero id")
        if s.span_id in seen:
            fail(f"span {i}: duplicate span id {s.span_id.hex()}")
        seen.add(s.span_id)
        if s.kind != trace_pb2.Span.SPAN_KIND_INTERNAL:
            fail(f"span {i}: kind {s.kind}")
        if s.end_time_unix_nano < s.start_time_unix_nano:
            fail(f"span {i}: ends before it starts")
        if not s.attributes:
            fail(f"span {i}: no attributes")
        # The collector's per-hop strings first, in hop order; after them
        # only the typed `ioam.*` attributes (ioam agent adds them).
        hops = [kv for kv in s.attributes if kv.key.startswith("ioam_namespace")]
        if not hops or list(s.attributes)[: len(hops)] != hops:
            fail(f"span {i}: the per-hop attributes do not come first")
        for n, kv in enumerate(hops, start=1):
            if not kv.key.endswith(f"_node{n}"):
                fail(f"span {i}: attribute {n} is {kv.key!r}")
            if not kv.value.string_value.endswith("; "):
                fail(f"span {i}: attribute {kv.key} value {kv.value.string_value!r}")
        for kv in list(s.attributes)[len(hops):]:
            if not kv.key.startswith("ioam."):
                fail(f"span {i}: unexpected attribute {kv.key!r}")
        typed = {kv.key: kv.value for kv in s.attributes}
        if "ioam.hop_count" in typed and typed["ioam.hop_count"].int_value != len(hops):
            fail(f"span {i}: ioam.hop_count {typed['ioam.hop_count'].int_value} for {len(hops)} hops")
    print(f"otlp_check: {len(spans)} spans load as opentelemetry.proto ExportTraceServiceRequest")


if __name__ == "__main__":
    main()
