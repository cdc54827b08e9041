"""A minimal OTLP/HTTP trace receiver built on the official protobuf definitions.

Accepts POST /v1/traces with a protobuf (application/x-protobuf) or OTLP JSON
(application/json) body, parses it with `opentelemetry-proto` (strict: a body
that does not parse is answered 400 and reported), and prints one JSON line
per received span on standard output:

    {"trace_id": hex, "span_id": hex, "parent_span_id": hex, "name": str,
     "kind": int, "start": int, "end": int, "service": str,
     "attributes": {key: value}}

Usage: python3 otlp_receiver.py PORT [--bind ADDR] [--fail-first N] [--retry-after S] [--count-only]
                                     [--otlp-json FILE]
Prints "ready PORT" once listening. `--fail-first N` answers the first N
requests with 503 (and Retry-After S when given) before accepting.
`--otlp-json FILE` also appends each accepted request to FILE as one line of
OTLP JSON (hex ids), the input of `ioam trace`. `--bind` defaults to
127.0.0.1; `::` listens on every address, IPv4 and IPv6.
`--count-only` parses every body but prints only the running total of spans
(one line per request, `spans N`), for throughput benchmarks.
"""

import argparse
import base64
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

LOCK = threading.Lock()
STATE = {"requests": 0, "fail_first": 0, "retry_after": None, "count_only": False, "spans": 0, "otlp_json": None}


def any_value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def hex_ids_to_base64(doc):
    """OTLP JSON carries ids as hex; the protobuf JSON mapping wants base64."""
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                for k in ("traceId", "spanId", "parentSpanId"):
                    if sp.get(k):
                        sp[k] = base64.b64encode(bytes.fromhex(sp[k])).decode()


def emit(req):
    for rs in req.resource_spans:
        service = ""
        for a in rs.resource.attributes:
            if a.key == "service.name":
                service = any_value(a.value)
        for ss in rs.scope_spans:
            for sp in ss.spans:
                line = {
                    "trace_id": sp.trace_id.hex(),
                    "span_id": sp.span_id.hex(),
                    "parent_span_id": sp.parent_span_id.hex(),
                    "name": sp.name,
                    "kind": sp.kind,
                    "start": sp.start_time_unix_nano,
                    "end": sp.end_time_unix_nano,
                    "service": service,
                    "attributes": {a.key: any_value(a.value) for a in sp.attributes},
                }
                print(json.dumps(line), flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def reply(self, code, extra=None):
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces":
            return self.reply(404)
        with LOCK:
            STATE["requests"] += 1
            n = STATE["requests"]
        if n <= STATE["fail_first"]:
            extra = {"Retry-After": str(STATE["retry_after"])} if STATE["retry_after"] is not None else {}
            return self.reply(503, extra)
        req = trace_service_pb2.ExportTraceServiceRequest()
        try:
            if self.headers.get("Content-Type", "").startswith("application/json"):
                doc = json.loads(body)
                hex_ids_to_base64(doc)
                json_format.ParseDict(doc, req)
            else:
                req.ParseFromString(body)
        except Exception as e:  # noqa: BLE001
            print(json.dumps({"error": f"body does not parse: {e}"}), flush=True)
            return self.reply(400)
        with LOCK:
            if STATE["otlp_json"]:
                doc = json_format.MessageToDict(req)
                for rs in doc.get("resourceSpans", []):
                    for ss in rs.get("scopeSpans", []):
                        for sp in ss.get("spans", []):
                            for k in ("traceId", "spanId", "parentSpanId"):
                                if sp.get(k):
                                    sp[k] = base64.b64decode(sp[k]).hex()
                with open(STATE["otlp_json"], "a") as f:
                    f.write(json.dumps(doc) + "\n")
            if STATE["count_only"]:
                STATE["spans"] += sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
                print(f"spans {STATE['spans']}", flush=True)
            else:
                emit(req)
        self.reply(200)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--retry-after", type=int, default=None)
    ap.add_argument("--count-only", action="store_true")
    ap.add_argument("--otlp-json", default=None)
    ap.add_argument("--bind", default="127.0.0.1")
    a = ap.parse_args()
    STATE["fail_first"] = a.fail_first
    STATE["retry_after"] = a.retry_after
    STATE["count_only"] = a.count_only
    STATE["otlp_json"] = a.otlp_json

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET

        def server_bind(self):
            if self.address_family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    srv = Server((a.bind, a.port), Handler)
    print(f"ready {srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
