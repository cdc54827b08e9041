//! The human-readable rendering of `ioam decode --format text`: addresses,
//! each IOAM option's header, the CLT context, and a table of hops in path
//! order, written straight from the decoder's views into a reused buffer.

use core::fmt::Write as _;

use crate::decode::{
    has_traceparent, header_name, ioam_type_name, ErrorText, OptionView, PacketHead, PacketSink,
    Problem, TraceView,
};
use crate::fmtbuf::{
    hex_prefixed, push_hex_alt, push_u64, AddrCache, ByteWriter, Gather, GatherBuf, TimeCache,
};
use clt_context::view::{write_decimal, DECIMAL_ROOM};
use ioam_trace::record::DataField;
use ioam_trace::{NodeRecord, TraceType};

/// The text sink: one block per packet (ending with a blank line),
/// appended to its buffer ([`Self::buffer`], [`Self::take`]).
#[derive(Debug, Default)]
pub struct TextSink {
    out: Vec<u8>,
    addrs: AddrCache,
    times: TimeCache,
    table: Table,
    gather: GatherBuf,
}

impl TextSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.out
    }

    /// Forget the text written so far (keeping the buffer's capacity).
    pub fn clear(&mut self) {
        self.out.clear();
    }

    /// The text written so far, leaving the sink empty.
    pub fn take(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Exchange the buffer with `other`: the text written so far leaves
    /// without a copy, and the sink goes on in `other`'s (recycled) buffer.
    pub fn swap_buffer(&mut self, other: &mut Vec<u8>) {
        core::mem::swap(&mut self.out, other);
    }
}

impl PacketSink for TextSink {
    fn begin(&mut self, head: &PacketHead) {
        let mut g = self.gather.to(&mut self.out);
        let out = &mut g;
        out.put(b"frame ");
        out.dec(head.frame);
        if let Some(t) = head.time {
            out.put(b"  ");
            self.times.put(out, t);
        }
        if let (Some(s), Some(d)) = (head.src, head.dst) {
            out.put(b"  ");
            let (text, len) = self.addrs.text(s);
            out.put_prefix(text, len);
            out.put(b" -> ");
            let (text, len) = self.addrs.text(d);
            out.put_prefix(text, len);
        }
        out.byte(b'\n');
    }

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, trace: Option<&TraceView<'_>>) {
        let mut g = self.gather.to(&mut self.out);
        let out = &mut g;
        out.put(b"  ");
        out.put(header_name(o.header).as_bytes());
        out.put(b" option ");
        out.hex_prefixed(o.option_type.into(), 2);
        out.put(b": IOAM ");
        out.put(ioam_type_name(o.ioam_type).as_bytes());
        out.put(b" (");
        out.dec(u8::from(o.ioam_type).into());
        out.byte(b')');
        if let Some(ns) = o.namespace_id {
            out.put(b", namespace ");
            out.dec(ns.into());
        }
        out.byte(b'\n');
        write_fields(out, o);
        if let Some(t) = trace {
            if let Some(ctx) = t.context() {
                out.put(b"    CLT (");
                out.put(t.encoding.as_bytes());
                out.put(b"): trace id ");
                out.hex(&ctx.trace_id.0);
                out.put(b", span id ");
                out.hex(&ctx.span_id.0);
                out.put(b", flags ");
                out.hex(&[ctx.flags.0]);
                out.byte(b'\n');
                if has_traceparent(&ctx) {
                    out.put(b"    traceparent ");
                    out.fill(|to| clt_context::traceparent::format_into(&ctx, to));
                    out.byte(b'\n');
                }
            }
            if t.records().len() == 0 {
                out.put(b"    no node data yet\n");
            } else {
                out.put(b"    hops (path order):\n");
                self.table.render(out, t);
            }
        }
        if o.errors.is_empty() && o.finding.is_none() {
            return;
        }
        let out = out.vec();
        for p in &o.errors {
            error_line(out, "    ", "error", &ErrorText { problem: p, head });
        }
        if let Some(p) = &o.finding {
            error_line(out, "    ", "finding", p);
        }
    }

    fn end(&mut self, head: &PacketHead, errors: &[Problem]) {
        for p in errors {
            error_line(
                &mut self.out,
                "  ",
                "error",
                &ErrorText { problem: p, head },
            );
        }
        self.out.push(b'\n');
    }
}

fn error_line(
    out: &mut Vec<u8>,
    indent: &str,
    what: &str,
    p: &(impl core::fmt::Display + HasOffset),
) {
    out.extend_from_slice(indent.as_bytes());
    out.extend_from_slice(what.as_bytes());
    out.extend_from_slice(b" at byte ");
    push_u64(out, p.offset() as u64);
    out.extend_from_slice(b": ");
    let _ = write!(ByteWriter(out), "{p}");
    out.push(b'\n');
}

/// The offset of a problem, bare or with its note.
trait HasOffset {
    fn offset(&self) -> usize;
}

impl HasOffset for Problem {
    fn offset(&self) -> usize {
        self.offset
    }
}

impl HasOffset for ErrorText<'_> {
    fn offset(&self) -> usize {
        self.problem.offset
    }
}

/// Start field `name` of an option's summary line: the line's indent
/// before the first field (`any` false), `, ` before the others.
#[inline(always)]
fn field(out: &mut Gather<'_>, any: &mut bool, name: &str) {
    out.put(if *any { &b", "[..] } else { &b"    "[..] });
    *any = true;
    out.put(name.as_bytes());
}

#[inline(always)]
fn num(out: &mut Gather<'_>, any: &mut bool, name: &str, v: Option<u64>) {
    if let Some(v) = v {
        field(out, any, name);
        out.dec(v);
    }
}

/// The one-line summary of an option's header fields, `, `-separated; no
/// line when the option has none.
fn write_fields(out: &mut Gather<'_>, o: &OptionView<'_>) {
    let any = &mut false;
    if let Some(v) = o.trace_type {
        field(out, any, "trace type ");
        out.hex_prefixed(v.into(), 6);
    }
    num(out, any, "node len ", o.node_len.map(u64::from));
    num(out, any, "remaining len ", o.remaining_len.map(u64::from));
    if let Some(f) = o.flags {
        field(out, any, "flags ");
        let names = [
            (f.overflow, "overflow"),
            (f.loopback, "loopback"),
            (f.active, "active"),
        ];
        let mut set = false;
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            if set {
                out.byte(b',');
            }
            out.put(name.as_bytes());
            set = true;
        }
        if !set {
            out.put(b"none");
        }
    }
    num(out, any, "pot type ", o.pot_type.map(u64::from));
    num(out, any, "pot flags ", o.pot_flags.map(u64::from));
    num(out, any, "pkt id ", o.pkt_id);
    num(out, any, "cumulative ", o.cumulative);
    if let Some(v) = o.e2e_type {
        field(out, any, "e2e type ");
        out.hex_prefixed(v.into(), 4);
    }
    num(out, any, "dex flags ", o.dex_flags.map(u64::from));
    num(
        out,
        any,
        "extension flags ",
        o.extension_flags.map(u64::from),
    );
    num(out, any, "flow id ", o.flow_id.map(u64::from));
    num(out, any, "seq num ", o.seq_num);
    num(out, any, "timestamp secs ", o.timestamp_secs.map(u64::from));
    num(out, any, "timestamp frac ", o.timestamp_frac.map(u64::from));
    let bytes = |out: &mut Gather<'_>, any: &mut bool, name: &str, v: &[u8]| {
        field(out, any, name);
        out.hex(v);
    };
    if let Some(i) = &o.integrity {
        num(out, any, "integrity method ", Some(i.method.into()));
        if let Some(n) = i.nonce {
            bytes(out, any, "nonce ", n);
        }
        if let Some(icv) = i.icv {
            bytes(out, any, "icv ", icv);
        }
    }
    if let Some(d) = &o.data {
        bytes(out, any, "data ", d.as_bytes());
    }
    if *any {
        out.byte(b'\n');
    }
}

/// The columns of the hop table after `hop` (and the two time columns).
const COLUMNS: [&str; 18] = [
    "hop_limit",
    "node_id",
    "ingress",
    "egress",
    "ts_secs",
    "ts_frac",
    "transit_delay",
    "ns_data",
    "queue_depth",
    "csum_comp",
    "hop_limit_wide",
    "node_id_wide",
    "ingress_wide",
    "egress_wide",
    "ns_data_wide",
    "buffer_occ",
    "undefined",
    "oss",
];

/// Per column of [`COLUMNS`], the trace-type bits (RFC 9197 §4.4.1: bit
/// k is `1 << (23 - k)`) whose fields it shows.
const COLUMN_BITS: [u32; 18] = {
    const fn bit(k: u32) -> u32 {
        1 << (23 - k)
    }
    [
        bit(0),
        bit(0),
        bit(1),
        bit(1),
        bit(2),
        bit(3),
        bit(4),
        bit(5),
        bit(6),
        bit(7),
        bit(8),
        bit(8),
        bit(9),
        bit(9),
        bit(10),
        bit(11),
        // The undefined bits 12-21.
        0x00_0ffc,
        bit(22),
    ]
};

/// Bytes of a fixed cell: the longest is a `u64` in decimal (20 digits),
/// and [`write_decimal`] needs [`DECIMAL_ROOM`] (24) to write it.
const CELL: usize = DECIMAL_ROOM;

/// The text of one table cell of bounded length, kept in a fixed block so
/// that storing and copying it are constant-size moves.
#[derive(Clone, Copy)]
struct Cell {
    text: [u8; CELL],
    len: u8,
}

impl Cell {
    const EMPTY: Cell = Cell {
        text: [b' '; CELL],
        len: 0,
    };

    #[inline(always)]
    fn set_dec(&mut self, v: u64) {
        self.len = write_decimal(v, &mut self.text) as u8;
    }

    #[inline(always)]
    fn set_hex(&mut self, v: u64, digits: usize) {
        let (n, block) = hex_prefixed(v, digits);
        if let Some(to) = self.text.first_chunk_mut::<18>() {
            *to = block;
        }
        self.len = n as u8;
    }

    /// Appends `v` as exactly `width` digits (`width` at most 7, `v <
    /// 10^width`), leading zeros kept: the digits of `10^width + v` but
    /// the first, moved as one 8-byte block.
    #[inline(always)]
    fn padded(&mut self, v: u64, width: u32) {
        let mut digits = [0u8; DECIMAL_ROOM];
        write_decimal(10u64.pow(width) + v, &mut digits);
        let at = usize::from(self.len);
        if let (Some(to), Some(from)) = (self.text.get_mut(at..at + 8), digits.get(1..9)) {
            to.copy_from_slice(from);
            self.len += width as u8;
        }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if let Some(at) = self.text.get_mut(usize::from(self.len)) {
            *at = b;
            self.len += 1;
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.text[..usize::from(self.len).min(CELL)]
    }
}

/// The table column (an index of [`COLUMNS`]) of each data field, the
/// fields being in wire order as [`NodeRecord::values`] yields them.
const fn column(field: DataField) -> usize {
    match field {
        DataField::HopLimit => 0,
        DataField::NodeId => 1,
        DataField::IngressIfId => 2,
        DataField::EgressIfId => 3,
        DataField::TimestampSecs => 4,
        DataField::TimestampFrac => 5,
        DataField::TransitDelay => 6,
        DataField::NamespaceData => 7,
        DataField::QueueDepth => 8,
        DataField::ChecksumComplement => 9,
        DataField::HopLimitWide => 10,
        DataField::NodeIdWide => 11,
        DataField::IngressIfIdWide => 12,
        DataField::EgressIfIdWide => 13,
        DataField::NamespaceDataWide => 14,
        DataField::BufferOccupancy => 15,
    }
}

/// The undefined words of a record (the free-text column before the
/// snapshot's): appended to `out`, or false when there are none.
fn undefined_cell(out: &mut Vec<u8>, rec: &NodeRecord<'_>) -> bool {
    let mut any = false;
    for v in rec.undefined_words() {
        if any {
            out.push(b',');
        }
        push_hex_alt(out, v.into());
        any = true;
    }
    any
}

/// The snapshot of a record (the last column, never padded): written
/// straight into the output, `-` without one.
fn oss_cell(out: &mut Gather<'_>, rec: &NodeRecord<'_>) {
    match rec.oss() {
        Some(o) => {
            out.put(b"schema ");
            out.hex_prefixed(o.schema_id().into(), 6);
            if !o.data().is_empty() {
                out.put(b" data ");
                out.hex(o.data());
            }
        }
        None => out.byte(b'-'),
    }
}

/// Time of day (UTC) with microseconds, from Unix nanoseconds.
fn time_of_day(c: &mut Cell, ns: u64) {
    let sod = (ns / 1_000_000_000) % 86_400;
    c.len = 0;
    c.padded(sod / 3600, 2);
    c.byte(b':');
    c.padded((sod / 60) % 60, 2);
    c.byte(b':');
    c.padded(sod % 60, 2);
    c.byte(b'.');
    c.padded((ns % 1_000_000_000) / 1000, 6);
}

/// Signed offset in seconds with microseconds: `+0.000125`.
fn offset(c: &mut Cell, ns: u64, from: u64) {
    let (sign, d) = if ns >= from {
        (b'+', ns - from)
    } else {
        (b'-', from - ns)
    };
    c.len = 0;
    c.byte(sign);
    // At most 11 digits of seconds: 1 + 11 + 1 + 6 bytes of the 24.
    let mut secs = Cell::EMPTY;
    secs.set_dec(d / 1_000_000_000);
    for &b in secs.as_bytes() {
        c.byte(b);
    }
    c.byte(b'.');
    c.padded((d % 1_000_000_000) / 1000, 6);
}

/// The header of each column of the table: `hop`, the two time columns,
/// then [`COLUMNS`].
const HEADERS: [&str; NCOLS] = {
    let mut h = [""; NCOLS];
    h[0] = "hop";
    h[1] = "time (UTC)";
    h[2] = "offset (s)";
    let mut i = 0;
    while i < COLUMNS.len() {
        h[3 + i] = COLUMNS[i];
        i += 1;
    }
    h
};

/// Each of [`HEADERS`] at the start of a 16-byte block (none is longer),
/// for a constant-size copy.
const HEADER_BLOCKS: [[u8; 16]; NCOLS] = {
    let mut blocks = [[b' '; 16]; NCOLS];
    let mut col = 0;
    while col < NCOLS {
        let name = HEADERS[col].as_bytes();
        assert!(name.len() <= 16);
        let mut i = 0;
        while i < name.len() {
            blocks[col][i] = name[i];
            i += 1;
        }
        col += 1;
    }
    blocks
};

/// Columns of the table: hop, time, offset, then [`COLUMNS`]; the first
/// [`FIXED`] have cells of bounded length, the last two free text.
const NCOLS: usize = 3 + COLUMNS.len();
const FIXED: usize = NCOLS - 2;
/// The free-text column of the undefined words.
const UNDEFINED: usize = FIXED;
/// The free-text column of the snapshot, always the last.
const OSS: usize = FIXED + 1;

/// The buffers of the hop table, reused from trace to trace.
#[derive(Debug, Default)]
struct Table {
    /// The fixed cells, [`FIXED`] per row.
    cells: Vec<[Cell; FIXED]>,
    /// The text of the undefined-words cells, and per row where it is.
    free: Vec<u8>,
    free_at: Vec<(u32, u32)>,
}

impl core::fmt::Debug for Cell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

/// 32 blanks, cut to length for padding.
const BLANKS: [u8; 32] = [b' '; 32];

impl Table {
    fn render(&mut self, out: &mut Gather<'_>, t: &TraceView<'_>) {
        let format = t.timestamp_format;
        // Rows are kept from table to table (only the lengths of the cells
        // used are reset), so that a row is not cleared and copied whole.
        let mut rows = 0;
        self.free.clear();
        self.free_at.clear();
        // Like the timeline of a tracing UI: when the records carry
        // timestamps, the time of each hop and its offset from the first
        // timestamped hop.
        let bits = t.view.trace().trace_type().bits();
        let timed = bits & TraceType::TIMESTAMP_SECS.bits() != 0;
        let t0 = t
            .path_order()
            .filter(|_| timed)
            .find_map(|(_, r)| r.unix_nanos(format));
        let mut present = [false; NCOLS];
        present[0] = true;
        present[1] = t0.is_some();
        present[2] = t0.is_some();
        // The columns the trace type can fill: the others stay empty in
        // every row and are not asked for.
        let mut possible = [true; NCOLS];
        for (col, p) in possible.iter_mut().enumerate().skip(3) {
            *p = bits & COLUMN_BITS[col - 3] != 0;
        }
        for (hop, rec) in t.path_order() {
            let unix = if timed { rec.unix_nanos(format) } else { None };
            if self.cells.len() == rows {
                self.cells.push([Cell::EMPTY; FIXED]);
            }
            let Some(row) = self.cells.get_mut(rows) else {
                break;
            };
            rows += 1;
            // Every cell starts as the `-` of an absent value.
            for c in row.iter_mut() {
                c.text[0] = b'-';
                c.len = 1;
            }
            row[0].set_dec(hop as u64);
            if let (Some(t0), Some(ns)) = (t0, unix) {
                time_of_day(&mut row[1], ns);
                offset(&mut row[2], ns, t0);
            }
            // The fields the record holds, in wire order: each into its
            // column, no test for the absent ones.
            for (field, v) in rec.values() {
                let col = 3 + column(field);
                let Some(c) = row.get_mut(col) else { continue };
                match field {
                    // A timestamp the timeline shows is not repeated raw.
                    DataField::TimestampSecs | DataField::TimestampFrac if unix.is_some() => {
                        continue
                    }
                    DataField::NamespaceData => c.set_hex(v, 8),
                    DataField::NamespaceDataWide => c.set_hex(v, 16),
                    _ => c.set_dec(v),
                }
                present[col] = true;
            }
            // The undefined words are kept as text for their column's
            // width; the snapshot, always the last column, is written at
            // the end without padding (only its presence matters here).
            let start = self.free.len() as u32;
            if possible[UNDEFINED] && undefined_cell(&mut self.free, &rec) {
                present[UNDEFINED] = true;
            }
            self.free_at.push((start, self.free.len() as u32));
            if possible[OSS] && rec.oss().is_some() {
                present[OSS] = true;
            }
        }
        let mut widths = [0usize; NCOLS];
        for (col, w) in widths.iter_mut().enumerate().filter(|(c, _)| present[*c]) {
            *w = HEADERS[col].len();
            for (row, free) in self.cells[..rows].iter().zip(&self.free_at) {
                // An absent cell is shown as `-` (the fixed ones hold it).
                let len = match col {
                    UNDEFINED => ((free.1 - free.0) as usize).max(1),
                    // Never padded: its width does not matter.
                    OSS => 0,
                    _ => usize::from(row[col].len),
                };
                *w = (*w).max(len);
            }
        }
        let last = (0..NCOLS).rev().find(|c| present[*c]).unwrap_or(0);
        // The header line.
        out.put(b"    ");
        for col in (0..NCOLS).filter(|c| present[*c]) {
            let name = HEADERS[col].as_bytes();
            let pad = widths[col].saturating_sub(name.len());
            if col < FIXED && pad + 2 <= 32 {
                out.put_after_blanks(pad + 2, &HEADER_BLOCKS[col], name.len());
                continue;
            }
            out.put(b"  ");
            if col < FIXED {
                blanks(out, pad);
            }
            out.put(name);
            if col >= FIXED && col != last {
                blanks(out, pad);
            }
        }
        out.byte(b'\n');
        let (cols, n) = listed(0..FIXED, &present);
        let shown = &cols[..n];
        // The records again, for the snapshots written in place.
        let mut records = t.path_order();
        for (row, free) in self.cells[..rows].iter().zip(&self.free_at) {
            out.put(b"    ");
            // Fixed columns: numbers and times, right-aligned, each moved
            // as one block.
            for &col in shown {
                let col = usize::from(col);
                let c = &row[col];
                let pad = widths[col].saturating_sub(usize::from(c.len));
                // The two blanks between columns, the padding, the cell:
                // the widths of these columns are at most a cell's
                // (`CELL`), so one run of constant-size stores holds them.
                let lead = 2 + pad;
                if lead <= 32 {
                    out.put_after_blanks(lead, &c.text, usize::from(c.len));
                } else {
                    blanks(out, lead);
                    out.put_prefix(&c.text, usize::from(c.len));
                }
            }
            // Free-text columns, left-aligned; the last is not padded, so
            // that the line has no trailing blanks.
            if present[UNDEFINED] {
                let (a, b) = *free;
                let text = self.free.get(a as usize..b as usize).unwrap_or_default();
                let text = if text.is_empty() { &b"-"[..] } else { text };
                out.put(b"  ");
                out.put(text);
                if UNDEFINED != last {
                    blanks(out, widths[UNDEFINED].saturating_sub(text.len()));
                }
            }
            if present[OSS] {
                out.put(b"  ");
                if let Some((_, rec)) = records.next() {
                    oss_cell(out, &rec);
                }
            }
            out.byte(b'\n');
        }
    }
}

/// The columns of `range` whose flag is set, in order, and how many.
fn listed(range: core::ops::Range<usize>, flags: &[bool; NCOLS]) -> ([u8; NCOLS], usize) {
    let mut cols = [0u8; NCOLS];
    let mut n = 0;
    for col in range {
        if flags[col] {
            cols[n] = col as u8;
            n += 1;
        }
    }
    (cols, n)
}

/// Append `n` blanks: a constant 32-byte block cut to length (the widths
/// of the table are short), in a loop for wider ones.
#[inline]
fn blanks(out: &mut Gather<'_>, n: usize) {
    let mut n = n;
    while n > 0 {
        let k = n.min(BLANKS.len());
        out.put_prefix(&BLANKS, k);
        n -= k;
    }
}
