"""`ioam agent` on the receiver, against Linux IOAM routers and an OTLP receiver built on opentelemetry-proto.

The agent captures on the receiver's ingress (`--interface rcv0`) and subscribes to the kernel's IOAM6 events
(`--kernel-events`); the receiver has IOAM enabled, so each CLT-tagged packet gives two spans: one from the
capture (originator + 3 routers) and one from the kernel event (the same hops + the receiver's own record).
The OTLP receiver answers the first request 503 with Retry-After, so nothing may be lost to it. Checked: trace id,
parent span id, every hop attribute equal to what the suite's own decoder reads in a capture taken beside the
agent (the routers' ids and values), the receiver's record last in the event span, no span for a trace without
CLT context or for a packet without IOAM, counters that add up, and exit status 0 after SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import harness as H
import ioambytes as ib
import scenarios as S
from netns import IOAM_NS, sh

PORT = 4318


def _reader(stream, sink: list, ready: threading.Event | None = None, needle: str = "") -> threading.Thread:
    def run():
        for line in stream:
            sink.append(line.rstrip("\n"))
            if ready is not None and needle in line:
                ready.set()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def counters(lines: list[str]) -> dict[str, int]:
    for l in lines:
        if l.startswith("ioam agent: final: "):
            return {k: int(v) for k, v in (kv.split("=") for kv in l[len("ioam agent: final: "):].split())}
    return {}


def enable_receiver_ioam(n: str) -> None:
    r = S.RECEIVER
    sh("sysctl", "-qw", f"net.ipv6.ioam6_id={r['node_id']}", f"net.ipv6.ioam6_id_wide={r['node_id_wide']}",
       "net.ipv6.conf.rcv0.ioam6_enabled=1", f"net.ipv6.conf.rcv0.ioam6_id={r['in_id']}",
       f"net.ipv6.conf.rcv0.ioam6_id_wide={r['in_id_wide']}", ns=n)
    sh("ip", "ioam", "namespace", "add", str(IOAM_NS), "data", str(r["ns_data"]), "wide", f"{r['ns_data_wide']:016x}",
       ns=n, check=False)


def scenario_agent(run: S.Run) -> None:
    topo = run.topo
    n = topo.ns("rcv")
    enable_receiver_ioam(n)
    sh("ip", "link", "set", "lo", "up", ns=n)
    rx_lines: list[str] = []
    agent_err: list[str] = []
    recv = subprocess.Popen(["ip", "netns", "exec", n, "python3", os.path.join(H.HERE, "otlp_receiver.py"), str(PORT),
                             "--fail-first", "1", "--retry-after", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    agent = None
    try:
        with run.results.case("agent: live capture + kernel events -> OTLP receiver (opentelemetry-proto), "
                              "503 once, SIGTERM") as c:
            first = recv.stdout.readline().strip()
            if not c.check(first.startswith("ready"), f"OTLP receiver did not start: {first} {recv.stderr.read() if recv.poll() is not None else ''}"):
                return
            _reader(recv.stdout, rx_lines)
            ready = threading.Event()
            agent = subprocess.Popen(["ip", "netns", "exec", n, H.ioam_bin(), "agent", "--interface", "rcv0",
                                      "--kernel-events", "--otlp-endpoint", f"http://127.0.0.1:{PORT}",
                                      "--batch-timeout", "0.2", "--stats-interval", "0", "--flush-timeout", "10"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            _reader(agent.stderr, agent_err, ready, "reading ")
            if not c.check(ready.wait(5), f"agent did not open its sources: {agent_err}"):
                return
            rcv = S._receiver_router()
            path = topo.routers + [rcv]
            clt_pkts = [H.py_packet(run.tag(f"agent-{tt:06x}"), tt, path, clt=H.new_clt())
                        for tt in (0x800002, 0xF00002, 0x03E002, 0x800002)]
            plain = H.py_packet(run.tag("agent-no-clt"), 0x800000, path, clt=None)
            unsampled = H.py_packet(run.tag("agent-unsampled"), 0x800002, path, clt=H.new_clt(flags=0))
            pkts = clt_pkts + [plain, unsampled]
            got, window = run.send_and_capture(pkts, "agent")
            time.sleep(1.5)  # batch timeout + the 503's Retry-After
            agent.send_signal(signal.SIGTERM)
            try:
                rc = agent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                agent.kill()
                rc = "killed after 20 s"
            time.sleep(0.3)
            c.eq(rc, 0, f"agent exit status after SIGTERM ({agent_err[-3:]})")
            k = counters(agent_err)
            if not c.check(bool(k), f"no final counters: {agent_err}"):
                return
            spans = [json.loads(l) for l in rx_lines if l.startswith("{")]
            errors = [s for s in spans if "error" in s]
            c.eq(errors, [], "every request body parses with the official definitions")
            spans = [s for s in spans if "error" not in s]
            n_clt = len(clt_pkts)
            c.eq(len(spans), 2 * n_clt, "one span per CLT-tagged packet from the capture and one from the kernel event")
            c.eq(k.get("exported"), 2 * n_clt, f"exported counter ({k})")
            c.check(k.get("retried", 0) >= 1, f"the 503 was retried ({k})")
            c.eq(k.get("dropped_queue_full", -1) + k.get("failed", -1) + k.get("rejected", -1)
                 + k.get("dropped_at_shutdown", -1), 0, f"nothing lost ({k})")
            c.eq(k.get("events"), len(pkts), f"one kernel event per packet ({k})")
            c.eq(k.get("unsampled"), 2, f"the unsampled packet is counted twice, capture and event ({k})")
            c.eq(k.get("no_context"), 2, f"the packet without CLT is counted twice ({k})")
            rx = S.by_tag(got[("rcv", "rcv0")])
            by_parent: dict[str, list[dict]] = {}
            for s in spans:
                by_parent.setdefault(s["parent_span_id"], []).append(s)
            for p in clt_pkts:
                d = rx.get(p.tag)
                if not c.check(d is not None, f"{p.tag}: not captured beside the agent"):
                    continue
                opt = d.pkt["ioam"][0]
                mine = by_parent.get(p.clt["span_id"], [])
                srcs = sorted(s["attributes"].get("ioam.source") for s in mine)
                if not c.eq(srcs, ["capture", "kernel-event"], f"{p.tag}: spans by source"):
                    continue
                want = S.collector_attributes(opt)
                for s in mine:
                    c.eq(s["trace_id"], p.clt["trace_id"], f"{p.tag}: trace id")
                    c.eq(s["name"], "ioam-span", f"{p.tag}: name")
                    c.eq(s["kind"], 1, f"{p.tag}: kind INTERNAL")
                    c.check(s["span_id"] not in ("", "0" * 16) and s["span_id"] != p.clt["span_id"],
                            f"{p.tag}: a fresh span id")
                    c.check(s["start"] <= s["end"], f"{p.tag}: start <= end")
                    hops = [(k2, v) for k2, v in s["attributes"].items() if k2.startswith("ioam_namespace")]
                    if s["attributes"]["ioam.source"] == "capture":
                        c.eq(hops, want, f"{p.tag}: capture span hop attributes = the captured records")
                        c.eq(s["attributes"].get("ioam.hop_count"), len(topo.routers) + 1, f"{p.tag}: hops")
                    else:
                        c.eq(hops[:-1], want, f"{p.tag}: event span: the hops before the receiver")
                        c.eq(len(hops), len(topo.routers) + 2, f"{p.tag}: event span hop count")
                        last = s["attributes"].get(f"ioam.hop{len(hops)}.node_id")
                        node = S.RECEIVER["node_id_wide"] if not (p.trace_type & ib.BIT[0]) else S.RECEIVER["node_id"]
                        c.eq(last, node, f"{p.tag}: the last hop of the event span is the receiver")
                    for i, r in enumerate(topo.routers, start=2):
                        rid = s["attributes"].get(f"ioam.hop{i}.node_id")
                        exp = r.node_id if p.trace_type & ib.BIT[0] else r.node_id_wide
                        c.eq(rid, exp, f"{p.tag}: hop {i} node id = router {r.name}")
                    if p.trace_type & ib.BIT[2]:
                        c.check(window[0] * 1e9 - 2e9 <= s["start"] <= window[1] * 1e9 + 2e9,
                                f"{p.tag}: start time from the trace's timestamps ({s['start']})")
            c.eq(sorted(by_parent), sorted(p.clt["span_id"] for p in clt_pkts),
                 "spans only for the sampled CLT contexts (none for the trace without CLT, none for non-IOAM)")
            c.eq(by_parent.get(unsampled.clt["span_id"], []), [], "no span for the unsampled context")
            c.note(f"{len(spans)} spans received; counters: {k}")
    finally:
        for proc in (agent, recv):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
        sh("sysctl", "-qw", "net.ipv6.conf.rcv0.ioam6_enabled=0", ns=n)


def example_bin(name: str) -> str | None:
    b = H.ioam_bin()
    if not b:
        return None
    p = os.path.join(os.path.dirname(b), "examples", name)
    return p if os.access(p, os.X_OK) else None


def scenario_clt_e2e(run: S.Run) -> None:
    """The seed's picture: an application's span and, as its child, an `ioam-span` with one attribute per router.

    sender: `traced_client` (OpenTelemetry SDK, OTLP/HTTP) attaches its `login` span to its TCP connection with
    clt-socket; r1..r3 fill their records; receiver: `traced_server`, `ioam agent --interface rcv0`, and the OTLP
    receiver (opentelemetry-proto) that both the client and the agent export to."""
    topo = run.topo
    n, snd = topo.ns("rcv"), topo.ns("snd")
    client, server = example_bin("traced_client"), example_bin("traced_server")
    with run.results.case("end to end: traced_client's span and its ioam-span children with the routers' hops, "
                          "in one trace") as c:
        if not c.check(client is not None and server is not None,
                       "clt-socket examples not built (cargo build --release -p clt-socket --features opentelemetry --examples)"):
            return
        sh("ip", "link", "set", "lo", "up", ns=n)
        sh("sysctl", "-qw", "net.ipv6.ioam6_id=6160385", ns=snd)  # 0x5e0001, the sender's node id
        out = run.path("e2e-otlp.jsonl")
        procs = []
        err_agent: list[str] = []
        try:
            recv = subprocess.Popen(["ip", "netns", "exec", n, "python3", os.path.join(H.HERE, "otlp_receiver.py"),
                                     str(PORT), "--bind", "::", "--otlp-json", out],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(recv)
            if not c.check(recv.stdout.readline().startswith("ready"), "OTLP receiver did not start"):
                return
            env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://[::1]:{PORT}", OTEL_SERVICE_NAME="traced-server")
            srv = subprocess.Popen(["ip", "netns", "exec", n, server, "--listen", "[::]:8080", "--once"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(srv)
            if not c.check(srv.stdout.readline().startswith("listening"), "traced_server did not start"):
                return
            ready = threading.Event()
            agent = subprocess.Popen(["ip", "netns", "exec", n, H.ioam_bin(), "agent", "--interface", "rcv0",
                                      "--otlp-endpoint", f"http://[::1]:{PORT}", "--batch-timeout", "0.2",
                                      "--stats-interval", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
            procs.append(agent)
            _reader(agent.stderr, err_agent, ready, "reading ")
            if not c.check(ready.wait(5), f"agent did not start: {err_agent}"):
                return
            cenv = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://[{topo.receiver_addr}]:{PORT}",
                        OTEL_SERVICE_NAME="traced-client")
            r = subprocess.run(["ip", "netns", "exec", snd, client, "--connect", f"[{topo.receiver_addr}]:8080",
                                "--namespace", str(IOAM_NS), "--trace-type", "0xf00002", "--hops", "4"],
                               env=cenv, capture_output=True, text=True, timeout=30)
            if not c.eq(r.returncode, 0, f"traced_client: {r.stderr.strip()}"):
                return
            tp = [l.split()[1] for l in r.stdout.splitlines() if l.startswith("traceparent ")]
            if not c.check(len(tp) == 1, f"traced_client printed no traceparent: {r.stdout}"):
                return
            _, trace_id, span_id, _ = tp[0].split("-")
            time.sleep(1.5)
            agent.send_signal(signal.SIGTERM)
            c.eq(agent.wait(timeout=20), 0, "agent exit status")
            time.sleep(0.3)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        p.kill()
        spans = []
        with open(out) as f:
            for line in f:
                doc = json.loads(line)
                for rs in doc.get("resourceSpans", []):
                    svc = next((a["value"].get("stringValue") for a in rs.get("resource", {}).get("attributes", [])
                                if a["key"] == "service.name"), "")
                    for ss in rs.get("scopeSpans", []):
                        for sp in ss.get("spans", []):
                            sp["service"] = svc
                            spans.append(sp)
        mine = [s for s in spans if s.get("traceId") == trace_id]
        login = [s for s in mine if s.get("name") == "login"]
        c.eq([(s.get("spanId"), s["service"]) for s in login], [(span_id, "traced-client")],
             "the client's login span, exported by the OpenTelemetry SDK")
        kids = [s for s in mine if s.get("name") == "ioam-span" and s.get("parentSpanId") == span_id]
        c.check(len(kids) >= 1, f"ioam-span children of login: {len(kids)}")
        want_ids = [0x5E0001] + [r.node_id for r in topo.routers]
        for k in kids:
            attrs = {a["key"]: a["value"] for a in k.get("attributes", [])}
            ids = [int(attrs[f"ioam.hop{i}.node_id"]["intValue"]) for i in range(1, 5) if f"ioam.hop{i}.node_id" in attrs]
            c.eq(ids, want_ids, f"ioam-span {k.get('spanId')}: hops = the client's record, then r1, r2, r3")
            c.eq(k["service"], "ioam-agent", "exported by the agent")
            hops = [kk for kk in attrs if kk.startswith("ioam_namespace")]
            c.eq(len(hops), 4, "one collector attribute per hop")
        w = subprocess.run([H.ioam_bin(), "trace", "--trace-id", trace_id, out], capture_output=True, text=True)
        c.eq(w.returncode, 0, f"ioam trace: {w.stderr.strip()}")
        print(w.stdout)
        c.note(f"trace {trace_id}: login + {len(kids)} ioam-span children (waterfall above)")
