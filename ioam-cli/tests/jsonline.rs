//! The hand-written JSON Lines writer against `serde_json` on the serde
//! model: byte-identical for every packet of the random craft corpus (valid
//! and malformed, strict and lenient, legacy layouts), for the Linux sample
//! capture, and for reports whose error text needs JSON escapes.

use ioam_capture::file::{Frames, Timestamp};
use ioam_cli::decode::{decode_frame, decode_ipv6, DecodeOptions, SAMPLE_CAPTURE};
use ioam_cli::jsonline::write_packet;
use ioam_cli::model::{ErrorReport, PacketReport};
use ioam_wire::dex::DexLayout;
use ioam_wire::Mode;

fn same(r: &PacketReport) {
    let mut mine = Vec::new();
    write_packet(&mut mine, r, None);
    let want = serde_json::to_vec(r).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&mine),
        String::from_utf8_lossy(&want)
    );
}

fn all_options() -> Vec<DecodeOptions> {
    let mut v = Vec::new();
    for mode in [Mode::Strict, Mode::Lenient] {
        for dex_layout in [DexLayout::Rfc9326, DexLayout::Legacy] {
            v.push(DecodeOptions {
                mode,
                dex_layout,
                ..DecodeOptions::default()
            });
        }
    }
    v
}

#[test]
fn random_corpus_matches_serde_json() {
    let mut compared = 0;
    for (i, (pkt, label)) in ioam_cli::craft::random::corpus(7, 3000).iter().enumerate() {
        for opts in all_options() {
            let legacy_ns = DecodeOptions {
                legacy_clt_ns: pkt
                    .get(48..50)
                    .map_or(Vec::new(), |b| vec![u16::from_be_bytes([b[0], b[1]])]),
                ..opts.clone()
            };
            let time = Timestamp {
                secs: 1_700_000_000 + i as i64,
                nanos: (i as u32 * 7919) % 1_000_000_000,
            };
            for o in [&opts, &legacy_ns] {
                if let Some(r) = decode_ipv6(i as u64 + 1, Some(time), pkt, o) {
                    same(&r);
                    compared += 1;
                } else {
                    assert!(label.starts_with("valid") || label.starts_with("unusual"));
                }
            }
        }
    }
    assert!(compared > 10_000, "{compared}");
}

#[test]
fn sample_capture_matches_serde_json() {
    let mut compared = 0;
    for f in Frames::new(SAMPLE_CAPTURE).unwrap() {
        let f = f.unwrap();
        for opts in all_options() {
            if let Some(r) = decode_frame(&f, &opts) {
                same(&r);
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 6 * 4);
}

#[test]
fn error_text_is_escaped_like_serde_json() {
    let mut r = decode_frame(
        &Frames::new(SAMPLE_CAPTURE)
            .unwrap()
            .next()
            .unwrap()
            .unwrap(),
        &DecodeOptions::default(),
    )
    .unwrap();
    let text: String = (0u8..0x80).map(char::from).chain("é∑😀".chars()).collect();
    r.errors.push(ErrorReport {
        offset: 12,
        message: text.clone(),
    });
    r.ioam[0].errors.push(ErrorReport {
        offset: usize::MAX,
        message: format!("\"{text}\\"),
    });
    same(&r);
}
