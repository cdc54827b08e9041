//! `ioam decode` on the capture recorded from real Linux IOAM routers
//! (data/sample-linux.pcap, written by `interop/run.py --record-sample`).
//!
//! The expected values are the configuration of the interop topology
//! (interop/netns.py `Topology.default_routers`, interop/run.py
//! `record_sample`), not the tool's own output: three routers r1..r3 with
//! node ids 0x0a000k, interface ids k01/k02, wide ids 0x0a00000000aa0k,
//! interface wide ids 0x0b000k01/0x0b000k02, namespace data 0xdk00000k and
//! wide 0xdkdk00000000000k, r3 with schema 0x5eed bound ("r3data"); the
//! sender writes its own record first with hop limit 64.

mod common;

use common::{json_lines, run, run_ok, TRACE_ID};
use serde_json::Value;

/// Trace types of the six sample packets, in order (interop/run.py).
const TYPES: [u32; 6] = [0x800000, 0xc00000, 0xfff000, 0x800002, 0xfff002, 0x800002];

fn bit(tt: u32, k: u32) -> bool {
    tt & (1 << (23 - k)) != 0
}

fn router_checks(node: &Value, r: u64, tt: u32, capture_secs: i64) {
    let ctx = format!("router r{r}: {node}");
    assert_eq!(node["hop"], r + 1, "{ctx}");
    if bit(tt, 0) {
        // Linux writes the received hop limit minus one.
        assert_eq!(node["hop_limit"], 64 - r, "{ctx}");
        assert_eq!(node["node_id"], 0x0a_0000 + r, "{ctx}");
    }
    if bit(tt, 1) {
        assert_eq!(node["ingress_if_id"], r * 100 + 1, "{ctx}");
        assert_eq!(node["egress_if_id"], r * 100 + 2, "{ctx}");
    }
    if bit(tt, 2) {
        let secs = node["timestamp_secs"].as_i64().unwrap();
        assert!((secs - capture_secs).abs() <= 2, "{ctx}");
    }
    if bit(tt, 3) {
        // POSIX format: microseconds.
        assert!(
            node["timestamp_frac"].as_u64().unwrap() < 1_000_000,
            "{ctx}"
        );
    }
    if bit(tt, 4) {
        assert_eq!(node["transit_delay"], 0xffff_ffffu64, "{ctx}");
    }
    if bit(tt, 5) {
        let v = 0xd000_0000u64 | (r << 24) | r;
        assert_eq!(node["namespace_data"], format!("0x{v:08x}"), "{ctx}");
    }
    if bit(tt, 7) {
        assert_eq!(node["checksum_complement"], 0xffff_ffffu64, "{ctx}");
    }
    if bit(tt, 8) {
        assert_eq!(node["hop_limit_wide"], 64 - r, "{ctx}");
        assert_eq!(node["node_id_wide"], 0x0a_0000_0000_aa00 + r, "{ctx}");
    }
    if bit(tt, 9) {
        assert_eq!(node["ingress_if_id_wide"], 0x0b00_0001 + r * 0x100, "{ctx}");
        assert_eq!(node["egress_if_id_wide"], 0x0b00_0002 + r * 0x100, "{ctx}");
    }
    if bit(tt, 10) {
        let d = 0xd0 + r;
        let v = (d << 56) | (d << 48) | r;
        assert_eq!(node["namespace_data_wide"], format!("0x{v:016x}"), "{ctx}");
    }
    if bit(tt, 11) {
        assert_eq!(node["buffer_occupancy"], 0xffff_ffffu64, "{ctx}");
    }
    if bit(tt, 22) {
        if r == 3 {
            assert_eq!(node["oss"]["schema_id"], 0x5eed, "{ctx}");
            // "r3data", zero-padded to a word by the kernel.
            assert_eq!(node["oss"]["data"], "7233646174610000", "{ctx}");
        } else {
            assert_eq!(node["oss"]["schema_id"], 0xff_ffff, "{ctx}");
            assert_eq!(node["oss"]["data"], "", "{ctx}");
        }
    } else {
        assert!(node.get("oss").is_none(), "{ctx}");
    }
    // Keys appear only for the bits of the trace type.
    for (k, key) in [
        (1, "ingress_if_id"),
        (6, "queue_depth"),
        (9, "egress_if_id_wide"),
    ] {
        assert_eq!(node.get(key).is_some(), bit(tt, k), "{ctx}: {key}");
    }
}

fn capture_secs(p: &Value) -> i64 {
    // "YYYY-MM-DDTHH:MM:SS..." -> seconds, checked against the node timestamps.
    let t = p["time"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.len() >= 20, "{t}");
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (H. Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

#[test]
fn sample_capture_json_matches_the_interop_topology() {
    let out = run_ok(&["decode", "--format", "json", "-q"]);
    let packets = json_lines(&out);
    assert_eq!(packets.len(), TYPES.len());
    for (i, p) in packets.iter().enumerate() {
        let tt = TYPES[i];
        assert_eq!(p["frame"], i as u64 + 1);
        assert_eq!(p["src"], "2001:db8:1::1");
        assert_eq!(p["dst"], "2001:db8:4::2");
        assert_eq!(p["errors"], serde_json::json!([]));
        let opts = p["ioam"].as_array().unwrap();
        assert_eq!(opts.len(), 1);
        let o = &opts[0];
        assert_eq!(o["header"], "hop-by-hop");
        assert_eq!(o["option_type"], 0x31);
        assert_eq!(o["ioam_type"], "preallocated-trace");
        assert_eq!(o["ioam_type_value"], 0);
        assert_eq!(o["namespace_id"], 123);
        assert_eq!(o["trace_type"], format!("0x{tt:06x}"));
        assert_eq!(o["errors"], serde_json::json!([]));
        let overflow = i >= 4;
        assert_eq!(o["flags"]["overflow"], overflow, "packet {}", i + 1);
        assert_eq!(o["flags"]["loopback"], false);
        assert_eq!(o["flags"]["active"], false);
        let nodes = o["nodes"].as_array().unwrap();
        // Originator + r1..r3, except where the trace overflowed (sizing,
        // RFC 9197 §4.4.1: 0xfff002 holds the originator and 2 hops; packet 6 was
        // sized for the originator and r1).
        let expected_nodes = match i {
            4 => 3,
            5 => 2,
            _ => 4,
        };
        assert_eq!(nodes.len(), expected_nodes, "packet {}", i + 1);
        assert_eq!(nodes[0]["hop"], 1);
        if bit(tt, 0) {
            assert_eq!(nodes[0]["hop_limit"], 64);
        }
        let secs = capture_secs(p);
        for (r, node) in nodes.iter().enumerate().skip(1) {
            router_checks(node, r as u64, tt, secs);
        }
        if bit(tt, 22) {
            let clt = &o["clt"];
            let span = match i {
                5 => 0x00f0_67aa_0ba9_0209u64,
                _ => 0x00f0_67aa_0ba9_0200 + i as u64 + 1,
            };
            assert_eq!(clt["trace_id"], TRACE_ID);
            assert_eq!(clt["span_id"], format!("{span:016x}"));
            assert_eq!(clt["trace_flags"], 1);
            assert_eq!(clt["encoding"], "opaque-state");
            assert_eq!(clt["traceparent"], format!("00-{TRACE_ID}-{span:016x}-01"));
            // The originator's snapshot holds the same ids (CLT opaque state, schema v1).
            let oss = &nodes[0]["oss"];
            assert_eq!(oss["schema_id"], 0x43_4c54);
            assert_eq!(oss["data"], format!("{TRACE_ID}{span:016x}01000000"));
        } else {
            assert!(o.get("clt").is_none());
        }
    }
}

#[test]
fn sample_capture_text() {
    let out = run(&["decode"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("frame 1  "), "{text}");
    assert!(text.contains("2001:db8:1::1 -> 2001:db8:4::2"));
    assert!(text.contains("hop-by-hop option 0x31: IOAM preallocated-trace (0), namespace 123"));
    assert!(text.contains(&format!("traceparent 00-{TRACE_ID}-00f067aa0ba90204-01")));
    assert!(text.contains("hops (path order):"));
    assert!(text.contains("flags overflow"));
    // The summary goes to standard error.
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("6 packets read, 6 with IOAM, 0 malformed"),
        "{err}"
    );
    assert!(!text.contains("packets read"));
}

#[test]
fn sample_capture_override_by_environment() {
    let dir = common::tmpdir("sample-env");
    let p = dir.join("one.pcap");
    run_ok(&["craft", "-o", common::s(&p), "--count", "2"]);
    let out = common::ioam()
        .args(["decode", "--format", "json", "-q"])
        .env("IOAM_SAMPLE_CAPTURE", &p)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 2);
}

#[test]
fn json_lines_name_the_file_when_there_are_several() {
    let dir = common::tmpdir("json-file-key");
    let a = dir.join("a.pcap");
    let b = dir.join("b.pcap");
    let tp = common::TRACEPARENT;
    common::run_ok(&[
        "craft",
        "--count",
        "2",
        "--traceparent",
        tp,
        "-o",
        a.to_str().unwrap(),
    ]);
    common::run_ok(&[
        "craft",
        "--count",
        "3",
        "--traceparent",
        tp,
        "-o",
        b.to_str().unwrap(),
    ]);
    let out = common::run_ok(&[
        "decode",
        "-q",
        "-f",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let lines = common::json_lines(&out);
    let files: Vec<&str> = lines.iter().map(|l| l["file"].as_str().unwrap()).collect();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(files, vec![a, a, b, b, b]);
    let one = common::run_ok(&["decode", "-q", "-f", "json", a]);
    assert!(common::json_lines(&one)
        .iter()
        .all(|l| l.get("file").is_none()));
}

/// ioam-trace's packaged tests carry their own copy of the sample (a crate
/// cannot read files outside itself); the two must stay the same bytes.
#[test]
fn ioam_trace_test_copy_is_the_sample() {
    let here = include_bytes!("../../data/sample-linux.pcap");
    let copy = include_bytes!("../../ioam-trace/tests/data/sample-linux.pcap");
    assert!(
        here[..] == copy[..],
        "ioam-trace/tests/data/sample-linux.pcap differs from data/sample-linux.pcap: \
         copy it again (interop/run.py --record-sample writes both)"
    );
}
