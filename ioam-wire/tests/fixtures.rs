//! Byte fixtures in the layouts of RFC 9486 §4 and of the Linux `ioam6`
//! encapsulation, parsed through the public API, and cut at every byte.

use ioam_wire::build::{ioam_header, Align, Body, OptionSpec, OptionsBuilder};
use ioam_wire::error::{Layer, Rule, WireError};
use ioam_wire::ext::{ExtHeaders, ExtKind};
use ioam_wire::ioam::{IoamType, Placement, OPT_IOAM, OPT_IOAM_NOCHANGE};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::packet::{first_hbh_ioam, IoamOptions, PacketIoam};
use ioam_wire::proto;
use ioam_wire::Mode;

/// 40-byte IPv6 header, 2001:db8::1 -> 2001:db8::2.
fn ipv6(payload_len: usize, next_header: u8) -> Vec<u8> {
    let mut h = vec![0u8; 40];
    h[0] = 0x60;
    h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    h[6] = next_header;
    h[7] = 64;
    h[8..12].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    h[15] = 1;
    h[24..28].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    h[39] = 2;
    h
}

fn packet(next_header: u8, rest: &[&[u8]]) -> Vec<u8> {
    let payload: Vec<u8> = rest.concat();
    let mut p = ipv6(payload.len(), next_header);
    p.extend_from_slice(&payload);
    p
}

const UDP: [u8; 8] = [0x30, 0x39, 0x27, 0x0f, 0x00, 0x08, 0x00, 0x00];

/// Linux `trace prealloc type 0xfff002 ns 123 size 100`
/// (tools/testing/selftests/net/ioam6.sh, "Full supported trace"): 120 bytes.
fn linux_fff002_hbh() -> Vec<u8> {
    let mut v = vec![0x11, 0x0e, 0x01, 0x00, 0x31, 0x6e, 0x00, 0x00];
    v.extend_from_slice(&[0x00, 0x7b, 0x78, 0x19, 0xff, 0xf0, 0x02, 0x00]);
    v.extend_from_slice(&[0u8; 100]);
    v.extend_from_slice(&[0x01, 0x02, 0x00, 0x00]);
    v
}

/// Three IOAM options sharing one Hop-by-Hop header (RFC 9486 §4): an
/// Incremental trace first, then a Pre-allocated one (RFC 9197 §4.4), then
/// a POT option, each at 4n with no padding between them.
const HBH_THREE: [u8; 64] = [
    0x11, 0x07, 0x01, 0x00, // NH UDP, HEL 7, PadN(0)
    0x31, 0x0a, 0x00, 0x01, // incremental trace, len 10
    0x00, 0x01, 0x08, 0x02, 0x80, 0x00, 0x00, 0x00, // ns 1, NodeLen 1, RemLen 2, 0x800000
    0x31, 0x12, 0x00, 0x00, // pre-allocated, len 18
    0x00, 0x02, 0x08, 0x01, 0x80, 0x00, 0x00, 0x00, // ns 2, NodeLen 1, RemLen 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 2 nodes, 1 free
    0x31, 0x16, 0x00, 0x02, // POT, len 22
    0x00, 0x03, 0x00, 0x00, // ns 3, POT type 0, flags
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // random
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, // cumulative
    0x01, 0x02, 0x00, 0x00, // PadN(2)
];

/// DEX in a Hop-by-Hop header with the no-change code (RFC 9326 §3).
const HBH_DEX: [u8; 16] = [
    0x3b, 0x01, 0x01, 0x00, // NH No Next Header, HEL 1, PadN(0)
    0x11, 0x0a, 0x00, 0x04, // DEX, len 10
    0x00, 0x05, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, // ns 5, flags, ext flags, type 0x800000
];

/// E2E in a Destination Options header (RFC 9486 §4, 0x11).
const DO_E2E: [u8; 16] = [
    0x11, 0x01, 0x01, 0x00, // NH UDP, HEL 1, PadN(0)
    0x11, 0x0a, 0x00, 0x03, // E2E, len 10
    0x00, 0x07, 0x80, 0x00, 0x00, 0x00, 0x00, 0x2a, // ns 7, seq-number (32 bit), 42
];

fn all_ioam(p: &[u8], mode: Mode) -> Result<Vec<PacketIoam<'_>>, WireError> {
    IoamOptions::new(p, mode)?.collect()
}

/// Cuts `p` at every byte (keeping and fixing the Payload Length) and
/// checks that every walker either succeeds on a shorter packet or fails
/// with a length error whose numbers add up.
fn assert_truncations(p: &[u8]) {
    for cut in 0..p.len() {
        for fix in [false, true] {
            let mut q = p[..cut].to_vec();
            if fix && cut > 40 {
                q[4..6].copy_from_slice(&((cut - 40) as u16).to_be_bytes());
            }
            for mode in [Mode::Strict, Mode::Lenient] {
                if let Err(e) = all_ioam(&q, mode) {
                    match e {
                        WireError::Truncated {
                            offset,
                            required,
                            actual,
                            ..
                        } => {
                            assert!(actual < required, "{cut}: {e}");
                            assert!(offset + actual <= cut, "{cut}: {e}");
                        }
                        other => panic!("cut {cut}: unexpected {other}"),
                    }
                }
                let _ = first_hbh_ioam(&q, mode);
            }
        }
    }
}

#[test]
fn linux_full_supported_trace() {
    let hbh = linux_fff002_hbh();
    let mut built = [0u8; 120];
    let (n, ()) = ioam_header(
        &mut built,
        proto::UDP,
        OPT_IOAM,
        IoamType::PreallocatedTrace,
        108,
        |b| b[..8].copy_from_slice(&hbh[8..16]),
    )
    .unwrap();
    assert_eq!(built[..n], hbh[..]);

    let p = packet(proto::HOP_BY_HOP, &[&hbh, &UDP]);
    let found = all_ioam(&p, Mode::Strict).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].absolute_offset(), 44);
    assert_eq!(found[0].option.body.len(), 108);
    assert_eq!(found[0].option.body[..8], hbh[8..16]);
    assert_eq!(found[0].placement(), Placement::Conforms);
    assert_eq!(first_hbh_ioam(&p, Mode::Strict).unwrap(), Some(found[0]));
    assert_eq!(ExtHeaders::chain_end(&p).unwrap().offset, 160);
    assert_truncations(&p);
}

#[test]
fn several_ioam_options_in_one_header() {
    let p = packet(proto::HOP_BY_HOP, &[&HBH_THREE, &UDP]);
    let found = all_ioam(&p, Mode::Strict).unwrap();
    let types: Vec<IoamType> = found.iter().map(|f| f.option.ioam_type).collect();
    assert_eq!(
        types,
        [
            IoamType::IncrementalTrace,
            IoamType::PreallocatedTrace,
            IoamType::ProofOfTransit
        ]
    );
    let offsets: Vec<usize> = found.iter().map(|f| f.absolute_offset()).collect();
    assert_eq!(offsets, [44, 56, 76]);
    assert_eq!(found[0].placement(), Placement::Unspecified);
    assert!(found[1].placement().is_conforming());
    assert!(found[2].placement().is_conforming());
    assert_eq!(found[2].option.body, &HBH_THREE[40..60]);
    // The fast path stops at the first.
    assert_eq!(
        first_hbh_ioam(&p, Mode::Strict)
            .unwrap()
            .unwrap()
            .option
            .ioam_type,
        IoamType::IncrementalTrace
    );
    assert_truncations(&p);
}

#[test]
fn dex_in_hop_by_hop_and_e2e_in_destination_options() {
    let mut hbh = HBH_DEX;
    hbh[0] = proto::DEST_OPTS;
    let p = packet(proto::HOP_BY_HOP, &[&hbh, &DO_E2E, &UDP]);
    let found = all_ioam(&p, Mode::Strict).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        (found[0].header, found[0].option.ioam_type),
        (ExtKind::HopByHop, IoamType::DirectExport)
    );
    assert_eq!(
        (found[1].header, found[1].option.ioam_type),
        (ExtKind::DestinationOptions, IoamType::EdgeToEdge)
    );
    assert!(found.iter().all(|f| f.placement().is_conforming()));
    assert_eq!(found[1].absolute_body_offset(), 64);
    assert_truncations(&p);

    // E2E placed in a Hop-by-Hop header: reported, not rejected.
    let mut e2e_in_hbh = DO_E2E;
    e2e_in_hbh[0] = proto::NO_NEXT;
    let p = packet(proto::HOP_BY_HOP, &[&e2e_in_hbh]);
    let found = all_ioam(&p, Mode::Strict).unwrap();
    assert_eq!(
        found[0].placement(),
        Placement::Mismatch {
            expected_code: OPT_IOAM_NOCHANGE,
            expected_header: ExtKind::DestinationOptions,
            wrong_code: false,
            wrong_header: true
        }
    );
    assert!(found[0]
        .placement()
        .to_string()
        .contains("Destination Options"));
}

#[test]
fn ioam_behind_routing_and_fragment() {
    // IPv6 -> DO(E2E) -> Routing (SRH-sized, 24) -> Fragment (first) -> UDP.
    let mut do_hdr = DO_E2E;
    do_hdr[0] = proto::ROUTING;
    let routing = [
        proto::FRAGMENT,
        2,
        4,
        1,
        0,
        0,
        0,
        0,
        0x20,
        0x01,
        0x0d,
        0xb8,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        3,
    ];
    let frag = [proto::UDP, 0, 0x00, 0x01, 0, 0, 0, 9];
    let p = packet(proto::DEST_OPTS, &[&do_hdr, &routing, &frag, &UDP]);
    let kinds: Vec<(ExtKind, usize)> = ExtHeaders::new(&p)
        .unwrap()
        .map(|h| h.map(|h| (h.kind, h.offset)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        [
            (ExtKind::DestinationOptions, 40),
            (ExtKind::Routing, 56),
            (ExtKind::Fragment, 80)
        ]
    );
    let found = all_ioam(&p, Mode::Strict).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].absolute_offset(), 44);
    assert_truncations(&p);
}

#[test]
fn strict_rules_and_lenient_mode() {
    // Misaligned IOAM (at offset 2 of the header), as Linux would drop it.
    let hbh = [
        0x11, 0x01, 0x31, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];
    let p = packet(proto::HOP_BY_HOP, &[&hbh, &UDP]);
    assert_eq!(
        all_ioam(&p, Mode::Strict),
        Err(WireError::Invalid {
            rule: Rule::IoamMisaligned,
            offset: 42
        })
    );
    let found = all_ioam(&p, Mode::Lenient).unwrap();
    assert_eq!(found.len(), 1);
    assert!(!found[0].option.is_aligned());

    // An option overrunning its header: error with offset and lengths.
    let mut bad = HBH_DEX;
    bad[5] = 0x0e;
    let p = packet(proto::HOP_BY_HOP, &[&bad]);
    for mode in [Mode::Strict, Mode::Lenient] {
        assert_eq!(
            all_ioam(&p, mode),
            Err(WireError::Truncated {
                layer: Layer::Option(OPT_IOAM_NOCHANGE),
                offset: 44,
                required: 16,
                actual: 12
            })
        );
    }
}

#[test]
fn builder_output_matches_hand_written_fixtures() {
    let specs = [OptionSpec::Ioam {
        option_type: OPT_IOAM_NOCHANGE,
        ioam_type: IoamType::DirectExport,
        body: Body::Bytes(&HBH_DEX[8..]),
    }];
    let mut out = [0u8; 16];
    assert_eq!(
        OptionsBuilder::new(proto::NO_NEXT, &specs).emit(&mut out),
        Ok(16)
    );
    assert_eq!(out, HBH_DEX);

    let specs = [
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::IncrementalTrace,
            body: Body::Bytes(&HBH_THREE[8..16]),
        },
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::PreallocatedTrace,
            body: Body::Bytes(&HBH_THREE[20..36]),
        },
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::ProofOfTransit,
            body: Body::Bytes(&HBH_THREE[40..60]),
        },
    ];
    let mut out = [0u8; 64];
    assert_eq!(
        OptionsBuilder::new(proto::UDP, &specs).emit(&mut out),
        Ok(64)
    );
    assert_eq!(out, HBH_THREE);

    // Router Alert (RFC 2711, 2n+0) before an IOAM option.
    let specs = [
        OptionSpec::Raw {
            option_type: 0x05,
            align: Align { x: 2, y: 0 },
            data: Body::Bytes(&[0, 0]),
        },
        OptionSpec::Ioam {
            option_type: OPT_IOAM_NOCHANGE,
            ioam_type: IoamType::DirectExport,
            body: Body::Bytes(&HBH_DEX[8..]),
        },
    ];
    let mut out = [0u8; 24];
    assert_eq!(
        OptionsBuilder::new(proto::UDP, &specs).emit(&mut out),
        Ok(24)
    );
    assert_eq!(out[..8], [0x11, 0x02, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);
    assert_eq!(out[8..20], HBH_DEX[4..]);
    assert_eq!(out[20..], [0x01, 0x02, 0x00, 0x00]);
    let items: Vec<Opt<'_>> = Options::new(&out, Mode::Strict)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), 4);
    assert!(matches!(items[0], Opt::Unknown(u) if u.option_type == 5 && u.data == [0, 0]));
}
