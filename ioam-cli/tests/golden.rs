//! `ioam decode` against golden outputs: every case of `golden/cases.txt`
//! is run and its standard output must equal `golden/<name>.out` byte for
//! byte, with the expected exit status.
//!
//! The goldens were written by the decoder as it was before its writers
//! were rebuilt to work without allocating (the report model of 0.1, with
//! serde_json as the JSON oracle), so they pin the output formats across
//! that change and any later one. The input captures are committed
//! (`golden/make-inputs.sh` made them). To accept an intended change of an
//! output format, run with `IOAM_BLESS=1` and review the diff.

mod common;

use std::path::Path;

fn cases() -> Vec<(String, i32, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let text = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let mut cases = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(parts.len(), 3, "cases.txt line {line:?}");
        let args = parts[2].split_whitespace().map(String::from).collect();
        cases.push((
            parts[0].to_string(),
            parts[1].parse().expect("exit status"),
            args,
        ));
    }
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    cases
}

/// The first line where `got` and `want` differ, for the failure message.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let (g, w) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    for (i, (a, b)) in g.lines().zip(w.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  got:  {a}\n  want: {b}", i + 1);
        }
    }
    format!(
        "one output is a prefix of the other ({} vs {} lines)",
        g.lines().count(),
        w.lines().count()
    )
}

fn check(threads: Option<&str>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("IOAM_BLESS").is_some();
    for (name, status, args) in cases() {
        let mut cmd = common::ioam();
        cmd.current_dir(&dir).args(["decode", "-q"]).args(&args);
        if let Some(t) = threads {
            cmd.args(["--threads", t]);
        }
        let out = cmd.output().expect("run ioam");
        let path = dir.join(format!("{name}.out"));
        if bless && threads.is_none() {
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        assert_eq!(
            out.status.code(),
            Some(status),
            "{name} (threads {threads:?}): exit status; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            out.stdout == want,
            "{name} (threads {threads:?}) differs from {}: {}",
            path.display(),
            first_difference(&out.stdout, &want)
        );
    }
}

#[test]
fn decode_matches_the_golden_outputs() {
    check(None);
}

#[test]
fn one_thread_matches_the_golden_outputs() {
    check(Some("1"));
}

#[test]
fn two_threads_match_the_golden_outputs() {
    check(Some("2"));
}

#[test]
fn five_threads_match_the_golden_outputs() {
    check(Some("5"));
}
