//! The streaming JSON Lines writer against `serde_json` on the owned
//! model built from the same views: byte-identical for every packet of the
//! random craft corpus (valid and malformed, strict and lenient, legacy
//! layouts, cut by a snap length or not) and of the Linux sample capture.

use ioam_capture::file::{Frame, Frames, Timestamp};
use ioam_cli::decode::{decode_frame, decode_ipv6, DecodeOptions, Decoder, SAMPLE_CAPTURE};
use ioam_cli::jsonline::JsonSink;
use ioam_cli::model::PacketReport;
use ioam_wire::dex::DexLayout;
use ioam_wire::Mode;

/// The JSON line of `r`'s frame, written by `JsonSink`, equals serde_json's.
fn same(r: &PacketReport, mine: &[u8]) {
    let mut want = serde_json::to_vec(r).unwrap();
    want.push(b'\n');
    assert_eq!(
        String::from_utf8_lossy(mine),
        String::from_utf8_lossy(&want)
    );
}

fn streamed(opts: &DecodeOptions, f: impl FnOnce(&mut Decoder, &mut JsonSink)) -> Vec<u8> {
    let mut sink = JsonSink::new();
    f(&mut Decoder::new(opts.clone()), &mut sink);
    sink.take()
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
                    let mine = streamed(o, |d, s| {
                        d.ipv6(i as u64 + 1, Some(time), pkt, s);
                    });
                    same(&r, &mine);
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
                same(
                    &r,
                    &streamed(&opts, |d, s| {
                        d.frame(&f, s);
                    }),
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 6 * 4);
}

#[test]
fn cut_frames_match_serde_json() {
    // Every corpus packet cut after 40..=packet bytes by a snap length: the
    // errors then carry the capture's note.
    let mut compared = 0;
    let opts = DecodeOptions::default();
    for (i, (pkt, _)) in ioam_cli::craft::random::corpus(3, 400).iter().enumerate() {
        let cut = 40 + (i * 37) % (pkt.len().saturating_sub(39)).max(1);
        let data = &pkt[..cut.min(pkt.len())];
        let f = Frame {
            number: i as u64 + 1,
            time: None,
            linktype: ioam_capture::file::linktype::RAW,
            data,
            orig_len: pkt.len() as u32 + 8,
        };
        if let Some(r) = decode_frame(&f, &opts) {
            assert!(r
                .errors
                .iter()
                .chain(r.ioam.iter().flat_map(|o| &o.errors))
                .all(|e| e.message.ends_with("bytes of the frame were captured)")));
            same(
                &r,
                &streamed(&opts, |d, s| {
                    d.frame(&f, s);
                }),
            );
            compared += 1;
        }
    }
    assert!(compared > 300, "{compared}");
}
