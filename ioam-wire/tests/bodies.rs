//! The `IoamBody` trait, the one way in for every IOAM option body of
//! ioam-wire: the framing it writes holds the option code and IOAM type
//! that RFC 9486 §4 gives each type (the literal values of the RFC's
//! table, not our constants), and `decode` refuses other IOAM types.

use ioam_wire::body::IoamBody;
use ioam_wire::dex::DexRepr;
use ioam_wire::e2e::E2eRepr;
use ioam_wire::error::{Diagnostic, WireError};
use ioam_wire::ext::ExtKind;
use ioam_wire::integrity::IntegrityRepr;
use ioam_wire::ioam::IoamType;
use ioam_wire::pot::PotRepr;

/// Writes `body` as a one-option extension header and returns the option
/// code byte, the IOAM type byte and the header length.
fn framed<'a, B: IoamBody<'a>>(body: &B) -> (u8, u8, usize) {
    let mut hdr = [0u8; 96];
    let n = body.emit_ext_header(&mut hdr, 17).unwrap();
    assert_eq!(n, body.ext_header_len().unwrap());
    // `NH HEL | 01 00 | code LEN 00 type | body`
    assert_eq!(hdr[0], 17);
    assert_eq!(usize::from(hdr[1]), n / 8 - 1);
    assert_eq!(&hdr[2..4], &[1, 0]);
    assert_eq!(usize::from(hdr[5]), 2 + body.buffer_len());
    (hdr[4], hdr[7], n)
}

#[test]
fn framing_uses_the_rfc9486_code_and_type() {
    let pot = PotRepr::new_type0(7, 1, 2);
    let e2e = E2eRepr {
        namespace_id: 7,
        sequence_number: None,
        timestamp_secs: Some(5),
        timestamp_frac: None,
        undefined_bits: 0,
        opaque: &[],
    };
    let dex = DexRepr::new(7, 0x80_0000, Some(9), None);
    // RFC 9486 §4: POT 0x31 in Hop-by-Hop, E2E 0x11 in Destination
    // Options, DEX 0x11 in Hop-by-Hop; IOAM types 2, 3, 4 (RFC 9197, 9326).
    assert_eq!((framed(&pot).0, framed(&pot).1), (0x31, 2));
    assert_eq!((framed(&e2e).0, framed(&e2e).1), (0x11, 3));
    assert_eq!((framed(&dex).0, framed(&dex).1), (0x11, 4));
    assert_eq!(
        pot.ioam_type().ipv6_placement(),
        Some((0x31, ExtKind::HopByHop))
    );
    assert_eq!(
        e2e.ioam_type().ipv6_placement(),
        Some((0x11, ExtKind::DestinationOptions))
    );
    assert_eq!(
        dex.ioam_type().ipv6_placement(),
        Some((0x11, ExtKind::HopByHop))
    );

    // An integrity-protected POT keeps the code of POT and its own type 66.
    let nonce = [0u8; 12];
    let icv = [0u8; 16];
    let data = [0u8; 16];
    let header = [0, 7, 0, 0];
    let protected = IntegrityRepr::new_aes_gmac(
        IoamType::IntegrityProofOfTransit,
        &header,
        &nonce,
        &icv,
        &data,
    );
    assert_eq!((framed(&protected).0, framed(&protected).1), (0x31, 66));
}

#[test]
fn decode_reads_back_and_refuses_other_types() {
    let pot = PotRepr::new_type0(7, 0x1234, 0x99);
    let mut body = [0u8; 20];
    assert_eq!(pot.emit(&mut body), Ok(20));
    assert_eq!(PotRepr::decode(IoamType::ProofOfTransit, &body), Ok(pot));
    let e = PotRepr::decode(IoamType::EdgeToEdge, &body).unwrap_err();
    assert_eq!(
        e,
        WireError::WrongIoamType {
            found: 3,
            expected: "Proof of Transit (2, RFC 9197 §4.5)"
        }
    );
    assert_eq!(e.layer(), "IOAM option");
    assert_eq!(
        DexRepr::decode(IoamType::ProofOfTransit, &body).unwrap_err(),
        WireError::WrongIoamType {
            found: 2,
            expected: "Direct Export (4, RFC 9326)"
        }
    );
    assert!(matches!(
        IntegrityRepr::decode(IoamType::ProofOfTransit, &body),
        Err(WireError::WrongIoamType { found: 2, .. })
    ));
}

#[test]
fn framing_errors_name_the_buffer() {
    let pot = PotRepr::new_type0(1, 2, 3);
    assert_eq!(
        pot.emit_ext_header(&mut [0u8; 31], 17),
        Err(WireError::BufferTooSmall {
            required: 32,
            actual: 31
        })
    );
    let mut small = [0u8; 19];
    let e = pot.option_spec(&mut small).map(|_| ()).unwrap_err();
    assert_eq!(
        e,
        WireError::BufferTooSmall {
            required: 20,
            actual: 19
        }
    );
    assert_eq!(e.lengths().map(|l| (l.required, l.actual)), Some((20, 19)));
}
