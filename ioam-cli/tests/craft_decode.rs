//! `ioam craft` then `ioam decode`: every link type and container, every
//! input kind, the random corpus, legacy CLT, strict and lenient modes, and
//! inputs that are not captures.

mod common;

use common::{json_lines, read_pcap, run, run_ok, s, tmpdir, SPAN_ID, TRACEPARENT, TRACE_ID};
use serde_json::{json, Value};

/// Craft the reference trace: namespace 7, type 0xc00002 (hop limit + node
/// id, interface ids, opaque state), the originator (node 1) and hops 10,
/// 20, 30, CLT context from TRACEPARENT.
fn craft_reference(path: &str, extra: &[&str]) {
    let mut args = vec![
        "craft",
        "-o",
        path,
        "--ns",
        "7",
        "--trace-type",
        "0xc00002",
        "--traceparent",
        TRACEPARENT,
        "--hops",
        "3",
        "--node-id",
        "10,20,30",
        "--count",
        "2",
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
}

fn check_reference(packets: &[Value]) {
    assert_eq!(packets.len(), 2);
    for (i, p) in packets.iter().enumerate() {
        assert_eq!(p["frame"], i as u64 + 1);
        assert_eq!(p["src"], "2001:db8::1");
        assert_eq!(p["dst"], "2001:db8::2");
        assert_eq!(p["errors"], json!([]));
        let o = &p["ioam"][0];
        assert_eq!(o["namespace_id"], 7);
        assert_eq!(o["trace_type"], "0xc00002");
        assert_eq!(o["node_len"], 2);
        // Sized exactly for the four records: nothing left, no overflow.
        assert_eq!(o["remaining_len"], 0);
        assert_eq!(o["flags"]["overflow"], false);
        let nodes = o["nodes"].as_array().unwrap();
        let ids: Vec<u64> = nodes
            .iter()
            .map(|n| n["node_id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, [1, 10, 20, 30]);
        let hl: Vec<u64> = nodes
            .iter()
            .map(|n| n["hop_limit"].as_u64().unwrap())
            .collect();
        assert_eq!(hl, [64, 63, 62, 61]);
        // Transit hop j writes ingress j01, egress j02 (craft's simulated ids).
        for (j, n) in nodes.iter().enumerate().skip(1) {
            assert_eq!(n["ingress_if_id"], j as u64 * 100 + 1);
            assert_eq!(n["egress_if_id"], j as u64 * 100 + 2);
            assert_eq!(n["oss"], json!({"schema_id": 0xff_ffff, "data": ""}));
        }
        assert_eq!(nodes[0]["oss"]["schema_id"], 0x43_4c54);
        assert_eq!(o["clt"]["trace_id"], TRACE_ID);
        assert_eq!(o["clt"]["span_id"], SPAN_ID);
        assert_eq!(o["clt"]["traceparent"], TRACEPARENT);
        assert_eq!(o["clt"]["encoding"], "opaque-state");
    }
}

/// `ioam decode --format json`; the exit status must be 0, or 3 exactly
/// when a reported packet is malformed.
fn decode_json(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["decode", "--format", "json", "-q"];
    a.extend_from_slice(args);
    let out = run(&a, None);
    let packets = json_lines(&String::from_utf8(out.stdout).unwrap());
    let malformed = packets.iter().any(|p| {
        p["errors"].as_array().is_some_and(|e| !e.is_empty())
            || p["ioam"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["errors"].as_array().is_some_and(|e| !e.is_empty()))
    });
    let want = if malformed { 3 } else { 0 };
    assert_eq!(
        out.status.code(),
        Some(want),
        "ioam {a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    packets
}

#[test]
fn every_link_type_and_container() {
    let dir = tmpdir("linktypes");
    // (craft --linktype, extra args, LINKTYPE_ value)
    let cases: &[(&str, &[&str], u32)] = &[
        ("raw", &[], 101),
        ("ipv6", &[], 229),
        ("ethernet", &[], 1),
        ("ethernet", &["--vlan", "100"], 1),
        ("null", &[], 0),
        ("loop", &[], 108),
        ("sll", &[], 113),
        ("sll2", &[], 276),
    ];
    let mut baseline: Option<Vec<Value>> = None;
    for (lt, extra, value) in cases {
        for pcapng in [false, true] {
            let name = format!("{lt}-{}-{}.cap", extra.len(), pcapng);
            let p = dir.join(&name);
            let mut args = vec!["--linktype", lt];
            args.extend_from_slice(extra);
            if pcapng {
                args.push("--pcapng");
            }
            craft_reference(s(&p), &args);
            let bytes = std::fs::read(&p).unwrap();
            if pcapng {
                assert_eq!(&bytes[..4], &[0x0a, 0x0d, 0x0d, 0x0a], "{name}");
                // Link type of the first Interface Description Block.
                let idb = 28;
                assert_eq!(
                    u16::from_le_bytes([bytes[idb + 8], bytes[idb + 9]]) as u32,
                    *value
                );
            } else {
                let (file_lt, recs) = read_pcap(&bytes);
                assert_eq!(file_lt, *value, "{name}");
                assert_eq!(recs.len(), 2);
                if !extra.is_empty() {
                    // 802.1Q tag between the MAC addresses and the EtherType.
                    assert_eq!(&recs[0][12..16], &[0x81, 0x00, 0x00, 100]);
                }
            }
            let packets = decode_json(&[s(&p)]);
            check_reference(&packets);
            let ioam: Vec<Value> = packets.iter().map(|p| p["ioam"].clone()).collect();
            match &baseline {
                None => baseline = Some(ioam),
                Some(b) => assert_eq!(&ioam, b, "{name} decodes differently"),
            }
        }
    }
}

#[test]
fn stdin_hex_and_several_files() {
    let dir = tmpdir("inputs");
    let p = dir.join("ref.pcap");
    craft_reference(s(&p), &[]);
    let bytes = std::fs::read(&p).unwrap();

    let out = run(&["decode", "--format", "json", "-q", "-"], Some(&bytes));
    assert!(out.status.success());
    check_reference(&json_lines(&String::from_utf8(out.stdout).unwrap()));

    // One packet in hex, with spaces: the first record of the raw capture.
    let (_, recs) = read_pcap(&bytes);
    let hex: Vec<String> = recs[0].iter().map(|b| format!("{b:02x}")).collect();
    let packets = decode_json(&["--hex", &hex.join(" ")]);
    assert_eq!(packets.len(), 1);
    assert!(packets[0].get("time").is_none());
    assert_eq!(packets[0]["ioam"][0]["clt"]["traceparent"], TRACEPARENT);

    // Two files: frames numbered per file, summary per file and in total.
    let out = run(&["decode", "--format", "json", s(&p), s(&p)], None);
    assert!(out.status.success());
    let packets = json_lines(&String::from_utf8(out.stdout).unwrap());
    let frames: Vec<u64> = packets
        .iter()
        .map(|p| p["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, [1, 2, 1, 2]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("total: 4 packets read, 4 with IOAM, 0 malformed"),
        "{err}"
    );
}

#[test]
fn inputs_that_are_not_captures_fail_with_one_line() {
    let dir = tmpdir("bad-inputs");
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello, not a capture\n").unwrap();
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let good = dir.join("good.pcap");
    craft_reference(s(&good), &[]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 5]).unwrap();
    let header_only = dir.join("header.pcap");
    std::fs::write(&header_only, &bytes[..10]).unwrap();

    // A pcap of a link type the tool does not read (105, IEEE 802.11).
    let wifi = dir.join("wifi.pcap");
    let mut w = bytes.clone();
    w[20..24].copy_from_slice(&105u32.to_le_bytes());
    std::fs::write(&wifi, &w).unwrap();
    let missing = dir.join("missing.pcap");
    for (path, want) in [
        (&text, "not a pcap or pcapng capture"),
        (&empty, "the input is empty"),
        (&missing, "No such file"),
        (&cut, "capture truncated: pcap record"),
        (&header_only, "pcap file header"),
        (&wifi, "unsupported link type 105"),
    ] {
        let out = run(&["decode", "--format", "json", "-q", s(path)], None);
        assert_eq!(out.status.code(), Some(1), "{path:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("ioam: ") && err.contains(want), "{err}");
    }
    // A capture cut by a snap length: the errors say so.
    let snapped = dir.join("snapped.pcap");
    let mut b = bytes[..24].to_vec();
    let rec = &bytes[24..];
    let caplen = 60u32; // IPv6 header and part of the Hop-by-Hop header
    b.extend_from_slice(&rec[..8]);
    b.extend_from_slice(&caplen.to_le_bytes());
    b.extend_from_slice(&rec[12..16]);
    b.extend_from_slice(&rec[16..16 + caplen as usize]);
    std::fs::write(&snapped, &b).unwrap();
    let packets = decode_json(&[s(&snapped)]);
    let msg = packets[0]["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("only 60 of the"), "{msg}");
    // Without -q too: no summary when nothing could be read.
    let out = run(&["decode", s(&text)], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
    // Frames before the truncation are still decoded.
    let out = run(&["decode", "--format", "json", "-q", s(&cut)], None);
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 1);
    // Bad hex is a one-line error too.
    let out = run(&["decode", "--hex", "60 0"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("odd number of hex digits"));
}

#[test]
fn random_corpus_is_reproducible_and_never_crashes_the_decoder() {
    let dir = tmpdir("random");
    let a = dir.join("a.pcap");
    let b = dir.join("b.pcap");
    let c = dir.join("c.pcap");
    for (p, seed) in [(&a, "9"), (&b, "9"), (&c, "10")] {
        run_ok(&[
            "craft",
            "--random",
            "--seed",
            seed,
            "--count",
            "300",
            "-o",
            s(p),
        ]);
    }
    let (ba, bb, bc) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
    );
    assert_eq!(ba, bb, "same seed, same bytes");
    assert_ne!(ba, bc);
    let (_, recs) = read_pcap(&ba);
    assert_eq!(recs.len(), 300);

    for mode in ["--strict", "--lenient"] {
        let out = run(&["decode", "--format", "json", mode, s(&a)], None);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{mode}: malformed packets are decoded and reported, exit status 3"
        );
        let ok = run(
            &["decode", "--format", "json", "--malformed-ok", mode, s(&a)],
            None,
        );
        assert_eq!(ok.status.code(), Some(0), "{mode} --malformed-ok");
        assert_eq!(ok.stdout, out.stdout, "the same report either way");
        let packets = json_lines(&String::from_utf8(out.stdout).unwrap());
        let mut types = std::collections::BTreeSet::new();
        let mut malformed = 0;
        for p in &packets {
            let frame = p["frame"].as_u64().unwrap() as usize;
            let len = recs[frame - 1].len() as u64;
            let mut errors: Vec<&Value> = p["errors"].as_array().unwrap().iter().collect();
            for o in p["ioam"].as_array().unwrap() {
                types.insert(o["ioam_type"].as_str().unwrap().to_string());
                errors.extend(o["errors"].as_array().unwrap());
            }
            if !errors.is_empty() {
                malformed += 1;
            }
            for e in errors {
                // Offsets are absolute in the packet and point inside it
                // (or at its end, for a truncation).
                assert!(e["offset"].as_u64().unwrap() <= len, "frame {frame}: {e}");
                assert!(!e["message"].as_str().unwrap().is_empty());
            }
        }
        for t in [
            "preallocated-trace",
            "incremental-trace",
            "pot",
            "e2e",
            "dex",
            "integrity-pot",
            "unknown",
        ] {
            assert!(types.contains(t), "{mode}: no {t} in {types:?}");
        }
        assert!(
            malformed >= 100,
            "{mode}: only {malformed} malformed packets"
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("300 packets read"), "{err}");
        assert!(err.contains(&format!("{malformed} malformed")), "{err}");
    }
}

#[test]
fn legacy_clt_header_is_decoded_only_when_asked() {
    let dir = tmpdir("legacy");
    let p = dir.join("legacy.pcap");
    run_ok(&[
        "craft",
        "-o",
        s(&p),
        "--ns",
        "9",
        "--trace-type",
        "0x800000",
        "--traceparent",
        TRACEPARENT,
        "--legacy-clt",
        "--hops",
        "2",
    ]);
    let packets = decode_json(&["--legacy-clt-ns", "9", s(&p)]);
    let o = &packets[0]["ioam"][0];
    assert_eq!(o["errors"], json!([]));
    assert_eq!(o["clt"]["encoding"], "legacy-header");
    assert_eq!(o["clt"]["trace_id"], TRACE_ID);
    assert_eq!(o["clt"]["span_id"], SPAN_ID);
    let ids: Vec<u64> = o["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    // Without the flag the 24 id bytes are read as node data: no CLT context.
    let packets = decode_json(&[s(&p)]);
    assert!(packets[0]["ioam"][0].get("clt").is_none());
}

#[test]
fn strict_and_lenient_node_len() {
    let dir = tmpdir("modes");
    let p = dir.join("m.pcap");
    run_ok(&[
        "craft",
        "-o",
        s(&p),
        "--trace-type",
        "0x800000",
        "--hops",
        "3",
    ]);
    let (_, recs) = read_pcap(&std::fs::read(&p).unwrap());
    let mut pkt = recs[0].clone();
    // Linux layout: IPv6 (40) | NH HEL 01 00 | 31 LEN 00 00 | trace body at 48.
    assert_eq!(&pkt[42..46], &[0x01, 0x00, 0x31, 8 + 16 + 2]);
    // NodeLen 1 -> 2: records are read two words at a time.
    pkt[48 + 2] = (pkt[48 + 2] & 0x07) | (2 << 3);
    let hex: String = pkt.iter().map(|b| format!("{b:02x}")).collect();

    let strict = decode_json(&["--hex", &hex]);
    let e = &strict[0]["ioam"][0]["errors"][0];
    assert_eq!(e["offset"], 50, "{e}");
    assert!(e["message"].as_str().unwrap().contains("NodeLen 2"), "{e}");

    let lenient = decode_json(&["--lenient", "--hex", &hex]);
    let o = &lenient[0]["ioam"][0];
    assert_eq!(o["errors"], json!([]));
    assert_eq!(o["nodes"].as_array().unwrap().len(), 2);
}

#[test]
fn craft_reports_bad_parameters() {
    let dir = tmpdir("craft-bad");
    let p = dir.join("x.pcap");
    for (args, want) in [
        (
            vec!["--trace-type", "0x800000", "--traceparent", TRACEPARENT],
            "bit 22",
        ),
        (vec!["--trace-type", "0x000800"], "trace type 0x000800"),
        (vec!["--space", "6"], "multiple of 4"),
        (vec!["--traceparent", "00-xyz"], "--traceparent"),
        (vec!["--vlan", "5"], "--vlan needs --linktype ethernet"),
    ] {
        let mut a = vec!["craft", "-o", s(&p)];
        a.extend_from_slice(&args);
        let out = run(&a, None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn standard_input_is_decoded_as_it_arrives() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let dir = tmpdir("live");
    let p = dir.join("ref.pcap");
    craft_reference(s(&p), &[]);
    let bytes = std::fs::read(&p).unwrap();
    let (_, recs) = read_pcap(&bytes);
    let first_end = 24 + 16 + recs[0].len();

    let mut child = common::ioam()
        .args(["decode", "--format", "json", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Like `tcpdump -U -w - | ioam decode -`: the first packet is printed
    // while the capture is still open.
    stdin.write_all(&bytes[..first_end]).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            tx.send(()).unwrap();
            lines.push(core::mem::take(&mut line));
        }
        lines
    });
    rx.recv_timeout(core::time::Duration::from_secs(10))
        .expect("first packet decoded before the input ended");
    stdin.write_all(&bytes[first_end..]).unwrap();
    drop(stdin);
    let lines = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    let packets: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    check_reference(&packets);
}

#[test]
fn schema_ids_wider_than_24_bits_are_refused_by_every_subcommand() {
    for args in [
        &["decode", "--clt-schema-id", "0x1000000"][..],
        &["craft", "-o", "-", "--clt-schema-id", "0x1000000"][..],
        &[
            "send",
            "--to",
            "[::1]:9",
            "--traceparent",
            common::TRACEPARENT,
            "--clt-schema-id",
            "0x1000000",
        ][..],
    ] {
        let out = common::run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("24 bits of a Schema ID"), "{args:?}: {err}");
    }
}

#[test]
fn ioam_in_destination_options_is_a_finding_not_an_error() {
    // The pre-allocated trace (option 0x31) that RFC 9486 puts in the
    // Hop-by-Hop header, here in a Destination Options header: the same
    // option bytes (the injector's header, whose layout is the same for
    // both headers), IPv6 Next Header 60, then No Next Header.
    let hbh = clt_context::injector::HopByHopInjector::default()
        .build()
        .unwrap();
    let mut pkt = vec![0x60, 0, 0, 0, 0, hbh.len() as u8, 60, 64];
    pkt.extend_from_slice(&[0; 32]);
    pkt.extend_from_slice(&hbh);
    pkt[40] = 59;
    let hex: String = pkt.iter().map(|b| format!("{b:02x}")).collect();

    let out = run(&["decode", "--format", "json", "--hex", &hex], None);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "not malformed: {err}");
    assert!(err.contains("1 with IOAM, 0 malformed"), "{err}");
    let packets = json_lines(&String::from_utf8(out.stdout).unwrap());
    let opt = &packets[0]["ioam"][0];
    assert_eq!(opt["header"], "destination");
    assert_eq!(opt["errors"], json!([]));
    let finding = opt["findings"][0]["message"].as_str().unwrap();
    assert!(
        finding.contains("IOAM option 0x31 in a Destination Options header"),
        "{finding}"
    );
    assert_eq!(opt["findings"][0]["offset"], 44); // after the 2-byte header and a PadN
                                                  // The trace is still decoded.
    assert_eq!(opt["trace_type"], "0xf00002");

    let text = run_ok(&["decode", "--hex", &hex]);
    assert!(
        text.contains("finding at byte 44: IOAM option 0x31"),
        "{text}"
    );
    assert!(!text.contains("error at byte"), "{text}");
}
