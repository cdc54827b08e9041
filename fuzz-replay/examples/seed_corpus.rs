//! Writes the seed corpora of the fuzz targets into `fuzz/corpus/<target>/`:
//! the packets of the Linux sample capture, the `ioam craft --random`
//! corpus, the option headers and IOAM bodies found in them, and W3C
//! `traceparent` examples. Run with
//! `cargo run -p fuzz-replay --example seed_corpus`.

use ioam_wire::Mode;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use ioam_capture::file::Frames;
use ioam_capture::link::{ipv6_payload, Payload};
use ioam_cli::craft::random::corpus;
use ioam_cli::decode::SAMPLE_CAPTURE;
use ioam_wire::ext::ExtHeaders;
use ioam_wire::ioam::IoamType;
use ioam_wire::packet::IoamOptions;

const MAX_PER_TARGET: usize = 150;

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn with_len(prefix: &[u8], blob: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(&(blob.len() as u16).to_be_bytes());
    v.extend_from_slice(blob);
    v
}

fn main() {
    let mut packets: Vec<Vec<u8>> = Vec::new();
    for f in Frames::new(SAMPLE_CAPTURE).expect("sample capture") {
        let f = f.expect("frame");
        if let Ok(Payload::Ipv6 { packet, .. }) = ipv6_payload(f.linktype, f.data) {
            packets.push(packet.to_vec());
        }
    }
    let captured = packets.len();
    for (p, _) in corpus(0x10a3, 120) {
        packets.push(p);
    }
    let mut seeds: BTreeMap<&str, Vec<Vec<u8>>> = BTreeMap::new();
    let mut add = |t: &'static str, v: Vec<u8>| seeds.entry(t).or_default().push(v);
    for p in &packets {
        add("ext_headers", p.clone());
        add("decode", p.clone());
        add("decode", [&[0u8][..], p].concat());
        for sel in [0u8, 1, 4, 5, 0x14] {
            add("hbh_insert_remove", with_len(&[sel], p));
        }
        add("incremental_insert", with_len(&[0], p));
        if let Ok(walk) = ExtHeaders::new(p) {
            for h in walk.flatten() {
                if h.kind.has_options() {
                    add("options", h.bytes.to_vec());
                }
            }
        }
        let Ok(opts) = IoamOptions::new(p, Mode::Lenient) else {
            continue;
        };
        for o in opts.flatten() {
            let body = o.option.body.to_vec();
            match o.option.ioam_type {
                IoamType::PreallocatedTrace | IoamType::IncrementalTrace => {
                    add("trace_records", body.clone());
                    add("clt_context", body.clone());
                    add("clt_legacy", body.clone());
                    add("transit_writer", with_len(&[0], &body));
                    add("injector", body);
                }
                IoamType::ProofOfTransit => add("pot", body),
                IoamType::EdgeToEdge => add("e2e", body),
                IoamType::DirectExport => add("dex", body),
                IoamType::Unknown(_) => {}
                t => add("integrity", [&[u8::from(t) - 64][..], &body].concat()),
            }
        }
    }
    for s in [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-extra",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        "01",
    ] {
        add("traceparent", s.as_bytes().to_vec());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for (name, _) in fuzz_replay::TARGETS {
        let dir = root.join(name);
        fs::create_dir_all(&dir).expect("corpus dir");
        let mut list = seeds.remove(name).unwrap_or_default();
        if list.is_empty() {
            list.push(Vec::new());
        }
        list.sort();
        list.dedup();
        // Spread the cap over the list so every source is represented.
        let step = list.len().div_ceil(MAX_PER_TARGET).max(1);
        let mut n = 0;
        for v in list.iter().step_by(step) {
            fs::write(dir.join(format!("seed-{:016x}", fnv(v))), v).expect("write seed");
            n += 1;
        }
        println!("{name}: {n} seeds");
    }
    println!("{captured} packets from the sample capture");
}
