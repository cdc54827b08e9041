//! A parsed trace option and its record iterators (RFC 9197 §4.4).

use core::iter::FusedIterator;

use crate::error::{Part, TraceError};
use crate::header::{
    RawTraceHeader, TraceHeaderRepr, NODE_LEN_OFFSET, REMAINING_LEN_OFFSET, TRACE_DATA_MAX,
    TRACE_HEADER_LEN, TRACE_TYPE_OFFSET,
};
use crate::layout::RecordLayout;
use crate::record::NodeRecord;
use crate::trace_type::TraceType;

/// Most records a trace can hold: 244 bytes of data, 4 bytes at least each.
pub const MAX_RECORDS: usize = TRACE_DATA_MAX / 4;

use ioam_wire::Mode;

/// Which of the two trace option types a body belongs to (RFC 9197 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TraceKind {
    /// IOAM-Type 0: the array is reserved by the encapsulator; records are
    /// written from the end towards the front.
    Preallocated,
    /// IOAM-Type 1: each node inserts its record right after the header.
    Incremental,
}

/// Checks NodeLen against the trace type per the validation mode.
pub(crate) const fn check_node_len(
    node_len: u8,
    trace_type: TraceType,
    mode: Mode,
) -> Result<(), TraceError> {
    let expected = trace_type.node_len();
    match mode {
        Mode::Strict => {
            if trace_type.is_empty() {
                return Err(TraceError::EmptyTraceType {
                    offset: TRACE_TYPE_OFFSET,
                });
            }
            if node_len != expected {
                return Err(TraceError::NodeLenMismatch {
                    offset: NODE_LEN_OFFSET,
                    node_len,
                    expected,
                });
            }
        }
        Mode::Lenient => {
            if node_len < expected {
                return Err(TraceError::NodeLenTooSmall {
                    offset: NODE_LEN_OFFSET,
                    node_len,
                    required: expected,
                });
            }
        }
    }
    Ok(())
}

/// A trace option body with a checked header (RFC 9197 §4.4).
///
/// The body starts at the Namespace-ID (the `body` of the IOAM option in
/// `ioam_wire`). Parsing checks the header only; records are checked one by
/// one as the iterators walk them, so a malformed record shows up as the
/// iterator's last item.
///
/// ```
/// use ioam_trace::{Mode, Trace};
/// // Namespace 1, type 0x800000 (NodeLen 1), 3 words of space, 2 used.
/// let body = [
///     0x00, 0x01, 0x08, 0x01, 0x80, 0x00, 0x00, 0x00, // header, RemainingLen 1
///     0x00, 0x00, 0x00, 0x00, // free
///     0x3e, 0x00, 0x00, 0x02, // newest: hop limit 62, node 2
///     0x3f, 0x00, 0x00, 0x01, // oldest: hop limit 63, node 1
/// ];
/// let trace = Trace::parse_preallocated(&body, Mode::Strict).unwrap();
/// let ids: Vec<u32> = trace.records().map(|r| r.unwrap().node_id().unwrap()).collect();
/// assert_eq!(ids, [2, 1]); // wire order, newest first
/// let ids: Vec<u32> = trace
///     .records_path_order()
///     .map(|r| r.unwrap().node_id().unwrap())
///     .collect();
/// assert_eq!(ids, [1, 2]); // path order, first hop first
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace<'a> {
    body: &'a [u8],
    /// Added to the offsets of the errors the record iterators report.
    base: usize,
    header: TraceHeaderRepr,
    kind: TraceKind,
    records_start: usize,
}

impl<'a> Trace<'a> {
    /// Parses a Pre-allocated Trace body (IOAM-Type 0).
    ///
    /// # Errors
    /// [`TraceError::Truncated`] (header), [`TraceError::DataNotWordAligned`],
    /// [`TraceError::DataTooLong`], [`TraceError::RemainingLenBeyondSpace`],
    /// and the NodeLen errors of the validation mode.
    #[inline]
    pub fn parse_preallocated(body: &'a [u8], mode: Mode) -> Result<Self, TraceError> {
        Self::parse(body, mode, TraceKind::Preallocated)
    }

    /// Parses an Incremental Trace body (IOAM-Type 1). RemainingLen is a
    /// budget there, not space present, so it is not checked against the
    /// data area.
    ///
    /// # Errors
    /// As [`parse_preallocated`](Self::parse_preallocated), without
    /// [`TraceError::RemainingLenBeyondSpace`].
    #[inline]
    pub fn parse_incremental(body: &'a [u8], mode: Mode) -> Result<Self, TraceError> {
        Self::parse(body, mode, TraceKind::Incremental)
    }

    /// Parses a body of either kind.
    ///
    /// # Errors
    /// See [`parse_preallocated`](Self::parse_preallocated).
    #[inline]
    pub fn parse(body: &'a [u8], mode: Mode, kind: TraceKind) -> Result<Self, TraceError> {
        let (raw, data) = RawTraceHeader::split(body)?;
        let header = TraceHeaderRepr::from_raw(raw);
        let space = data.len();
        if !space.is_multiple_of(4) {
            return Err(TraceError::DataNotWordAligned {
                offset: TRACE_HEADER_LEN,
                len: space,
            });
        }
        if space > TRACE_DATA_MAX {
            return Err(TraceError::DataTooLong {
                offset: TRACE_HEADER_LEN,
                len: space,
                max: TRACE_DATA_MAX,
            });
        }
        check_node_len(header.node_len, header.trace_type, mode)?;
        let records_start = match kind {
            TraceKind::Preallocated => {
                let free = usize::from(header.remaining_len) * 4;
                if free > space {
                    return Err(TraceError::RemainingLenBeyondSpace {
                        offset: REMAINING_LEN_OFFSET,
                        remaining_len: header.remaining_len,
                        space,
                    });
                }
                TRACE_HEADER_LEN + free
            }
            TraceKind::Incremental => TRACE_HEADER_LEN,
        };
        Ok(Self {
            body,
            base: 0,
            header,
            kind,
            records_start,
        })
    }

    /// The same trace, with the errors of its record iterators counting
    /// offsets from `base` bytes before the body (the offset of the body in
    /// the packet, as `IoamPacket` sets it). Offsets of [`NodeRecord`]s
    /// stay relative to the body.
    #[must_use]
    pub const fn with_base(mut self, base: usize) -> Self {
        self.base = base;
        self
    }

    /// Where the body starts in the buffer error offsets count from (0
    /// unless set by [`Trace::with_base`]).
    #[must_use]
    pub const fn base(&self) -> usize {
        self.base
    }

    /// The decoded header.
    #[must_use]
    pub const fn header(&self) -> &TraceHeaderRepr {
        &self.header
    }

    /// Pre-allocated or Incremental.
    #[must_use]
    pub const fn kind(&self) -> TraceKind {
        self.kind
    }

    /// The trace type.
    #[must_use]
    pub const fn trace_type(&self) -> TraceType {
        self.header.trace_type
    }

    /// The namespace id.
    #[must_use]
    pub const fn namespace_id(&self) -> u16 {
        self.header.namespace_id
    }

    /// The whole body, header included.
    #[must_use]
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The node-data area (everything after the 8-byte header).
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        self.body.get(TRACE_HEADER_LEN..).unwrap_or(&[])
    }

    /// The part of the body that holds records: from `RemainingLen * 4` of
    /// the data area (pre-allocated) or the whole data area (incremental).
    #[must_use]
    pub fn populated(&self) -> &'a [u8] {
        self.body.get(self.records_start..).unwrap_or(&[])
    }

    /// Offset of the newest record (or of the end when there is none) from
    /// the body start.
    #[must_use]
    pub const fn records_offset(&self) -> usize {
        self.records_start
    }

    /// Free space in bytes: `RemainingLen * 4`. For an incremental trace this
    /// is the budget left, not bytes present in the packet.
    #[must_use]
    pub const fn free_space(&self) -> usize {
        self.header.remaining_len as usize * 4
    }

    /// RFC 9322 §4 (Loopback requires trace type 0x800000).
    ///
    /// # Errors
    /// [`TraceError::LoopbackTraceType`].
    pub const fn check_loopback(&self) -> Result<(), TraceError> {
        self.header.check_loopback()
    }

    /// Where the fields of each record sit. Computed on each call (a few
    /// table lookups); the iterators compute it once and every record they
    /// yield carries it.
    #[must_use]
    pub const fn layout(&self) -> RecordLayout {
        RecordLayout::new(self.header.trace_type)
    }

    /// NodeLen * 4 as the header says.
    const fn fields_len(&self) -> usize {
        self.header.node_len as usize * 4
    }

    /// The records in wire order, newest first. Fused; a malformed record is
    /// the last item.
    #[must_use]
    pub fn records(&self) -> Records<'a> {
        Records {
            body: self.body,
            // A trace body holds at most 252 bytes and sits in a packet of
            // at most 65575.
            start: self.records_start as u8,
            base: self.base as u32,
            pos: self.records_start,
            layout: self.layout(),
            fields_len: self.fields_len(),
            done: false,
        }
    }

    /// The records in path order, first hop (oldest) first, without
    /// allocating.
    ///
    /// Without an opaque state snapshot every record has NodeLen * 4
    /// bytes and the records are located by arithmetic. With one, one
    /// forward walk marks where each record starts in a 64-bit set (records
    /// start on word boundaries of a body of at most 252 bytes), then the
    /// set is read from the highest start down: the iterator is a few
    /// words, cheap to copy.
    ///
    /// If the walk meets a malformed record, the first hops cannot be
    /// located: the error is the first and only item. To read the records
    /// that precede the malformed one, see [`Self::readable_records`].
    #[must_use]
    pub fn records_path_order(&self) -> PathOrder<'a> {
        self.walk_records(false)
    }

    /// The records that can be read, oldest first, and the error that ends
    /// them, from one walk: when a record is malformed, the records after
    /// it (the older ones, the first hops) cannot be located, and the walk
    /// yields the newer records before it, the oldest of these first. With
    /// no malformed record this is [`Self::records_path_order`] and `None`.
    ///
    /// This is what a collector that shows what it could read (and says
    /// why it stopped) iterates; the walk's iterator never yields an error.
    #[must_use]
    pub fn readable_records(&self) -> (PathOrder<'a>, Option<TraceError>) {
        let mut p = self.walk_records(true);
        let error = p.error.take();
        (p, error)
    }

    /// The path-order walk, its error (if any) in `error`; the records
    /// before the error are kept when `keep` is set, dropped otherwise
    /// (the error is then the only item).
    #[inline]
    fn walk_records(&self, keep: bool) -> PathOrder<'a> {
        let fields_len = self.fields_len();
        let layout = self.layout();
        let has_oss = layout.has_oss();
        let start = self.records_start;
        let mut p = PathOrder {
            body: self.body,
            layout,
            fields_len: fields_len as u8,
            start: start as u8,
            stride: 0,
            count: 0,
            starts: 0,
            end: 0,
            error: None,
        };
        let populated = self.body.len() - start;
        if !has_oss && fields_len != 0 {
            // Fixed-size records: whole ones, then at most a truncated tail.
            // A body holds at most 244 / 4 records of at most 124 bytes.
            let count = populated / fields_len;
            let tail = start + count * fields_len;
            p.stride = fields_len as u8;
            if tail < self.body.len() {
                p.error = record_len_at(self.body, tail, false, fields_len)
                    .err()
                    .map(|e| e.at_hop(count).with_base(self.base));
            }
            if keep || p.error.is_none() {
                p.count = count as u8;
            }
            return p;
        }
        // The body is word aligned and at most 252 bytes long (checked by
        // `parse`), and so is every record: a record start is a word index
        // below 64, one bit of `starts`.
        let mut pos = start;
        let mut hop = 0;
        while pos < self.body.len() {
            match record_len_at(self.body, pos, has_oss, fields_len) {
                Ok(len) => {
                    p.starts |= 1 << (pos / 4);
                    pos += len;
                    hop += 1;
                }
                Err(e) => {
                    if !keep {
                        p.starts = 0;
                    }
                    p.error = Some(e.at_hop(hop).with_base(self.base));
                    break;
                }
            }
        }
        p.end = pos as u8;
        p
    }
}

/// Walks one record at `pos` in `body`: returns its length in bytes.
///
/// Errors name record 0: the caller, which knows the record's index, sets
/// it with [`TraceError::at_hop`] (off the hot path).
fn record_len_at(
    body: &[u8],
    pos: usize,
    has_oss: bool,
    fields_len: usize,
) -> Result<usize, TraceError> {
    let hop = 0;
    let left = body.len() - pos;
    let fixed = fields_len + if has_oss { 4 } else { 0 };
    if fixed == 0 {
        return Err(TraceError::EmptyRecord {
            hop,
            offset: pos,
            remaining: left,
        });
    }
    if left < fixed {
        let part = if left < fields_len {
            Part::NodeData
        } else {
            Part::OssHeader
        };
        let (offset, required, actual) = match part {
            Part::NodeData => (pos, fields_len, left),
            _ => (pos + fields_len, 4, left - fields_len),
        };
        return Err(TraceError::RecordTruncated {
            hop,
            part,
            offset,
            required,
            actual,
        });
    }
    if !has_oss {
        return Ok(fixed);
    }
    let words = usize::from(body[pos + fields_len]);
    let data_at = pos + fixed;
    let avail = body.len() - data_at;
    if words * 4 > avail {
        return Err(TraceError::RecordTruncated {
            hop,
            part: Part::OssData,
            offset: data_at,
            required: words * 4,
            actual: avail,
        });
    }
    Ok(fixed + words * 4)
}

/// Records of a trace in wire order (newest first). See [`Trace::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    body: &'a [u8],
    pos: usize,
    layout: RecordLayout,
    fields_len: usize,
    done: bool,
    /// Offset of the first record: the hop index of an error is counted
    /// from there, on the error path only.
    start: u8,
    /// [`Trace::base`], added to error offsets.
    base: u32,
}

/// The record error `e` met at `pos`, with its record's wire-order index
/// (counted again from the first record, at `start`) and the trace's
/// `base`. Off the hot path, and taking values only, so that the iterator
/// calling it stays in registers.
#[cold]
#[inline(never)]
fn record_error(
    e: TraceError,
    body: &[u8],
    start: usize,
    pos: usize,
    has_oss: bool,
    fields_len: usize,
    base: usize,
) -> TraceError {
    let (mut at, mut hop) = (start, 0);
    while at < pos {
        match record_len_at(body, at, has_oss, fields_len) {
            Ok(len) => at += len,
            Err(_) => break,
        }
        hop += 1;
    }
    e.at_hop(hop).with_base(base)
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<NodeRecord<'a>, TraceError>;

    // Always inlined: the loop of a caller then keeps the walk's state in
    // registers (measured in benches/: a call per record costs ~30
    // instructions).
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.body.len() {
            return None;
        }
        match record_len_at(self.body, self.pos, self.layout.has_oss(), self.fields_len) {
            Ok(len) => {
                let start = self.pos;
                self.pos += len;
                let bytes = self.body.get(start..self.pos)?;
                Some(Ok(NodeRecord::new(
                    bytes,
                    start,
                    self.layout,
                    self.fields_len,
                )))
            }
            Err(e) => {
                self.done = true;
                Some(Err(record_error(
                    e,
                    self.body,
                    usize::from(self.start),
                    self.pos,
                    self.layout.has_oss(),
                    self.fields_len,
                    self.base as usize,
                )))
            }
        }
    }
}

impl FusedIterator for Records<'_> {}

/// Records of a trace in path order (first hop first). See
/// [`Trace::records_path_order`].
#[derive(Debug, Clone)]
pub struct PathOrder<'a> {
    body: &'a [u8],
    layout: RecordLayout,
    fields_len: u8,
    /// Offset of the newest record.
    start: u8,
    /// Length of every record when fixed (no opaque state); 0 when the
    /// records are located through `starts`.
    stride: u8,
    /// Records left in the fixed-size case; the oldest is the last.
    count: u8,
    /// The records left in the variable-size case: bit `i` set for a record
    /// starting at byte `4 * i` of the body. The oldest is the highest.
    starts: u64,
    /// Where the record after the highest start ends (variable size).
    end: u8,
    error: Option<TraceError>,
}

impl<'a> Iterator for PathOrder<'a> {
    type Item = Result<NodeRecord<'a>, TraceError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        let (off, len) = if self.stride != 0 {
            self.count = self.count.checked_sub(1)?;
            let len = usize::from(self.stride);
            (usize::from(self.start) + usize::from(self.count) * len, len)
        } else {
            // The oldest record left is the highest start; it ends where
            // the one after it began.
            let word = self.starts.checked_ilog2()?;
            self.starts &= !(1 << word);
            let off = word as usize * 4;
            let len = usize::from(self.end).wrapping_sub(off);
            self.end = off as u8;
            (off, len)
        };
        let bytes = self.body.get(off..off + len)?;
        Some(Ok(NodeRecord::new(
            bytes,
            off,
            self.layout,
            usize::from(self.fields_len),
        )))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.starts.count_ones() as usize
            + usize::from(self.count)
            + usize::from(self.error.is_some());
        (n, Some(n))
    }
}

impl ExactSizeIterator for PathOrder<'_> {}
impl FusedIterator for PathOrder<'_> {}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    /// A pre-allocated body of type `bits` with NodeLen `node_len`, one
    /// free word, then `data` as the records area.
    fn body(bits: u32, node_len: u8, data: &[u8]) -> Vec<u8> {
        let [_, a, b, c] = bits.to_be_bytes();
        let mut v = Vec::from([0, 1, node_len << 3, 1, a, b, c, 0, 0, 0, 0, 0]);
        v.extend_from_slice(data);
        v
    }

    /// Path order is wire order reversed, or the walk's error alone.
    fn check_orders(t: &Trace<'_>) {
        let wire: Vec<_> = t.records().collect();
        let path: Vec<_> = t.records_path_order().collect();
        assert_eq!(t.records_path_order().len(), path.len());
        // The readable records are the wire-order records before the
        // first error, reversed, and the error is the wire walk's.
        let (readable, error) = t.readable_records();
        assert_eq!(readable.len(), wire.iter().filter(|r| r.is_ok()).count());
        let readable: Vec<_> = readable.collect();
        let mut ok: Vec<_> = wire.iter().filter(|r| r.is_ok()).cloned().collect();
        ok.reverse();
        assert_eq!(readable, ok);
        assert_eq!(error.as_ref(), wire.last().and_then(|r| r.as_ref().err()));
        if wire.iter().all(Result::is_ok) {
            let mut rev = wire;
            rev.reverse();
            assert_eq!(path, rev);
        } else {
            assert_eq!(path.len(), 1);
            assert_eq!(path.last(), wire.last());
        }
    }

    #[test]
    fn path_order_fixed_and_variable_records_every_length() {
        // Records of 4 and 8 bytes (fixed), lenient NodeLen 3 for a 1-word
        // type (fixed, extra words), with snapshots of 0 and 1 data words
        // (variable).
        let oss = [
            0x01, 0, 0, 1, 0x00, 0xff, 0xff, 0xff, 0x01, 0, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd,
        ];
        let cases: [(u32, u8, Mode, &[u8]); 4] = [
            (0x80_0000, 1, Mode::Strict, &[1; 40]),
            (0xc0_0000, 2, Mode::Strict, &[2; 40]),
            (0x80_0000, 3, Mode::Lenient, &[3; 48]),
            (0x80_0002, 1, Mode::Strict, &oss),
        ];
        for (bits, node_len, v, data) in cases {
            for n in (0..=data.len()).step_by(4) {
                let b = body(bits, node_len, &data[..n]);
                let t = Trace::parse_preallocated(&b, v).unwrap();
                check_orders(&t);
                let ok = t.records_path_order().all(|r| r.is_ok());
                let fixed = bits & 2 == 0;
                if fixed {
                    let rec = usize::from(node_len) * 4;
                    assert_eq!(ok, n % rec == 0, "{bits:#x} {n}");
                }
            }
        }
    }

    #[test]
    fn path_order_empty_type_lenient_reports_empty_record() {
        let b = body(0, 0, &[0; 8]);
        let t = Trace::parse_preallocated(&b, Mode::Lenient).unwrap();
        check_orders(&t);
        assert!(matches!(
            t.records_path_order().next(),
            Some(Err(TraceError::EmptyRecord { offset: 12, .. }))
        ));
    }
}
