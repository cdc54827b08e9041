//! Helpers shared by the integration tests: running the binary, temporary
//! files, a minimal pcap reader to cross-check what the tool reports.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The `ioam` binary built for these tests.
pub fn ioam() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ioam"))
}

/// Run `ioam` with `args` (and `stdin` bytes, if any).
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = ioam();
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ioam");
    if let Some(bytes) = stdin {
        let mut si = child.stdin.take().expect("stdin");
        si.write_all(bytes).expect("write stdin");
    }
    child.wait_with_output().expect("wait ioam")
}

/// Run and require success; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args, None);
    assert!(
        out.status.success(),
        "ioam {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Parse JSON Lines.
pub fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// A fresh temporary directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ioam-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A classic pcap, read independently of the tool: (link type, records).
pub fn read_pcap(bytes: &[u8]) -> (u32, Vec<Vec<u8>>) {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian microsecond pcap"
    );
    let lt = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
    let mut recs = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let cap = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        recs.push(bytes[at + 16..at + 16 + cap].to_vec());
        at += 16 + cap;
    }
    assert_eq!(at, bytes.len(), "whole records");
    (lt, recs)
}

/// The traceparent used across the tests (W3C Trace Context example).
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// Its trace id.
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// Its span id.
pub const SPAN_ID: &str = "00f067aa0ba902b7";

/// A test that cannot run here fails, naming what is missing and how to
/// provide it. There is no skip that passes: a developer without root or
/// the Python module leaves such tests out by name
/// (`cargo test -- --skip send`), which libtest reports as filtered out,
/// not as passed. CI runs as root with every dependency installed.
pub fn cannot_run(test: &str, why: &str) -> ! {
    panic!("{test} cannot run: {why}. CI runs it as root with every dependency installed.");
}

/// Load an OTLP JSON request (one document) with the official OpenTelemetry
/// protobuf definitions (tests/otlp_check.py, Python `opentelemetry-proto`)
/// and check its `spans` spans.
pub fn python_otlp_check(file: &Path, spans: usize) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/otlp_check.py");
    let out = match Command::new("python3")
        .arg(&script)
        .arg(file)
        .arg(spans.to_string())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            cannot_run("OTLP protobuf check", &format!("python3 cannot run ({e})"));
        }
    };
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        cannot_run(
            "OTLP protobuf check",
            &format!(
                "{} (install it with: python3 -m pip install opentelemetry-proto)",
                err.trim()
            ),
        );
    }
    assert!(out.status.success(), "otlp_check.py: {err}");
    eprintln!("{}", String::from_utf8_lossy(&out.stdout).trim());
}
