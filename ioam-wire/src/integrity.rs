//! Integrity-protected IOAM options (IOAM Option-Types 64-67,
//! draft-ietf-ippm-ioam-data-integrity, temporary IANA code points).
//!
//! An integrity-protected option is its unprotected sibling with an
//! *integrity protection header* inserted between the option-specific
//! header and the option data:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~  option-specific header: trace (8 bytes), POT or E2E (4 bytes) ~  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Method-ID   | Nonce Length  |           Reserved            |  H
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                     Nonce (Nonce Length bytes)                ~  H+4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                 ICV (length set by the method)                ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~   option data: trace node data, POT data, E2E data fields     ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! | IOAM type | protected option        | option header |
//! |-----------|-------------------------|---------------|
//! | 64        | Pre-allocated Trace     | 8 bytes       |
//! | 65        | Incremental Trace       | 8 bytes       |
//! | 66        | Proof of Transit        | 4 bytes       |
//! | 67        | Edge-to-Edge            | 4 bytes       |
//!
//! Integrity protection method 1 is AES-GMAC with a 12-byte nonce and a
//! 16-byte ICV, so the integrity header takes 4 + 12 + 16 = 32 bytes and the
//! data stays 4-byte aligned. For any other Method-ID the ICV length is not
//! known, and for method 1 with a nonce length other than 12 the layout is
//! not the one specified: both cases are *reported* ([`Protection::Opaque`])
//! and everything after the 4 fixed bytes of the integrity header is kept
//! untouched; only a truncated option is an error.
//!
//! Nothing here computes or verifies an ICV; this module decodes and
//! writes the structure.
//!
//! **Sources.** The placement of the integrity protection header (after the
//! option-specific header, before the data) and the order nonce-then-ICV
//! follow our reading of the draft. Method-ID 1 for AES-GMAC (12-byte
//! nonce, 16-byte ICV) is the value the draft and its YANG companion
//! (draft-iuzh-ippm-ioam-integrity-yang, identity `method-1`) use; Method-ID
//! 0 is not assigned and is reported like any unknown method. The 16-bit
//! Reserved after Nonce Length keeps the nonce, the ICV and the data 4-byte
//! aligned. The draft is work in progress: if a later revision moves a
//! field, [`FIXED_LEN`], [`METHOD_AES_GMAC`] and [`IntegrityRepr::decode`](IoamBody::decode)
//! are the places to change.
//!
//! **Compared with the one public implementation.** The Linux kernel proof
//! of concept published by the draft's authors (repository
//! `Advanced-Observability/ioam-integrity-linux-kernel`, both variants, on
//! net-next 6.8) uses IOAM type 64 for the protected pre-allocated trace
//! and the same 32-byte integrity header as this module: Method-ID 1 for
//! AES-GMAC, Nonce Length 12, two reserved bytes, the 12-byte nonce, the
//! 16-byte ICV. It differs in one respect: it places that header *before*
//! the trace header (right after the IOAM option's Reserved and Option-Type
//! bytes), where this module expects it after the option-specific header.
//! The draft's figure could not be consulted while writing this module, so
//! the placement here is a reading of its prose, not a verified fact; a
//! packet from that kernel is misread here (its integrity header taken for
//! the trace header). Moving the header is a change to
//! [`IntegrityRepr::decode`](IoamBody::decode) and the writer only.
//!
//! As for the other option bodies, parsing starts at the Namespace-ID (the
//! IOAM body after Reserved and IOAM Option-Type) and every offset in an
//! [`WireError`] is relative to that slice.
//!
//! ```
//! use ioam_wire::body::IoamBody;
//! use ioam_wire::ioam::IoamType;
//! use ioam_wire::integrity::{IntegrityMethod, IntegrityRepr, ProtectedOption, Protection};
//! use ioam_wire::pot::PotData;
//!
//! let mut body = [0u8; 4 + 32 + 16];
//! body[..4].copy_from_slice(&[0x00, 0x09, 0x00, 0x00]); // POT header, type 0
//! body[4..8].copy_from_slice(&[1, 12, 0, 0]); // method 1, nonce length 12
//! body[51] = 5; // Cumulative = 5
//! let opt = IntegrityRepr::decode(IoamType::from_u8(66), &body).unwrap();
//! assert_eq!(opt.method(), IntegrityMethod::AesGmac);
//! let Protection::Decoded { nonce, icv, .. } = opt.protection else { panic!() };
//! assert_eq!((nonce.len(), icv.len()), (12, 16));
//! match opt.protected().unwrap().unwrap() {
//!     ProtectedOption::Pot(pot) => {
//!         assert_eq!(pot.data, PotData::Type0 { pkt_id: 0, cumulative: 5 })
//!     }
//!     _ => unreachable!(),
//! }
//! ```

use core::fmt;

use crate::body::IoamBody;
use crate::e2e::E2eRepr;
pub use crate::error::IntegrityPart;
use crate::error::{Layer, Unencodable, WireError};

/// What an integrity parser reads, for [`WireError::WrongIoamType`].
const INTEGRITY_EXPECTED: &str = "integrity-protected (64-67, draft-ietf-ippm-ioam-data-integrity)";
use crate::ioam::IoamType;
use crate::pot::PotRepr;

/// Length of the fixed part of the integrity protection header:
/// Method-ID, Nonce Length, Reserved.
pub const FIXED_LEN: usize = 4;
/// Method-ID of AES-GMAC with a 12-byte nonce and a 16-byte ICV.
pub const METHOD_AES_GMAC: u8 = 1;
/// Nonce length of [`METHOD_AES_GMAC`].
pub const AES_GMAC_NONCE_LEN: usize = 12;
/// ICV length of [`METHOD_AES_GMAC`].
pub const AES_GMAC_ICV_LEN: usize = 16;

/// Length of the option-specific header that precedes the integrity
/// header, for an integrity-protected IOAM type; `None` for other types.
pub const fn option_header_len(ioam_type: IoamType) -> Option<usize> {
    match IoamType::from_u8(ioam_type.to_u8()) {
        IoamType::IntegrityPreallocatedTrace | IoamType::IntegrityIncrementalTrace => Some(8),
        IoamType::IntegrityProofOfTransit | IoamType::IntegrityEdgeToEdge => Some(4),
        _ => None,
    }
}

/// The integrity protection method (draft-ietf-ippm-ioam-data-integrity,
/// "IOAM Integrity Protection Method" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum IntegrityMethod {
    /// Method-ID 1: AES-GMAC, 12-byte nonce, 16-byte ICV.
    AesGmac,
    /// Any other Method-ID: nonce and ICV layout unknown.
    Unknown(u8),
}

impl IntegrityMethod {
    /// Nonce length the method requires, if known.
    pub const fn nonce_len(self) -> Option<usize> {
        match self {
            IntegrityMethod::AesGmac => Some(AES_GMAC_NONCE_LEN),
            IntegrityMethod::Unknown(_) => None,
        }
    }

    /// ICV length of the method, if known.
    pub const fn icv_len(self) -> Option<usize> {
        match self {
            IntegrityMethod::AesGmac => Some(AES_GMAC_ICV_LEN),
            IntegrityMethod::Unknown(_) => None,
        }
    }
}

impl From<u8> for IntegrityMethod {
    fn from(v: u8) -> Self {
        match v {
            METHOD_AES_GMAC => IntegrityMethod::AesGmac,
            other => IntegrityMethod::Unknown(other),
        }
    }
}

impl From<IntegrityMethod> for u8 {
    fn from(m: IntegrityMethod) -> Self {
        match m {
            IntegrityMethod::AesGmac => METHOD_AES_GMAC,
            IntegrityMethod::Unknown(v) => v,
        }
    }
}

/// Why the bytes after the fixed integrity header were left opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum OpaqueReason {
    /// The Method-ID is not known, so the ICV length is not either.
    UnknownMethod(u8),
    /// The method is known but the Nonce Length is not the one it uses.
    UnexpectedNonceLength {
        /// Nonce length of the method.
        expected: u8,
        /// Nonce Length field.
        actual: u8,
    },
}

impl fmt::Display for OpaqueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpaqueReason::UnknownMethod(m) => write!(
                f,
                "integrity protection Method-ID {m} is unknown: nonce, ICV and data left opaque"
            ),
            OpaqueReason::UnexpectedNonceLength { expected, actual } => write!(
                f,
                "integrity protection Nonce Length {actual} differs from the {expected} bytes of the method: nonce, ICV and data left opaque"
            ),
        }
    }
}

/// What follows the fixed part of the integrity header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Protection<'a> {
    /// Known method and nonce length: the parts are located.
    Decoded {
        /// The nonce.
        nonce: &'a [u8],
        /// The integrity check value.
        icv: &'a [u8],
        /// The protected option's data.
        data: &'a [u8],
    },
    /// Unknown method or nonce length: reported, bytes kept as received.
    Opaque {
        /// Why.
        reason: OpaqueReason,
        /// Every byte after the fixed 4-byte integrity header.
        rest: &'a [u8],
    },
}

fn take(body: &[u8], part: IntegrityPart, offset: usize, len: usize) -> Result<&[u8], WireError> {
    let actual = body.len().saturating_sub(offset);
    offset
        .checked_add(len)
        .and_then(|end| body.get(offset..end))
        .ok_or(WireError::Truncated {
            layer: Layer::Integrity(part),
            offset,
            required: len,
            actual,
        })
}

/// The option-specific header and data of a protected trace option; the
/// trace itself is decoded by the trace layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParts<'a> {
    /// The 8-byte trace option header (RFC 9197 §4.4.1).
    pub header: &'a [u8],
    /// The node data list.
    pub data: &'a [u8],
}

impl TraceParts<'_> {
    /// Namespace-ID of the trace header.
    pub fn namespace_id(&self) -> u16 {
        match self.header {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => 0,
        }
    }
}

/// The option behind the integrity header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtectedOption<'a> {
    /// Type 64: a Pre-allocated Trace.
    PreallocatedTrace(TraceParts<'a>),
    /// Type 65: an Incremental Trace.
    IncrementalTrace(TraceParts<'a>),
    /// Type 66: a POT option.
    Pot(PotRepr<'a>),
    /// Type 67: an E2E option.
    E2e(E2eRepr<'a>),
}

/// An integrity-protected option body, parsed without copying; also the
/// value written by [`IntegrityRepr::emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IntegrityRepr<'a> {
    /// IOAM Option-Type, one of the four integrity-protected types (64..=67).
    pub ioam_type: IoamType,
    /// The option-specific header (8 bytes for traces, 4 for POT and E2E).
    pub option_header: &'a [u8],
    /// Method-ID as received.
    pub method_id: u8,
    /// Nonce Length as received.
    pub nonce_len: u8,
    /// Reserved as received (0 on send).
    pub reserved: u16,
    /// Nonce, ICV and data, or the reason they are opaque.
    pub protection: Protection<'a>,
}

impl<'a> IntegrityRepr<'a> {
    /// The integrity protection method.
    pub fn method(&self) -> IntegrityMethod {
        IntegrityMethod::from(self.method_id)
    }

    /// A method-1 (AES-GMAC) option to send, reserved 0.
    pub const fn new_aes_gmac(
        ioam_type: IoamType,
        option_header: &'a [u8],
        nonce: &'a [u8; AES_GMAC_NONCE_LEN],
        icv: &'a [u8; AES_GMAC_ICV_LEN],
        data: &'a [u8],
    ) -> Self {
        IntegrityRepr {
            ioam_type,
            option_header,
            method_id: METHOD_AES_GMAC,
            nonce_len: AES_GMAC_NONCE_LEN as u8,
            reserved: 0,
            protection: Protection::Decoded { nonce, icv, data },
        }
    }

    /// Offset of the option data in the body, when the parts are located.
    pub fn data_offset(&self) -> Option<usize> {
        match self.protection {
            Protection::Decoded { nonce, icv, .. } => {
                Some(self.option_header.len() + FIXED_LEN + nonce.len() + icv.len())
            }
            Protection::Opaque { .. } => None,
        }
    }

    /// Decodes the protected option (header + data, with the integrity
    /// header taken out). `None` when the data could not be located
    /// ([`Protection::Opaque`]).
    pub fn protected(&self) -> Option<Result<ProtectedOption<'a>, WireError>> {
        let Protection::Decoded { data, .. } = self.protection else {
            return None;
        };
        let at = self.data_offset()?;
        let header = self.option_header;
        Some(match IoamType::from_u8(self.ioam_type.to_u8()) {
            IoamType::IntegrityPreallocatedTrace => {
                Ok(ProtectedOption::PreallocatedTrace(TraceParts {
                    header,
                    data,
                }))
            }
            IoamType::IntegrityIncrementalTrace => {
                Ok(ProtectedOption::IncrementalTrace(TraceParts {
                    header,
                    data,
                }))
            }
            IoamType::IntegrityProofOfTransit => {
                PotRepr::from_parts(header, data, at).map(ProtectedOption::Pot)
            }
            IoamType::IntegrityEdgeToEdge => {
                E2eRepr::from_parts(header, data, at).map(ProtectedOption::E2e)
            }
            other => Err(WireError::WrongIoamType {
                found: other.to_u8(),
                expected: INTEGRITY_EXPECTED,
            }),
        })
    }
}

/// The integrity-protected options in IPv6: no placement is specified for
/// them; the option code is the one of the unprotected sibling
/// ([`IoamType::default_option_code`]: 0x31 for traces and POT, 0x11 for
/// E2E).
impl<'a> IoamBody<'a> for IntegrityRepr<'a> {
    /// Parses the body of an IOAM option of type `ioam_type` (64-67).
    ///
    /// An unknown method or nonce length is not an error: it yields
    /// [`Protection::Opaque`]. The protected option itself is decoded on
    /// request by [`IntegrityRepr::protected`].
    fn decode(ioam_type: IoamType, body: &'a [u8]) -> Result<Self, WireError> {
        let hlen = option_header_len(ioam_type).ok_or(WireError::WrongIoamType {
            found: ioam_type.to_u8(),
            expected: INTEGRITY_EXPECTED,
        })?;
        let option_header = take(body, IntegrityPart::OptionHeader, 0, hlen)?;
        let fixed = take(body, IntegrityPart::IntegrityHeader, hlen, FIXED_LEN)?;
        let (method_id, nonce_len) = (fixed[0], fixed[1]);
        let reserved = u16::from_be_bytes([fixed[2], fixed[3]]);
        let rest_at = hlen + FIXED_LEN;
        let rest = &body[rest_at..];
        let method = IntegrityMethod::from(method_id);
        let protection = match (method.nonce_len(), method.icv_len()) {
            (Some(n), Some(icv_len)) if n == nonce_len as usize => {
                let nonce = take(body, IntegrityPart::Nonce, rest_at, n)?;
                let icv = take(body, IntegrityPart::Icv, rest_at + n, icv_len)?;
                Protection::Decoded {
                    nonce,
                    icv,
                    data: &body[rest_at + n + icv_len..],
                }
            }
            (Some(n), _) => Protection::Opaque {
                reason: OpaqueReason::UnexpectedNonceLength {
                    expected: n as u8,
                    actual: nonce_len,
                },
                rest,
            },
            _ => Protection::Opaque {
                reason: OpaqueReason::UnknownMethod(method_id),
                rest,
            },
        };
        Ok(IntegrityRepr {
            ioam_type,
            option_header,
            method_id,
            nonce_len,
            reserved,
            protection,
        })
    }

    #[inline]
    fn ioam_type(&self) -> IoamType {
        self.ioam_type
    }

    /// Option header, integrity header, nonce, ICV and data.
    fn buffer_len(&self) -> usize {
        self.option_header.len()
            + FIXED_LEN
            + match self.protection {
                Protection::Decoded { nonce, icv, data } => nonce.len() + icv.len() + data.len(),
                Protection::Opaque { rest, .. } => rest.len(),
            }
    }

    /// The option header length suits the IOAM type, and the nonce, ICV
    /// and opaque reason agree with the Method-ID and Nonce Length.
    fn validate(&self) -> Result<(), WireError> {
        let hlen = option_header_len(self.ioam_type).ok_or(WireError::WrongIoamType {
            found: self.ioam_type.to_u8(),
            expected: INTEGRITY_EXPECTED,
        })?;
        if self.option_header.len() != hlen {
            return Err(WireError::Unencodable(
                Unencodable::IntegrityOptionHeaderLength {
                    required: hlen,
                    actual: self.option_header.len(),
                },
            ));
        }
        match self.protection {
            Protection::Decoded { nonce, icv, .. } => {
                let m = self.method();
                let ok = nonce.len() == self.nonce_len as usize
                    && m.nonce_len() == Some(nonce.len())
                    && m.icv_len() == Some(icv.len());
                if !ok {
                    return Err(WireError::Unencodable(Unencodable::IntegrityPartsMismatch));
                }
            }
            Protection::Opaque { reason, .. } => {
                // The reason must be the one parsing would find again.
                let again = match IntegrityMethod::from(self.method_id).nonce_len() {
                    None => OpaqueReason::UnknownMethod(self.method_id),
                    Some(n) if n != self.nonce_len as usize => {
                        OpaqueReason::UnexpectedNonceLength {
                            expected: n as u8,
                            actual: self.nonce_len,
                        }
                    }
                    Some(_) => {
                        return Err(WireError::Unencodable(Unencodable::IntegrityPartsMismatch))
                    }
                };
                if again != reason {
                    return Err(WireError::Unencodable(Unencodable::IntegrityPartsMismatch));
                }
            }
        }
        Ok(())
    }

    /// Writes the body (option header, integrity header, nonce, ICV, data).
    fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        self.validate()?;
        let required = self.buffer_len();
        let actual = out.len();
        let b = out
            .get_mut(..required)
            .ok_or(WireError::BufferTooSmall { required, actual })?;
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            b[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        put(self.option_header);
        put(&[self.method_id, self.nonce_len]);
        put(&self.reserved.to_be_bytes());
        match self.protection {
            Protection::Decoded { nonce, icv, data } => {
                put(nonce);
                put(icv);
                put(data);
            }
            Protection::Opaque { rest, .. } => put(rest),
        }
        Ok(required)
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for the integrity-protected options.
    extern crate alloc;
    use super::*;
    use crate::pot::strategies::words;
    use alloc::boxed::Box;
    use proptest::prelude::*;

    fn leak(v: alloc::vec::Vec<u8>) -> &'static [u8] {
        Box::leak(v.into_boxed_slice())
    }

    /// Any integrity-protected option that [`IntegrityRepr::emit`]
    /// accepts (option data and header arbitrary bytes).
    pub(crate) fn integrity_option() -> impl Strategy<Value = IntegrityRepr<'static>> {
        let ty = prop_oneof![Just(64u8), Just(65), Just(66), Just(67)];
        (ty, any::<u16>(), any::<bool>()).prop_flat_map(|(ioam_type, reserved, known)| {
            let hlen = option_header_len(IoamType::from_u8(ioam_type)).unwrap_or(4);
            let header = proptest::collection::vec(any::<u8>(), hlen).prop_map(leak);
            if known {
                (
                    header,
                    proptest::collection::vec(any::<u8>(), AES_GMAC_NONCE_LEN).prop_map(leak),
                    proptest::collection::vec(any::<u8>(), AES_GMAC_ICV_LEN).prop_map(leak),
                    words(8),
                )
                    .prop_map(move |(h, nonce, icv, data)| IntegrityRepr {
                        ioam_type: IoamType::from_u8(ioam_type),
                        option_header: h,
                        method_id: METHOD_AES_GMAC,
                        nonce_len: AES_GMAC_NONCE_LEN as u8,
                        reserved,
                        protection: Protection::Decoded { nonce, icv, data },
                    })
                    .boxed()
            } else {
                (header, 0u8..=255, any::<u8>(), words(12))
                    .prop_filter("known layout", |(_, m, n, _)| {
                        !(*m == METHOD_AES_GMAC && *n as usize == AES_GMAC_NONCE_LEN)
                    })
                    .prop_map(move |(h, method_id, nonce_len, rest)| {
                        let reason = if method_id == METHOD_AES_GMAC {
                            OpaqueReason::UnexpectedNonceLength {
                                expected: AES_GMAC_NONCE_LEN as u8,
                                actual: nonce_len,
                            }
                        } else {
                            OpaqueReason::UnknownMethod(method_id)
                        };
                        IntegrityRepr {
                            ioam_type: IoamType::from_u8(ioam_type),
                            option_header: h,
                            method_id,
                            nonce_len,
                            reserved,
                            protection: Protection::Opaque { reason, rest },
                        }
                    })
                    .boxed()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use super::*;
    use crate::e2e::SequenceNumber;
    use crate::pot::PotData;
    use proptest::prelude::*;

    /// Integrity-protected E2E: header (seq 32 + secs), method 1, nonce,
    /// ICV, data.
    fn e2e_fixture() -> [u8; 44] {
        let mut b = [0u8; 44];
        b[..4].copy_from_slice(&[0x00, 0x03, 0x60, 0x00]);
        b[4..8].copy_from_slice(&[0x01, 0x0c, 0x00, 0x00]);
        for (i, x) in b[8..20].iter_mut().enumerate() {
            *x = 0xa0 + i as u8; // nonce
        }
        for (i, x) in b[20..36].iter_mut().enumerate() {
            *x = 0xc0 + i as u8; // ICV
        }
        b[36..44].copy_from_slice(&[0, 0, 0, 7, 0x65, 0, 0, 1]);
        b
    }

    #[test]
    fn fixture_e2e() {
        let b = e2e_fixture();
        let o = IntegrityRepr::decode(IoamType::from_u8(67), &b).unwrap();
        assert_eq!(o.method(), IntegrityMethod::AesGmac);
        assert_eq!(o.data_offset(), Some(36));
        let Protection::Decoded { nonce, icv, data } = o.protection else {
            panic!("not decoded")
        };
        assert_eq!(nonce, &b[8..20]);
        assert_eq!(icv, &b[20..36]);
        assert_eq!(data, &b[36..]);
        let Some(Ok(ProtectedOption::E2e(e))) = o.protected() else {
            panic!("not E2E")
        };
        assert_eq!(e.namespace_id, 3);
        assert_eq!(e.sequence_number, Some(SequenceNumber::Bits32(7)));
        assert_eq!(e.timestamp_secs, Some(0x6500_0001));
        let mut out = [0u8; 44];
        assert_eq!(o.emit(&mut out), Ok(44));
        assert_eq!(out, b);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = e2e_fixture();
        for n in 0..b.len() {
            let r = IntegrityRepr::decode(IoamType::from_u8(67), &b[..n]);
            let err = match r {
                Err(e) => e,
                Ok(o) => match o.protected() {
                    Some(Err(e)) => e,
                    other => panic!("length {n}: {other:?}"),
                },
            };
            let expected_part = match n {
                0..=3 => Some(IntegrityPart::OptionHeader),
                4..=7 => Some(IntegrityPart::IntegrityHeader),
                8..=19 => Some(IntegrityPart::Nonce),
                20..=35 => Some(IntegrityPart::Icv),
                _ => None,
            };
            match (err, expected_part) {
                (
                    WireError::Truncated {
                        layer: Layer::Integrity(part),
                        actual,
                        ..
                    },
                    Some(p),
                ) => {
                    assert_eq!(part, p, "length {n}");
                    assert!(actual < 16 || p == IntegrityPart::Icv);
                }
                (
                    WireError::Truncated {
                        layer: Layer::E2eData(_),
                        offset,
                        ..
                    },
                    None,
                ) => {
                    assert_eq!(offset, 36);
                }
                other => panic!("length {n}: {other:?}"),
            }
        }
    }

    #[test]
    fn pot_behind_integrity_header_reports_body_offsets() {
        let mut b = [0u8; 4 + 32 + 8];
        b[4] = 1;
        b[5] = 12;
        let o = IntegrityRepr::decode(IoamType::from_u8(66), &b).unwrap();
        assert_eq!(
            o.protected(),
            Some(Err(WireError::LengthMismatch {
                layer: Layer::PotType0Data,
                offset: 36,
                required: 16,
                actual: 8
            }))
        );
        let mut ok = [0u8; 4 + 32 + 16];
        ok[4] = 1;
        ok[5] = 12;
        ok[43] = 1;
        let Some(Ok(ProtectedOption::Pot(p))) = IntegrityRepr::decode(IoamType::from_u8(66), &ok)
            .unwrap()
            .protected()
        else {
            panic!()
        };
        assert_eq!(
            p.data,
            PotData::Type0 {
                pkt_id: 1,
                cumulative: 0
            }
        );
    }

    #[test]
    fn trace_parts() {
        let mut b = [0u8; 8 + 32 + 12];
        b[..8].copy_from_slice(&[0x00, 0x7b, 0x0c, 0x02, 0x80, 0x00, 0x00, 0x00]);
        b[8] = 1;
        b[9] = 12;
        for ty in [64u8, 65] {
            let o = IntegrityRepr::decode(IoamType::from_u8(ty), &b).unwrap();
            let parts = match o.protected() {
                Some(Ok(ProtectedOption::PreallocatedTrace(p))) if ty == 64 => p,
                Some(Ok(ProtectedOption::IncrementalTrace(p))) if ty == 65 => p,
                other => panic!("{other:?}"),
            };
            assert_eq!(parts.namespace_id(), 0x7b);
            assert_eq!(parts.header, &b[..8]);
            assert_eq!(parts.data.len(), 12);
        }
    }

    #[test]
    fn unknown_method_and_nonce_length_are_reported_and_untouched() {
        let mut b = e2e_fixture();
        b[4] = 0; // Method-ID 0: not assigned
        let o = IntegrityRepr::decode(IoamType::from_u8(67), &b).unwrap();
        assert_eq!(
            o.protection,
            Protection::Opaque {
                reason: OpaqueReason::UnknownMethod(0),
                rest: &b[8..]
            }
        );
        assert_eq!(o.protected(), None);
        let mut out = [0u8; 44];
        assert_eq!(o.emit(&mut out), Ok(44));
        assert_eq!(out, b);

        let mut b = e2e_fixture();
        b[5] = 16;
        let o = IntegrityRepr::decode(IoamType::from_u8(67), &b).unwrap();
        let Protection::Opaque { reason, .. } = o.protection else {
            panic!()
        };
        assert_eq!(
            reason,
            OpaqueReason::UnexpectedNonceLength {
                expected: 12,
                actual: 16
            }
        );
        assert!(alloc::format!("{reason}").contains("Nonce Length 16"));
    }

    #[test]
    fn other_types_are_refused() {
        assert_eq!(
            IntegrityRepr::decode(IoamType::from_u8(2), &[0; 40]),
            Err(WireError::WrongIoamType {
                found: 2,
                expected: INTEGRITY_EXPECTED
            })
        );
        let e = IntegrityRepr::decode(IoamType::from_u8(64), &[0; 10]).unwrap_err();
        assert_eq!(
            e,
            WireError::Truncated {
                layer: Layer::Integrity(IntegrityPart::IntegrityHeader),
                offset: 8,
                required: 4,
                actual: 2
            }
        );
        assert!(alloc::format!("{e}").contains("offset 8"));
        assert_eq!(
            e.with_base(8),
            WireError::Truncated {
                layer: Layer::Integrity(IntegrityPart::IntegrityHeader),
                offset: 16,
                required: 4,
                actual: 2
            }
        );
    }

    #[test]
    fn emit_checks_parts() {
        let nonce = [0u8; 12];
        let icv = [0u8; 16];
        let mut o = IntegrityRepr::new_aes_gmac(
            IoamType::IntegrityProofOfTransit,
            &[0, 1, 0, 0],
            &nonce,
            &icv,
            &[0; 16],
        );
        assert_eq!(o.buffer_len(), 52);
        o.option_header = &[0, 1];
        let mut out = [0xaa; 64];
        assert_eq!(
            o.emit(&mut out),
            Err(WireError::Unencodable(
                Unencodable::IntegrityOptionHeaderLength {
                    required: 4,
                    actual: 2
                }
            ))
        );
        o.option_header = &[0, 1, 0, 0];
        o.nonce_len = 11;
        assert_eq!(
            o.emit(&mut out),
            Err(WireError::Unencodable(Unencodable::IntegrityPartsMismatch))
        );
        assert!(out.iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn e2e_header_through_the_builder() {
        let b = e2e_fixture();
        let o = IntegrityRepr::decode(IoamType::from_u8(67), &b).unwrap();
        let mut hdr = [0u8; 56];
        assert_eq!(o.emit_ext_header(&mut hdr, 17), Ok(56));
        assert_eq!(hdr[..8], [17, 6, 0x01, 0x00, 0x11, 46, 0x00, 67]);
        assert_eq!(hdr[8..52], b);
        assert_eq!(hdr[52..], [0x01, 0x02, 0x00, 0x00]);
        let opt = crate::opt::Options::new(&hdr, crate::opt::Mode::Strict)
            .find_map(|o| match o.unwrap() {
                crate::opt::Opt::Ioam(i) => Some(i),
                _ => None,
            })
            .unwrap();
        assert_eq!(IntegrityRepr::from_option(&opt), Ok(o));
        let mut scratch = [0u8; 252];
        let spec = o.option_spec(&mut scratch).unwrap();
        let mut hdr2 = [0u8; 56];
        let n = crate::build::OptionsBuilder::new(17, &[spec])
            .emit(&mut hdr2)
            .unwrap();
        assert_eq!(hdr2[..n], hdr[..]);
        let mut small = [0u8; 55];
        assert!(matches!(
            o.emit_ext_header(&mut small, 17),
            Err(WireError::BufferTooSmall { .. })
        ));
    }

    proptest! {
        #[test]
        fn repr_round_trip(o in strategies::integrity_option()) {
            let mut buf = [0u8; 128];
            let n = o.emit(&mut buf).unwrap();
            prop_assert_eq!(n, o.buffer_len());
            prop_assert_eq!(IntegrityRepr::decode(o.ioam_type, &buf[..n]).unwrap(), o);
        }

        #[test]
        fn parse_never_panics(ty in 60u8..70, bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(o) = IntegrityRepr::decode(IoamType::from_u8(ty), &bytes) {
                let _ = o.protected();
                let _ = o.data_offset();
            }
        }
    }
}
