//! POT, E2E, DEX and integrity-protected options end to end: byte-exact
//! fixtures laid out from RFC 9197 §4.5-4.6, RFC 9326 §3.2 and RFC 9486 §4,
//! built by the option builders, put into an IPv6 packet, found again by
//! the packet's IOAM option walk and decoded by the body views.

use ioam_wire::body::IoamBody;
use ioam_wire::build::{insert_ext_header, OptionsBuilder};
use ioam_wire::dex::{Dex, DexLayout, DexRepr};
use ioam_wire::e2e::{E2e, E2eRepr, E2eType, SequenceNumber};
use ioam_wire::error::{Diagnostic, Layer, Rule, Unencodable, WireError};
use ioam_wire::ext::ExtKind;
use ioam_wire::integrity::{
    IntegrityPart, IntegrityRepr, OpaqueReason, ProtectedOption, Protection,
};
use ioam_wire::ioam::{IoamType, Placement};
use ioam_wire::packet::{IoamOptions, PacketIoam};
use ioam_wire::pot::{Pot, PotData, PotRepr};
use ioam_wire::Mode;
use ioam_wire::{dex, e2e, pot, proto};

/// IPv6 header + 8-byte UDP header, in a buffer with room for extension
/// headers. Returns the buffer and the packet length.
fn udp_packet() -> ([u8; 256], usize) {
    let mut buf = [0u8; 256];
    buf[0] = 0x60;
    buf[5] = 8; // Payload Length
    buf[6] = proto::UDP;
    buf[7] = 64;
    buf[8..24].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    buf[24..40].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    buf[40..48].copy_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0x00, 0x08, 0x00, 0x00]);
    (buf, 48)
}

/// Inserts `header` as `kind` and returns every IOAM option found in the
/// resulting packet (strict, Linux-like parsing), with the packet.
fn insert_and_scan(kind: ExtKind, header: &[u8]) -> ([u8; 256], usize) {
    let (mut buf, len) = udp_packet();
    let ins = insert_ext_header(&mut buf, len, kind, header).unwrap();
    assert_eq!(ins.packet_len, len + header.len());
    (buf, ins.packet_len)
}

fn only_option(packet: &[u8]) -> PacketIoam<'_> {
    let mut it = IoamOptions::new(packet, Mode::Strict).unwrap();
    let first = it.next().expect("one IOAM option").unwrap();
    assert!(it.next().is_none());
    first
}

// ---------------------------------------------------------------- POT

/// Hop-by-Hop header with one POT type 0 option, Linux layout
/// (RFC 9486 placement, RFC 9197 §4.5 body).
const POT_HBH: [u8; 32] = [
    0x11, 0x03, // Next Header UDP, Hdr Ext Len 3 (32 bytes)
    0x01, 0x00, // PadN, 0 bytes: aligns the IOAM option to 4n
    0x31, 0x16, 0x00, 0x02, // option 0x31, Opt Data Len 22, Reserved, IOAM type 2
    0x00, 0x2a, 0x00, 0x00, // Namespace-ID 42, POT type 0, POT flags 0
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // PktID
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // Cumulative
    0x01, 0x02, 0x00, 0x00, // PadN, 2 bytes: header to 8n
];

#[test]
fn pot_builds_parses_and_decodes() {
    let repr = PotRepr::new_type0(42, 0x0123_4567_89ab_cdef, 0x1000);
    assert_eq!(repr.ext_header_len(), Ok(32));
    let mut hbh = [0u8; 32];
    assert_eq!(repr.emit_ext_header(&mut hbh, proto::UDP), Ok(32));
    assert_eq!(hbh, POT_HBH);

    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh);
    let found = only_option(&buf[..len]);
    assert_eq!(found.header, ExtKind::HopByHop);
    assert_eq!(found.option.option_type, pot::IPV6_OPTION_CODE);
    assert_eq!(found.option.ioam_type, IoamType::ProofOfTransit);
    assert_eq!(found.placement(), Placement::Conforms);
    assert_eq!(found.absolute_body_offset(), 48);
    assert_eq!(PotRepr::from_option(&found.option), Ok(repr));
    let view = Pot::new_checked(found.option.body).unwrap();
    assert_eq!(view.pkt_id(), Some(0x0123_4567_89ab_cdef));
    assert_eq!(view.cumulative(), Some(0x1000));
}

#[test]
fn pot_transit_update_in_place() {
    let (mut buf, len) = insert_and_scan(ExtKind::HopByHop, &POT_HBH);
    let body_at = only_option(&buf[..len]).absolute_body_offset();
    let mut view = Pot::new_checked(&mut buf[body_at..body_at + pot::TYPE0_BODY_LEN]).unwrap();
    view.set_cumulative(0xdead_beef).unwrap();
    let found = only_option(&buf[..len]);
    assert_eq!(
        PotRepr::from_option(&found.option).unwrap().data,
        PotData::Type0 {
            pkt_id: 0x0123_4567_89ab_cdef,
            cumulative: 0xdead_beef
        }
    );
}

#[test]
fn pot_unknown_type_round_trips_untouched() {
    let data = [0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4];
    let repr = PotRepr {
        namespace_id: 7,
        flags: 0x80,
        data: PotData::Unknown {
            pot_type: 9,
            data: &data,
        },
    };
    let mut hbh = [0u8; 24];
    let n = repr.emit_ext_header(&mut hbh, proto::UDP).unwrap();
    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh[..n]);
    let found = only_option(&buf[..len]);
    assert_eq!(
        found.option.body,
        &[0, 7, 9, 0x80, 0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4]
    );
    assert_eq!(PotRepr::from_option(&found.option), Ok(repr));
}

#[test]
fn pot_truncated_anywhere_is_an_error() {
    let body = &POT_HBH[8..28];
    for n in 0..body.len() {
        assert!(PotRepr::parse_bytes(&body[..n]).is_err(), "length {n}");
        assert!(Pot::new_checked(&body[..n]).is_err(), "length {n}");
    }
    assert!(PotRepr::parse_bytes(body).is_ok());
}

#[test]
fn pot_body_not_4n_is_refused_by_the_builder() {
    let repr = PotRepr {
        namespace_id: 1,
        flags: 0,
        data: PotData::Unknown {
            pot_type: 5,
            data: &[1, 2],
        },
    };
    let mut hbh = [0u8; 32];
    assert!(matches!(
        repr.emit_ext_header(&mut hbh, proto::UDP),
        Err(WireError::Invalid { .. })
    ));
    assert_eq!(hbh, [0; 32]);
}

// ---------------------------------------------------------------- E2E

/// Destination Options header with one E2E option: 32-bit sequence number,
/// timestamp seconds and fraction (RFC 9197 §4.6, RFC 9486).
const E2E_DO: [u8; 24] = [
    0x11, 0x02, // Next Header UDP, Hdr Ext Len 2 (24 bytes)
    0x01, 0x00, // PadN, 0 bytes
    0x11, 0x12, 0x00, 0x03, // option 0x11, Opt Data Len 18, Reserved, IOAM type 3
    0x00, 0x05, 0x70, 0x00, // Namespace-ID 5, E2E-Type bits 1, 2, 3
    0x00, 0x00, 0x03, 0xe8, // 32-bit sequence number 1000
    0x65, 0x4f, 0x2c, 0x00, // timestamp seconds
    0x80, 0x00, 0x00, 0x00, // timestamp fraction (0.5 s)
];

#[test]
fn e2e_builds_parses_and_decodes() {
    let repr = E2eRepr::new(
        5,
        Some(SequenceNumber::Bits32(1000)),
        Some(0x654f_2c00),
        Some(0x8000_0000),
    );
    assert_eq!(repr.ext_header_len(), Ok(24));
    let mut dopt = [0u8; 24];
    assert_eq!(repr.emit_ext_header(&mut dopt, proto::UDP), Ok(24));
    assert_eq!(dopt, E2E_DO);

    let (buf, len) = insert_and_scan(ExtKind::DestinationOptions, &dopt);
    let found = only_option(&buf[..len]);
    assert_eq!(found.header, ExtKind::DestinationOptions);
    assert_eq!(found.option.option_type, e2e::IPV6_OPTION_CODE);
    assert_eq!(found.placement(), Placement::Conforms);
    assert_eq!(E2eRepr::from_option(&found.option), Ok(repr));
    let view = E2e::new_checked(found.option.body).unwrap();
    assert_eq!(
        view.e2e_type(),
        E2eType::SEQ_NUM_32 | E2eType::TIMESTAMP_SECS | E2eType::TIMESTAMP_FRAC
    );
}

#[test]
fn e2e_seq64_with_undefined_bits() {
    let opaque = [9, 9, 9, 9];
    let repr = E2eRepr {
        namespace_id: 0xffff,
        sequence_number: Some(SequenceNumber::Bits64(u64::MAX - 1)),
        timestamp_secs: None,
        timestamp_frac: None,
        undefined_bits: 0x0800,
        opaque: &opaque,
    };
    let mut dopt = [0u8; 32];
    let n = repr.emit_ext_header(&mut dopt, proto::UDP).unwrap();
    assert_eq!(
        &dopt[..n],
        &[
            0x11, 0x02, 0x01, 0x00, 0x11, 0x12, 0x00, 0x03, // frame
            0xff, 0xff, 0x88, 0x00, // NS, E2E-Type bit 0 + bit 4
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, // 64-bit seq
            9, 9, 9, 9, // opaque
        ][..]
    );
    let (buf, len) = insert_and_scan(ExtKind::DestinationOptions, &dopt[..n]);
    let found = only_option(&buf[..len]);
    let view = E2e::new_checked(found.option.body).unwrap();
    assert_eq!(view.undefined_bits(), 0x0800);
    assert_eq!(view.seq_num_64(), Some(u64::MAX - 1));
    assert_eq!(view.opaque(), &opaque);
    assert_eq!(E2eRepr::from_option(&found.option), Ok(repr));
}

#[test]
fn e2e_truncated_anywhere_is_an_error() {
    let body = &E2E_DO[8..];
    for n in 0..body.len() {
        assert!(E2eRepr::parse_bytes(&body[..n]).is_err(), "length {n}");
    }
}

#[test]
fn e2e_in_hop_by_hop_is_reported_not_rejected() {
    let mut hbh = E2E_DO;
    // Same option, wrong header and wrong code.
    hbh[4] = 0x31;
    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh);
    let found = only_option(&buf[..len]);
    assert!(!found.placement().is_conforming());
    assert!(E2eRepr::from_option(&found.option).is_ok());
}

// ---------------------------------------------------------------- DEX

/// Hop-by-Hop header with one DEX option, Flow ID and Sequence Number
/// (RFC 9326 §3.2).
const DEX_HBH: [u8; 24] = [
    0x11, 0x02, // Next Header UDP, Hdr Ext Len 2 (24 bytes)
    0x01, 0x00, // PadN, 0 bytes
    0x11, 0x12, 0x00, 0x04, // option 0x11, Opt Data Len 18, Reserved, IOAM type 4
    0x00, 0x7b, 0x00, 0xc0, // Namespace-ID 123, Flags 0, Extension-Flags 0xc0
    0xf0, 0x00, 0x00, 0x00, // IOAM-Trace-Type bits 0-3, Reserved
    0x00, 0x0a, 0xbc, 0xde, // Flow ID
    0x00, 0x00, 0x00, 0x2a, // Sequence Number 42
];

#[test]
fn dex_builds_parses_and_decodes() {
    let repr = DexRepr::new(123, 0xf0_0000, Some(0x000a_bcde), Some(42));
    assert_eq!(repr.ext_header_len(), Ok(24));
    let mut hbh = [0u8; 24];
    assert_eq!(repr.emit_ext_header(&mut hbh, proto::UDP), Ok(24));
    assert_eq!(hbh, DEX_HBH);

    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh);
    let found = only_option(&buf[..len]);
    assert_eq!(found.option.option_type, dex::IPV6_OPTION_CODE);
    assert_eq!(found.option.ioam_type, IoamType::DirectExport);
    assert_eq!(found.placement(), Placement::Conforms);
    assert_eq!(DexRepr::from_option(&found.option), Ok(repr));
    let view = Dex::new_checked(found.option.body).unwrap();
    assert_eq!(
        (view.flow_id(), view.sequence_number()),
        (Some(0xabcde), Some(42))
    );
}

#[test]
fn dex_without_extensions_is_eight_bytes() {
    let repr = DexRepr::new(1, 0x80_0000, None, None);
    let mut hbh = [0u8; 16];
    assert_eq!(repr.emit_ext_header(&mut hbh, proto::UDP), Ok(16));
    assert_eq!(
        hbh,
        [
            0x11, 0x01, 0x01, 0x00, 0x11, 0x0a, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00,
            0x00, 0x00
        ]
    );
}

#[test]
fn dex_truncated_anywhere_and_length_mismatch_are_errors() {
    let body = &DEX_HBH[8..];
    for n in 0..body.len() {
        assert!(DexRepr::parse_bytes(&body[..n]).is_err(), "length {n}");
    }
    // One extension flag too many for the bytes present.
    let mut b = [0u8; 16];
    b.copy_from_slice(body);
    b[3] = 0xe0;
    assert_eq!(
        DexRepr::parse_bytes(&b),
        Err(WireError::LengthMismatch {
            layer: Layer::DexBody(0xe0),
            offset: 3,
            required: 20,
            actual: 16
        })
    );
}

#[test]
fn dex_legacy_bit_order_only_on_request() {
    // Pre-RFC 9326 layout as in older public captures: Extension-Flags 0x03.
    let body = [
        0x00, 0x7b, 0x00, 0x03, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x0a, 0xbc, 0xde, 0x00, 0x00, 0x00,
        0x2a,
    ];
    let legacy = DexRepr::parse_bytes_with(&body, DexLayout::Legacy).unwrap();
    assert_eq!(
        legacy,
        DexRepr::new(123, 0xf0_0000, Some(0xabcde), Some(42))
    );
    let rfc = DexRepr::parse_bytes(&body).unwrap();
    assert_eq!((rfc.flow_id, rfc.sequence_number), (None, None));
    assert_eq!(rfc.unassigned[4..], [Some(0xabcde), Some(42)]);
}

// ------------------------------------------------------ several in one header

#[test]
fn pot_and_dex_share_one_hop_by_hop_header() {
    let pot = PotRepr::new_type0(1, 2, 3);
    let dex = DexRepr::new(1, 0x80_0000, None, Some(7));
    let (mut s1, mut s2) = ([0u8; 252], [0u8; 252]);
    let specs = [
        dex.option_spec(&mut s1).unwrap(),
        pot.option_spec(&mut s2).unwrap(),
    ];
    let builder = OptionsBuilder::new(proto::UDP, &specs);
    let mut hbh = [0u8; 64];
    let n = builder.emit(&mut hbh).unwrap();
    assert_eq!(n % 8, 0);
    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh[..n]);
    let all: Vec<_> = IoamOptions::new(&buf[..len], Mode::Strict)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|o| o.placement().is_conforming()));
    assert_eq!(DexRepr::from_option(&all[0].option), Ok(dex));
    assert_eq!(PotRepr::from_option(&all[1].option), Ok(pot));
    assert_eq!(
        PotRepr::from_option(&all[0].option),
        Err(WireError::WrongIoamType {
            found: 4,
            expected: "Proof of Transit (2, RFC 9197 §4.5)"
        })
    );
}

// ------------------------------------------------------ integrity-protected

#[test]
fn integrity_pot_through_the_builder() {
    let nonce = [0x11; 12];
    let icv = [0x22; 16];
    let pot_header = [0x00, 0x2a, 0x00, 0x00];
    let pot_data = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
    let opt = IntegrityRepr::new_aes_gmac(
        IoamType::IntegrityProofOfTransit,
        &pot_header,
        &nonce,
        &icv,
        &pot_data,
    );
    let mut body = [0u8; 52];
    assert_eq!(opt.emit(&mut body), Ok(52));
    assert_eq!(body[4..8], [0x01, 0x0c, 0x00, 0x00]);

    let specs = [ioam_wire::build::OptionSpec::Ioam {
        option_type: 0x31,
        ioam_type: IoamType::IntegrityProofOfTransit,
        body: ioam_wire::build::Body::Bytes(&body),
    }];
    let mut hbh = [0u8; 64];
    let n = OptionsBuilder::new(proto::UDP, &specs)
        .emit(&mut hbh)
        .unwrap();
    let (buf, len) = insert_and_scan(ExtKind::HopByHop, &hbh[..n]);
    let found = only_option(&buf[..len]);
    assert_eq!(found.placement(), Placement::Unspecified);
    let parsed = IntegrityRepr::from_option(&found.option).unwrap();
    assert_eq!(parsed, opt);
    match parsed.protected() {
        Some(Ok(ProtectedOption::Pot(p))) => assert_eq!(p, PotRepr::new_type0(42, 1, 2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn integrity_truncated_anywhere_is_an_error() {
    let nonce = [0x11; 12];
    let icv = [0x22; 16];
    let data = [0u8; 16];
    let opt = IntegrityRepr::new_aes_gmac(
        IoamType::IntegrityProofOfTransit,
        &[0, 1, 0, 0],
        &nonce,
        &icv,
        &data,
    );
    let mut body = [0u8; 52];
    opt.emit(&mut body).unwrap();
    for n in 0..body.len() {
        let failed = match IntegrityRepr::decode(IoamType::from_u8(66), &body[..n]) {
            Err(_) => true,
            Ok(o) => matches!(o.protected(), Some(Err(_))),
        };
        assert!(failed, "length {n}");
    }
}

#[test]
fn integrity_unknown_method_is_kept() {
    let mut body = [0u8; 40];
    body[..8].copy_from_slice(&[0, 1, 0x0c, 0x01, 0x80, 0, 0, 0]);
    body[8..12].copy_from_slice(&[0x07, 0x08, 0, 0]);
    let o = IntegrityRepr::decode(IoamType::from_u8(64), &body).unwrap();
    assert_eq!(
        o.protection,
        Protection::Opaque {
            reason: OpaqueReason::UnknownMethod(7),
            rest: &body[12..]
        }
    );
    let mut out = [0u8; 40];
    assert_eq!(o.emit(&mut out), Ok(40));
    assert_eq!(out, body);
}

// ------------------------------------------------------ error messages

#[test]
fn every_error_displays_its_rule() {
    // Each body error on one line: the structure, the offset, the lengths
    // and the document that states the rule.
    let cases: Vec<(WireError, &[&str])> = vec![
        (
            WireError::Truncated {
                layer: Layer::PotHeader,
                offset: 0,
                required: 4,
                actual: 1,
            },
            &["POT header", "offset 0", "needs 4 bytes", "only 1"],
        ),
        (
            WireError::LengthMismatch {
                layer: Layer::PotType0Data,
                offset: 4,
                required: 16,
                actual: 3,
            },
            &[
                "POT type 0 data",
                "offset 4",
                "must be 16 bytes",
                "found 3",
                "RFC 9197 §4.5.2",
            ],
        ),
        (
            WireError::Unencodable(Unencodable::PotUnknownUsesType0),
            &["POT type 0", "RFC 9197 §4.5.2"],
        ),
        (
            WireError::Unencodable(Unencodable::PotNotType0(3)),
            &["POT type 3"],
        ),
        (
            WireError::WrongIoamType {
                found: 3,
                expected: "Proof of Transit (2, RFC 9197 §4.5)",
            },
            &["IOAM Option-Type 3", "not Proof of Transit"],
        ),
        (
            WireError::Truncated {
                layer: Layer::E2eHeader,
                offset: 0,
                required: 4,
                actual: 1,
            },
            &["E2E header", "needs 4 bytes"],
        ),
        (
            WireError::Invalid {
                rule: Rule::E2eBothSequenceNumbers,
                offset: 2,
            },
            &["offset 2", "mutually exclusive", "RFC 9197 §4.6"],
        ),
        (
            WireError::Truncated {
                layer: Layer::E2eData(0x8000),
                offset: 4,
                required: 8,
                actual: 4,
            },
            &[
                "E2E data of IOAM-E2E-Type 0x8000",
                "offset 4",
                "needs 8 bytes",
                "only 4",
            ],
        ),
        (
            WireError::LengthMismatch {
                layer: Layer::E2eData(0x2000),
                offset: 4,
                required: 4,
                actual: 8,
            },
            &[
                "IOAM-E2E-Type 0x2000",
                "must be 4 bytes",
                "found 8",
                "RFC 9197 §4.6",
            ],
        ),
        (
            WireError::Unencodable(Unencodable::E2eUndefined {
                bits: 0,
                opaque_len: 4,
            }),
            &["4 bytes", "bits 4-15"],
        ),
        (
            WireError::Truncated {
                layer: Layer::DexHeader,
                offset: 0,
                required: 8,
                actual: 1,
            },
            &["DEX header", "needs 8 bytes"],
        ),
        (
            WireError::LengthMismatch {
                layer: Layer::DexBody(0x80),
                offset: 3,
                required: 12,
                actual: 8,
            },
            &[
                "Extension-Flags 0x80",
                "offset 3",
                "8 + 4 * 1 = 12",
                "8 bytes",
                "RFC 9326 §3.2",
            ],
        ),
        (
            WireError::Unencodable(Unencodable::DexTraceTypeTooWide(1 << 24)),
            &["0x1000000", "24 bits"],
        ),
        (
            WireError::Truncated {
                layer: Layer::Integrity(IntegrityPart::Icv),
                offset: 20,
                required: 16,
                actual: 3,
            },
            &[
                "integrity-protected option ICV",
                "offset 20",
                "needs 16 bytes",
                "only 3",
            ],
        ),
        (
            WireError::Unencodable(Unencodable::IntegrityOptionHeaderLength {
                required: 8,
                actual: 4,
            }),
            &["must be 8 bytes", "4 given"],
        ),
        (
            WireError::Unencodable(Unencodable::IntegrityPartsMismatch),
            &["12-byte nonce"],
        ),
        (
            WireError::BufferTooSmall {
                required: 52,
                actual: 4,
            },
            &["52 bytes required", "4 available"],
        ),
    ];
    for (e, needles) in cases {
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text:?} is not one line");
        for needle in needles {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
        // The same facts through the Diagnostic methods.
        assert!(!e.layer().is_empty() && !e.rule().is_empty(), "{e:?}");
        if let Some(o) = e.offset() {
            assert!(text.contains(&format!("offset {o}")), "{text:?}");
        }
        if let Some(l) = e.lengths() {
            assert!(text.contains(&l.required.to_string()), "{text:?}");
            assert!(text.contains(&l.actual.to_string()), "{text:?}");
        }
    }
    let text = OpaqueReason::UnknownMethod(9).to_string();
    assert!(text.contains("Method-ID 9 is unknown"), "{text}");
}
