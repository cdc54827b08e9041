//! The two errors of this crate: [`TraceparentError`] for text (W3C
//! `traceparent` values and hex identifiers) and [`CltError`] for bytes
//! (the CLT opaque state, the legacy header, the injector, the collector
//! attributes). Both answer the questions of
//! [`Diagnostic`], like every error of the
//! lower crates.

use core::fmt;

use ioam_trace::{TraceError, TraceType};
use ioam_wire::error::{Diagnostic, Lengths};
use ioam_wire::WireError;

/// Length of a version-00 `traceparent` value.
pub(crate) const TRACEPARENT_LEN: usize = 55;

/// Words of CLT opaque state data (schema v1).
pub(crate) const OSS_LENGTH_WORDS: u8 = 7;

/// What is wrong with one character of a hex field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitKind {
    /// An uppercase hex digit (`A`-`F`): W3C Trace Context allows lowercase only.
    Uppercase,
    /// A character that is not a hex digit at all.
    NotHex,
}

/// The fields of a `traceparent` value (and the identifiers parsed alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceparentField {
    /// `version` (offsets 0..2).
    Version,
    /// `trace-id` (offsets 3..35), or a [`TraceId`](crate::TraceId) parsed alone.
    TraceId,
    /// `parent-id` (offsets 36..52), or a [`SpanId`](crate::SpanId) parsed alone.
    ParentId,
    /// `trace-flags` (offsets 53..55), or [`TraceFlags`](crate::TraceFlags) parsed alone.
    TraceFlags,
}

impl TraceparentField {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::TraceId => "trace-id",
            Self::ParentId => "parent-id",
            Self::TraceFlags => "trace-flags",
        }
    }
}

/// Why a `traceparent` value or a hex identifier is invalid. Each variant
/// is one rule of W3C Trace Context §3.2; offsets are byte offsets from the
/// start of the text given to the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceparentError {
    /// Fewer than 55 characters: no version can be parsed (§3.2.4, and the
    /// minimum for a higher version).
    TooShort {
        /// Number of bytes given.
        actual: usize,
    },
    /// Version `00` must be exactly 55 characters (§3.2.2.1).
    Version00Length {
        /// Number of bytes given.
        actual: usize,
    },
    /// An identifier parsed alone (`"…".parse::<TraceId>()`) does not have
    /// exactly its number of hex digits.
    IdLength {
        /// The identifier.
        field: TraceparentField,
        /// Required number of characters.
        required: usize,
        /// Number of characters (bytes) given.
        actual: usize,
    },
    /// A character of a field is not a lowercase hex digit (§3.2.2: `HEXDIGLC`).
    Digit {
        /// The field holding the character.
        field: TraceparentField,
        /// Byte offset of the character.
        offset: usize,
        /// Uppercase or not hex at all.
        kind: DigitKind,
    },
    /// Version `ff` is forbidden (§3.2.2.1). Offset 0.
    ForbiddenVersion,
    /// A `-` separator is missing.
    MissingDash {
        /// Byte offset where the dash is required (2, 35 or 52).
        offset: usize,
        /// The byte found there.
        found: u8,
    },
    /// A higher-version value continues after the flags without a `-` (§3.2.4).
    /// Offset 55.
    TrailingData {
        /// The byte found at offset 55.
        found: u8,
    },
    /// The trace-id is all zero (§3.2.2.3). Offset 3.
    ZeroTraceId,
    /// The parent-id is all zero (§3.2.2.4). Offset 36.
    ZeroParentId,
}

impl TraceparentError {
    /// Byte offset of the problem in the input.
    #[must_use]
    pub const fn offset(&self) -> usize {
        match *self {
            Self::TooShort { actual }
            | Self::Version00Length { actual }
            | Self::IdLength { actual, .. } => actual,
            Self::Digit { offset, .. } | Self::MissingDash { offset, .. } => offset,
            Self::ForbiddenVersion => 0,
            Self::TrailingData { .. } => TRACEPARENT_LEN,
            Self::ZeroTraceId => 3,
            Self::ZeroParentId => 36,
        }
    }
}

impl fmt::Display for TraceparentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooShort { actual } => write!(
                f,
                "traceparent too short: at least {TRACEPARENT_LEN} characters required, {actual} given"
            ),
            Self::Version00Length { actual } => write!(
                f,
                "traceparent version 00 must be exactly {TRACEPARENT_LEN} characters, {actual} given"
            ),
            Self::IdLength {
                field,
                required,
                actual,
            } => write!(
                f,
                "{} needs exactly {required} lowercase hex digits, got {actual} characters",
                field.name()
            ),
            Self::Digit {
                field,
                offset,
                kind: DigitKind::Uppercase,
            } => write!(
                f,
                "{} has an uppercase hex digit at offset {offset}: only lowercase hex is allowed (W3C Trace Context §3.2.2)",
                field.name()
            ),
            Self::Digit {
                field,
                offset,
                kind: DigitKind::NotHex,
            } => write!(
                f,
                "{} has a non-hex character at offset {offset}",
                field.name()
            ),
            Self::ForbiddenVersion => {
                f.write_str("traceparent version ff is forbidden (offset 0)")
            }
            Self::MissingDash { offset, found } => write!(
                f,
                "traceparent needs '-' at offset {offset}, found byte 0x{found:02x}"
            ),
            Self::TrailingData { found } => write!(
                f,
                "traceparent of a higher version continues at offset 55 with byte 0x{found:02x}: \
                 only '-' may follow the flags"
            ),
            Self::ZeroTraceId => {
                f.write_str("traceparent trace-id is all zero (invalid), offset 3")
            }
            Self::ZeroParentId => {
                f.write_str("traceparent parent-id is all zero (invalid), offset 36")
            }
        }
    }
}

impl core::error::Error for TraceparentError {}

impl Diagnostic for TraceparentError {
    fn layer(&self) -> &'static str {
        match *self {
            Self::IdLength { field, .. } | Self::Digit { field, .. } => field.name(),
            Self::ZeroTraceId => "trace-id",
            Self::ZeroParentId => "parent-id",
            Self::ForbiddenVersion => "version",
            _ => "traceparent",
        }
    }

    fn rule(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "at least 55 characters (W3C Trace Context §3.2.4)",
            Self::Version00Length { .. } => {
                "version 00 is 55 characters (W3C Trace Context §3.2.2.1)"
            }
            Self::IdLength { .. } => {
                "an identifier has a fixed number of hex digits (W3C Trace Context §3.2.2)"
            }
            Self::Digit { .. } => "lowercase hex digits (W3C Trace Context §3.2.2)",
            Self::ForbiddenVersion => "version ff is invalid (W3C Trace Context §3.2.2.1)",
            Self::MissingDash { .. } => "fields separated by '-' (W3C Trace Context §3.2.2)",
            Self::TrailingData { .. } => "only '-' after the flags (W3C Trace Context §3.2.4)",
            Self::ZeroTraceId => "trace-id not all zero (W3C Trace Context §3.2.2.3)",
            Self::ZeroParentId => "parent-id not all zero (W3C Trace Context §3.2.2.4)",
        }
    }

    fn offset(&self) -> Option<usize> {
        Some(TraceparentError::offset(self))
    }

    fn lengths(&self) -> Option<Lengths> {
        match *self {
            Self::TooShort { actual } | Self::Version00Length { actual } => {
                Lengths::of(TRACEPARENT_LEN, actual)
            }
            Self::IdLength {
                required, actual, ..
            } => Lengths::of(required, actual),
            _ => None,
        }
    }
}

/// The part of a CLT encoding a [`CltError::Truncated`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CltPart {
    /// An opaque state snapshot (RFC 9197 §4.4.2): header word and data.
    Snapshot,
    /// The 32-byte legacy CLT trace header.
    LegacyHeader,
    /// The 8-byte standard trace header a legacy body is rebuilt from.
    TraceHeader,
}

impl CltPart {
    const fn name(self) -> &'static str {
        match self {
            Self::Snapshot => "CLT opaque state snapshot",
            Self::LegacyHeader => "legacy CLT trace header",
            Self::TraceHeader => "trace option header",
        }
    }
}

/// What went wrong while reading or writing CLT bytes: the opaque state,
/// the legacy header, the injector's Hop-by-Hop header, the collector
/// attributes.
///
/// Offsets: opaque state errors count from the first byte of the snapshot
/// (its Length byte), legacy errors from the Namespace-ID of the trace
/// body; errors of the layers below keep their own
/// ([`CltError::Trace`], [`CltError::Wire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CltError {
    /// The opaque state Schema ID is not the one expected for the
    /// namespace.
    WrongSchema {
        /// Offset of the Schema ID field.
        offset: usize,
        /// The schema ID configured for CLT.
        expected: u32,
        /// The schema ID found.
        actual: u32,
    },
    /// The opaque state data is not 7 words (28 bytes) long.
    WrongLength {
        /// Offset of the Length byte.
        offset: usize,
        /// Required data length in bytes (28).
        required: usize,
        /// Data length found, in bytes.
        actual: usize,
    },
    /// The bytes end before a CLT structure does.
    Truncated {
        /// What is cut.
        part: CltPart,
        /// Where the structure starts.
        offset: usize,
        /// Bytes the structure needs, from `offset`.
        required: usize,
        /// Bytes available from `offset`.
        actual: usize,
    },
    /// The node data after a legacy header is larger than a standard trace
    /// can hold (220 bytes).
    LegacyDataTooLong {
        /// Offset of the node data (32).
        offset: usize,
        /// Largest data area accepted.
        max: usize,
        /// Data bytes found after the legacy header.
        actual: usize,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes required.
        required: usize,
        /// Bytes available.
        actual: usize,
    },
    /// A schema ID above 24 bits cannot be encoded.
    SchemaIdOutOfRange {
        /// The value given.
        schema_id: u32,
    },
    /// The opaque state encoding needs the opaque state bit (22) in the
    /// trace type.
    NoOssBit {
        /// The trace type given.
        trace_type: TraceType,
    },
    /// The sender's record plus the space for the requested hops exceeds the
    /// node-data area an IPv6 option can carry (244 bytes; 220 after a
    /// legacy header).
    TooLarge {
        /// Bytes of node data required.
        required: usize,
        /// Bytes available.
        max: usize,
        /// Bytes of the sender's record.
        sender_record: usize,
        /// Bytes each further hop adds.
        per_hop: usize,
    },
    /// The free space asked in bytes is not a multiple of 4 (node data is
    /// made of 4-octet words).
    FreeSpaceNotWords {
        /// The bytes asked.
        free: usize,
    },
    /// The trace layer refused (malformed records, empty type, undefined
    /// bits, a value too wide).
    Trace(TraceError),
    /// The framing layer refused (e.g. the output buffer is too small).
    Wire(WireError),
    /// The output writer failed (e.g. a fixed-capacity string is full).
    Fmt,
}

impl CltError {
    /// The same error with its offset moved by `base` bytes (the errors of
    /// the layers below are moved too).
    #[must_use]
    pub const fn with_base(self, base: usize) -> Self {
        match self {
            Self::WrongSchema {
                offset,
                expected,
                actual,
            } => Self::WrongSchema {
                offset: offset + base,
                expected,
                actual,
            },
            Self::WrongLength {
                offset,
                required,
                actual,
            } => Self::WrongLength {
                offset: offset + base,
                required,
                actual,
            },
            Self::Truncated {
                part,
                offset,
                required,
                actual,
            } => Self::Truncated {
                part,
                offset: offset + base,
                required,
                actual,
            },
            Self::LegacyDataTooLong {
                offset,
                max,
                actual,
            } => Self::LegacyDataTooLong {
                offset: offset + base,
                max,
                actual,
            },
            Self::Trace(e) => Self::Trace(e.with_base(base)),
            Self::Wire(e) => Self::Wire(e.with_base(base)),
            other => other,
        }
    }
}

impl fmt::Display for CltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::WrongSchema {
                offset,
                expected,
                actual,
            } => write!(
                f,
                "opaque state schema ID 0x{actual:06x} at offset {offset} is not the CLT schema 0x{expected:06x}"
            ),
            Self::WrongLength {
                offset,
                required,
                actual,
            } => write!(
                f,
                "CLT opaque state at offset {offset} needs {required} data bytes (Length {OSS_LENGTH_WORDS}), found {actual} bytes"
            ),
            Self::Truncated {
                part,
                offset,
                required,
                actual,
            } => write!(
                f,
                "{} at offset {offset} truncated: {required} bytes required, {actual} available",
                part.name()
            ),
            Self::LegacyDataTooLong {
                offset,
                max,
                actual,
            } => write!(
                f,
                "legacy CLT trace holds {actual} bytes of node data from offset {offset}, at most {max} fit a trace"
            ),
            Self::BufferTooSmall { required, actual } => write!(
                f,
                "output buffer of {actual} bytes is too small, {required} bytes required"
            ),
            Self::SchemaIdOutOfRange { schema_id } => {
                write!(f, "schema ID 0x{schema_id:x} does not fit in 24 bits")
            }
            Self::NoOssBit { trace_type } => write!(
                f,
                "trace type 0x{:06x} lacks the opaque state bit 22 (0x000002) that carries the CLT context",
                trace_type.bits()
            ),
            Self::TooLarge {
                required,
                max,
                sender_record,
                per_hop,
            } => write!(
                f,
                "trace data of {required} bytes does not fit the {max} bytes an IPv6 option holds \
                 (sender record {sender_record} bytes, {per_hop} bytes per further hop)"
            ),
            Self::FreeSpaceNotWords { free } => write!(
                f,
                "free space of {free} bytes is not a multiple of 4 (node data is 4-octet words)"
            ),
            Self::Trace(e) => write!(f, "{e}"),
            Self::Wire(e) => write!(f, "{e}"),
            Self::Fmt => f.write_str("the output writer failed"),
        }
    }
}

impl core::error::Error for CltError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Trace(e) => Some(e),
            Self::Wire(e) => Some(e),
            _ => None,
        }
    }
}

impl Diagnostic for CltError {
    fn layer(&self) -> &'static str {
        match *self {
            Self::WrongSchema { .. } | Self::WrongLength { .. } => "CLT opaque state snapshot",
            Self::Truncated { part, .. } => part.name(),
            Self::LegacyDataTooLong { .. } => "legacy CLT trace",
            Self::BufferTooSmall { .. } | Self::Fmt => "output buffer",
            Self::SchemaIdOutOfRange { .. } => "opaque state schema ID",
            Self::NoOssBit { .. } | Self::TooLarge { .. } | Self::FreeSpaceNotWords { .. } => {
                "injector trace"
            }
            Self::Trace(e) => e.layer(),
            Self::Wire(e) => e.layer(),
        }
    }

    fn rule(&self) -> &'static str {
        match *self {
            Self::WrongSchema { .. } => "the namespace's CLT schema ID",
            Self::WrongLength { .. } => "CLT opaque state is 7 words (schema v1)",
            Self::Truncated { .. } => "structure within the bytes given",
            Self::LegacyDataTooLong { .. } => "legacy data at most 220 bytes",
            Self::BufferTooSmall { .. } => "output fits the buffer",
            Self::SchemaIdOutOfRange { .. } => "schema ID is 24 bits (RFC 9197 §4.4.2)",
            Self::NoOssBit { .. } => "the CLT context needs trace-type bit 22",
            Self::TooLarge { .. } => "node data at most 244 bytes (RFC 9486 §4)",
            Self::FreeSpaceNotWords { .. } => "RemainingLen counts 4-octet units (RFC 9197 §4.4.1)",
            Self::Fmt => "the writer accepts the text",
            Self::Trace(e) => e.rule(),
            Self::Wire(e) => e.rule(),
        }
    }

    fn offset(&self) -> Option<usize> {
        match *self {
            Self::WrongSchema { offset, .. }
            | Self::WrongLength { offset, .. }
            | Self::Truncated { offset, .. }
            | Self::LegacyDataTooLong { offset, .. } => Some(offset),
            Self::Trace(e) => e.offset(),
            Self::Wire(e) => e.offset(),
            _ => None,
        }
    }

    fn hop(&self) -> Option<usize> {
        match self {
            Self::Trace(e) => e.hop(),
            _ => None,
        }
    }

    fn lengths(&self) -> Option<Lengths> {
        match *self {
            Self::WrongLength {
                required, actual, ..
            }
            | Self::Truncated {
                required, actual, ..
            }
            | Self::BufferTooSmall { required, actual } => Lengths::of(required, actual),
            Self::LegacyDataTooLong { max, actual, .. } => Lengths::of(max, actual),
            Self::TooLarge { required, max, .. } => Lengths::of(max, required),
            Self::Trace(e) => e.lengths(),
            Self::Wire(e) => e.lengths(),
            _ => None,
        }
    }
}

impl From<TraceError> for CltError {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::Wire(w) => Self::Wire(w),
            other => Self::Trace(other),
        }
    }
}

impl From<WireError> for CltError {
    fn from(e: WireError) -> Self {
        Self::Wire(e)
    }
}

impl From<fmt::Error> for CltError {
    fn from(_: fmt::Error) -> Self {
        Self::Fmt
    }
}
