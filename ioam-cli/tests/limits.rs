//! Memory is bounded by configuration, not by the arguments or the input:
//! `ioam craft` checks its arguments before it allocates and streams its
//! packets; `ioam decode` refuses a pcapng block it would have to buffer
//! whole. Peak RSS is measured with `/usr/bin/time -f %M` (Debian package
//! `time`, which CI installs); without it the measuring tests fail, saying
//! so.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{cannot_run, TRACEPARENT};

/// Runs `ioam` with `args` under `/usr/bin/time`, feeding `stdin` (up to
/// `stdin_len` bytes of it, generated on the fly); returns the exit code,
/// stderr and the peak RSS in KiB; fails the test when it cannot measure.
fn peak_rss(args: &[&str], stdin: Option<(&[u8], usize)>) -> (Option<i32>, String, u64) {
    if !std::path::Path::new("/usr/bin/time").exists() {
        cannot_run(
            "peak RSS check",
            "/usr/bin/time is missing (apt-get install time)",
        );
    }
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "peak-rss-kib %M"])
        .arg(env!("CARGO_BIN_EXE_ioam"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn /usr/bin/time");
    if let Some((head, len)) = stdin {
        let mut si = child.stdin.take().unwrap();
        // The head, then zeros, until `len` bytes or the reader stops.
        let _ = si.write_all(head);
        let zeros = vec![0u8; 1 << 20];
        let mut sent = head.len();
        while sent < len {
            if si.write_all(&zeros).is_err() {
                break;
            }
            sent += zeros.len();
        }
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let rss = err
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib "))
        .and_then(|v| v.trim().parse().ok())
        .expect("time reports the peak RSS");
    (out.status.code(), err, rss)
}

#[test]
fn craft_refuses_hostile_sizes_before_allocating() {
    for (args, want) in [
        (&["--space", "99999999999"][..], "--space"),
        (&["--space", "246"][..], "multiple of 4"),
        (&["--hops", "4294967296"][..], "at most 61 records"),
    ] {
        let mut a = vec!["craft", "-o", "/dev/null", "--traceparent", TRACEPARENT];
        a.extend_from_slice(args);
        let (code, err, rss) = peak_rss(&a, None);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(rss < 16 * 1024, "{args:?}: {rss} KiB");
    }
}

#[test]
fn craft_streams_its_packets() {
    // 300,000 packets (about 45 MB of capture) with flat memory.
    let (code, err, rss) = peak_rss(
        &[
            "craft",
            "-o",
            "/dev/null",
            "--traceparent",
            TRACEPARENT,
            "--count",
            "300000",
        ],
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(rss < 24 * 1024, "peak RSS {rss} KiB");
    let (code, err, rss) = peak_rss(
        &["craft", "-o", "/dev/null", "--random", "--count", "100000"],
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(rss < 24 * 1024, "random corpus: peak RSS {rss} KiB");
}

#[test]
fn decode_does_not_buffer_a_huge_pcapng_block() {
    // A Section Header Block that claims 0xfffffff0 bytes, then 1 GiB of
    // zeros generated on the fly: refused at once, memory flat.
    let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a];
    shb.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    shb.extend_from_slice(&[0x4d, 0x3c, 0x2b, 0x1a]);
    let (code, err, rss) = peak_rss(&["decode", "-"], Some((&shb, 1 << 30)));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("exceeds the 268435456-byte limit"), "{err}");
    assert!(rss < 32 * 1024, "peak RSS {rss} KiB");
}

#[test]
fn agent_memory_does_not_grow_with_the_capture() {
    // The same pipeline on 40k and on 160k CLT-tagged packets (into a local
    // JSON Lines sink): the peak RSS of the larger run stays within a few
    // MiB of the smaller one, and under a fixed ceiling. The queue between
    // decode and export is what a slow writer lets fill up, and how far it
    // fills depends on the machine's load, not on the capture: it is made
    // small (1024 spans, about 1 MiB) so that a full queue in one run and
    // an empty one in the other stay within the margin.
    let dir = common::tmpdir("limits-agent");
    let mut rss = Vec::new();
    for n in [40_000u32, 160_000] {
        let pcap = dir.join(format!("{n}.pcap"));
        let st = Command::new(env!("CARGO_BIN_EXE_ioam"))
            .args([
                "craft",
                "--traceparent",
                TRACEPARENT,
                "--count",
                &n.to_string(),
                "-o",
            ])
            .arg(&pcap)
            .status()
            .unwrap();
        assert!(st.success());
        let (code, err, r) = peak_rss(
            &[
                "agent",
                "--read",
                pcap.to_str().unwrap(),
                "--no-otlp",
                "--output",
                "/dev/null",
                "--stats-interval",
                "0",
                "--queue-size",
                "1024",
            ],
            None,
        );
        assert_eq!(code, Some(0), "{err}");
        assert!(
            err.contains(&format!("clt={n} ")),
            "every packet made a span: {err}"
        );
        assert!(err.contains(&format!("written={n}")), "{err}");
        rss.push(r);
        std::fs::remove_file(&pcap).unwrap();
    }
    assert!(
        rss[1] < rss[0] + 8 * 1024,
        "peak RSS grew with the input: {rss:?} KiB"
    );
    assert!(rss[1] < 64 * 1024, "peak RSS {rss:?} KiB");
}

#[test]
fn agent_refuses_a_huge_pcapng_block_from_a_stream() {
    // The hostile Section Header Block of the decode test, 1 GiB behind it,
    // through `--read /dev/stdin`: refused at once, memory flat.
    let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a];
    shb.extend_from_slice(&0xffff_fff0u32.to_le_bytes());
    shb.extend_from_slice(&[0x4d, 0x3c, 0x2b, 0x1a]);
    let (code, err, rss) = peak_rss(
        &[
            "agent",
            "--read",
            "/dev/stdin",
            "--no-otlp",
            "--output",
            "/dev/null",
            "--stats-interval",
            "0",
        ],
        Some((&shb, 1 << 30)),
    );
    assert!(err.contains("exceeds the 268435456-byte limit"), "{err}");
    // A source error is counted; the agent still stops cleanly.
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("source_errors=1 "), "{err}");
    assert!(rss < 32 * 1024, "peak RSS {rss} KiB");
}
