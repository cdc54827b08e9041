//! The pure decoder (`ioam_cli::decode`) on damaged packets: every
//! truncation and every single-byte change of packets of every option type
//! gives a report with errors at offsets inside the packet, never a panic.

use ioam_cli::craft::random::corpus;
use ioam_cli::decode::{decode_ipv6, DecodeOptions};
use ioam_wire::ext::ExtHeaders;

fn modes() -> [DecodeOptions; 2] {
    [
        DecodeOptions::default(),
        DecodeOptions {
            mode: ioam_wire::Mode::Lenient,
            ..DecodeOptions::default()
        },
    ]
}

fn check(pkt: &[u8], opts: &DecodeOptions) -> Option<ioam_cli::model::PacketReport> {
    let r = decode_ipv6(1, None, pkt, opts)?;
    let all = r
        .errors
        .iter()
        .chain(r.ioam.iter().flat_map(|o| o.errors.iter()));
    for e in all {
        assert!(e.offset <= pkt.len(), "{e:?} beyond {} bytes", pkt.len());
        assert!(!e.message.is_empty());
    }
    Some(r)
}

#[test]
fn every_truncation_is_reported() {
    let packets = corpus(3, 60);
    for (pkt, label) in &packets {
        if !label.starts_with("valid:") {
            continue;
        }
        let end = ExtHeaders::chain_end(pkt)
            .expect("valid packets walk")
            .offset;
        for opts in modes() {
            for cut in 0..pkt.len() {
                let r = check(&pkt[..cut], &opts);
                if cut < end {
                    // Cut inside the headers: always malformed.
                    let r = r.unwrap_or_else(|| panic!("{label} cut at {cut}: no report"));
                    assert!(r.is_malformed(), "{label} cut at {cut}");
                } else if let Some(r) = r {
                    // Cut in the UDP payload: the IOAM options are intact.
                    assert!(!r.ioam.is_empty(), "{label} cut at {cut}");
                }
            }
        }
    }
}

#[test]
fn every_byte_change_is_survived() {
    let packets = corpus(4, 40);
    for (pkt, _) in &packets {
        let mut p = pkt.clone();
        for i in 0..p.len().min(160) {
            for v in [0x00, 0xff, p[i] ^ 0x80, p[i].wrapping_add(1)] {
                let old = p[i];
                p[i] = v;
                for opts in modes() {
                    let _ = check(&p, &opts);
                }
                p[i] = old;
            }
        }
    }
}

#[test]
fn malformed_corpus_packets_carry_errors() {
    for (pkt, label) in corpus(5, 400) {
        let r = check(&pkt, &DecodeOptions::default());
        if label.starts_with("malformed:") {
            let r = r.unwrap_or_else(|| panic!("{label}: no report"));
            assert!(r.is_malformed(), "{label}: {r:?}");
        } else if label.starts_with("valid:") {
            let r = r.unwrap_or_else(|| panic!("{label}: no report"));
            assert!(!r.is_malformed(), "{label}: {r:?}");
        }
    }
}

#[test]
fn dex_legacy_layout_only_on_request() {
    use ioam_wire::build::{Body, OptionSpec};
    use ioam_wire::ioam::{IoamType, OPT_IOAM_NOCHANGE};
    // Namespace 5, flags 0, Extension-Flags 0x03 in the pre-RFC order (flow
    // id 0x01, sequence number 0x02), trace type 0x800000, then both fields.
    let body = [0, 5, 0, 0x03, 0x80, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0x0b];
    let hbh = ioam_cli::craft::options_header(&[OptionSpec::Ioam {
        option_type: OPT_IOAM_NOCHANGE,
        ioam_type: IoamType::DirectExport,
        body: Body::Bytes(&body),
    }])
    .unwrap();
    let pkt = ioam_cli::craft::ipv6_udp_packet([0; 16], [0; 16], 64, &[(0, hbh)], b"x");

    let legacy = DecodeOptions {
        dex_layout: ioam_wire::dex::DexLayout::Legacy,
        ..DecodeOptions::default()
    };
    let r = decode_ipv6(1, None, &pkt, &legacy).unwrap();
    let o = &r.ioam[0];
    assert_eq!(o.errors, []);
    assert_eq!(o.extension_flags, Some(0x03));
    assert_eq!((o.flow_id, o.seq_num), (Some(0x0a), Some(0x0b)));

    // Read as RFC 9326, bits 6 and 7 are unassigned fields: kept opaque.
    let r = decode_ipv6(1, None, &pkt, &DecodeOptions::default()).unwrap();
    let o = &r.ioam[0];
    assert_eq!(o.errors, []);
    assert_eq!((o.flow_id, o.seq_num), (None, None));
    assert_eq!(o.data.as_deref(), Some("0000000a0000000b"));
}

#[test]
fn capture_times_rfc3339_cannot_write_are_left_out_and_said() {
    use ioam_capture::file::Timestamp;
    let pkt = &corpus(3, 1)[0].0;
    let far = Timestamp {
        secs: -4_611_686_018_427_387_904,
        nanos: 0,
    };
    let r = decode_ipv6(1, Some(far), pkt, &DecodeOptions::default()).unwrap();
    assert_eq!(r.time, None);
    assert!(
        r.errors
            .iter()
            .any(|e| e.message.contains("outside the years 0000-9999")),
        "{:?}",
        r.errors
    );
    let now = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    let r = decode_ipv6(1, Some(now), pkt, &DecodeOptions::default()).unwrap();
    assert_eq!(r.time.as_deref(), Some("2023-11-14T22:13:20Z"));
}

#[test]
fn a_payload_length_past_the_bytes_is_reported() {
    let mut pkt = corpus(3, 1)[0].0.clone();
    let plen = u16::from_be_bytes([pkt[4], pkt[5]]);
    let r = decode_ipv6(1, None, &pkt, &DecodeOptions::default()).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    pkt[4..6].copy_from_slice(&(plen + 8).to_be_bytes());
    let r = decode_ipv6(1, None, &pkt, &DecodeOptions::default()).unwrap();
    let e = r
        .errors
        .iter()
        .find(|e| e.message.starts_with("IPv6 payload"))
        .unwrap_or_else(|| panic!("{:?}", r.errors));
    assert_eq!(e.offset, 40);
    assert!(
        e.message.contains(&format!(
            "needs {} bytes but only {} are available",
            plen + 8,
            plen
        )),
        "{}",
        e.message
    );
}
