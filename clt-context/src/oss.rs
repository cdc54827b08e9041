//! The CLT opaque state, schema v1: a span context in an IOAM Opaque State
//! Snapshot (RFC 9197 §4.4.2, trace-type bit 22; SPEC §6.1).
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
    pub(super) const RESERVED: Range<usize> = 25..28;
    // Offsets within the whole snapshot.
    pub(super) const LENGTH: usize = 0;
    pub(super) const SCHEMA_ID: Range<usize> = 1..4;
    pub(super) const DATA: usize = 4;
}

/// Writes the 28 bytes of CLT OSS data for `ctx` (reserved bytes zeroed).
///
/// The OSS header to put before it is Length [`OSS_LENGTH_WORDS`] and the
/// namespace's CLT schema ID; [`encode_snapshot`] writes both.
pub fn encode_oss(ctx: &SpanContext, out: &mut [u8; OSS_DATA_LEN]) {
    out[field::TRACE_ID].copy_from_slice(&ctx.trace_id.0);
    out[field::SPAN_ID].copy_from_slice(&ctx.span_id.0);
    out[field::FLAGS] = ctx.flags.0;
    out[field::RESERVED].fill(0);
}

/// The 28 bytes of CLT OSS data for `ctx`, by value.
pub fn oss_data(ctx: &SpanContext) -> [u8; OSS_DATA_LEN] {
    let mut out = [0u8; OSS_DATA_LEN];
    encode_oss(ctx, &mut out);
    out
}

/// Writes a whole snapshot (header word and data, 32 bytes) for `ctx` under
/// `schema_id`.
pub fn encode_snapshot(
    ctx: &SpanContext,
    schema_id: u32,
    out: &mut [u8; OSS_SNAPSHOT_LEN],
) -> Result<(), CltError> {
    if schema_id > SCHEMA_ID_MAX {
        return Err(CltError::SchemaIdOutOfRange { schema_id });
    }
    out[field::LENGTH] = OSS_LENGTH_WORDS;
    out[field::SCHEMA_ID].copy_from_slice(&schema_id.to_be_bytes()[1..]);
    let mut data = [0u8; OSS_DATA_LEN];
    encode_oss(ctx, &mut data);
    out[field::DATA..].copy_from_slice(&data);
    Ok(())
}

/// Decodes CLT OSS data found under `schema_id`, expecting the default
/// [`CLT_SCHEMA_ID`]. See [`decode_oss_with`].
pub fn decode_oss(schema_id: u32, data: &[u8]) -> Result<SpanContext, CltError> {
    decode_oss_with(CLT_SCHEMA_ID, schema_id, data)
}

/// Decodes CLT OSS data: `schema_id` and `data` are the Schema ID and the
/// data (Length × 4 bytes) of a snapshot; `expected` is the CLT schema ID of
/// the namespace.
///
/// The reserved bytes are ignored. All-zero identifiers decode as they are
/// (a span context that is not [`SpanContext::is_valid`]); the caller decides
/// how to report them (the trace lookup reports them as "no context").
pub fn decode_oss_with(
    expected: u32,
    schema_id: u32,
    data: &[u8],
) -> Result<SpanContext, CltError> {
    if schema_id != expected {
        return Err(CltError::WrongSchema {
            offset: 1,
            expected,
            actual: schema_id,
        });
    }
    let data: &[u8; OSS_DATA_LEN] = data.try_into().map_err(|_| CltError::WrongLength {
        offset: 0,
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

/// Decodes a whole snapshot starting at `bytes[0]` (Length byte, Schema ID,
/// data) under the expected schema ID. Returns the context and the number of
/// bytes the snapshot occupies (4 + Length × 4).
///
/// The schema is checked before the length, so a snapshot of another schema
/// is reported as [`CltError::WrongSchema`] whatever its length.
pub fn decode_snapshot(expected: u32, bytes: &[u8]) -> Result<(SpanContext, usize), CltError> {
    let header: &[u8; 4] = bytes
        .get(..field::DATA)
        .and_then(|h| h.try_into().ok())
        .ok_or(CltError::Truncated {
            offset: 0,
            part: CltPart::Snapshot,
            required: field::DATA,
            actual: bytes.len(),
        })?;
    let length_words = header[field::LENGTH];
    let schema_id = u32::from_be_bytes([0, header[1], header[2], header[3]]);
    if schema_id != expected {
        return Err(CltError::WrongSchema {
            offset: 1,
            expected,
            actual: schema_id,
        });
    }
    let total = field::DATA + 4 * usize::from(length_words);
    let data = bytes.get(field::DATA..total).ok_or(CltError::Truncated {
        offset: 0,
        part: CltPart::Snapshot,
        required: total,
        actual: bytes.len(),
    })?;
    decode_oss_with(expected, schema_id, data).map(|ctx| (ctx, total))
}

/// A CLT schema-v1 snapshot as a value (smoltcp-style repr): the span
/// context and the schema ID it was written under.
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
    pub const fn new(ctx: SpanContext) -> Self {
        Self {
            ctx,
            schema_id: CLT_SCHEMA_ID,
        }
    }

    /// Reads the snapshot at the start of `bytes`, expecting `schema_id`
    /// (see [`decode_snapshot`]).
    pub fn parse(bytes: &[u8], schema_id: u32) -> Result<Self, CltError> {
        decode_snapshot(schema_id, bytes).map(|(ctx, _)| Self { ctx, schema_id })
    }

    /// Bytes the snapshot takes: 32.
    pub const fn buffer_len(&self) -> usize {
        OSS_SNAPSHOT_LEN
    }

    /// Writes the snapshot into the first 32 bytes of `out`; nothing else
    /// is touched.
    pub fn emit(&self, out: &mut [u8]) -> Result<(), CltError> {
        let actual = out.len();
        let out: &mut [u8; OSS_SNAPSHOT_LEN] = out
            .get_mut(..OSS_SNAPSHOT_LEN)
            .and_then(|o| o.try_into().ok())
            .ok_or(CltError::Truncated {
                offset: 0,
                part: CltPart::Snapshot,
                required: OSS_SNAPSHOT_LEN,
                actual,
            })?;
        encode_snapshot(&self.ctx, self.schema_id, out)
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
        encode_snapshot(&sample(), CLT_SCHEMA_ID, &mut out).unwrap();
        assert_eq!(out, SNAPSHOT);
        assert_eq!(oss_data(&sample())[..], SNAPSHOT[4..]);
    }

    #[test]
    fn decode_matches_layout() {
        assert_eq!(decode_oss(CLT_SCHEMA_ID, &SNAPSHOT[4..]), Ok(sample()));
        assert_eq!(
            decode_snapshot(CLT_SCHEMA_ID, &SNAPSHOT),
            Ok((sample(), 32))
        );
    }

    #[test]
    fn reserved_bytes_are_ignored() {
        let mut s = SNAPSHOT;
        s[29..].copy_from_slice(&[0xde, 0xad, 0xff]);
        assert_eq!(decode_snapshot(CLT_SCHEMA_ID, &s), Ok((sample(), 32)));
    }

    #[test]
    fn configurable_schema() {
        let mut out = [0; 32];
        encode_snapshot(&sample(), 0x00_0001, &mut out).unwrap();
        assert_eq!(&out[..4], &[7, 0, 0, 1]);
        assert_eq!(decode_snapshot(1, &out), Ok((sample(), 32)));
        assert_eq!(
            decode_snapshot(CLT_SCHEMA_ID, &out),
            Err(CltError::WrongSchema {
                offset: 1,
                expected: CLT_SCHEMA_ID,
                actual: 1
            })
        );
        assert_eq!(
            encode_snapshot(&sample(), 0x0100_0000, &mut out),
            Err(CltError::SchemaIdOutOfRange {
                schema_id: 0x0100_0000
            })
        );
    }

    #[test]
    fn wrong_schema() {
        let e = decode_oss(0xff_ffff, &SNAPSHOT[4..]).unwrap_err();
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
            decode_snapshot(CLT_SCHEMA_ID, &[0x00, 0xff, 0xff, 0xff]),
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
                decode_oss(CLT_SCHEMA_ID, &data[..len]),
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
            decode_snapshot(CLT_SCHEMA_ID, &s),
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
            let e = decode_snapshot(CLT_SCHEMA_ID, &SNAPSHOT[..n]).unwrap_err();
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
        let (ctx, _) = decode_snapshot(CLT_SCHEMA_ID, &s).unwrap();
        assert!(!ctx.is_valid());
    }

    #[test]
    fn repr_parse_emit() {
        let r = CltSnapshot::parse(&SNAPSHOT, CLT_SCHEMA_ID).unwrap();
        assert_eq!(r, CltSnapshot::new(sample()));
        assert_eq!(r.buffer_len(), 32);
        let mut out = [0xee; 40];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..32], &SNAPSHOT);
        assert_eq!(&out[32..], &[0xee; 8]);
        let mut short = [0xee; 31];
        assert_eq!(
            r.emit(&mut short),
            Err(CltError::Truncated {
                offset: 0,
                part: CltPart::Snapshot,
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
            encode_snapshot(&ctx, schema, &mut out).unwrap();
            prop_assert_eq!(out[0], 7);
            prop_assert_eq!(decode_snapshot(schema, &out), Ok((ctx, 32)));
            prop_assert_eq!(decode_oss_with(schema, schema, &oss_data(&ctx)), Ok(ctx));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), schema in any::<u32>()) {
            if let Ok((_, used)) = decode_snapshot(schema, &bytes) {
                prop_assert_eq!(used, 32);
            }
        }
    }
}
