//! The CLT opaque state, schema v1: a span context in an IOAM Opaque State
//! Snapshot (RFC 9197 §4.4.2, trace-type bit 22; the layout is in the crate README).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+-----------------------------------------------+
//! |  Length = 7   |           Schema ID (24) = 0x434c54           |  OSS header
//! +---------------+-----------------------------------------------+
//! |                                                               |
//! +                   trace-id (16 bytes)                         +  data 0..16
//! |                                                               |
//! +                                                               +
//! |                                                               |
//! +---------------------------------------------------------------+
//! |                    span-id (8 bytes)                          |  data 16..24
//! +                                                               +
//! |                                                               |
//! +---------------+-----------------------------------------------+
//! |  trace-flags  |          reserved (0 on send, ignored)        |  data 24..28
//! +---------------+-----------------------------------------------+
//! ```
//!
//! Schema IDs are interpreted per namespace (RFC 9197 §4.4.2, bit 22), so every
//! function takes the schema ID to use or to expect; [`CLT_SCHEMA_ID`]
//! ("CLT" in ASCII) is the default.

pub use crate::error::{CltError, CltPart};
use crate::id::{SpanContext, SpanId, TraceFlags, TraceId};

/// The default CLT schema ID: the ASCII bytes `CLT`.
pub const CLT_SCHEMA_ID: u32 = 0x43_4c_54;

/// The largest schema ID (24 bits).
pub const SCHEMA_ID_MAX: u32 = 0x00ff_ffff;

/// The OSS Length field for schema v1: 7 words of data.
pub const OSS_LENGTH_WORDS: u8 = crate::error::OSS_LENGTH_WORDS;

/// Bytes of OSS data for schema v1 (`OSS_LENGTH_WORDS * 4`).
pub const OSS_DATA_LEN: usize = 28;

/// Bytes of a whole schema-v1 snapshot: the header word plus the data.
pub const OSS_SNAPSHOT_LEN: usize = 4 + OSS_DATA_LEN;

mod field {
    use core::ops::Range;
    // Offsets within the OSS data (after the Length/Schema ID word).
    pub(super) const TRACE_ID: Range<usize> = 0..16;
    pub(super) const SPAN_ID: Range<usize> = 16..24;
    pub(super) const FLAGS: usize = 24;
    // Offsets within the whole snapshot.
    pub(super) const LENGTH: usize = 0;
    pub(super) const SCHEMA_ID: Range<usize> = 1..4;
    pub(super) const DATA: usize = 4;
}

/// The 28 bytes of CLT OSS data for `ctx` (reserved bytes zeroed): what a
/// node record's snapshot carries after its Length / Schema ID word (the
/// trace writer adds that word; `ioam_trace::NodeData::oss` takes the
/// schema ID and these bytes).
#[must_use]
pub fn encode(ctx: &SpanContext) -> [u8; OSS_DATA_LEN] {
    let mut out = [0u8; OSS_DATA_LEN];
    out[field::TRACE_ID].copy_from_slice(&ctx.trace_id.0);
    out[field::SPAN_ID].copy_from_slice(&ctx.span_id.0);
    out[field::FLAGS] = ctx.flags.0;
    out
}

/// Decodes the CLT OSS data of a snapshot: `schema_id` and `data` are the
/// Schema ID and the data (Length × 4 bytes) of the snapshot (as
/// `ioam_trace::OpaqueState` gives them); `expected` is the CLT schema ID of
/// the namespace.
///
/// The reserved bytes are ignored. All-zero identifiers decode as they are
/// (a span context that is not [`SpanContext::is_valid`]); the caller decides
/// how to report them (the trace lookup reports them as "no context").
///
/// # Errors
/// [`CltError::WrongSchema`] (offset 1) and [`CltError::WrongLength`]
/// (offset 0), counted from the snapshot's Length byte.
pub fn decode(expected: u32, schema_id: u32, data: &[u8]) -> Result<SpanContext, CltError> {
    if schema_id != expected {
        return Err(CltError::WrongSchema {
            offset: field::SCHEMA_ID.start,
            expected,
            actual: schema_id,
        });
    }
    let data: &[u8; OSS_DATA_LEN] = data.try_into().map_err(|_| CltError::WrongLength {
        offset: field::LENGTH,
        required: OSS_DATA_LEN,
        actual: data.len(),
    })?;
    let mut trace_id = [0u8; 16];
    trace_id.copy_from_slice(&data[field::TRACE_ID]);
    let mut span_id = [0u8; 8];
    span_id.copy_from_slice(&data[field::SPAN_ID]);
    Ok(SpanContext::new(
        TraceId(trace_id),
        SpanId(span_id),
        TraceFlags(data[field::FLAGS]),
    ))
}

/// A whole CLT schema-v1 snapshot as a value (the smoltcp `Repr` style):
/// the span context and the schema ID it is written under. [`encode`] and
/// [`decode`] are its data part.
///
/// ```
/// use clt_context::oss::{CltSnapshot, CLT_SCHEMA_ID, OSS_SNAPSHOT_LEN};
/// let ctx = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// let mut bytes = [0u8; OSS_SNAPSHOT_LEN];
/// assert_eq!(CltSnapshot::new(ctx).emit(&mut bytes)?, 32);
/// assert_eq!(&bytes[..4], &[7, 0x43, 0x4c, 0x54]); // Length 7, schema "CLT"
/// let (back, len) = CltSnapshot::parse(CLT_SCHEMA_ID, &bytes)?;
/// assert_eq!((back.ctx, len), (ctx, 32));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CltSnapshot {
    /// The span context.
    pub ctx: SpanContext,
    /// The schema ID (24 bits), [`CLT_SCHEMA_ID`] by default.
    pub schema_id: u32,
}

impl CltSnapshot {
    /// A snapshot under the default [`CLT_SCHEMA_ID`].
    #[must_use]
    pub const fn new(ctx: SpanContext) -> Self {
        Self {
            ctx,
            schema_id: CLT_SCHEMA_ID,
        }
    }

    /// Reads the snapshot at the start of `bytes` (Length byte, Schema ID,
    /// data), expecting the namespace's CLT schema ID `expected` (the same
    /// argument order as [`decode`]). Returns it and the number of bytes it
    /// occupies (4 + Length × 4). The schema is checked before the length,
    /// so a snapshot of another schema is [`CltError::WrongSchema`]
    /// whatever its length.
    ///
    /// # Errors
    /// [`CltError::Truncated`], [`CltError::WrongSchema`],
    /// [`CltError::WrongLength`]; offsets from the start of `bytes`.
    pub fn parse(expected: u32, bytes: &[u8]) -> Result<(Self, usize), CltError> {
        let header: &[u8; 4] = bytes
            .get(..field::DATA)
            .and_then(|h| h.try_into().ok())
            .ok_or(CltError::Truncated {
                part: CltPart::Snapshot,
                offset: 0,
                required: field::DATA,
                actual: bytes.len(),
            })?;
        let length_words = header[field::LENGTH];
        let schema_id = u32::from_be_bytes([0, header[1], header[2], header[3]]);
        if schema_id != expected {
            return Err(CltError::WrongSchema {
                offset: field::SCHEMA_ID.start,
                expected,
                actual: schema_id,
            });
        }
        let total = field::DATA + 4 * usize::from(length_words);
        let data = bytes.get(field::DATA..total).ok_or(CltError::Truncated {
            part: CltPart::Snapshot,
            offset: 0,
            required: total,
            actual: bytes.len(),
        })?;
        let ctx = decode(expected, schema_id, data)?;
        Ok((Self { ctx, schema_id }, total))
    }

    /// Bytes the snapshot takes: 32.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        OSS_SNAPSHOT_LEN
    }

    /// Writes the snapshot into the first 32 bytes of `out` and returns 32;
    /// nothing else is touched, nothing at all on error.
    ///
    /// # Errors
    /// [`CltError::SchemaIdOutOfRange`] for a schema ID above 24 bits,
    /// [`CltError::BufferTooSmall`].
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, CltError> {
        if self.schema_id > SCHEMA_ID_MAX {
            return Err(CltError::SchemaIdOutOfRange {
                schema_id: self.schema_id,
            });
        }
        let actual = out.len();
        let out = out
            .get_mut(..OSS_SNAPSHOT_LEN)
            .ok_or(CltError::BufferTooSmall {
                required: OSS_SNAPSHOT_LEN,
                actual,
            })?;
        out[field::LENGTH] = OSS_LENGTH_WORDS;
        out[field::SCHEMA_ID].copy_from_slice(&self.schema_id.to_be_bytes()[1..]);
        out[field::DATA..].copy_from_slice(&encode(&self.ctx));
        Ok(OSS_SNAPSHOT_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::strategies::any_span_context;
    use ioam_wire::error::Diagnostic;
    use proptest::prelude::*;

    fn sample() -> SpanContext {
        SpanContext::new(
            "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap(),
            "00f067aa0ba902b7".parse().unwrap(),
            TraceFlags(0x03),
        )
    }

    const SNAPSHOT: [u8; 32] = [
        0x07, 0x43, 0x4c, 0x54, // Length 7, schema "CLT"
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, // trace-id
        0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36, //
        0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7, // span-id
        0x03, 0x00, 0x00, 0x00, // flags, reserved
    ];

    #[test]
    fn encode_matches_layout() {
        let mut out = [0xaa; 32];
        CltSnapshot {
            ctx: sample(),
            schema_id: CLT_SCHEMA_ID,
        }
        .emit(&mut out)
        .map(|_| ())
        .unwrap();
        assert_eq!(out, SNAPSHOT);
        assert_eq!(encode(&sample())[..], SNAPSHOT[4..]);
    }

    #[test]
    fn decode_matches_layout() {
        assert_eq!(
            decode(CLT_SCHEMA_ID, CLT_SCHEMA_ID, &SNAPSHOT[4..]),
            Ok(sample())
        );
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &SNAPSHOT).map(|(s, n)| (s.ctx, n)),
            Ok((sample(), 32))
        );
    }

    #[test]
    fn reserved_bytes_are_ignored() {
        let mut s = SNAPSHOT;
        s[29..].copy_from_slice(&[0xde, 0xad, 0xff]);
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &s).map(|(s, n)| (s.ctx, n)),
            Ok((sample(), 32))
        );
    }

    #[test]
    fn configurable_schema() {
        let mut out = [0; 32];
        CltSnapshot {
            ctx: sample(),
            schema_id: 0x00_0001,
        }
        .emit(&mut out)
        .map(|_| ())
        .unwrap();
        assert_eq!(&out[..4], &[7, 0, 0, 1]);
        assert_eq!(
            CltSnapshot::parse(1, &out).map(|(s, n)| (s.ctx, n)),
            Ok((sample(), 32))
        );
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &out).map(|(s, n)| (s.ctx, n)),
            Err(CltError::WrongSchema {
                offset: 1,
                expected: CLT_SCHEMA_ID,
                actual: 1
            })
        );
        assert_eq!(
            CltSnapshot {
                ctx: sample(),
                schema_id: 0x0100_0000
            }
            .emit(&mut out)
            .map(|_| ()),
            Err(CltError::SchemaIdOutOfRange {
                schema_id: 0x0100_0000
            })
        );
    }

    #[test]
    fn wrong_schema() {
        let e = decode(CLT_SCHEMA_ID, 0xff_ffff, &SNAPSHOT[4..]).unwrap_err();
        assert_eq!(
            e,
            CltError::WrongSchema {
                offset: 1,
                expected: CLT_SCHEMA_ID,
                actual: 0xff_ffff
            }
        );
        assert_eq!(Diagnostic::offset(&e), Some(1));
        // The "nothing to report" snapshot of a Linux transit node.
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &[0x00, 0xff, 0xff, 0xff]).map(|(s, n)| (s.ctx, n)),
            Err(CltError::WrongSchema {
                offset: 1,
                expected: CLT_SCHEMA_ID,
                actual: 0xff_ffff
            })
        );
    }

    #[test]
    fn wrong_length() {
        for len in [0usize, 4, 24, 27, 29, 32] {
            let data = [0x11u8; 40];
            assert_eq!(
                decode(CLT_SCHEMA_ID, CLT_SCHEMA_ID, &data[..len]),
                Err(CltError::WrongLength {
                    offset: 0,
                    required: 28,
                    actual: len
                })
            );
        }
        let mut s = [0u8; 40];
        s[..4].copy_from_slice(&[0x08, 0x43, 0x4c, 0x54]);
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &s).map(|(s, n)| (s.ctx, n)),
            Err(CltError::WrongLength {
                offset: 0,
                required: 28,
                actual: 32
            })
        );
    }

    #[test]
    fn every_truncation() {
        for n in 0..SNAPSHOT.len() {
            let e = CltSnapshot::parse(CLT_SCHEMA_ID, &SNAPSHOT[..n])
                .map(|(s, n)| (s.ctx, n))
                .unwrap_err();
            let required = if n < 4 { 4 } else { 32 };
            assert_eq!(
                e,
                CltError::Truncated {
                    offset: 0,
                    part: CltPart::Snapshot,
                    required,
                    actual: n
                }
            );
            assert_eq!(Diagnostic::offset(&e), Some(0));
            assert_eq!(Diagnostic::lengths(&e).map(|l| l.actual), Some(n));
        }
    }

    #[test]
    fn zero_ids_decode_as_invalid_context() {
        let mut s = SNAPSHOT;
        s[4..28].fill(0);
        let (ctx, _) = CltSnapshot::parse(CLT_SCHEMA_ID, &s)
            .map(|(s, n)| (s.ctx, n))
            .unwrap();
        assert!(!ctx.is_valid());
    }

    #[test]
    fn repr_parse_emit() {
        let (r, len) = CltSnapshot::parse(CLT_SCHEMA_ID, &SNAPSHOT).unwrap();
        assert_eq!((r, len), (CltSnapshot::new(sample()), 32));
        assert_eq!(r.buffer_len(), 32);
        let mut out = [0xee; 40];
        assert_eq!(r.emit(&mut out), Ok(32));
        assert_eq!(&out[..32], &SNAPSHOT);
        assert_eq!(&out[32..], &[0xee; 8]);
        let mut short = [0xee; 31];
        assert_eq!(
            r.emit(&mut short),
            Err(CltError::BufferTooSmall {
                required: 32,
                actual: 31
            })
        );
        assert_eq!(short, [0xee; 31]);
    }

    proptest! {
        #[test]
        fn oss_round_trip(ctx in any_span_context(), schema in 0u32..=SCHEMA_ID_MAX) {
            let mut out = [0u8; 32];
            CltSnapshot { ctx, schema_id: schema }.emit(&mut out).map(|_| ()).unwrap();
            prop_assert_eq!(out[0], 7);
            prop_assert_eq!(CltSnapshot::parse(schema, &out).map(|(s, n)| (s.ctx, n)), Ok((ctx, 32)));
            prop_assert_eq!(decode(schema, schema, &encode(&ctx)), Ok(ctx));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), schema in any::<u32>()) {
            if let Ok((_, used)) = CltSnapshot::parse(schema, &bytes).map(|(s, n)| (s.ctx, n)) {
                prop_assert_eq!(used, 32);
            }
        }
    }
}
