//! The legacy CLT trace header: the layout of the original CLT
//! kernel patch (Advanced-Observability/cross-layer-telemetry, Linux 5.17).
//!
//! That patch does not use the opaque state. It grows the pre-allocated
//! trace header (RFC 9197 §4.4) from 8 to 32 bytes by appending the trace id
//! (as two big-endian 64-bit halves, high first) and the span id (one
//! big-endian 64-bit value) after the Trace-Type word; the node data follow:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------------------------------+---------+-------+-------------+
//! |        Namespace-ID           | NodeLen | Flags | RemainingLen|  0
//! +-----------------------------------------------+---------------+
//! |              IOAM-Trace-Type                  |   Reserved    |  4
//! +-----------------------------------------------+---------------+
//! |                 trace-id high (64, big-endian)                |  8
//! +                                                               +
//! |                                                               |
//! +---------------------------------------------------------------+
//! |                 trace-id low (64, big-endian)                 | 16
//! +                                                               +
//! |                                                               |
//! +---------------------------------------------------------------+
//! |                 span-id (64, big-endian)                      | 24
//! +                                                               +
//! |                                                               |
//! +---------------------------------------------------------------+
//! |  node data list ...                                           | 32
//! ```
//!
//! The two halves in network order are exactly the 16 bytes of the W3C
//! trace id, so [`TraceId`] bytes are copied unchanged. Nothing in the packet
//! tells this layout from a standard one, and a standard parser reads the
//! ids as node data: use this module only for a namespace known to carry the
//! legacy header. All 24 id bytes zero mean "no ids" (the patch's default).
//! The patch carries no trace flags.

use core::fmt;

use ioam_trace::{Trace, TraceError, TraceKind};
use ioam_wire::error::Diagnostic;
use ioam_wire::ioam::IoamOption;
use ioam_wire::Mode;

use crate::error::{CltError, CltPart};
use crate::id::{SpanContext, SpanId, TraceFlags, TraceId};
use crate::view::{CltView, ContextLookup, FoundContext};

/// Size of the standard trace option header (RFC 9197 §4.4).
pub const STANDARD_HEADER_LEN: usize = 8;

/// Size of the legacy trace header: 8 standard bytes + 24 bytes of ids.
pub const LEGACY_HEADER_LEN: usize = 32;

/// Number of id bytes the legacy header inserts.
pub const LEGACY_IDS_LEN: usize = LEGACY_HEADER_LEN - STANDARD_HEADER_LEN;

/// Largest node-data area after a legacy header: an IOAM option body holds at
/// most 252 bytes (RFC 9486 §3, 4n alignment), 32 of which are the header.
pub const LEGACY_DATA_MAX: usize = 252 - LEGACY_HEADER_LEN;

/// Largest node-data area of a standard trace (Linux `IOAM6_TRACE_DATA_SIZE_MAX`).
pub const STANDARD_DATA_MAX: usize = 244;

mod field {
    use core::ops::Range;
    pub(super) const HEADER: Range<usize> = 0..8;
    pub(super) const TRACE_ID: Range<usize> = 8..24;
    pub(super) const SPAN_ID: Range<usize> = 24..32;
    pub(super) const IDS: Range<usize> = 8..32;
    pub(super) const DATA: usize = 32;
}

/// The ids of a legacy CLT header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LegacyIds {
    /// The trace id (high half at offset 8, low half at offset 16).
    pub trace_id: TraceId,
    /// The span id (offset 24).
    pub span_id: SpanId,
}

impl LegacyIds {
    /// Whether the header carries ids: the patch writes all 24 bytes zero
    /// when the socket has none.
    pub const fn is_present(&self) -> bool {
        self.trace_id.is_valid() || self.span_id.is_valid()
    }

    /// The span context, with `flags` supplied by the caller (the legacy
    /// header has none; the reference collector uses `sampled`).
    pub const fn to_span_context(self, flags: TraceFlags) -> SpanContext {
        SpanContext::new(self.trace_id, self.span_id, flags)
    }

    /// The 24 bytes as they appear at offsets 8..32 of the trace body.
    pub fn to_bytes(&self) -> [u8; LEGACY_IDS_LEN] {
        let mut out = [0u8; LEGACY_IDS_LEN];
        out[..16].copy_from_slice(&self.trace_id.0);
        out[16..].copy_from_slice(&self.span_id.0);
        out
    }
}

impl From<SpanContext> for LegacyIds {
    fn from(ctx: SpanContext) -> Self {
        Self {
            trace_id: ctx.trace_id,
            span_id: ctx.span_id,
        }
    }
}

/// Reads the ids of a legacy trace body (starting at the Namespace-ID).
pub(crate) fn decode_ids(body: &[u8]) -> Result<LegacyIds, CltError> {
    let truncated = CltError::Truncated {
        offset: 0,
        part: CltPart::LegacyHeader,
        required: LEGACY_HEADER_LEN,
        actual: body.len(),
    };
    let trace_id = body
        .get(field::TRACE_ID)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or(truncated)?;
    let span_id = body
        .get(field::SPAN_ID)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or(truncated)?;
    Ok(LegacyIds {
        trace_id: TraceId(trace_id),
        span_id: SpanId(span_id),
    })
}

/// Writes `ids` at offsets 8..32 of a legacy trace body.
pub fn encode_ids(ids: &LegacyIds, body: &mut [u8]) -> Result<(), CltError> {
    let len = body.len();
    let out = body.get_mut(field::IDS).ok_or(CltError::Truncated {
        offset: 0,
        part: CltPart::LegacyHeader,
        required: LEGACY_HEADER_LEN,
        actual: len,
    })?;
    out.copy_from_slice(&ids.to_bytes());
    Ok(())
}

/// Builds a legacy trace body from a standard one (8-byte header + data) by
/// inserting `ids` after the header. Returns the length written
/// (`standard.len() + 24`). Meant for tests and for the legacy injector.
pub fn to_legacy_body(standard: &[u8], ids: &LegacyIds, out: &mut [u8]) -> Result<usize, CltError> {
    let header = standard.get(field::HEADER).ok_or(CltError::Truncated {
        offset: 0,
        part: CltPart::TraceHeader,
        required: STANDARD_HEADER_LEN,
        actual: standard.len(),
    })?;
    let data = &standard[STANDARD_HEADER_LEN..];
    if data.len() > LEGACY_DATA_MAX {
        return Err(CltError::LegacyDataTooLong {
            offset: 32,
            max: LEGACY_DATA_MAX,
            actual: data.len(),
        });
    }
    let total = LEGACY_HEADER_LEN + data.len();
    let actual = out.len();
    let out = out.get_mut(..total).ok_or(CltError::BufferTooSmall {
        required: total,
        actual,
    })?;
    out[field::HEADER].copy_from_slice(header);
    out[field::IDS].copy_from_slice(&ids.to_bytes());
    out[field::DATA..].copy_from_slice(data);
    Ok(total)
}

/// A legacy trace body re-framed as a standard one (8-byte header followed
/// by the node data), so that a standard trace parser can read the node
/// records. Copies at most 252 bytes into an inline buffer; no allocation.
///
/// Offsets reported by a parser of [`LegacyTrace::standard_body`] are
/// [`LegacyTrace::OFFSET_SHIFT`] bytes smaller than in the legacy body for
/// anything after the header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LegacyTrace {
    ids: LegacyIds,
    buf: [u8; STANDARD_HEADER_LEN + STANDARD_DATA_MAX],
    len: usize,
    /// Where the legacy body starts in the buffer offsets count from.
    base: usize,
}

impl LegacyTrace {
    /// Difference between offsets in the legacy body and in the standard body
    /// for bytes after the header.
    pub const OFFSET_SHIFT: usize = LEGACY_IDS_LEN;

    /// Splits the body of an IOAM option (found by `ioam_trace::IoamPacket`
    /// or `ioam_wire`'s option walks) into its ids and a standard body.
    /// Every offset reported afterwards, by this call or by the trace of
    /// [`LegacyTrace::view`], counts from wherever the option's offsets
    /// count from (the packet start for `IoamPacket`).
    ///
    /// # Errors
    /// [`CltError::Truncated`] for a body shorter than the 32-byte legacy
    /// header, [`CltError::LegacyDataTooLong`] for more node data than a
    /// standard trace can hold.
    pub fn from_option(option: &IoamOption<'_>) -> Result<Self, CltError> {
        let base = option.body_offset;
        let mut lt = Self::from_body(option.body).map_err(|e| e.with_base(base))?;
        lt.base = base;
        Ok(lt)
    }

    /// Splits a legacy trace body (from the Namespace-ID to the end of the
    /// IOAM option) into its ids and a standard body; offsets count from
    /// the start of `body`.
    ///
    /// # Errors
    /// As [`LegacyTrace::from_option`].
    pub fn from_body(body: &[u8]) -> Result<Self, CltError> {
        let ids = decode_ids(body)?;
        let data = &body[field::DATA..];
        // A legacy body fills at most one IOAM option (252 bytes), so its
        // data area is 24 bytes short of a standard trace's 244: accepting
        // more would give bodies `to_legacy_body` cannot write back.
        if data.len() > LEGACY_DATA_MAX {
            return Err(CltError::LegacyDataTooLong {
                offset: 32,
                max: LEGACY_DATA_MAX,
                actual: data.len(),
            });
        }
        let mut buf = [0u8; STANDARD_HEADER_LEN + STANDARD_DATA_MAX];
        buf[field::HEADER].copy_from_slice(&body[field::HEADER]);
        let len = STANDARD_HEADER_LEN + data.len();
        buf[STANDARD_HEADER_LEN..len].copy_from_slice(data);
        Ok(Self {
            ids,
            buf,
            len,
            base: 0,
        })
    }

    /// The CLT view of the trace: its records parsed from the standard body
    /// in `mode`, the context from the header ids with the trace flags
    /// supplied by the caller (the legacy header carries none; the
    /// reference collector uses `sampled`). Offsets of the errors (of the
    /// parse and of the record walks) are the offsets in the legacy body,
    /// counted as [`LegacyTrace::from_option`] says.
    ///
    /// # Errors
    /// The errors of `ioam_trace::Trace::parse`.
    pub fn view(
        &self,
        kind: TraceKind,
        mode: Mode,
        flags: TraceFlags,
    ) -> Result<CltView<'_>, TraceError> {
        // Bytes from offset 8 on sit 24 bytes further in the legacy body.
        let data_base = self.base + Self::OFFSET_SHIFT;
        let trace =
            Trace::parse(self.standard_body(), mode, kind).map_err(
                |e| match Diagnostic::offset(&e) {
                    Some(o) if o >= STANDARD_HEADER_LEN => e.with_base(data_base),
                    _ => e.with_base(self.base),
                },
            )?;
        let found = FoundContext {
            ctx: self.ids.to_span_context(flags),
            hop: 0,
            offset: self.base + STANDARD_HEADER_LEN,
        };
        let context = if found.ctx.is_valid() {
            ContextLookup::Found(found)
        } else {
            ContextLookup::ZeroIds(found)
        };
        Ok(CltView::with_context(trace.with_base(data_base), context))
    }

    /// The ids from offsets 8..32.
    pub const fn ids(&self) -> LegacyIds {
        self.ids
    }

    /// The equivalent standard trace body: the first 8 bytes of the legacy
    /// header, then the node data.
    pub fn standard_body(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Debug for LegacyTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyTrace")
            .field("ids", &self.ids)
            .field("standard_body", &self.standard_body())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::strategies::any_span_context;
    use ioam_wire::error::Diagnostic;
    use proptest::prelude::*;

    /// Namespace 123, NodeLen 1, RemainingLen 0, type 0x800000, ids, one
    /// record (hop limit 63, node id 2).
    const LEGACY: [u8; 36] = [
        0x00, 0x7b, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, // standard header
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, // trace-id high
        0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36, // trace-id low
        0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7, // span-id
        0x3f, 0x00, 0x00, 0x02, // node data
    ];

    fn ids() -> LegacyIds {
        LegacyIds {
            trace_id: TraceId::from_halves(0x4bf9_2f35_77b3_4da6, 0xa3ce_929d_0e0e_4736),
            span_id: SpanId::from_u64(0x00f0_67aa_0ba9_02b7),
        }
    }

    #[test]
    fn decode_fixture() {
        assert_eq!(decode_ids(&LEGACY), Ok(ids()));
        assert!(ids().is_present());
        let t = LegacyTrace::from_body(&LEGACY).unwrap();
        assert_eq!(t.ids(), ids());
        assert_eq!(
            t.standard_body(),
            &[0x00, 0x7b, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x02]
        );
        let ctx = t.ids().to_span_context(TraceFlags::SAMPLED);
        assert_eq!(
            crate::traceparent::format(&ctx).as_str(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }

    #[test]
    fn encode_fixture() {
        let standard = [
            0x00, 0x7b, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x02,
        ];
        let mut out = [0u8; 64];
        let n = to_legacy_body(&standard, &ids(), &mut out).unwrap();
        assert_eq!(&out[..n], &LEGACY);
        let mut body = LEGACY;
        body[8..32].fill(0);
        encode_ids(&ids(), &mut body).unwrap();
        assert_eq!(body, LEGACY);
    }

    #[test]
    fn zero_ids_mean_absent() {
        let mut body = LEGACY;
        body[8..32].fill(0);
        assert!(!decode_ids(&body).unwrap().is_present());
    }

    #[test]
    fn every_truncation() {
        for n in 0..LEGACY_HEADER_LEN {
            let e = LegacyTrace::from_body(&LEGACY[..n]).unwrap_err();
            assert_eq!(
                e,
                CltError::Truncated {
                    offset: 0,
                    part: CltPart::LegacyHeader,
                    required: 32,
                    actual: n
                }
            );
            assert_eq!(Diagnostic::offset(&e), Some(0));
            assert_eq!(Diagnostic::lengths(&e).map(|l| l.actual), Some(n));
        }
        assert!(LegacyTrace::from_body(&LEGACY[..32]).is_ok());
    }

    #[test]
    fn size_limits() {
        let big = [0u8; 32 + 224];
        assert_eq!(
            LegacyTrace::from_body(&big),
            Err(CltError::LegacyDataTooLong {
                offset: 32,
                max: 220,
                actual: 224
            })
        );
        assert!(LegacyTrace::from_body(&big[..32 + 220]).is_ok());
        let standard = [0u8; 8 + 224];
        let mut out = [0u8; 300];
        assert_eq!(
            to_legacy_body(&standard, &ids(), &mut out),
            Err(CltError::LegacyDataTooLong {
                offset: 32,
                max: 220,
                actual: 224
            })
        );
        assert_eq!(
            to_legacy_body(&standard[..12], &ids(), &mut out[..35]),
            Err(CltError::BufferTooSmall {
                required: 36,
                actual: 35
            })
        );
        assert_eq!(
            encode_ids(&ids(), &mut out[..31]),
            Err(CltError::Truncated {
                offset: 0,
                part: CltPart::LegacyHeader,
                required: 32,
                actual: 31
            })
        );
    }

    proptest! {
        #[test]
        fn legacy_round_trip(ctx in any_span_context(), data in proptest::collection::vec(any::<u8>(), 0..=55)) {
            let mut standard = [0u8; 8 + 220];
            standard[..8].copy_from_slice(&LEGACY[..8]);
            let dlen = data.len() * 4 % 221;
            for (i, b) in standard[8..8 + dlen].iter_mut().enumerate() {
                *b = data.get(i % data.len().max(1)).copied().unwrap_or(0);
            }
            let ids = LegacyIds::from(ctx);
            let mut out = [0u8; 252];
            let n = to_legacy_body(&standard[..8 + dlen], &ids, &mut out).unwrap();
            let t = LegacyTrace::from_body(&out[..n]).unwrap();
            prop_assert_eq!(t.ids(), ids);
            prop_assert_eq!(t.standard_body(), &standard[..8 + dlen]);
        }

        #[test]
        fn from_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = LegacyTrace::from_body(&body);
        }
    }
}
