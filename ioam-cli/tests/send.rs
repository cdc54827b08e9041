//! `ioam send` over the loopback interface: the receiver asks the kernel for
//! the Hop-by-Hop header of each datagram (IPV6_RECVHOPOPTS) and decodes it
//! with the core crates. Needs Linux, an IPv6 loopback and CAP_NET_RAW:
//! without them every test fails, saying what is missing (leave them out
//! by name with `cargo test -- --skip send` where they cannot run). CI runs
//! them as root.

#![cfg(target_os = "linux")]

mod common;

use core::time::Duration;
use ioam_wire::Mode;
use std::net::{TcpListener, UdpSocket};

use clt_context::{find_context, ContextLookup, CLT_SCHEMA_ID};
use ioam_trace::Trace;
use serde_json::Value;

use common::{json_lines, run, TRACEPARENT, TRACE_ID};

fn cannot_run_here(why: &str) -> ! {
    common::cannot_run("ioam send test", why)
}

fn receiver() -> UdpSocket {
    let sock = UdpSocket::bind("[::1]:0")
        .unwrap_or_else(|e| cannot_run_here(&format!("no IPv6 loopback ({e})")));
    clt_socket::enable_recv_hop_by_hop(&sock).expect("IPV6_RECVHOPOPTS");
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock
}

/// Run `ioam send`; a failure for lack of CAP_NET_RAW fails the test with
/// that reason.
fn send(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["send"];
    a.extend_from_slice(args);
    let out = run(&a, None);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() {
        if err.contains("CAP_NET_RAW") {
            cannot_run_here(&format!("not permitted here: {}", err.trim()));
        }
        panic!("ioam send {args:?} failed: {err}");
    }
    json_lines(&String::from_utf8(out.stdout).unwrap())
}

/// Receive one datagram; return its payload and the decoded CLT context
/// (trace id, span id) and the sender's node id.
fn receive(sock: &UdpSocket) -> (Vec<u8>, String, String, u32) {
    let mut buf = [0u8; 2048];
    let (n, hbh) = clt_socket::recv_hop_by_hop(sock, &mut buf).expect("recv");
    let hbh = hbh.expect("the datagram arrived with a Hop-by-Hop header");
    // NH HEL | 01 00 | 31 LEN 00 00 | trace body
    assert_eq!(&hbh[2..4], &[0x01, 0x00]);
    assert_eq!(hbh[4], 0x31);
    assert_eq!(hbh[7], 0x00, "IOAM type pre-allocated trace");
    let body = &hbh[8..8 + usize::from(hbh[5]) - 2];
    let trace = Trace::parse_preallocated(body, Mode::Strict).expect("trace parses");
    let ctx = match find_context(&trace, CLT_SCHEMA_ID) {
        ContextLookup::Found(f) => f.ctx,
        other => panic!("no CLT context: {other}"),
    };
    let first = trace.records_path_order().next().unwrap().unwrap();
    (
        buf[..n].to_vec(),
        ctx.trace_id.to_string(),
        ctx.span_id.to_string(),
        first.node_id().unwrap(),
    )
}

#[test]
fn udp_per_datagram_with_a_span_per_packet() {
    let sock = receiver();
    let to = format!("[::1]:{}", sock.local_addr().unwrap().port());
    let log = send(&[
        "--to",
        &to,
        "--traceparent",
        TRACEPARENT,
        "--count",
        "3",
        "--interval-ms",
        "0",
        "--span-per-packet",
        "--node-id",
        "7",
    ]);
    assert_eq!(log.len(), 3);
    let mut spans = std::collections::BTreeSet::new();
    for (i, line) in log.iter().enumerate() {
        let (payload, trace_id, span_id, node) = receive(&sock);
        assert_eq!(payload, format!("ioam send {}", i + 1).as_bytes());
        assert_eq!(trace_id, TRACE_ID);
        assert_eq!(node, 7);
        // The logged span id is the one in the packet, and new each time.
        assert_eq!(line["seq"], i as u64 + 1);
        assert_eq!(line["span_id"], span_id);
        assert_eq!(line["mode"], "udp-datagram");
        assert_eq!(line["traceparent"], format!("00-{TRACE_ID}-{span_id}-01"));
        assert!(spans.insert(span_id));
    }
}

#[test]
fn udp_per_socket_keeps_the_traceparent() {
    let sock = receiver();
    let to = format!("[::1]:{}", sock.local_addr().unwrap().port());
    let log = send(&[
        "--to",
        &to,
        "--traceparent",
        TRACEPARENT,
        "--count",
        "2",
        "--interval-ms",
        "0",
        "--trace-type",
        "0xf00002",
        "--hops",
        "2",
        "--payload",
        "hello",
    ]);
    for line in &log {
        let (payload, trace_id, span_id, _) = receive(&sock);
        assert_eq!(payload, b"hello");
        assert_eq!(trace_id, TRACE_ID);
        assert_eq!(span_id, common::SPAN_ID);
        assert_eq!(line["traceparent"], TRACEPARENT);
        assert_eq!(line["mode"], "udp-socket");
        // 8 framing + 8 header + sender (4 fields + OSS 32 = 48) + 2 hops
        // of 20 bytes = 104, already a multiple of 8.
        assert_eq!(line["hbh_bytes"], 104);
    }
}

#[test]
fn no_clt_sends_trace_types_without_the_opaque_state_bit() {
    // Without --no-clt the refusal names the way out.
    let out = run(
        &[
            "send",
            "--to",
            "[::1]:9",
            "--traceparent",
            TRACEPARENT,
            "--trace-type",
            "0x800000",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bit 22") && err.contains("--no-clt"), "{err}");
    assert_eq!(err.lines().count(), 1);

    let sock = receiver();
    let to = format!("[::1]:{}", sock.local_addr().unwrap().port());
    // (trace type, record bytes of the sender and of each hop)
    for (tt, record) in [
        ("0x800000", 4),
        ("0xc00000", 8),
        ("0xfff000", 60),
        ("0x800002", 8),
    ] {
        let log = send(&[
            "--to",
            &to,
            "--traceparent",
            TRACEPARENT,
            "--no-clt",
            "--trace-type",
            tt,
            "--hops",
            "2",
            "--node-id",
            "9",
            "--interval-ms",
            "0",
        ]);
        assert_eq!(log.len(), 1);
        let mut buf = [0u8; 2048];
        let (n, hbh) = clt_socket::recv_hop_by_hop(&sock, &mut buf).expect("recv");
        assert_eq!(&buf[..n], b"ioam send 1");
        let hbh = hbh.expect("the datagram arrived with a Hop-by-Hop header");
        assert_eq!(log[0]["hbh_bytes"], hbh.len());
        assert_eq!(hbh[4], 0x31);
        assert_eq!(hbh[7], 0x00, "IOAM type pre-allocated trace");
        let body = &hbh[8..8 + usize::from(hbh[5]) - 2];
        let trace = Trace::parse_preallocated(body, Mode::Strict).expect("trace parses");
        let h = trace.header();
        assert_eq!(
            h.trace_type.bits(),
            u32::from_str_radix(&tt[2..], 16).unwrap()
        );
        // The sender's record written, room for two more of the same size.
        assert_eq!(usize::from(h.remaining_len) * 4, 2 * record, "{tt}");
        assert_eq!(body.len(), 8 + 3 * record, "{tt}");
        let records: Vec<_> = trace.records_path_order().collect();
        assert_eq!(records.len(), 1, "{tt}");
        let first = records[0].as_ref().unwrap();
        assert_eq!(first.node_id(), Some(9), "{tt}");
        assert_eq!(first.hop_limit(), Some(64), "{tt}");
        // No CLT context anywhere.
        assert!(
            find_context(&trace, CLT_SCHEMA_ID).context().is_none(),
            "{tt}"
        );
        if tt == "0x800002" {
            let oss = first.oss().unwrap();
            assert_eq!((oss.schema_id(), oss.data().len()), (0xff_ffff, 0));
        }
    }
}

#[test]
fn tcp_sets_the_header_on_the_connected_socket() {
    let listener = match TcpListener::bind("[::1]:0") {
        Ok(l) => l,
        Err(e) => cannot_run_here(&format!("no IPv6 loopback ({e})")),
    };
    let to = format!("[::1]:{}", listener.local_addr().unwrap().port());
    let server = std::thread::spawn(move || {
        use std::io::Read;
        let (mut c, _) = listener.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        got
    });
    let log = send(&[
        "--to",
        &to,
        "--tcp",
        "--traceparent",
        TRACEPARENT,
        "--count",
        "2",
        "--interval-ms",
        "0",
        "--payload",
        "abc",
    ]);
    let got = server.join().unwrap();
    assert_eq!(got, b"abcabc");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["mode"], "tcp-socket");
}

#[test]
fn clear_errors() {
    // The header does not fit: 0xfff002 records are 64 bytes per hop.
    let out = run(
        &[
            "send",
            "--to",
            "[::1]:9",
            "--traceparent",
            TRACEPARENT,
            "--trace-type",
            "0xfff002",
            "--hops",
            "10",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("does not fit"), "{err}");
    assert_eq!(err.lines().count(), 1);

    let out = run(
        &["send", "--to", "127.0.0.1:9", "--traceparent", TRACEPARENT],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("IPv6 destination"));

    // An IPv4-mapped destination would leave as plain IPv4, without IOAM.
    let out = run(
        &[
            "send",
            "--to",
            "[::ffff:127.0.0.1]:9999",
            "--traceparent",
            TRACEPARENT,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("IPv4-mapped"), "{err}");
    assert!(out.stdout.is_empty(), "nothing reported as sent");
}

#[test]
fn without_cap_net_raw_the_error_says_so() {
    // setpriv drops CAP_NET_RAW from the bounding set, so even root lacks it.
    let probe = std::process::Command::new("setpriv")
        .args(["--bounding-set=-net_raw", "true"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ => cannot_run_here("setpriv cannot drop CAP_NET_RAW here"),
    }
    for extra in [&[][..], &["--per-packet"][..]] {
        let mut args = vec![
            "--bounding-set=-net_raw",
            "--inh-caps=-net_raw",
            env!("CARGO_BIN_EXE_ioam"),
            "send",
            "--to",
            "[::1]:9",
            "--traceparent",
            TRACEPARENT,
        ];
        args.extend_from_slice(extra);
        let out = std::process::Command::new("setpriv")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("CAP_NET_RAW"), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
}

#[test]
fn a_closed_port_does_not_stop_the_sender() {
    // Nothing listens: the kernel answers each datagram with an ICMP port
    // unreachable, reported on the next send of the connected socket.
    let port = match UdpSocket::bind("[::1]:0") {
        Ok(s) => s.local_addr().unwrap().port(),
        Err(e) => cannot_run_here(&format!("no IPv6 loopback ({e})")),
    };
    let to = format!("[::1]:{port}");
    for mode in [&[][..], &["--per-packet"][..]] {
        let mut args = vec![
            "--to",
            &to,
            "--traceparent",
            TRACEPARENT,
            "--count",
            "4",
            "--interval-ms",
            "5",
        ];
        args.extend_from_slice(mode);
        let log = send(&args);
        assert_eq!(log.len(), 4, "{mode:?}");
    }
}
