//! `ioam agent` against a scripted OTLP/HTTP collector: delivery, retries
//! (503 with Retry-After, refused connections, a collector that never
//! answers), rejection without retry, queue overflow counted exactly, and
//! the spans equal to what `ioam decode` reads in the same capture. The
//! request bodies are decoded with the official OTLP protobuf definitions
//! (`opentelemetry-proto`).

mod common;

use core::time::Duration;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{run, run_ok, tmpdir};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::Value;

/// One scripted answer of the fake collector.
#[derive(Debug, Clone)]
enum Reply {
    /// Answer with this status (and a Retry-After in seconds).
    Status(u16, Option<u64>),
    /// Read the request, then wait this long before answering 200.
    Slow(Duration),
    /// Read the request and never answer (until the client gives up).
    Hang,
}

#[derive(Default)]
struct Seen {
    /// Protobuf bodies of the requests answered 2xx.
    accepted: Vec<ExportTraceServiceRequest>,
    /// JSON bodies of the requests answered 2xx.
    accepted_json: Vec<Value>,
    /// Every request: its content type.
    content_types: Vec<String>,
    requests: usize,
}

struct Collector {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut len = 0usize;
    let mut ctype = String::new();
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    if !line.starts_with("POST /v1/traces ") {
        return None;
    }
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().ok()?,
            "content-type" => ctype = v.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((ctype, body))
}

fn answer(s: &mut TcpStream, status: u16, retry_after: Option<u64>) {
    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n");
    if let Some(r) = retry_after {
        head.push_str(&format!("retry-after: {r}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
}

impl Collector {
    /// Listen on a free port; answer the script in order, then 200.
    fn start(script: Vec<Reply>) -> Collector {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        Collector::serve(l, script, port)
    }

    fn serve(l: TcpListener, script: Vec<Reply>, port: u16) -> Collector {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s2 = Arc::clone(&seen);
        thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in l.incoming() {
                let Ok(mut s) = stream else { continue };
                let Some((ctype, body)) = read_request(&mut s) else {
                    continue;
                };
                let step = script.next();
                {
                    let mut g = s2.lock().unwrap();
                    g.requests += 1;
                    g.content_types.push(ctype);
                }
                let ok = |s: &mut TcpStream| {
                    let mut g = s2.lock().unwrap();
                    if g.content_types
                        .last()
                        .is_some_and(|t| t == "application/json")
                    {
                        match serde_json::from_slice::<Value>(&body) {
                            Ok(v) => g.accepted_json.push(v),
                            Err(_) => return answer(s, 400, None),
                        }
                    } else {
                        match ExportTraceServiceRequest::decode(&body[..]) {
                            Ok(req) => g.accepted.push(req),
                            Err(_) => return answer(s, 400, None),
                        }
                    }
                    drop(g);
                    answer(s, 200, None);
                };
                match step {
                    None => ok(&mut s),
                    Some(Reply::Status(code, ra)) if (200..300).contains(&code) => {
                        let _ = ra;
                        ok(&mut s)
                    }
                    Some(Reply::Status(code, ra)) => answer(&mut s, code, ra),
                    Some(Reply::Slow(d)) => {
                        thread::sleep(d);
                        ok(&mut s)
                    }
                    Some(Reply::Hang) => {
                        // Keep the connection open without answering.
                        thread::spawn(move || {
                            thread::sleep(Duration::from_secs(30));
                            drop(s);
                        });
                    }
                }
            }
        });
        Collector { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spans(&self) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
        let g = self.seen.lock().unwrap();
        g.accepted
            .iter()
            .flat_map(|r| r.resource_spans.iter())
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter().cloned())
            .collect()
    }
}

fn sample() -> String {
    format!("{}/../data/sample-linux.pcap", env!("CARGO_MANIFEST_DIR"))
}

/// The `final:` counters of the agent's standard error.
fn final_counters(stderr: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("ioam agent: final: "))
        .unwrap_or_else(|| panic!("no final counters in:\n{stderr}"));
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

fn agent(args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String, String) {
    let mut cmd = common::ioam();
    cmd.arg("agent").args(args).arg("--stats-interval").arg("0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `(trace id, parent span id, hop attribute keys and values)` of the CLT
/// traces `ioam decode` finds in `file`.
fn decoded_spans(file: &str) -> Vec<(String, String)> {
    let out = run_ok(&["decode", "--format", "json", "-q", "--lenient", file]);
    common::json_lines(&out)
        .iter()
        .flat_map(|p| p["ioam"].as_array().cloned().unwrap_or_default())
        .filter_map(|o| {
            let c = o.get("clt")?;
            Some((
                c["trace_id"].as_str()?.to_string(),
                c["span_id"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn spans_reach_the_collector_after_a_503_with_retry_after() {
    let c = Collector::start(vec![Reply::Status(503, Some(1))]);
    let (st, _, err) = agent(&["--read", &sample(), "--otlp-endpoint", &c.url()], &[]);
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    let want = decoded_spans(&sample());
    assert_eq!(want.len(), 3, "the sample has 3 CLT-tagged traces");
    assert_eq!(k["clt"], 3, "{err}");
    assert_eq!(k["exported"], 3, "{err}");
    assert_eq!(k["retried"], 1, "{err}");
    assert_eq!(
        k["failed"] + k["rejected"] + k["dropped_queue_full"],
        0,
        "{err}"
    );
    let spans = c.spans();
    let got: Vec<(String, String)> = spans
        .iter()
        .map(|s| (hex(&s.trace_id), hex(&s.parent_span_id)))
        .collect();
    assert_eq!(
        got, want,
        "trace id and parent = the context in each packet, in capture order"
    );
    for s in &spans {
        assert_eq!(s.name, "ioam-span");
        assert_eq!(s.kind, 1, "SPAN_KIND_INTERNAL");
        assert_ne!(s.span_id, vec![0; 8]);
        assert!(s.start_time_unix_nano > 1_600_000_000_000_000_000);
        assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
        assert!(s.attributes[0].key.starts_with("ioam_namespace123_node1"));
    }
    let g = c.seen.lock().unwrap();
    assert_eq!(g.requests, 2);
    assert!(g
        .content_types
        .iter()
        .all(|t| t == "application/x-protobuf"));
}

#[test]
fn hop_attributes_equal_those_of_decode_otlp() {
    let c = Collector::start(vec![]);
    let (st, _, err) = agent(&["--read", &sample(), "--otlp-endpoint", &c.url()], &[]);
    assert!(st.success(), "{err}");
    let doc: Value = serde_json::from_str(&run_ok(&[
        "decode",
        "--format",
        "otlp-json",
        "-q",
        &sample(),
    ]))
    .unwrap();
    let theirs = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap()
        .clone();
    let ours = c.spans();
    assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(&theirs) {
        let t_attrs: Vec<(String, String)> = t["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["key"].as_str().unwrap().into(),
                    a["value"]["stringValue"].as_str().unwrap().into(),
                )
            })
            .collect();
        let o_attrs: Vec<(String, String)> = o
            .attributes
            .iter()
            .filter(|a| a.key.starts_with("ioam_namespace"))
            .map(|a| {
                let v = match &a.value.as_ref().unwrap().value {
                    Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s),
                    ) => s.clone(),
                    other => panic!("{other:?}"),
                };
                (a.key.clone(), v)
            })
            .collect();
        assert_eq!(o_attrs, t_attrs);
        assert_eq!(
            o.start_time_unix_nano.to_string(),
            t["startTimeUnixNano"].as_str().unwrap()
        );
        assert_eq!(
            o.end_time_unix_nano.to_string(),
            t["endTimeUnixNano"].as_str().unwrap()
        );
        let typed = |k: &str| {
            o.attributes
                .iter()
                .find(|a| a.key == k)
                .map(|a| a.value.clone().unwrap())
        };
        assert!(typed("ioam.namespace").is_some());
        assert!(typed("ioam.hop1.node_id").is_some());
    }
}

#[test]
fn a_collector_that_starts_late_gets_every_span() {
    // Take a free port, release it, and start listening only after the
    // agent has already been refused a few times.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let late = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1500));
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        Collector::serve(l, vec![Reply::Status(503, None)], port)
    });
    let url = format!("http://127.0.0.1:{port}");
    let (st, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--otlp-endpoint",
            &url,
            "--retry-for",
            "20",
        ],
        &[],
    );
    let c = late.join().unwrap();
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(k["exported"], 3, "{err}");
    assert!(k["retried"] >= 2, "refused, then 503, then accepted: {err}");
    assert_eq!(c.spans().len(), 3);
}

#[test]
fn a_400_is_counted_and_not_retried() {
    let c = Collector::start(vec![Reply::Status(400, None)]);
    let (st, _, err) = agent(&["--read", &sample(), "--otlp-endpoint", &c.url()], &[]);
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(
        (k["rejected"], k["retried"], k["requests"], k["exported"]),
        (3, 0, 1, 0),
        "{err}"
    );
    assert!(err.contains("HTTP 400"), "the reason is logged: {err}");
    assert_eq!(c.seen.lock().unwrap().requests, 1);
}

#[test]
fn a_collector_that_never_answers_times_out_and_the_loss_is_counted() {
    let c = Collector::start(vec![
        Reply::Hang,
        Reply::Hang,
        Reply::Hang,
        Reply::Hang,
        Reply::Hang,
    ]);
    let (st, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--otlp-endpoint",
            &c.url(),
            "--retry-for",
            "2",
        ],
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "400")],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!((k["failed"], k["exported"]), (3, 0), "{err}");
    assert!(k["retried"] >= 1, "{err}");
}

#[test]
fn a_replayed_file_waits_for_the_queue_and_loses_nothing() {
    let dir = tmpdir("agent-replay");
    let pcap = dir.join("burst.pcap");
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    run_ok(&[
        "craft",
        "--count",
        "200",
        "--traceparent",
        tp,
        "-o",
        pcap.to_str().unwrap(),
    ]);
    // Every answer takes 20 ms; the queue holds 4 spans, batches are 2: the
    // file is read 50 times faster than the collector takes it.
    let c = Collector::start(vec![Reply::Slow(Duration::from_millis(20)); 400]);
    let (st, _, err) = agent(
        &[
            "--read",
            pcap.to_str().unwrap(),
            "--otlp-endpoint",
            &c.url(),
            "--queue-size",
            "4",
            "--batch-size",
            "2",
        ],
        &[],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(
        (
            k["clt"],
            k["queued"],
            k["exported"],
            k["dropped_queue_full"]
        ),
        (200, 200, 200, 0),
        "{err}"
    );
    assert_eq!(c.spans().len(), 200);
}

#[test]
fn a_live_burst_larger_than_the_queue_counts_every_drop() {
    // Live capture on loopback of packets that `ioam send` tags (both need
    // CAP_NET_RAW), into a collector that takes 100 ms per request.
    let c = Collector::start(vec![Reply::Slow(Duration::from_millis(100)); 400]);
    let mut child = common::ioam()
        .args([
            "agent",
            "--interface",
            "lo",
            "--otlp-endpoint",
            &c.url(),
            "--queue-size",
            "4",
            "--batch-size",
            "2",
            "--stats-interval",
            "0",
            "--flush-timeout",
            "30",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let first = wait_for_reading(&mut err);
    if let Ok(Some(st)) = child.try_wait() {
        let mut rest = String::new();
        err.read_to_string(&mut rest).unwrap();
        common::cannot_run(
            "a_live_burst_larger_than_the_queue_counts_every_drop",
            &format!("the agent exited ({st}): {first}{rest}"),
        );
    }
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    // A listener, so that no ICMPv6 error comes back.
    let sink = std::net::UdpSocket::bind("[::1]:0").unwrap();
    let to = format!("[::1]:{}", sink.local_addr().unwrap().port());
    let sent = run(
        &[
            "send",
            "--to",
            &to,
            "--traceparent",
            tp,
            "--count",
            "300",
            "--interval-ms",
            "0",
            "--span-per-packet",
        ],
        None,
    );
    assert!(
        sent.status.success(),
        "ioam send: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    thread::sleep(Duration::from_millis(500));
    assert!(kill_term(child.id()), "kill -TERM");
    let st = child.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(st.success(), "{rest}");
    let k = final_counters(&rest);
    assert_eq!(k["clt"], 300, "every packet seen: {rest}");
    assert!(k["dropped_queue_full"] > 0, "the queue overflowed: {rest}");
    assert_eq!(
        k["queued"],
        k["exported"]
            + k["dropped_queue_full"]
            + k["failed"]
            + k["rejected"]
            + k["dropped_at_shutdown"],
        "every span is accounted for: {rest}"
    );
    assert_eq!(c.spans().len() as u64, k["exported"]);
}

/// Read the agent's standard error up to its "reading ..." line (the sources
/// are open), or to its end if it exits first.
fn wait_for_reading(err: &mut impl Read) -> String {
    let mut first = String::new();
    let mut one = [0u8; 1];
    while !first.contains("reading ") || !first.ends_with('\n') {
        if err.read(&mut one).unwrap_or(0) != 1 {
            break;
        }
        first.push(one[0] as char);
    }
    thread::sleep(Duration::from_millis(300));
    first
}

#[test]
fn json_protocol_and_local_file_together() {
    let c = Collector::start(vec![]);
    let dir = tmpdir("agent-jsonl");
    let out = dir.join("spans.jsonl");
    let (st, _, err) = agent(
        &["--read", &sample(), "--output", out.to_str().unwrap()],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &c.url()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_SERVICE_NAME", "edge-collector"),
        ],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(
        (k["written"], k["exported"], k["rejected"]),
        (3, 3, 0),
        "{err}"
    );
    let g = c.seen.lock().unwrap();
    assert!(
        g.content_types.iter().all(|t| t == "application/json"),
        "{:?}",
        g.content_types
    );
    let json_spans: usize = g
        .accepted_json
        .iter()
        .map(|v| {
            v["resourceSpans"][0]["scopeSpans"][0]["spans"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(json_spans, 3);
    assert_eq!(
        g.accepted_json[0]["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
        "edge-collector"
    );
    drop(g);
    let lines = std::fs::read_to_string(&out).unwrap();
    let spans: Vec<Value> = common::json_lines(&lines);
    assert_eq!(spans.len(), 3);
    let want = decoded_spans(&sample());
    for (s, (tid, parent)) in spans.iter().zip(&want) {
        assert_eq!(s["traceId"], *tid);
        assert_eq!(s["parentSpanId"], *parent);
        assert_eq!(s["name"], "ioam-span");
    }
}

#[test]
fn otlp_json_output_loads_with_the_official_definitions() {
    // The same encoding as the http/json body, checked by a reader that is
    // not ours: `json_format.Parse` of Python's opentelemetry-proto.
    let dir = tmpdir("agent-otlp-json");
    let out = dir.join("spans.json");
    let (st, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--no-otlp",
            "--format",
            "otlp-json",
            "--output",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(st.success(), "{err}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        1,
        "one batch, one request"
    );
    common::python_otlp_check(&out, 3);
}

#[test]
fn bad_configuration_fails_with_the_reason() {
    let (st, _, err) = agent(
        &["--read", &sample()],
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
    );
    assert!(!st.success());
    assert!(err.contains("gRPC"), "{err}");
    let (st, _, err) = agent(&[], &[]);
    assert!(!st.success());
    assert!(err.contains("no source"), "{err}");
    let (st, _, err) = agent(
        &["--read", "/nonexistent.pcap", "--no-otlp", "-o", "-"],
        &[],
    );
    assert!(!st.success());
    assert!(err.contains("/nonexistent.pcap"), "{err}");
}

#[test]
fn sigterm_flushes_and_exits_zero() {
    if !Path::new("/sys/class/net/lo").exists() {
        common::cannot_run("sigterm_flushes_and_exits_zero", "no loopback interface");
    }
    let c = Collector::start(vec![]);
    let mut child = common::ioam()
        .args([
            "agent",
            "--interface",
            "lo",
            "--otlp-endpoint",
            &c.url(),
            "--stats-interval",
            "0",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let first = wait_for_reading(&mut err);
    if let Ok(Some(st)) = child.try_wait() {
        let mut rest = String::new();
        err.read_to_string(&mut rest).unwrap();
        common::cannot_run(
            "sigterm_flushes_and_exits_zero",
            &format!("the agent exited ({st}): {first}{rest}"),
        );
    }
    let r = kill_term(child.id());
    assert!(r, "kill -TERM");
    let st = child.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(
        st.success(),
        "exit status after SIGTERM: {st}\n{first}\n{rest}"
    );
    let k = final_counters(&rest);
    assert_eq!(k["dropped_at_shutdown"], 0, "{rest}");
}

/// SIGTERM through kill(1), keeping the tests free of unsafe code.
fn kill_term(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn decode_errors_do_not_stop_the_agent() {
    let dir = tmpdir("agent-malformed");
    let pcap = dir.join("random.pcap");
    run_ok(&[
        "craft",
        "--random",
        "--count",
        "300",
        "-o",
        pcap.to_str().unwrap(),
    ]);
    let (st, stdout, err) = agent(
        &[
            "--read",
            pcap.to_str().unwrap(),
            "--no-otlp",
            "-o",
            "-",
            "--strict",
        ],
        &[],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(k["packets"], 300, "{err}");
    assert!(
        k["malformed"] > 0,
        "the random corpus has malformed packets: {err}"
    );
    assert!(
        err.contains("first malformed: "),
        "the first error is printed in full: {err}"
    );
    assert_eq!(stdout.lines().count() as u64, k["written"]);
}

#[test]
fn the_flush_timeout_bounds_retries_at_shutdown() {
    // A collector that answers 503 for ever: at the end of the file the
    // agent retries only until the flush timeout, then counts the loss.
    let c = Collector::start(vec![Reply::Status(503, None); 1000]);
    let t0 = std::time::Instant::now();
    let (st, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--otlp-endpoint",
            &c.url(),
            "--retry-for",
            "600",
            "--flush-timeout",
            "2",
        ],
        &[],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!((k["failed"], k["exported"]), (3, 0), "{err}");
    assert!(k["retried"] >= 1, "{err}");
    assert!(err.contains("HTTP 503"), "{err}");
    // Not a timing assertion on the code's speed: 600 s of retries were
    // allowed, and the run must not have used them.
    assert!(t0.elapsed() < Duration::from_secs(60), "{:?}", t0.elapsed());
}

#[test]
fn missing_capabilities_are_named() {
    // The agent as user nobody (setpriv from util-linux drops root): a copy
    // of the binary that nobody may run.
    if !Path::new("/usr/bin/setpriv").exists() {
        common::cannot_run(
            "missing_capabilities_are_named",
            "/usr/bin/setpriv missing (util-linux)",
        );
    }
    let dir = std::env::temp_dir().join(format!("ioam-nobody-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("ioam");
    std::fs::copy(env!("CARGO_BIN_EXE_ioam"), &bin).unwrap();
    let as_nobody = |args: &[&str]| {
        let out = std::process::Command::new("/usr/bin/setpriv")
            .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .output()
            .unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (st, err) = as_nobody(&["agent", "--interface", "lo", "--no-otlp", "-o", "-"]);
    if err.contains("setpriv:") {
        common::cannot_run(
            "missing_capabilities_are_named",
            &format!("setpriv failed: {err}"),
        );
    }
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("CAP_NET_RAW"), "{err}");
    let (st, err) = as_nobody(&["agent", "--kernel-events", "--no-otlp", "-o", "-"]);
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(
        err.contains("CAP_NET_ADMIN") || err.contains("Linux 6.9"),
        "{err}"
    );
    let (st, _, err) = agent(&["--interface", "nosuch0", "--no-otlp", "-o", "-"], &[]);
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("no such interface"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limits_and_filters() {
    // --count stops after N packets read.
    let (st, stdout, err) = agent(
        &["--read", &sample(), "--no-otlp", "-o", "-", "--count", "2"],
        &[],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!(k["packets"], 2, "{err}");
    assert_eq!(stdout.lines().count() as u64, k["written"]);
    // --namespace keeps only that namespace: the sample is all namespace 123.
    let (st, stdout, err) = agent(
        &[
            "--read",
            &sample(),
            "--no-otlp",
            "-o",
            "-",
            "--namespace",
            "7",
        ],
        &[],
    );
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!((k["clt"], k["filtered"]), (0, 6), "{err}");
    assert_eq!(stdout, "");
    let (_, stdout, err) = agent(
        &[
            "--read",
            &sample(),
            "--no-otlp",
            "-o",
            "-",
            "--namespace",
            "7,123",
        ],
        &[],
    );
    assert_eq!(final_counters(&err)["clt"], 3, "{err}");
    assert_eq!(stdout.lines().count(), 3);
    // Another CLT schema id: the sample's contexts are not found.
    let (_, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--no-otlp",
            "-o",
            "-",
            "--clt-schema-id",
            "0x123456",
        ],
        &[],
    );
    let k = final_counters(&err);
    assert_eq!((k["clt"], k["no_context"]), (0, 6), "{err}");
}

#[test]
fn duration_stops_a_live_agent_by_itself() {
    let t0 = std::time::Instant::now();
    let (st, _, err) = agent(
        &[
            "--interface",
            "lo",
            "--no-otlp",
            "-o",
            "-",
            "--duration",
            "1",
        ],
        &[],
    );
    if err.contains("CAP_NET_RAW") {
        common::cannot_run("duration_stops_a_live_agent_by_itself", &err);
    }
    assert!(st.success(), "{err}");
    assert!(final_counters(&err).contains_key("packets"), "{err}");
    // Not a speed assertion: it must not wait for a signal that never comes.
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
}

/// The status lines of a process (`Uid:`, `Gid:`, `CapEff:`, ...).
fn proc_status(pid: u32, key: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("{key} missing from /proc/{pid}/status"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn user_drops_root_before_parsing_and_capture_still_works() {
    // Started as root (CI), the agent opens its capture and netlink sockets,
    // then becomes nobody: no capability left, and the open sockets still
    // deliver packets.
    let mut child = common::ioam()
        .args([
            "agent",
            "--interface",
            "lo",
            "--kernel-events",
            "--user",
            "nobody",
            "--no-otlp",
            "--output",
            "-",
            "--stats-interval",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let first = wait_for_reading(&mut err);
    if let Ok(Some(st)) = child.try_wait() {
        let mut rest = String::new();
        err.read_to_string(&mut rest).unwrap();
        common::cannot_run(
            "user_drops_root_before_parsing_and_capture_still_works",
            &format!("the agent exited ({st}): {first}{rest}"),
        );
    }
    assert!(
        first.contains("running as nobody (uid 65534, gid 65534)"),
        "{first}"
    );
    let pid = child.id();
    assert_eq!(proc_status(pid, "Uid:"), "65534 65534 65534 65534");
    assert_eq!(proc_status(pid, "Gid:"), "65534 65534 65534 65534");
    assert_eq!(proc_status(pid, "Groups:"), "65534");
    assert_eq!(proc_status(pid, "CapEff:"), "0000000000000000");
    assert_eq!(proc_status(pid, "CapPrm:"), "0000000000000000");

    let sink = std::net::UdpSocket::bind("[::1]:0").unwrap();
    let to = format!("[::1]:{}", sink.local_addr().unwrap().port());
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let sent = run(
        &["send", "--to", &to, "--traceparent", tp, "--count", "5"],
        None,
    );
    assert!(
        sent.status.success(),
        "ioam send: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    thread::sleep(Duration::from_millis(500));
    assert!(kill_term(pid), "kill -TERM");
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(out.status.success(), "{rest}");
    let k = final_counters(&rest);
    assert_eq!(
        k["clt"], 5,
        "the sockets opened as root still deliver: {rest}"
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    assert_eq!(lines.lines().count(), 5, "{lines}");
}

#[test]
fn user_errors_are_named() {
    let (st, _, err) = agent(
        &[
            "--read",
            &sample(),
            "--no-otlp",
            "-o",
            "-",
            "--user",
            "no-such-user-ioam",
        ],
        &[],
    );
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(
        err.contains("--user no-such-user-ioam: no such user"),
        "{err}"
    );
}

/// A certificate authority and a `localhost` server certificate it signed,
/// made with the openssl command: `(ca.pem, cert.pem, key.pem)`.
fn tls_files(dir: &Path) -> (String, String, String) {
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
            Err(e) => {
                common::cannot_run("https_endpoint_with_a_private_ca", &format!("openssl: {e}"))
            }
        }
    };
    let ext = p("leaf.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=ioam test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("key.pem"),
        "-out",
        &p("leaf.csr"),
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("leaf.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-out",
        &p("cert.pem"),
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

/// An HTTPS OTLP receiver (Python's ssl module) that answers 200 and
/// prints one line per request; returns the child and its port.
fn https_receiver(cert: &str, key: &str) -> (std::process::Child, u16) {
    let script = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        print("request", self.path, n, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("port", srv.server_address[1], flush=True)
srv.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, cert, key])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            common::cannot_run("https_endpoint_with_a_private_ca", &format!("python3: {e}"))
        });
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("port ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("receiver said {line:?}"));
    (child, port)
}

#[test]
fn https_endpoint_with_a_private_ca() {
    let dir = tmpdir("agent-tls");
    let (ca, cert, key) = tls_files(&dir);
    let (mut rx, port) = https_receiver(&cert, &key);
    let url = format!("https://localhost:{port}");
    let base = [
        "--read",
        &sample(),
        "--otlp-endpoint",
        &url,
        "--retry-for",
        "1",
    ];

    // Trusted through --otlp-ca, and through the OpenTelemetry variable.
    let (st, _, err) = agent(&[&base[..], &["--otlp-ca", &ca]].concat(), &[]);
    assert!(st.success(), "{err}");
    assert_eq!(final_counters(&err)["exported"], 3, "{err}");
    let (st, _, err) = agent(&base, &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str())]);
    assert!(st.success(), "{err}");
    assert_eq!(final_counters(&err)["exported"], 3, "{err}");

    // Mozilla's roots do not know this CA: nothing exported, all counted.
    let (st, _, err) = agent(&base, &[]);
    assert!(st.success(), "{err}");
    let k = final_counters(&err);
    assert_eq!((k["exported"], k["failed"]), (0, 3), "{err}");

    // A CA file that is not one is refused before anything runs.
    let (st, _, err) = agent(&[&base[..], &["--otlp-ca", &key]].concat(), &[]);
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("no CERTIFICATE block"), "{err}");
    let (st, _, err) = agent(
        &[&base[..], &["--otlp-ca", "/nonexistent/ca.pem"]].concat(),
        &[],
    );
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("CA file /nonexistent/ca.pem"), "{err}");
    let _ = rx.kill();
    let _ = rx.wait();
}

#[test]
fn netlink_overruns_are_counted_and_the_agent_goes_on() {
    // A network namespace whose loopback has IOAM on: every packet `ioam
    // send` puts through it gives a kernel IOAM6 event. The agent is stopped
    // (SIGSTOP) while 40,000 of them arrive, more than its socket buffer
    // holds: the kernel reports ENOBUFS, the agent counts it and reads on.
    let ns = format!("ioam-enobufs-{}", std::process::id());
    let ip = |args: &[&str]| {
        let out = std::process::Command::new("ip").args(args).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => common::cannot_run(
                "netlink_overruns_are_counted_and_the_agent_goes_on",
                &format!("ip {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
            ),
            Err(e) => common::cannot_run(
                "netlink_overruns_are_counted_and_the_agent_goes_on",
                &format!("ip: {e}"),
            ),
        }
    };
    ip(&["netns", "add", &ns]);
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", &self.0])
                .status();
        }
    }
    let _cleanup = Cleanup(ns.clone());
    ip(&["-n", &ns, "link", "set", "lo", "up"]);
    ip(&[
        "netns",
        "exec",
        &ns,
        "sysctl",
        "-qw",
        "net.ipv6.conf.lo.ioam6_enabled=1",
    ]);
    ip(&["-n", &ns, "ioam", "namespace", "add", "123"]);

    let mut child = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_ioam"),
            "agent",
            "--kernel-events",
        ])
        .args([
            "--no-otlp",
            "--output",
            "/dev/null",
            "--stats-interval",
            "0",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let first = wait_for_reading(&mut err);
    assert!(first.contains("kernel IOAM6 events"), "{first}");
    // `ip netns exec` execs the agent, so the child's pid is the agent's.
    let pid = child.id().to_string();
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success())
    };
    signal("-STOP");
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let sent = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_ioam"),
            "send",
            "--to",
            "[::1]:9",
        ])
        .args([
            "--ns",
            "123",
            "--traceparent",
            tp,
            "--count",
            "40000",
            "--interval-ms",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    signal("-CONT");
    thread::sleep(Duration::from_millis(1500));
    // Events after the overrun still arrive.
    let more = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_ioam"),
            "send",
            "--to",
            "[::1]:9",
        ])
        .args([
            "--ns",
            "123",
            "--traceparent",
            tp,
            "--count",
            "10",
            "--interval-ms",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(more.status.success());
    thread::sleep(Duration::from_millis(500));
    signal("-TERM");
    let st = child.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(st.success(), "{rest}");
    assert!(rest.contains("overflowed (ENOBUFS)"), "{rest}");
    let k = final_counters(&rest);
    assert!(k["netlink_overruns"] >= 1, "{rest}");
    assert!(k["events"] < 40_010, "some events were lost: {rest}");
    assert!(
        k["events"] >= 10,
        "events after the overrun were read: {rest}"
    );
    assert_eq!(
        k["events"], k["clt"],
        "every event read became a span: {rest}"
    );
    assert_eq!(k["clt"], k["written"], "every span was written: {rest}");
}
