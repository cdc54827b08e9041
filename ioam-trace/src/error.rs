//! Errors of the trace layer (RFC 9197 §4.4, RFC 9322).
//!
//! Every offset in a [`TraceError`] counts bytes from the start of the slice
//! handed to the function that reported it. For the parsers and the transit
//! writer that slice is the IOAM trace *body*: it starts at the Namespace-ID,
//! right after the IOAM option's Reserved and IOAM-Type bytes. Callers that
//! know where the body sits in a packet can add that base with
//! [`TraceError::with_base`].

use core::fmt;

use ioam_wire::error::{Diagnostic, Lengths, WireError};

use crate::trace_type::TraceType;

/// Which part of a trace a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// The 8-byte trace option header (RFC 9197 §4.4.1).
    Header,
    /// The fixed node data of one record: NodeLen words (RFC 9197 §4.4.2).
    NodeData,
    /// The 4-byte header of an opaque state snapshot (RFC 9197 §4.4.2).
    OssHeader,
    /// The data of an opaque state snapshot: Length words.
    OssData,
    /// The output buffer of a writer or builder.
    OutputBuffer,
}

impl Part {
    const fn name(self) -> &'static str {
        match self {
            Part::Header => "trace option header",
            Part::NodeData => "node data record",
            Part::OssHeader => "opaque state snapshot header",
            Part::OssData => "opaque state snapshot data",
            Part::OutputBuffer => "output buffer",
        }
    }
}

/// A node-data field whose value does not fit its wire width (RFC 9197 §4.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// 24-bit short node id (bit 0).
    NodeId,
    /// 56-bit wide node id (bit 8).
    NodeIdWide,
    /// 24-bit opaque state schema id (bit 22).
    SchemaId,
    /// Opaque state data: at most 255 words (1020 bytes).
    OssData,
    /// NodeLen: 5 bits, at most 31 words.
    NodeLen,
    /// RemainingLen: 7 bits, at most 127 words.
    RemainingLen,
    /// Pre-allocated trace space: a multiple of 4, at most 244 bytes.
    Space,
}

impl Field {
    const fn name(self) -> &'static str {
        match self {
            Field::NodeId => "node id (24 bits)",
            Field::NodeIdWide => "wide node id (56 bits)",
            Field::SchemaId => "opaque state schema id (24 bits)",
            Field::OssData => "opaque state data (at most 1020 bytes)",
            Field::NodeLen => "NodeLen (at most 31 words)",
            Field::RemainingLen => "RemainingLen (at most 127 words)",
            Field::Space => "trace space (multiple of 4, at most 244 bytes)",
        }
    }
}

/// What went wrong while reading or writing an IOAM trace option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceError {
    /// Fewer bytes than a part needs.
    Truncated {
        /// The part that does not fit.
        part: Part,
        /// Offset where the part starts.
        offset: usize,
        /// Bytes the part needs.
        required: usize,
        /// Bytes available from `offset`.
        actual: usize,
    },
    /// The node-data area is not a whole number of 4-byte words
    /// (RFC 9486 §4.2 keeps every IOAM body 4n long).
    DataNotWordAligned {
        /// Offset of the data area (always 8).
        offset: usize,
        /// Length of the data area in bytes.
        len: usize,
    },
    /// The node-data area is longer than an IPv6 option can carry
    /// (244 bytes, RFC 9486 §4.2, Linux `IOAM6_TRACE_DATA_SIZE_MAX`).
    DataTooLong {
        /// Offset of the data area (always 8).
        offset: usize,
        /// Length of the data area in bytes.
        len: usize,
        /// The maximum, 244.
        max: usize,
    },
    /// Pre-allocated trace: RemainingLen points beyond the data area
    /// (RFC 9197 §4.4.1; Linux drops the packet).
    RemainingLenBeyondSpace {
        /// Offset of the RemainingLen byte (3).
        offset: usize,
        /// RemainingLen in words.
        remaining_len: u8,
        /// Size of the data area in bytes.
        space: usize,
    },
    /// Strict mode: NodeLen differs from the value computed from the
    /// trace type (Linux 6.18 `ipv6_hop_ioam` drops such packets). The
    /// transit writer reports this in both modes: it cannot write a record
    /// whose size disagrees with its fields.
    NodeLenMismatch {
        /// Offset of the NodeLen field (2).
        offset: usize,
        /// NodeLen found in the header.
        node_len: u8,
        /// NodeLen computed from the trace type.
        expected: u8,
    },
    /// Lenient mode: NodeLen is smaller than the fields of the trace type
    /// need, so a record cannot hold them.
    NodeLenTooSmall {
        /// Offset of the NodeLen field (2).
        offset: usize,
        /// NodeLen found in the header.
        node_len: u8,
        /// Words the fields of the trace type need.
        required: u8,
    },
    /// Strict mode: the trace type has no bit set, so no node can record
    /// anything (the Linux encapsulator refuses it).
    EmptyTraceType {
        /// Offset of the IOAM-Trace-Type field (4).
        offset: usize,
    },
    /// A node record (its fixed data, its opaque state header or data)
    /// runs past the end of the trace.
    RecordTruncated {
        /// Index of the record in wire order (0: nearest the header).
        hop: u8,
        /// The part of the record that does not fit.
        part: Part,
        /// Offset where the part starts.
        offset: usize,
        /// Bytes the part needs.
        required: usize,
        /// Bytes available from `offset`.
        actual: usize,
    },
    /// A record would be empty (NodeLen 0 and no opaque state snapshot)
    /// while data remains: the area cannot be walked.
    EmptyRecord {
        /// Index of the record in wire order (0: nearest the header).
        hop: u8,
        /// Offset of the first byte that cannot be attributed to a record.
        offset: usize,
        /// Bytes left from `offset`.
        remaining: usize,
    },
    /// RFC 9322 §4: the Loopback flag is set but the trace type is not
    /// exactly 0x800000 (hop limit and node id only).
    LoopbackTraceType {
        /// Offset of the IOAM-Trace-Type field (4).
        offset: usize,
        /// The trace type found.
        trace_type: TraceType,
    },
    /// The trace type sets undefined bits 12-21 and the writer was told not
    /// to fill them (RFC 9197 §4.4.1 option 2 reports this as a skip, not
    /// an error; this error comes from builders, which must never set them).
    UndefinedBits {
        /// Offset of the IOAM-Trace-Type field (4).
        offset: usize,
        /// The undefined bits that are set.
        bits: TraceType,
    },
    /// A value does not fit its field.
    ValueOutOfRange {
        /// The field.
        field: Field,
        /// The value given.
        value: u64,
        /// The largest value the field holds.
        max: u64,
    },
    /// A record is larger than the space it must fit (an encapsulator's own
    /// record in the space it reserves).
    RecordTooLarge {
        /// Bytes of the record.
        required: usize,
        /// Bytes of space.
        space: usize,
    },
    /// An error of the IPv6 layer below the trace (packet, extension
    /// header or option framing, builder buffer), with its own offsets.
    Wire(WireError),
    /// The IPv6 Next Header is not Hop-by-Hop (0): there is no Hop-by-Hop
    /// header to hold the trace.
    NoHopByHop {
        /// Offset of the Next Header field (6).
        offset: usize,
    },
}

impl TraceError {
    /// A record error of the record with wire-order index `hop` (at most
    /// 255 is kept; a trace holds at most 61 records). Other errors are
    /// returned as they are.
    #[cold]
    #[must_use]
    pub(crate) const fn at_hop(self, hop: usize) -> Self {
        let h = if hop > u8::MAX as usize {
            u8::MAX
        } else {
            hop as u8
        };
        match self {
            TraceError::RecordTruncated {
                part,
                offset,
                required,
                actual,
                ..
            } => TraceError::RecordTruncated {
                hop: h,
                part,
                offset,
                required,
                actual,
            },
            TraceError::EmptyRecord {
                offset, remaining, ..
            } => TraceError::EmptyRecord {
                hop: h,
                offset,
                remaining,
            },
            other => other,
        }
    }

    /// The same error with every offset moved by `base` bytes, for callers
    /// that know where the body sits in a larger buffer.
    #[must_use]
    pub const fn with_base(self, base: usize) -> Self {
        match self {
            TraceError::Truncated {
                part,
                offset,
                required,
                actual,
            } => TraceError::Truncated {
                part,
                offset: offset + base,
                required,
                actual,
            },
            TraceError::DataNotWordAligned { offset, len } => TraceError::DataNotWordAligned {
                offset: offset + base,
                len,
            },
            TraceError::DataTooLong { offset, len, max } => TraceError::DataTooLong {
                offset: offset + base,
                len,
                max,
            },
            TraceError::RemainingLenBeyondSpace {
                offset,
                remaining_len,
                space,
            } => TraceError::RemainingLenBeyondSpace {
                offset: offset + base,
                remaining_len,
                space,
            },
            TraceError::NodeLenMismatch {
                offset,
                node_len,
                expected,
            } => TraceError::NodeLenMismatch {
                offset: offset + base,
                node_len,
                expected,
            },
            TraceError::NodeLenTooSmall {
                offset,
                node_len,
                required,
            } => TraceError::NodeLenTooSmall {
                offset: offset + base,
                node_len,
                required,
            },
            TraceError::EmptyTraceType { offset } => TraceError::EmptyTraceType {
                offset: offset + base,
            },
            TraceError::RecordTruncated {
                hop,
                part,
                offset,
                required,
                actual,
            } => TraceError::RecordTruncated {
                hop,
                part,
                offset: offset + base,
                required,
                actual,
            },
            TraceError::EmptyRecord {
                hop,
                offset,
                remaining,
            } => TraceError::EmptyRecord {
                hop,
                offset: offset + base,
                remaining,
            },
            TraceError::LoopbackTraceType { offset, trace_type } => TraceError::LoopbackTraceType {
                offset: offset + base,
                trace_type,
            },
            TraceError::UndefinedBits { offset, bits } => TraceError::UndefinedBits {
                offset: offset + base,
                bits,
            },
            TraceError::ValueOutOfRange { .. } | TraceError::RecordTooLarge { .. } => self,
            TraceError::NoHopByHop { offset } => TraceError::NoHopByHop {
                offset: offset + base,
            },
            TraceError::Wire(e) => TraceError::Wire(e.with_base(base)),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TraceError::Truncated {
                part,
                offset,
                required,
                actual,
            } => write!(
                f,
                "{} truncated at offset {offset}: {required} bytes required, {actual} present",
                part.name()
            ),
            TraceError::DataNotWordAligned { offset, len } => write!(
                f,
                "trace data area at offset {offset} is {len} bytes, not a multiple of 4"
            ),
            TraceError::DataTooLong { offset, len, max } => write!(
                f,
                "trace data area at offset {offset} is {len} bytes, more than the {max} an IPv6 option holds"
            ),
            TraceError::RemainingLenBeyondSpace {
                offset,
                remaining_len,
                space,
            } => write!(
                f,
                "RemainingLen {remaining_len} at offset {offset} claims {} free bytes but the data area has {space}",
                usize::from(remaining_len) * 4
            ),
            TraceError::NodeLenMismatch {
                offset,
                node_len,
                expected,
            } => write!(
                f,
                "NodeLen {node_len} at offset {offset} does not match the trace type, which needs {expected} words"
            ),
            TraceError::NodeLenTooSmall {
                offset,
                node_len,
                required,
            } => write!(
                f,
                "NodeLen {node_len} at offset {offset} is smaller than the {required} words the trace type needs"
            ),
            TraceError::EmptyTraceType { offset } => {
                write!(f, "trace type at offset {offset} has no bit set")
            }
            TraceError::RecordTruncated {
                hop,
                part,
                offset,
                required,
                actual,
            } => write!(
                f,
                "{} of record {hop} (wire order) truncated at offset {offset}: {required} bytes required, {actual} present",
                part.name()
            ),
            TraceError::EmptyRecord {
                hop,
                offset,
                remaining,
            } => write!(
                f,
                "record {hop} (wire order) is empty (NodeLen 0, no opaque state) but {remaining} bytes remain at offset {offset}"
            ),
            TraceError::LoopbackTraceType { offset, trace_type } => write!(
                f,
                "Loopback flag set with trace type {trace_type} at offset {offset}; RFC 9322 requires exactly 0x800000"
            ),
            TraceError::UndefinedBits { offset, bits } => {
                // Bit 23 is reserved, bits 12-21 undefined (RFC 9197 §4.4.1).
                let reserved = bits.intersection(TraceType::RESERVED_23);
                let undefined = bits.intersection(TraceType::UNDEFINED);
                write!(f, "trace type at offset {offset} sets ")?;
                if !undefined.is_empty() {
                    write!(f, "undefined bits {undefined} (bits 12-21)")?;
                }
                if !reserved.is_empty() {
                    if !undefined.is_empty() {
                        f.write_str(" and ")?;
                    }
                    write!(f, "the reserved bit 23 ({reserved})")?;
                }
                f.write_str(": a sender must not set them (RFC 9197 §4.4.1)")
            }
            TraceError::ValueOutOfRange { field, value, max } => write!(
                f,
                "{} value {value:#x} exceeds the maximum {max:#x}",
                field.name()
            ),
            TraceError::RecordTooLarge { required, space } => write!(
                f,
                "a {required}-byte record does not fit {space} bytes of trace space"
            ),
            TraceError::NoHopByHop { offset } => write!(
                f,
                "IPv6 Next Header at offset {offset} is not Hop-by-Hop: no Hop-by-Hop header to hold the trace"
            ),
            TraceError::Wire(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for TraceError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            TraceError::Wire(e) => Some(e),
            _ => None,
        }
    }
}

impl Diagnostic for TraceError {
    fn layer(&self) -> &'static str {
        match *self {
            TraceError::Truncated { part, .. } | TraceError::RecordTruncated { part, .. } => {
                part.name()
            }
            TraceError::DataNotWordAligned { .. } | TraceError::DataTooLong { .. } => {
                "trace data area"
            }
            TraceError::RemainingLenBeyondSpace { .. }
            | TraceError::NodeLenMismatch { .. }
            | TraceError::NodeLenTooSmall { .. }
            | TraceError::EmptyTraceType { .. }
            | TraceError::LoopbackTraceType { .. }
            | TraceError::UndefinedBits { .. } => "trace option header",
            TraceError::EmptyRecord { .. } => "node data record",
            TraceError::ValueOutOfRange { .. } => "node data value",
            TraceError::RecordTooLarge { .. } => "trace space",
            TraceError::NoHopByHop { .. } => "IPv6 header",
            TraceError::Wire(e) => e.layer(),
        }
    }

    fn rule(&self) -> &'static str {
        match *self {
            TraceError::Truncated { .. } => "8-byte trace header (RFC 9197 §4.4.1)",
            TraceError::RecordTruncated { .. } => {
                "records of NodeLen words plus their opaque state (RFC 9197 §4.4.2)"
            }
            TraceError::DataNotWordAligned { .. } => "data area a multiple of 4 (RFC 9486 §4)",
            TraceError::DataTooLong { .. } => "data area at most 244 bytes (RFC 9486 §4)",
            TraceError::RemainingLenBeyondSpace { .. } => {
                "RemainingLen within the data area (RFC 9197 §4.4.1)"
            }
            TraceError::NodeLenMismatch { .. } => {
                "NodeLen matches the trace type (Linux, strict mode)"
            }
            TraceError::NodeLenTooSmall { .. } => {
                "NodeLen holds the fields of the trace type (RFC 9197 §4.4.1)"
            }
            TraceError::EmptyTraceType { .. } => "trace type has a bit set (strict mode)",
            TraceError::EmptyRecord { .. } => "records are not empty",
            TraceError::LoopbackTraceType { .. } => {
                "Loopback needs trace type 0x800000 (RFC 9322 §4)"
            }
            TraceError::UndefinedBits { .. } => {
                "builders set no undefined bit 12-21 (RFC 9197 §4.4.1)"
            }
            TraceError::ValueOutOfRange { .. } => "value fits its field (RFC 9197 §4.4.2)",
            TraceError::RecordTooLarge { .. } => "record fits the trace space",
            TraceError::NoHopByHop { .. } => {
                "an incremental trace travels in a Hop-by-Hop header (RFC 9486 §4)"
            }
            TraceError::Wire(e) => e.rule(),
        }
    }

    fn offset(&self) -> Option<usize> {
        Some(match *self {
            TraceError::Truncated { offset, .. }
            | TraceError::RecordTruncated { offset, .. }
            | TraceError::DataNotWordAligned { offset, .. }
            | TraceError::DataTooLong { offset, .. }
            | TraceError::RemainingLenBeyondSpace { offset, .. }
            | TraceError::NodeLenMismatch { offset, .. }
            | TraceError::NodeLenTooSmall { offset, .. }
            | TraceError::EmptyTraceType { offset }
            | TraceError::EmptyRecord { offset, .. }
            | TraceError::LoopbackTraceType { offset, .. }
            | TraceError::UndefinedBits { offset, .. }
            | TraceError::NoHopByHop { offset } => offset,
            TraceError::ValueOutOfRange { .. } | TraceError::RecordTooLarge { .. } => return None,
            TraceError::Wire(e) => return e.offset(),
        })
    }

    fn hop(&self) -> Option<usize> {
        match *self {
            TraceError::RecordTruncated { hop, .. } | TraceError::EmptyRecord { hop, .. } => {
                Some(usize::from(hop))
            }
            _ => None,
        }
    }

    fn lengths(&self) -> Option<Lengths> {
        match *self {
            TraceError::Truncated {
                required, actual, ..
            }
            | TraceError::RecordTruncated {
                required, actual, ..
            } => Lengths::of(required, actual),
            TraceError::DataTooLong { len, max, .. } => Lengths::of(max, len),
            TraceError::RemainingLenBeyondSpace {
                remaining_len,
                space,
                ..
            } => Lengths::of(usize::from(remaining_len) * 4, space),
            // NodeLen counts 4-byte words, like the field.
            TraceError::NodeLenMismatch {
                node_len, expected, ..
            } => Lengths::of(usize::from(expected), usize::from(node_len)),
            TraceError::NodeLenTooSmall {
                node_len, required, ..
            } => Lengths::of(usize::from(required), usize::from(node_len)),
            TraceError::RecordTooLarge { required, space } => Lengths::of(required, space),
            TraceError::Wire(e) => e.lengths(),
            _ => None,
        }
    }
}

impl From<WireError> for TraceError {
    fn from(e: WireError) -> Self {
        TraceError::Wire(e)
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    /// One of every variant that has an offset.
    fn with_offsets() -> [TraceError; 11] {
        [
            TraceError::Truncated {
                part: Part::Header,
                offset: 0,
                required: 8,
                actual: 5,
            },
            TraceError::RecordTruncated {
                hop: 2,
                part: Part::OssData,
                offset: 40,
                required: 28,
                actual: 12,
            },
            TraceError::DataNotWordAligned { offset: 8, len: 10 },
            TraceError::DataTooLong {
                offset: 8,
                len: 248,
                max: 244,
            },
            TraceError::RemainingLenBeyondSpace {
                offset: 3,
                remaining_len: 9,
                space: 8,
            },
            TraceError::NodeLenMismatch {
                offset: 2,
                node_len: 2,
                expected: 1,
            },
            TraceError::NodeLenTooSmall {
                offset: 2,
                node_len: 1,
                required: 2,
            },
            TraceError::EmptyTraceType { offset: 4 },
            TraceError::EmptyRecord {
                hop: 0,
                offset: 8,
                remaining: 4,
            },
            TraceError::NoHopByHop { offset: 6 },
            TraceError::Wire(WireError::Truncated {
                layer: ioam_wire::error::Layer::IoamOption,
                offset: 44,
                required: 4,
                actual: 2,
            }),
        ]
    }

    #[test]
    fn one_line_with_offset_lengths_and_hop() {
        for e in with_offsets() {
            let text = e.to_string();
            let o = e.offset().unwrap();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains(&alloc::format!("offset {o}")), "{text}");
            if let Some(l) = e.lengths() {
                assert!(text.contains(&l.actual.to_string()), "{text}: {l:?}");
            }
            if let Some(h) = e.hop() {
                assert!(text.contains(&alloc::format!("record {h}")), "{text}");
            }
            assert!(!e.layer().is_empty() && !e.rule().is_empty(), "{e:?}");
            // A shift moves the offset, and only the offset.
            let moved = e.with_base(100);
            assert_eq!(moved.offset(), Some(o + 100), "{e:?}");
            assert_eq!((moved.lengths(), moved.hop()), (e.lengths(), e.hop()));
            assert_eq!(moved.layer(), e.layer());
        }
    }

    #[test]
    fn record_errors_name_their_hop_and_lengths() {
        let e = with_offsets()[1];
        assert_eq!(e.hop(), Some(2));
        assert_eq!(e.lengths(), Lengths::of(28, 12));
        assert_eq!(e.layer(), "opaque state snapshot data");
        assert_eq!(
            e.to_string(),
            "opaque state snapshot data of record 2 (wire order) truncated at offset 40: 28 bytes required, 12 present"
        );
        // Errors without an offset say so, and are not moved.
        let e = TraceError::RecordTooLarge {
            required: 12,
            space: 8,
        };
        assert_eq!((e.offset(), e.with_base(9)), (None, e));
        assert_eq!(e.lengths(), Lengths::of(12, 8));
    }
}

#[cfg(test)]
mod undefined_bits_text {
    extern crate alloc;
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn reserved_bit_23_is_not_called_undefined() {
        let e = |bits| TraceError::UndefinedBits {
            offset: 4,
            bits: TraceType::from_bits_truncate(bits),
        };
        let t = e(0x00_0001).to_string();
        assert!(t.contains("reserved bit 23") && !t.contains("12-21"), "{t}");
        let t = e(0x00_1000 >> 1).to_string();
        assert!(
            t.contains("undefined bits") && !t.contains("reserved"),
            "{t}"
        );
        let t = e(0x00_0801).to_string();
        assert!(
            t.contains("undefined bits 0x000800") && t.contains("reserved bit 23"),
            "{t}"
        );
    }
}
