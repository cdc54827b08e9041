//! Check for the `ioam decode` per-packet decoder (`ioam_cli::decode`).

use ioam_capture::file::{linktype, Frame};
use ioam_cli::decode::{decode_frame, decode_ipv6, DecodeOptions};
use ioam_cli::model::PacketReport;
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
    let _ = ioam_cli::text::render(r);
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
            if let Some(r) = decode_frame(&frame, &opts) {
                check_report(&r, rest.len());
            }
        }
    }
}
