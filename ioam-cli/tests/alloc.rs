//! `ioam decode` allocates nothing per packet in steady state, in every
//! output format: a counting global allocator watches the decoder and each
//! format's sink over captures with every kind of packet (the random craft
//! corpus with its malformed packets, CLT traces of three trace types, the
//! legacy CLT header, the Linux sample), and the whole per-input pipeline
//! (`output::decode_capture`, capture reader included) costs the same
//! handful of allocations for 1× and 8× the packets.

use std::alloc::System;
use std::path::Path;

use ioam_capture::file::{CaptureReader, Frame, Frames};
use ioam_cli::decode::{DecodeOptions, Decoder, SAMPLE_CAPTURE};
use ioam_cli::output::{decode_capture, Format, FormatSink, RunConfig};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The counters are global: the two tests measure one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

const FORMATS: [Format; 3] = [Format::Text, Format::Json, Format::OtlpJson];

/// The inputs, each with the settings that decode it fully.
fn inputs() -> Vec<(Vec<u8>, DecodeOptions)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let read = |name: &str| std::fs::read(dir.join(name)).expect(name);
    let default = DecodeOptions::default();
    let legacy = DecodeOptions {
        legacy_clt_ns: vec![9],
        ..DecodeOptions::default()
    };
    let lenient = DecodeOptions {
        mode: ioam_wire::Mode::Lenient,
        ..DecodeOptions::default()
    };
    vec![
        (read("random.pcap"), default.clone()),
        (read("random.pcap"), lenient),
        (read("clt-800002.pcap"), default.clone()),
        (read("clt-fff002.pcapng"), default.clone()),
        (read("clt-f00002-vlan.pcap"), default.clone()),
        (read("no-originator.pcap"), default.clone()),
        (read("legacy.pcap"), legacy),
        (SAMPLE_CAPTURE.to_vec(), default),
    ]
}

/// Decode every frame into the sink, emptying its buffer now and then as
/// the tool does when it writes a block out.
fn pass(frames: &[Frame<'_>], decoder: &mut Decoder, sink: &mut FormatSink) -> usize {
    let mut reported = 0;
    for f in frames {
        reported += usize::from(decoder.frame(f, sink).is_some());
        if sink.buffer().len() > 64 << 10 {
            sink.clear();
        }
    }
    reported
}

#[test]
fn no_allocation_per_packet() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (bytes, opts) in inputs() {
        let frames: Vec<Frame<'_>> = Frames::new(&bytes)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for format in FORMATS {
            let mut decoder = Decoder::new(opts.clone());
            let mut sink = FormatSink::new(format);
            // Warm-up: the buffers grow to their working size.
            pass(&frames, &mut decoder, &mut sink);
            pass(&frames, &mut decoder, &mut sink);
            sink.clear();
            let region = Region::new(GLOBAL);
            let reported = pass(&frames, &mut decoder, &mut sink);
            let stats = region.change();
            assert!(reported > 0);
            assert_eq!(
                (stats.allocations, stats.reallocations),
                (0, 0),
                "{format:?}, {} frames ({reported} reported, {} bytes written): allocations in steady state",
                frames.len(),
                sink.buffer().len()
            );
        }
    }
}

/// The random corpus `copies` times over, as one capture.
fn repeated(copies: usize) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let one = std::fs::read(dir.join("random.pcap")).unwrap();
    // A classic pcap: the 24-byte file header, then the records.
    let mut out = one.clone();
    for _ in 1..copies {
        out.extend_from_slice(&one[24..]);
    }
    out
}

fn pipeline_allocations(capture: &[u8], format: Format) -> (u64, usize) {
    let mut decoder = Decoder::new(DecodeOptions::default());
    let mut sink = FormatSink::new(format);
    let mut written = 0;
    let region = Region::new(GLOBAL);
    let mut reader = CaptureReader::new(capture).unwrap();
    let (counts, r) = decode_capture(
        &mut reader,
        &mut decoder,
        &mut sink,
        RunConfig {
            block: 64 << 10,
            ..RunConfig::default()
        },
        &mut |b| {
            written += b.len();
            Ok(())
        },
        &mut |_| {},
    );
    let stats = region.change();
    r.unwrap();
    (counts.packets, stats.allocations + stats.reallocations)
}

#[test]
fn the_pipeline_allocates_per_run_not_per_packet() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (small, large) = (repeated(2), repeated(16));
    for format in FORMATS {
        let (n1, a1) = pipeline_allocations(&small, format);
        let (n8, a8) = pipeline_allocations(&large, format);
        assert_eq!(n8, 8 * n1);
        assert!(
            a8 <= a1 + 8 && a1 < 200,
            "{format:?}: {a1} allocations for {n1} packets, {a8} for {n8}"
        );
        println!("{format:?}: {a1} allocations for {n1} packets, {a8} for {n8}");
    }
}
