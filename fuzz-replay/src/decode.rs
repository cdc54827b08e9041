//! Check for the `ioam decode` per-packet decoder (`ioam_cli::decode`).

use ioam_capture::file::{linktype, Frame};
use ioam_cli::decode::{decode_frame, decode_ipv6, DecodeOptions, Decoder};
use ioam_cli::jsonline::JsonSink;
use ioam_cli::model::PacketReport;
use ioam_cli::output::{Format, FormatSink};
use ioam_wire::ext::ExtHeaders;
use ioam_wire::opt::Opt;
use ioam_wire::Mode;

pub(crate) fn check_report(r: &PacketReport, len: usize) {
    for e in &r.errors {
        assert!(
            e.offset <= len,
            "packet error offset {} > {len}: {}",
            e.offset,
            e.message
        );
        assert!(!e.message.is_empty());
    }
    for o in &r.ioam {
        for e in &o.errors {
            assert!(
                e.offset <= len,
                "option error offset {} > {len}: {}",
                e.offset,
                e.message
            );
            assert!(!e.message.is_empty());
        }
    }
    let _ = r.is_malformed();
    serde_json::to_string(r).expect("a report serialises");
}

/// The streaming writers on the packet `decode` hands them: the JSON line
/// is serde_json's serialisation of `report` (the owned model of the same
/// packet), the text and OTLP writers write something exactly when there
/// is a report (OTLP: when it has a CLT span).
pub(crate) fn check_writers(
    opts: &DecodeOptions,
    report: Option<&PacketReport>,
    decode: impl Fn(&mut Decoder, &mut FormatSink) -> bool,
) {
    for format in [Format::Text, Format::Json, Format::OtlpJson] {
        let mut decoder = Decoder::new(opts.clone());
        let mut sink = FormatSink::new(format);
        let reported = decode(&mut decoder, &mut sink);
        assert_eq!(
            reported,
            report.is_some(),
            "the decoders agree on reporting"
        );
        let out = sink.buffer();
        match (format, report) {
            (Format::Json, Some(r)) => {
                let mut want = serde_json::to_vec(r).expect("a report serialises");
                want.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(out),
                    String::from_utf8_lossy(&want),
                    "the JSON writer and serde_json agree"
                );
            }
            (Format::Text, Some(_)) => assert!(out.ends_with(b"\n\n"), "a text block"),
            (Format::OtlpJson, Some(r)) => assert_eq!(
                out.is_empty(),
                r.ioam.iter().all(|o| o.span.is_none()),
                "a span per CLT-tagged option"
            ),
            (_, None) => assert!(out.is_empty(), "nothing written without a report"),
        }
    }
    // The sinks only ever append: a second packet leaves the first intact.
    let mut decoder = Decoder::new(opts.clone());
    let mut sink = FormatSink::Json(JsonSink::new());
    decode(&mut decoder, &mut sink);
    let once = sink.buffer().to_vec();
    decode(&mut decoder, &mut sink);
    assert_eq!(
        sink.buffer(),
        [&once[..], &once[..]].concat(),
        "the same packet twice"
    );
}

/// The tool's per-packet decode path, strict and lenient: every error
/// offset lies inside the packet, the report lists exactly the IOAM options
/// the packet scan finds, and it serialises and renders. The first input
/// byte also picks a link type for the frame decoder.
pub fn check_decode(data: &[u8]) {
    let len = data.len();
    for mode in [Mode::Strict, Mode::Lenient] {
        let opts = DecodeOptions {
            mode,
            legacy_clt_ns: if data.len() > 49 {
                vec![u16::from_be_bytes([data[48], data[49]])]
            } else {
                Vec::new()
            },
            ..DecodeOptions::default()
        };
        let report = decode_ipv6(1, None, data, &opts);
        if let Some(r) = &report {
            check_report(r, len);
        }
        check_writers(&opts, report.as_ref(), |d, s| {
            d.ipv6(1, None, data, s).is_some()
        });
        if let Ok(walk) = ExtHeaders::new(data) {
            // The decoder goes on with the next header after an option
            // error in one header, and stops at a chain error.
            let mut found = 0;
            for h in walk.map_while(Result::ok) {
                if let Some(opts) = h.options(mode) {
                    found += opts
                        .map_while(Result::ok)
                        .filter(|o| matches!(o, Opt::Ioam(_)))
                        .count();
                }
            }
            let reported = report.as_ref().map_or(0, |r| r.ioam.len());
            assert_eq!(reported, found, "report lists every IOAM option");
        }
        let opts = DecodeOptions {
            mode,
            ..DecodeOptions::default()
        };
        if let Some((&sel, rest)) = data.split_first() {
            let lt = [
                linktype::RAW,
                linktype::ETHERNET,
                linktype::NULL,
                linktype::LOOP,
                linktype::LINUX_SLL,
                linktype::LINUX_SLL2,
                linktype::IPV6,
                u32::from(sel),
            ][usize::from(sel % 8)];
            let frame = Frame {
                number: 1,
                time: None,
                linktype: lt,
                data: rest,
                orig_len: rest.len() as u32,
            };
            let report = decode_frame(&frame, &opts);
            if let Some(r) = &report {
                check_report(r, rest.len());
            }
            check_writers(&opts, report.as_ref(), |d, s| d.frame(&frame, s).is_some());
        }
    }
}
