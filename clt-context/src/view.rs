//! The CLT view of a decoded trace: the span context, the hops in path
//! order, and the attribute strings of the CLT collector (Advanced-Observability/ioam-collector-go-jaeger).
//!
//! # Finding the context
//!
//! [`find_context`] looks for the originator's record: the oldest record
//! (first hop) whose opaque state snapshot (RFC 9197 §4.4.2, bit 22) carries the
//! CLT schema ID, and decodes it with [`crate::oss`]. Every way of not
//! finding a context is a distinct [`ContextLookup`] outcome.
//!
//! # Collector attributes
//!
//! The reference collector (Advanced-Observability/ioam-collector-go-jaeger,
//! fed by the CLT IOAM agents) adds to an `ioam-span` one string attribute
//! per hop, hop 1 being the first hop of the path (the originator):
//!
//! ```text
//! ioam_namespace<ns>_node<i> = HopLimit=63; Id=1; IngressId=11; EgressId=12; ...
//! ```
//!
//! [`Hop::attribute_key`] and [`Hop::attribute_value`] reproduce it byte for
//! byte, through `core::fmt` and without allocation:
//!
//! - items follow the trace-type bit order; each is `Key=value; ` (the last
//!   one too); bits 12-21 and 23 print nothing;
//! - integers are unsigned decimal (Go `strconv.FormatUint(v, 10)`), the
//!   "unavailable" all-ones values included (e.g. `Id=16777215`);
//! - namespace data and opaque state data are `0x` followed by lowercase hex
//!   of every byte (Go `hex.EncodeToString`), so 8 digits for the short
//!   namespace data, 16 for the wide one, `0x` alone for empty OSS data;
//! - the opaque state items are written for every record of a trace with
//!   bit 22, the schema ID as its full 24-bit value in decimal, as the
//!   Python agent reports them (the Go agent masks the schema ID to 12 bits
//!   and drops a snapshot of Length 0, which then prints as
//!   `OpaqueStateSchemaId=0; OpaqueStateData=0x; `: known bugs, not
//!   reproduced);
//! - when bits 0 and 8 are both set, the agents keep a single `HopLimit`
//!   that the wide field overwrites, so both `HopLimit=` items show the
//!   hop limit of the wide field. This module does the same; the typed
//!   [`NodeFields`] keep both values.

use core::fmt;
use core::iter::FusedIterator;

use ioam_trace::{NodeFields, NodeRecord, PathOrder, Trace, TraceError};

use crate::error::CltError;
use crate::id::{hex_into, SpanContext};
use crate::oss::decode;

/// The name of the span the reference collector creates for a trace.
pub const IOAM_SPAN_NAME: &str = "ioam-span";

/// Where a CLT span context was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FoundContext {
    /// The decoded span context.
    pub ctx: SpanContext,
    /// The hop (1-based, path order) whose record carries it; 1 is the
    /// originator. `0` for a legacy header (the ids sit in the trace header).
    pub hop: usize,
    /// Offset of the snapshot (its Length byte) or, for a legacy header, of
    /// the ids: from the start of the trace body, plus
    /// [`Trace::base`] (so from the packet start for a trace found by
    /// `IoamPacket`).
    pub offset: usize,
}

/// The outcome of looking for the CLT span context in a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextLookup {
    /// A span context with non-zero ids.
    Found(FoundContext),
    /// The trace type has no opaque state snapshot bit (bit 22).
    NoOss,
    /// The trace has the bit but no node has written a record yet.
    NoRecords,
    /// No record's snapshot has the CLT schema ID; `schema_id` is the one of
    /// the oldest record (0xffffff: "nothing to report").
    OtherSchema {
        /// Schema ID of the originator's (oldest) record.
        schema_id: u32,
    },
    /// The CLT snapshot (or legacy header) holds an all-zero trace id or
    /// span id: "no context" (W3C Trace Context §3.2.2.3-4).
    ZeroIds(FoundContext),
    /// A snapshot has the CLT schema ID but not the schema-v1 layout.
    BadOss {
        /// The hop (1-based, path order) of the record.
        hop: usize,
        /// Offset of the snapshot, counted like [`FoundContext::offset`].
        offset: usize,
        /// What is wrong with it, its offset counted the same way.
        error: CltError,
    },
    /// The records cannot be walked (the first one cannot be located).
    Malformed(TraceError),
}

impl ContextLookup {
    /// The span context, only for [`ContextLookup::Found`].
    pub const fn context(&self) -> Option<SpanContext> {
        match self {
            Self::Found(f) => Some(f.ctx),
            _ => None,
        }
    }

    /// Where the context was found, for [`ContextLookup::Found`] and
    /// [`ContextLookup::ZeroIds`].
    pub const fn found(&self) -> Option<&FoundContext> {
        match self {
            Self::Found(f) | Self::ZeroIds(f) => Some(f),
            _ => None,
        }
    }

    /// A short stable name of the outcome, for logs and exports.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Found(_) => "found",
            Self::NoOss => "no-oss",
            Self::NoRecords => "no-records",
            Self::OtherSchema { .. } => "other-schema",
            Self::ZeroIds(_) => "zero-ids",
            Self::BadOss { .. } => "bad-oss",
            Self::Malformed(_) => "malformed-trace",
        }
    }
}

impl fmt::Display for ContextLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Found(c) => write!(f, "span context {} in hop {}", c.ctx, c.hop),
            Self::NoOss => f.write_str("no context: the trace type has no opaque state snapshot (bit 22)"),
            Self::NoRecords => f.write_str("no context: no node record in the trace"),
            Self::OtherSchema { schema_id } => write!(
                f,
                "no context: no snapshot with the CLT schema (originator's schema id 0x{schema_id:06x})"
            ),
            Self::ZeroIds(c) => write!(
                f,
                "no context: all-zero trace id or span id in hop {} (offset {})",
                c.hop, c.offset
            ),
            Self::BadOss { hop, offset, error } => write!(
                f,
                "no context: CLT snapshot of hop {hop} at offset {offset}: {error}"
            ),
            Self::Malformed(e) => write!(f, "no context: malformed trace: {e}"),
        }
    }
}

/// Looks for the CLT span context in `trace` under the namespace's CLT
/// `schema_id` (usually [`crate::CLT_SCHEMA_ID`]). See the module docs.
pub fn find_context(trace: &Trace<'_>, schema_id: u32) -> ContextLookup {
    if !trace.trace_type().has_oss() {
        return ContextLookup::NoOss;
    }
    let (records, error) = trace.readable_records();
    find_context_in(trace, records, error, schema_id)
}

/// [`find_context`] over records already located (`records` and `error`
/// as [`Trace::readable_records`] gives them): a malformed trace is
/// [`ContextLookup::Malformed`] whatever the records before the error
/// hold, as the path order meets the error before any record.
fn find_context_in(
    trace: &Trace<'_>,
    records: PathOrder<'_>,
    error: Option<TraceError>,
    schema_id: u32,
) -> ContextLookup {
    if !trace.trace_type().has_oss() {
        return ContextLookup::NoOss;
    }
    if let Some(e) = error {
        return ContextLookup::Malformed(e);
    }
    let mut oldest_schema = None;
    // `readable_records` yields no error.
    for (i, rec) in records.map_while(Result::ok).enumerate() {
        let Some(oss) = rec.oss() else { continue };
        oldest_schema.get_or_insert(oss.schema_id());
        if oss.schema_id() != schema_id {
            continue;
        }
        let hop = i + 1;
        let offset = trace.base() + oss.offset();
        return match decode(schema_id, oss.schema_id(), oss.data()) {
            Ok(ctx) => {
                let found = FoundContext { ctx, hop, offset };
                if ctx.is_valid() {
                    ContextLookup::Found(found)
                } else {
                    ContextLookup::ZeroIds(found)
                }
            }
            Err(error) => ContextLookup::BadOss {
                hop,
                offset,
                error: error.with_base(offset),
            },
        };
    }
    match oldest_schema {
        Some(schema_id) => ContextLookup::OtherSchema { schema_id },
        None => ContextLookup::NoRecords,
    }
}

/// One hop of a trace in path order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop<'a> {
    index: usize,
    namespace_id: u16,
    record: NodeRecord<'a>,
}

impl<'a> Hop<'a> {
    /// 1-based position on the path: 1 is the first hop (the originator).
    pub const fn index(&self) -> usize {
        self.index
    }

    /// The namespace of the trace.
    pub const fn namespace_id(&self) -> u16 {
        self.namespace_id
    }

    /// The record, with its typed accessors and offsets.
    pub const fn record(&self) -> &NodeRecord<'a> {
        &self.record
    }

    /// Every field, typed.
    pub fn fields(&self) -> NodeFields<'a> {
        self.record.fields()
    }

    /// The collector attribute key: `ioam_namespace<ns>_node<i>`.
    pub const fn attribute_key(&self) -> AttributeKey {
        AttributeKey {
            namespace_id: self.namespace_id,
            index: self.index,
        }
    }

    /// The collector attribute value (see the module docs).
    #[inline]
    pub fn attribute_value(&self) -> AttributeValue<'a> {
        AttributeValue {
            fields: self.fields(),
        }
    }
}

/// The attribute key of one hop; `Display` writes `ioam_namespace<ns>_node<i>`.
///
/// Like [`AttributeValue`]'s, the text is printable ASCII (0x20-0x7e)
/// without `"` or `\`: it can go into a JSON string, a protobuf string or
/// a header value as it is (a property test holds every writer to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttributeKey {
    /// The namespace id (decimal in the key).
    pub namespace_id: u16,
    /// The 1-based hop index.
    pub index: usize,
}

impl AttributeKey {
    /// Writes the key into any `fmt::Write` (no allocation), without the
    /// `core::fmt` argument machinery that `write!("{}")` goes through.
    pub fn write_to(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let mut out = Ascii::new(w);
        self.write_into(&mut out)?;
        out.flush()
    }

    /// The key in one window of the buffer when it has room for the
    /// longest key, one room check in all; piece by piece otherwise.
    fn write_into<S: AsciiSink>(&self, out: &mut Ascii<S>) -> fmt::Result {
        const PREFIX: &str = "ioam_namespace";
        const NODE: &str = "_node";
        const ROOM: usize = PREFIX.len() + DECIMAL_ROOM + NODE.len() + DECIMAL_ROOM;
        let written = out.window(ROOM).and_then(|room| {
            let (prefix, rest) = room.split_at_mut(PREFIX.len());
            prefix.copy_from_slice(PREFIX.as_bytes());
            let a = write_decimal(self.namespace_id.into(), rest.first_chunk_mut()?);
            let (node, rest) = rest.get_mut(a..)?.split_at_mut(NODE.len());
            node.copy_from_slice(NODE.as_bytes());
            let b = write_decimal(self.index as u64, rest.first_chunk_mut()?);
            Some(PREFIX.len() + a + NODE.len() + b)
        });
        match written {
            Some(n) => {
                out.len += n;
                Ok(())
            }
            None => {
                out.str(PREFIX)?;
                out.dec(self.namespace_id.into())?;
                out.str(NODE)?;
                out.dec(self.index as u64)
            }
        }
    }
}

impl fmt::Display for AttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Ascii::new(f);
        self.write_into(&mut out)?;
        out.flush()
    }
}

/// The attribute value of one hop; `Display` writes the `Key=value; ` items:
/// printable ASCII without `"` or `\`, like [`AttributeKey`]'s text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeValue<'a> {
    fields: NodeFields<'a>,
}

impl<'a> AttributeValue<'a> {
    /// The value of a hop whose fields are already at hand (what
    /// [`Hop::attribute_value`] gives, without reading the record again).
    pub const fn new(fields: NodeFields<'a>) -> Self {
        Self { fields }
    }

    /// The fields the value is written from.
    pub const fn fields(&self) -> &NodeFields<'a> {
        &self.fields
    }

    /// Writes the value into any `fmt::Write` (no allocation).
    pub fn write_to(&self, w: &mut impl fmt::Write) -> fmt::Result {
        let mut out = Ascii::new(w);
        self.write_into(&mut out)?;
        out.flush()
    }

    // Kept out of line: inlined into a caller's loop it left the loop
    // short of registers (more instructions in all, callgrind).
    #[inline(never)]
    fn write_into<S: AsciiSink>(&self, out: &mut Ascii<S>) -> fmt::Result {
        let h = &self.fields;
        // The agents keep one HopLimit, overwritten by the wide field.
        let hop_limit = h.hop_limit_wide.or(h.hop_limit).map(u64::from);
        if let (Some(_), Some(id)) = (h.hop_limit, h.node_id) {
            out.dec_item("HopLimit=", hop_limit)?;
            out.dec_item("Id=", Some(id.into()))?;
        }
        if let (Some(i), Some(e)) = (h.ingress_if_id, h.egress_if_id) {
            out.dec_item("IngressId=", Some(i.into()))?;
            out.dec_item("EgressId=", Some(e.into()))?;
        }
        out.dec_item("TimestampSecs=", h.timestamp_secs.map(u64::from))?;
        out.dec_item("TimestampFrac=", h.timestamp_frac.map(u64::from))?;
        out.dec_item("TransitDelay=", h.transit_delay.map(u64::from))?;
        if let Some(v) = h.namespace_data {
            out.digits_item("NamespaceData=0x", &crate::id::hex_word(v).to_le_bytes())?;
        }
        out.dec_item("QueueDepth=", h.queue_depth.map(u64::from))?;
        out.dec_item("CsumComp=", h.checksum_complement.map(u64::from))?;
        if let (Some(_), Some(id)) = (h.hop_limit_wide, h.node_id_wide) {
            out.dec_item("HopLimit=", hop_limit)?;
            out.dec_item("IdWide=", Some(id))?;
        }
        if let (Some(i), Some(e)) = (h.ingress_if_id_wide, h.egress_if_id_wide) {
            out.dec_item("IngressIdWide=", Some(i.into()))?;
            out.dec_item("EgressIdWide=", Some(e.into()))?;
        }
        if let Some(v) = h.namespace_data_wide {
            out.digits_item("NamespaceDataWide=0x", &hex_digits(v).to_le_bytes())?;
        }
        out.dec_item("BufferOccupancy=", h.buffer_occupancy.map(u64::from))?;
        if let Some(oss) = h.oss {
            out.dec_item("OpaqueStateSchemaId=", Some(oss.schema_id().into()))?;
            out.hex_item("OpaqueStateData=0x", oss.data())?;
        }
        Ok(())
    }
}

/// Bytes an [`AttributeWriter`] gathers before it hands them to its sink:
/// the longest piece the sink gets (but for a longer
/// [`AttributeWriter::str`]). A longer piece means fewer hand-overs and
/// fewer items that meet the end of the buffer (which take a slower
/// path), for a larger writer.
pub const PIECE_LEN: usize = 1024;

/// Bytes [`Ascii`] gathers before handing them to the writer.
const ASCII_BUF: usize = PIECE_LEN;

/// Most decimal digits of a `u64`.
const U64_DIGITS: usize = 20;

/// Room [`write_decimal`] needs: the 20 digits of a `u64`, plus 4 bytes
/// that its last eight-byte block may overwrite.
pub const DECIMAL_ROOM: usize = U64_DIGITS + 4;

/// The two ASCII digits of 00..99 as little-endian `u16`s (the first
/// digit in the low byte).
const PAIRS16: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = (b'0' + (i / 10) as u8) as u16 | ((b'0' + (i % 10) as u8) as u16) << 8;
        i += 1;
    }
    t
};

/// The eight decimal digits of `v < 10^8`, leading zeros kept, as ASCII in
/// a little-endian word (most significant digit in the low byte), built
/// in one register without a table: `v` is split into two 4-digit halves
/// (32-bit lanes), each half into two 2-digit quarters (16-bit lanes), each
/// quarter into two digits (bytes). The divisions by 100 and 10 are done
/// in every lane at once as a multiplication and a shift: `x * 10486 >>
/// 20` is `x / 100` for every `x < 10^4`, `x * 103 >> 10` is `x / 10` for
/// every `x < 100`, and no lane's product reaches the next lane. The test
/// `eight_digits_is_every_number_padded` checks it against the standard
/// formatting; it was also checked for all 10^8 inputs.
#[inline(always)]
fn eight_digits(v: u32) -> u64 {
    let v = u64::from(v);
    let halves = (v / 10_000) | ((v % 10_000) << 32);
    let high = ((halves * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let quarters = high | ((halves - high * 100) << 16);
    let tens = ((quarters * 103) >> 10) & 0x000f_000f_000f_000f;
    tens | ((quarters - tens * 10) << 8) | 0x3030_3030_3030_3030
}

/// Writes the word of [`eight_digits`] at the start of `to` without its
/// leading zeros (all eight digits when `full`) and returns how many.
#[inline(always)]
fn put_block(w: u64, full: bool, to: &mut [u8]) -> usize {
    // The leading '0' bytes are the low bytes equal to 0x30; a zero value
    // keeps its last digit.
    let zeros = if full {
        0
    } else {
        (((w ^ 0x3030_3030_3030_3030).trailing_zeros() / 8) as usize).min(7)
    };
    if let Some(at) = to.first_chunk_mut::<8>() {
        *at = (w >> (8 * zeros)).to_le_bytes();
    }
    8 - zeros
}

/// Writes the lowercase hex of `bytes`, two digits per byte, at the start
/// of `to`, as far as `to` reaches, and returns how many bytes it wrote
/// (`2 * bytes.len()` when `to` is long enough); nothing after them is
/// touched. The hex writer of the identifiers, the `traceparent` text and
/// the attribute text, public for the std writers (`clt-otlp`,
/// `ioam decode`): four bytes at a time through a table of digit pairs,
/// stored as one word.
///
/// ```
/// use clt_context::view::write_hex;
/// let mut to = [0u8; 8];
/// assert_eq!(write_hex(&[0x00, 0xf0, 0x67, 0xaa], &mut to), 8);
/// assert_eq!(&to, b"00f067aa");
/// ```
#[inline]
pub fn write_hex(bytes: &[u8], to: &mut [u8]) -> usize {
    hex_into(bytes, to)
}

/// The sixteen lowercase hex digits of `v`, leading zeros kept, as ASCII
/// in a little-endian `u128` (the most significant digit in the low
/// byte), built in registers: for writers that store them, or a shifted
/// part of them, as one block.
///
/// ```
/// use clt_context::view::hex_digits;
/// assert_eq!(&hex_digits(0x0123_4567_89ab_cdef).to_le_bytes(), b"0123456789abcdef");
/// ```
#[inline(always)]
pub const fn hex_digits(v: u64) -> u128 {
    crate::id::hex_word((v >> 32) as u32) as u128 | (crate::id::hex_word(v as u32) as u128) << 64
}

/// Writes the decimal digits of `v` (what `v.to_string()` gives) at the
/// start of `to` and returns how many; the bytes after them are left
/// unspecified. The digit writer of the collector attribute text, public
/// for the std writers (`clt-otlp`, `ioam decode`) that write numbers into
/// their own buffers: in blocks of eight digits, each built in a register
/// and stored as one word (digits stored one or two at a time and read
/// back as one wide load would stall the CPU's store forwarding).
///
/// ```
/// use clt_context::view::{write_decimal, DECIMAL_ROOM};
/// let mut to = [0u8; DECIMAL_ROOM];
/// let n = write_decimal(4_294_967_295, &mut to);
/// assert_eq!(&to[..n], b"4294967295");
/// ```
#[inline(always)]
pub fn write_decimal(v: u64, to: &mut [u8; DECIMAL_ROOM]) -> usize {
    const E8: u64 = 100_000_000;
    // Hop limits, hop numbers and small ids: one or two digits.
    if v < 10 {
        to[0] = b'0' + v as u8;
        return 1;
    }
    if v < 100 {
        to[..2].copy_from_slice(&PAIRS16[v as usize].to_le_bytes());
        return 2;
    }
    if v < E8 {
        return put_block(eight_digits(v as u32), false, to);
    }
    let (high, low) = (v / E8, (v % E8) as u32);
    let n = if high < 100 {
        // 9 or 10 digits (every u32 from 10^8 up): the leading one or two
        // from the pair table, the digit alone shifted down for one. A
        // stray second byte is overwritten by the next block.
        let one = usize::from(high < 10);
        let pair = PAIRS16[high as usize] >> (8 * one);
        to[..2].copy_from_slice(&pair.to_le_bytes());
        2 - one
    } else if high < E8 {
        put_block(eight_digits(high as u32), false, to)
    } else {
        // At most 20 digits: 4 above two blocks.
        let n = put_block(eight_digits((high / E8) as u32), false, to);
        n + put_block(eight_digits((high % E8) as u32), true, &mut to[n..])
    };
    n + put_block(eight_digits(low), true, &mut to[n..])
}

/// Where the attribute text goes, as bytes: what [`AttributeWriter`]
/// hands over, in pieces of up to [`PIECE_LEN`] bytes (longer only for a
/// longer [`AttributeWriter::str`]).
///
/// A piece holds the keys and values, printable ASCII (0x20-0x7e) without
/// `"` or `\`, and whole `&str`s the caller passed to
/// [`AttributeWriter::str`]: it is always valid UTF-8, so a sink that
/// stores bytes (a `Vec<u8>`, a fixed buffer, a protobuf or JSON string
/// being built) appends it as it is, with no check. A `fmt::Write` (a
/// `String`, a `Formatter`) is reached through [`AttributeWriter::new`]
/// instead, which checks each piece once to make it a `&str`.
///
/// ```
/// use clt_context::view::{AsciiSink, AttributeKey, AttributeWriter};
///
/// struct Bytes(heapless::Vec<u8, 64>);
/// impl AsciiSink for Bytes {
///     fn put_ascii(&mut self, ascii: &[u8]) -> core::fmt::Result {
///         self.0.extend_from_slice(ascii).map_err(|_| core::fmt::Error)
///     }
/// }
///
/// let mut out = Bytes(heapless::Vec::new());
/// let mut w = AttributeWriter::with_sink(&mut out);
/// w.key(&AttributeKey { namespace_id: 7, index: 1 })?;
/// w.finish()?;
/// assert_eq!(&out.0[..], b"ioam_namespace7_node1");
/// # Ok::<(), core::fmt::Error>(())
/// ```
pub trait AsciiSink {
    /// Appends `ascii`, the next piece of the text.
    fn put_ascii(&mut self, ascii: &[u8]) -> fmt::Result;
}

impl<S: AsciiSink + ?Sized> AsciiSink for &mut S {
    #[inline]
    fn put_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        (**self).put_ascii(ascii)
    }
}

/// The [`AsciiSink`] of a `fmt::Write`: each piece is checked as UTF-8
/// (it always is, see [`AsciiSink`]) to hand it over as a `&str`. What
/// [`AttributeWriter::new`] writes through.
#[derive(Debug)]
pub struct FmtSink<'w, W: ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> AsciiSink for FmtSink<'_, W> {
    #[inline]
    fn put_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        self.0
            .write_str(core::str::from_utf8(ascii).map_err(|_| fmt::Error)?)
    }
}

/// The attribute text is ASCII made of `&str` pieces, decimal and hex
/// digits. They are gathered in a stack buffer, without the `core::fmt`
/// argument machinery, and handed to the sink one piece per buffer-full:
/// call [`Ascii::flush`] at the end. The buffer only ever holds whole
/// `&str` pieces and ASCII digits.
///
/// `len` and `handed` are kept apart (`repr(C)`, the buffer between
/// them): side by side, the compiler read both with one 16-byte load right
/// after the writing function had stored them as two 8-byte words, a load
/// the processor cannot serve from its store buffer. That stall was half
/// of the span builder's own time (perf, agent into /dev/null).
#[repr(C)]
struct Ascii<S: AsciiSink> {
    sink: S,
    len: usize,
    buf: [u8; ASCII_BUF],
    /// Bytes handed to the sink so far.
    handed: usize,
}

impl<'w, W: fmt::Write + ?Sized> Ascii<FmtSink<'w, W>> {
    /// A gatherer writing into a `fmt::Write`.
    fn new(w: &'w mut W) -> Self {
        Self::with_sink(FmtSink(w))
    }
}

impl<S: AsciiSink> Ascii<S> {
    fn with_sink(sink: S) -> Self {
        Self {
            sink,
            buf: [0; ASCII_BUF],
            len: 0,
            handed: 0,
        }
    }

    /// Bytes written so far, handed over or still gathered.
    fn written(&self) -> usize {
        self.handed + self.len
    }

    /// Hands the gathered text to the sink.
    fn flush(&mut self) -> fmt::Result {
        let gathered = self.buf.get(..self.len).unwrap_or_default();
        self.handed += self.len;
        self.len = 0;
        if gathered.is_empty() {
            return Ok(());
        }
        self.sink.put_ascii(gathered)
    }

    /// [`Ascii::flush`] when the buffer is full: out of the writers' way.
    #[cold]
    #[inline(never)]
    fn flush_full(&mut self) -> fmt::Result {
        self.flush()
    }

    /// The next `n` free bytes of the buffer (`n <= ASCII_BUF`), flushing
    /// first if fewer are left. The caller fills them and then advances
    /// `len` by `n`.
    #[inline(always)]
    fn room(&mut self, n: usize) -> Result<&mut [u8], fmt::Error> {
        if ASCII_BUF - self.len < n {
            self.flush_full()?;
        }
        self.buf.get_mut(self.len..self.len + n).ok_or(fmt::Error)
    }

    /// The next `n` bytes of the buffer when that many are free (nothing
    /// is flushed): a window the caller fills, then advances `len` by what
    /// it wrote.
    #[inline(always)]
    fn window(&mut self, n: usize) -> Option<&mut [u8]> {
        self.buf.get_mut(self.len..self.len + n)
    }

    #[inline(always)]
    fn str(&mut self, s: &str) -> fmt::Result {
        let n = s.len();
        if n > ASCII_BUF {
            self.flush()?;
            self.handed += n;
            return self.sink.put_ascii(s.as_bytes());
        }
        self.room(n)?.copy_from_slice(s.as_bytes());
        self.len += n;
        Ok(())
    }

    /// Copies ASCII bytes (digits) in, like [`Ascii::str`] for short text.
    fn ascii(&mut self, b: &[u8]) -> fmt::Result {
        self.room(b.len())?.copy_from_slice(b);
        self.len += b.len();
        Ok(())
    }

    /// The digits of `v`. They are written in place when the buffer has
    /// `DECIMAL_ROOM` free bytes; otherwise through a small stack copy, so
    /// that the buffer is never handed over while the text still fits.
    #[inline(always)]
    fn dec(&mut self, v: u64) -> fmt::Result {
        if ASCII_BUF - self.len < DECIMAL_ROOM {
            let mut tmp = [0u8; DECIMAL_ROOM];
            let n = write_decimal(v, &mut tmp);
            return self.ascii(tmp.get(..n).ok_or(fmt::Error)?);
        }
        let to: &mut [u8; DECIMAL_ROOM] = self
            .room(DECIMAL_ROOM)?
            .try_into()
            .map_err(|_| fmt::Error)?;
        self.len += write_decimal(v, to);
        Ok(())
    }

    fn hex(&mut self, mut bytes: &[u8]) -> fmt::Result {
        while !bytes.is_empty() {
            let mut fit = (ASCII_BUF - self.len) / 2;
            if fit == 0 {
                self.flush()?;
                fit = ASCII_BUF / 2;
            }
            let (now, rest) = bytes.split_at(fit.min(bytes.len()));
            let out = self.room(2 * now.len())?;
            hex_into(now, out);
            self.len += 2 * now.len();
            bytes = rest;
        }
        Ok(())
    }

    /// `Key=<decimal>; ` when the value is present (`key` includes the `=`),
    /// with one room check for the whole item (keys are short constants):
    /// the window of `k + DECIMAL_ROOM` bytes is taken as one slice, whose
    /// length the compiler then knows, so the writes into it need no other
    /// check. Inlined so that the key's length is a constant at each call.
    #[inline(always)]
    fn dec_item(&mut self, key: &str, v: Option<u64>) -> fmt::Result {
        let Some(v) = v else { return Ok(()) };
        let k = key.len();
        let Some(room) = self.window(k + DECIMAL_ROOM) else {
            return self.dec_item_near_end(key, v);
        };
        let (key_at, rest) = room.split_at_mut(k);
        key_at.copy_from_slice(key.as_bytes());
        let Some((digits, _)) = rest.split_first_chunk_mut::<DECIMAL_ROOM>() else {
            return Err(fmt::Error);
        };
        // n <= 20: the two bytes after the digits are in the window (the
        // digits are written in 8-byte blocks, so they need up to 4 bytes
        // past the 20th).
        let n = write_decimal(v, digits);
        if let Some(end) = digits.get_mut(n..n + 2) {
            end.copy_from_slice(b"; ");
        }
        self.len += k + n + 2;
        Ok(())
    }

    /// [`Ascii::dec_item`] too close to the end of the buffer (or with a
    /// long key): the exact piece by piece path, which flushes only when
    /// the text does not fit.
    #[cold]
    #[inline(never)]
    fn dec_item_near_end(&mut self, key: &str, v: u64) -> fmt::Result {
        self.str(key)?;
        self.dec(v)?;
        self.str("; ")
    }

    /// `Key=<digits>; ` for digits already at hand (`key` includes the `=`
    /// and any prefix), with one room check for the whole item: for the
    /// namespace data, whose hex is built in a register. Inlined so that
    /// the lengths are constants at each call.
    #[inline(always)]
    fn digits_item(&mut self, key: &str, digits: &[u8]) -> fmt::Result {
        let (k, d) = (key.len(), digits.len());
        let Some(room) = self.window(k + d + 2) else {
            return self.digits_item_near_end(key, digits);
        };
        let (key_at, rest) = room.split_at_mut(k);
        key_at.copy_from_slice(key.as_bytes());
        let (digits_at, end) = rest.split_at_mut(d);
        digits_at.copy_from_slice(digits);
        end.copy_from_slice(b"; ");
        self.len += k + d + 2;
        Ok(())
    }

    /// [`Ascii::digits_item`] too close to the end: piece by piece,
    /// flushing as needed.
    #[cold]
    #[inline(never)]
    fn digits_item_near_end(&mut self, key: &str, digits: &[u8]) -> fmt::Result {
        self.str(key)?;
        self.ascii(digits)?;
        self.str("; ")
    }

    /// `Key=0x<lowercase hex of every byte>; ` (`key` includes the `=`
    /// and the `0x`). No bytes (the usual snapshot of a transit node) is
    /// one item of constant size.
    #[inline(always)]
    fn hex_item(&mut self, key: &str, bytes: &[u8]) -> fmt::Result {
        if bytes.is_empty() {
            return self.digits_item(key, b"");
        }
        self.str(key)?;
        self.hex(bytes)?;
        self.str("; ")
    }
}

/// Writes the attributes of many hops through one gathering buffer: the
/// text reaches the sink in pieces of up to [`PIECE_LEN`] bytes instead of one
/// `write_str` per key and per value as [`AttributeKey::write_to`] and
/// [`AttributeValue::write_to`] do. [`AttributeWriter::new`] writes into
/// a `fmt::Write` (one UTF-8 check per piece), [`AttributeWriter::with_sink`]
/// into an [`AsciiSink`] that takes bytes. [`AttributeWriter::written`]
/// tells where each piece ends, so a caller can keep the keys and values
/// of a whole span in one string. Call [`AttributeWriter::finish`] at the
/// end: until then, the last bytes may not have reached the sink.
///
/// ```
/// use clt_context::view::{AttributeKey, AttributeWriter};
///
/// let mut text = String::new();
/// let mut ends = Vec::new();
/// let mut w = AttributeWriter::new(&mut text);
/// for index in 1..=2 {
///     w.key(&AttributeKey { namespace_id: 7, index })?;
///     ends.push(w.written());
/// }
/// w.finish()?;
/// assert_eq!(text, "ioam_namespace7_node1ioam_namespace7_node2");
/// assert_eq!(ends, [21, 42]);
/// # Ok::<(), core::fmt::Error>(())
/// ```
pub struct AttributeWriter<S: AsciiSink> {
    out: Ascii<S>,
}

impl<S: AsciiSink> fmt::Debug for AttributeWriter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttributeWriter")
            .field("written", &self.written())
            .finish_non_exhaustive()
    }
}

impl<S: AsciiSink + Default> Default for AttributeWriter<S> {
    fn default() -> Self {
        Self::with_sink(S::default())
    }
}

impl<'w, W: fmt::Write + ?Sized> AttributeWriter<FmtSink<'w, W>> {
    /// A writer that appends to the text writer `w` (a `String`, a
    /// `Formatter`).
    pub fn new(w: &'w mut W) -> Self {
        Self { out: Ascii::new(w) }
    }
}

impl<S: AsciiSink> AttributeWriter<S> {
    /// A writer that appends to a byte sink: no UTF-8 check per piece (see
    /// [`AsciiSink`]).
    pub fn with_sink(sink: S) -> Self {
        Self {
            out: Ascii::with_sink(sink),
        }
    }

    /// Appends a hop's attribute key (`ioam_namespace<ns>_node<i>`).
    pub fn key(&mut self, key: &AttributeKey) -> fmt::Result {
        key.write_into(&mut self.out)
    }

    /// Appends a hop's attribute value (`Key=value; ` items).
    pub fn value(&mut self, value: &AttributeValue<'_>) -> fmt::Result {
        value.write_into(&mut self.out)
    }

    /// Appends free text (a separator).
    pub fn str(&mut self, s: &str) -> fmt::Result {
        self.out.str(s)
    }

    /// The sink as it is: the bytes still gathered (see
    /// [`Self::finish`]) have not reached it.
    pub fn get_ref(&self) -> &S {
        &self.out.sink
    }

    /// The sink as it is, to write into it directly: the bytes still
    /// gathered have not reached it, so call [`Self::finish`] first to
    /// keep the text in order. A caller that writes its own bytes between
    /// attributes can so keep one writer, and its buffer, as long as its
    /// sink instead of building one (and clearing its [`PIECE_LEN`] bytes)
    /// each time.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.out.sink
    }

    /// Bytes appended so far by this writer (whether or not they have
    /// reached the sink yet).
    pub fn written(&self) -> usize {
        self.out.written()
    }

    /// Hands the last gathered bytes to the sink (the writer may go on
    /// after it). By reference: taken by value, the writer's 520 bytes of
    /// buffer were copied once more at every call.
    #[inline(always)]
    pub fn finish(&mut self) -> fmt::Result {
        self.out.flush()
    }
}

impl fmt::Display for AttributeValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// The hops of a trace in path order (first hop first). Fused; a malformed
/// trace yields its error as the only item.
#[derive(Debug, Clone)]
pub struct Hops<'a> {
    /// The records, `None` for a malformed trace.
    inner: Option<core::iter::Enumerate<PathOrder<'a>>>,
    /// The error of a malformed trace, yielded once.
    error: Option<TraceError>,
    namespace_id: u16,
}

impl<'a> Iterator for Hops<'a> {
    type Item = Result<Hop<'a>, TraceError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        let (i, rec) = self.inner.as_mut()?.next()?;
        Some(rec.map(|record| Hop {
            index: i + 1,
            namespace_id: self.namespace_id,
            record,
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.error.is_some())
            + self.inner.as_ref().map_or(0, ExactSizeIterator::len);
        (n, Some(n))
    }
}

impl FusedIterator for Hops<'_> {}
impl ExactSizeIterator for Hops<'_> {}

/// The CLT view of one trace: its span context and its hops in path order.
///
/// ```
/// use clt_context::{oss, view::{CltView, ContextLookup}, SpanContext, TraceFlags};
/// use ioam_trace::{Mode, Trace};
///
/// // Namespace 7, type 0x800002 (hop limit + node id, OSS), one record:
/// // the originator (hop limit 64, node 1) with the CLT snapshot.
/// let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// let mut body = [0u8; 8 + 36];
/// body[..8].copy_from_slice(&[0x00, 0x07, 0x08, 0x00, 0x80, 0x00, 0x02, 0x00]);
/// body[8..12].copy_from_slice(&[64, 0, 0, 1]);
/// let snapshot: &mut [u8; 32] = (&mut body[12..44]).try_into()?;
/// oss::CltSnapshot { ctx, schema_id: oss::CLT_SCHEMA_ID }.emit(snapshot).map(|_| ())?;
///
/// let trace = Trace::parse_preallocated(&body, Mode::Strict)?;
/// let view = CltView::new(trace, oss::CLT_SCHEMA_ID);
/// assert_eq!(view.context().context(), Some(ctx));
///
/// let mut out = heapless::String::<256>::new();
/// view.write_attributes(&mut out)?;
/// assert_eq!(
///     out.as_str(),
///     "ioam_namespace7_node1=HopLimit=64; Id=1; OpaqueStateSchemaId=4410452; \
///      OpaqueStateData=0x4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b701000000; \n"
/// );
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CltView<'a> {
    trace: Trace<'a>,
    context: ContextLookup,
    /// The records, located once ([`Trace::readable_records`]) for the
    /// context lookup, the hops and the caller's own reading.
    records: PathOrder<'a>,
    records_error: Option<TraceError>,
}

impl<'a> CltView<'a> {
    /// The view of a standard trace, looking for the context under the CLT
    /// `schema_id` of the namespace.
    pub fn new(trace: Trace<'a>, schema_id: u32) -> Self {
        let (records, records_error) = trace.readable_records();
        let context = find_context_in(&trace, records.clone(), records_error, schema_id);
        Self {
            trace,
            context,
            records,
            records_error,
        }
    }

    /// A view whose context was found elsewhere (the legacy header, see
    /// [`crate::legacy::LegacyTrace::view`]).
    pub(crate) fn with_context(trace: Trace<'a>, context: ContextLookup) -> Self {
        let (records, records_error) = trace.readable_records();
        Self {
            trace,
            context,
            records,
            records_error,
        }
    }

    /// The records that can be read and the error that ends them: what
    /// [`Trace::readable_records`] gives, from the walk the view already
    /// made (no second walk of the records).
    pub fn readable_records(&self) -> (PathOrder<'a>, Option<TraceError>) {
        (self.records.clone(), self.records_error)
    }

    /// The trace.
    pub const fn trace(&self) -> &Trace<'a> {
        &self.trace
    }

    /// The namespace id.
    pub fn namespace_id(&self) -> u16 {
        self.trace.namespace_id()
    }

    /// The outcome of the context lookup.
    pub const fn context(&self) -> &ContextLookup {
        &self.context
    }

    /// The hops in path order.
    pub fn hops(&self) -> Hops<'a> {
        Hops {
            inner: self
                .records_error
                .is_none()
                .then(|| self.records.clone().enumerate()),
            error: self.records_error,
            namespace_id: self.trace.namespace_id(),
        }
    }

    /// Writes one line per hop, `<key>=<value>\n` (the key never contains
    /// `=`, so the first `=` splits the line). Returns the number of hops
    /// written. On a malformed trace nothing is written.
    pub fn write_attributes(&self, w: &mut impl fmt::Write) -> Result<usize, CltError> {
        let mut n = 0;
        let mut out = AttributeWriter::new(w);
        for hop in self.hops() {
            let hop = hop.map_err(CltError::Trace)?;
            out.key(&hop.attribute_key())?;
            out.str("=")?;
            out.value(&hop.attribute_value())?;
            out.str("\n")?;
            n += 1;
        }
        out.finish()?;
        Ok(n)
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
