//! `ioam decode --format otlp-json`: the request shape, checked here, and
//! loading with the official OpenTelemetry protobuf definitions, checked by
//! tests/otlp_check.py (Python `opentelemetry-proto`).

mod common;

use common::{run_ok, s, tmpdir, TRACE_ID};
use serde_json::Value;

fn spans(doc: &Value) -> Vec<Value> {
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn sample_capture_exports_one_span_per_clt_tagged_packet() {
    let out = run_ok(&["decode", "--format", "otlp-json", "-q"]);
    assert_eq!(out.lines().count(), 1, "one request per run");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let json: Vec<Value> = common::json_lines(&run_ok(&["decode", "--format", "json", "-q"]));
    // The packets whose trace carries a CLT context, in capture order.
    let tagged: Vec<&Value> = json
        .iter()
        .map(|p| &p["ioam"][0])
        .filter(|o| o.get("clt").is_some())
        .collect();
    let spans = spans(&doc);
    assert_eq!(spans.len(), tagged.len());
    assert_eq!(spans.len(), 3);
    let mut ids = std::collections::BTreeSet::new();
    for (span, o) in spans.iter().zip(&tagged) {
        assert_eq!(span["name"], "ioam-span");
        assert_eq!(span["traceId"], TRACE_ID);
        assert_eq!(span["parentSpanId"], o["clt"]["span_id"]);
        let sid = span["spanId"].as_str().unwrap();
        assert_eq!(sid.len(), 16);
        assert_ne!(sid, "0000000000000000");
        assert!(ids.insert(sid.to_string()), "span ids are distinct");
        let start: u64 = span["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let end: u64 = span["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
        assert!(start > 1_600_000_000_000_000_000 && end >= start);
        let attrs = span["attributes"].as_array().unwrap();
        let nodes = o["nodes"].as_array().unwrap();
        assert_eq!(attrs.len(), nodes.len());
        for (i, (a, n)) in attrs.iter().zip(nodes).enumerate() {
            assert_eq!(a["key"], format!("ioam_namespace123_node{}", i + 1));
            let v = a["value"]["stringValue"].as_str().unwrap();
            // The CLT reference collector: "HopLimit=<d>; Id=<d>; " first, each item ends "; ".
            let head = format!(
                "HopLimit={}; Id={}; ",
                n["hop_limit"].as_u64().unwrap(),
                n["node_id"].as_u64().unwrap()
            );
            assert!(v.starts_with(&head), "{v}");
            assert!(v.ends_with("; "), "{v}");
        }
    }
    // Deterministic: a second run gives the same request.
    assert_eq!(run_ok(&["decode", "--format", "otlp-json", "-q"]), out);
}

#[test]
fn span_times_come_from_the_ioam_timestamps() {
    // Type 0xf00002: timestamps (bits 2, 3) in every record; craft writes
    // secs = --time, frac = 1000 * packet + 10 * hop microseconds.
    let dir = tmpdir("otlp-times");
    let p = dir.join("t.pcap");
    run_ok(&[
        "craft",
        "-o",
        s(&p),
        "--trace-type",
        "0xf00002",
        "--traceparent",
        common::TRACEPARENT,
        "--hops",
        "2",
        "--time",
        "1700000000",
    ]);
    let doc: Value =
        serde_json::from_str(&run_ok(&["decode", "--format", "otlp-json", "-q", s(&p)])).unwrap();
    let span = &spans(&doc)[0];
    assert_eq!(span["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(span["endTimeUnixNano"], "1700000000000020000");
}

#[test]
fn export_loads_with_the_opentelemetry_protobuf_definitions() {
    let dir = tmpdir("otlp-proto");
    let sample = dir.join("sample.json");
    std::fs::write(&sample, run_ok(&["decode", "--format", "otlp-json", "-q"])).unwrap();
    common::python_otlp_check(&sample, 3);

    // A crafted capture with many hops and every field, and an empty export.
    let p = dir.join("c.pcap");
    run_ok(&[
        "craft",
        "-o",
        s(&p),
        "--trace-type",
        "0xfff002",
        "--traceparent",
        common::TRACEPARENT,
        "--hops",
        "1",
        "--count",
        "5",
    ]);
    let crafted = dir.join("crafted.json");
    std::fs::write(
        &crafted,
        run_ok(&["decode", "--format", "otlp-json", "-q", s(&p)]),
    )
    .unwrap();
    common::python_otlp_check(&crafted, 5);

    let q = dir.join("none.pcap");
    run_ok(&["craft", "-o", s(&q), "--trace-type", "0x800000"]);
    let empty = dir.join("empty.json");
    std::fs::write(
        &empty,
        run_ok(&["decode", "--format", "otlp-json", "-q", s(&q)]),
    )
    .unwrap();
    common::python_otlp_check(&empty, 0);
}
