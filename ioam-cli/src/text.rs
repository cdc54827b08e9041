//! The human-readable rendering of `ioam decode --format text`: addresses,
//! each IOAM option's header, the CLT context, and a table of hops in path
//! order, written straight from the decoder's views into a reused buffer.

use core::fmt::Write as _;

use crate::decode::{
    header_name, ioam_type_name, traceparent, ErrorText, OptionView, PacketHead, PacketSink,
    Problem, TraceView,
};
use crate::fmtbuf::{
    push_hex, push_hex_alt, push_hex_prefixed, push_padded, push_u64, AddrCache, ByteWriter,
    TimeCache,
};
use ioam_trace::{NodeFields, NodeRecord};

/// The text sink: one block per packet (ending with a blank line),
/// appended to its buffer ([`Self::buffer`], [`Self::take`]).
#[derive(Debug, Default)]
pub struct TextSink {
    out: Vec<u8>,
    addrs: AddrCache,
    times: TimeCache,
    table: Table,
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
        let out = &mut self.out;
        out.extend_from_slice(b"frame ");
        push_u64(out, head.frame);
        if let Some(t) = head.time {
            out.extend_from_slice(b"  ");
            self.times.push(out, t);
        }
        if let (Some(s), Some(d)) = (head.src, head.dst) {
            out.extend_from_slice(b"  ");
            self.addrs.push(out, s);
            out.extend_from_slice(b" -> ");
            self.addrs.push(out, d);
        }
        out.push(b'\n');
    }

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, trace: Option<&TraceView<'_>>) {
        let out = &mut self.out;
        out.extend_from_slice(b"  ");
        out.extend_from_slice(header_name(o.header).as_bytes());
        out.extend_from_slice(b" option ");
        push_hex_prefixed(out, o.option_type.into(), 2);
        out.extend_from_slice(b": IOAM ");
        out.extend_from_slice(ioam_type_name(o.ioam_type).as_bytes());
        out.extend_from_slice(b" (");
        push_u64(out, u8::from(o.ioam_type).into());
        out.push(b')');
        if let Some(ns) = o.namespace_id {
            out.extend_from_slice(b", namespace ");
            push_u64(out, ns.into());
        }
        out.push(b'\n');
        write_fields(out, o);
        if let Some(t) = trace {
            if let Some(ctx) = t.context() {
                out.extend_from_slice(b"    CLT (");
                out.extend_from_slice(t.encoding.as_bytes());
                out.extend_from_slice(b"): trace id ");
                push_hex(out, &ctx.trace_id.0);
                out.extend_from_slice(b", span id ");
                push_hex(out, &ctx.span_id.0);
                out.extend_from_slice(b", flags ");
                push_hex(out, &[ctx.flags.0]);
                out.push(b'\n');
                if let Some(tp) = traceparent(&ctx) {
                    out.extend_from_slice(b"    traceparent ");
                    out.extend_from_slice(tp.as_bytes());
                    out.push(b'\n');
                }
            }
            if t.records.len() == 0 {
                out.extend_from_slice(b"    no node data yet\n");
            } else {
                out.extend_from_slice(b"    hops (path order):\n");
                self.table.render(out, t);
            }
        }
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

/// Start field `name` of the summary line whose fields start at `body`.
fn field(out: &mut Vec<u8>, body: usize, name: &str) {
    if out.len() > body {
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(name.as_bytes());
}

fn num(out: &mut Vec<u8>, body: usize, name: &str, v: Option<u64>) {
    if let Some(v) = v {
        field(out, body, name);
        push_u64(out, v);
    }
}

/// The one-line summary of an option's header fields, `, `-separated.
fn write_fields(out: &mut Vec<u8>, o: &OptionView<'_>) {
    let start = out.len();
    out.extend_from_slice(b"    ");
    let body = out.len();
    if let Some(v) = o.trace_type {
        field(out, body, "trace type ");
        push_hex_prefixed(out, v.into(), 6);
    }
    num(out, body, "node len ", o.node_len.map(u64::from));
    num(out, body, "remaining len ", o.remaining_len.map(u64::from));
    if let Some(f) = o.flags {
        field(out, body, "flags ");
        let names = [
            (f.overflow, "overflow"),
            (f.loopback, "loopback"),
            (f.active, "active"),
        ];
        let mut any = false;
        for (_, name) in names.iter().filter(|(set, _)| *set) {
            if any {
                out.push(b',');
            }
            out.extend_from_slice(name.as_bytes());
            any = true;
        }
        if !any {
            out.extend_from_slice(b"none");
        }
    }
    num(out, body, "pot type ", o.pot_type.map(u64::from));
    num(out, body, "pot flags ", o.pot_flags.map(u64::from));
    num(out, body, "pkt id ", o.pkt_id);
    num(out, body, "cumulative ", o.cumulative);
    if let Some(v) = o.e2e_type {
        field(out, body, "e2e type ");
        push_hex_prefixed(out, v.into(), 4);
    }
    num(out, body, "dex flags ", o.dex_flags.map(u64::from));
    num(
        out,
        body,
        "extension flags ",
        o.extension_flags.map(u64::from),
    );
    num(out, body, "flow id ", o.flow_id.map(u64::from));
    num(out, body, "seq num ", o.seq_num);
    num(
        out,
        body,
        "timestamp secs ",
        o.timestamp_secs.map(u64::from),
    );
    num(
        out,
        body,
        "timestamp frac ",
        o.timestamp_frac.map(u64::from),
    );
    let bytes = |out: &mut Vec<u8>, name: &str, v: &[u8]| {
        field(out, body, name);
        push_hex(out, v);
    };
    if let Some(i) = &o.integrity {
        num(out, body, "integrity method ", Some(i.method.into()));
        if let Some(n) = i.nonce {
            bytes(out, "nonce ", n);
        }
        if let Some(icv) = i.icv {
            bytes(out, "icv ", icv);
        }
    }
    if let Some(d) = &o.data {
        bytes(out, "data ", d.as_bytes());
    }
    if out.len() == body {
        out.truncate(start);
    } else {
        out.push(b'\n');
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

/// Column `col` of a record: appended to `out`, or false when absent.
/// `f` is `rec.fields()` and `timed` whether the timeline shows the
/// record's timestamp, both computed once per record by the caller.
fn cell(
    out: &mut Vec<u8>,
    col: usize,
    rec: &NodeRecord<'_>,
    f: &NodeFields<'_>,
    timed: bool,
) -> bool {
    let n = |out: &mut Vec<u8>, v: Option<u64>| match v {
        Some(v) => {
            push_u64(out, v);
            true
        }
        None => false,
    };
    let h = |out: &mut Vec<u8>, v: Option<u64>, digits| match v {
        Some(v) => {
            push_hex_prefixed(out, v, digits);
            true
        }
        None => false,
    };
    match col {
        0 => n(out, f.hop_limit.map(u64::from)),
        1 => n(out, f.node_id.map(u64::from)),
        2 => n(out, f.ingress_if_id.map(u64::from)),
        3 => n(out, f.egress_if_id.map(u64::from)),
        // A timestamp the timeline shows is not repeated raw.
        4 => !timed && n(out, f.timestamp_secs.map(u64::from)),
        5 => !timed && n(out, f.timestamp_frac.map(u64::from)),
        6 => n(out, f.transit_delay.map(u64::from)),
        7 => h(out, f.namespace_data.map(u64::from), 8),
        8 => n(out, f.queue_depth.map(u64::from)),
        9 => n(out, f.checksum_complement.map(u64::from)),
        10 => n(out, f.hop_limit_wide.map(u64::from)),
        11 => n(out, f.node_id_wide),
        12 => n(out, f.ingress_if_id_wide.map(u64::from)),
        13 => n(out, f.egress_if_id_wide.map(u64::from)),
        14 => h(out, f.namespace_data_wide, 16),
        15 => n(out, f.buffer_occupancy.map(u64::from)),
        16 => {
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
        _ => match f.oss {
            Some(o) => {
                out.extend_from_slice(b"schema ");
                push_hex_prefixed(out, o.schema_id().into(), 6);
                if !o.data().is_empty() {
                    out.extend_from_slice(b" data ");
                    push_hex(out, o.data());
                }
                true
            }
            None => false,
        },
    }
}

/// Time of day (UTC) with microseconds, from Unix nanoseconds.
fn time_of_day(out: &mut Vec<u8>, ns: u64) {
    let sod = (ns / 1_000_000_000) % 86_400;
    push_padded(out, sod / 3600, 2);
    out.push(b':');
    push_padded(out, (sod / 60) % 60, 2);
    out.push(b':');
    push_padded(out, sod % 60, 2);
    out.push(b'.');
    push_padded(out, (ns % 1_000_000_000) / 1000, 6);
}

/// Signed offset in seconds with microseconds: `+0.000125`.
fn offset(out: &mut Vec<u8>, ns: u64, from: u64) {
    let (sign, d) = if ns >= from {
        (b'+', ns - from)
    } else {
        (b'-', from - ns)
    };
    out.push(sign);
    push_u64(out, d / 1_000_000_000);
    out.push(b'.');
    push_padded(out, (d % 1_000_000_000) / 1000, 6);
}

/// The buffers of the hop table, reused from trace to trace: every cell's
/// text in one buffer, and where each cell is.
#[derive(Debug, Default)]
struct Table {
    text: Vec<u8>,
    /// Per row, per column: the cell's range in `text` (empty = absent).
    cells: Vec<(u32, u32)>,
}

/// Columns of the table: hop, time, offset, then [`COLUMNS`].
const NCOLS: usize = 3 + COLUMNS.len();

impl Table {
    fn render(&mut self, out: &mut Vec<u8>, t: &TraceView<'_>) {
        let format = t.timestamp_format;
        self.text.clear();
        self.cells.clear();
        // Like the timeline of a tracing UI: when the records carry
        // timestamps, the time of each hop and its offset from the first
        // timestamped hop.
        let t0 = t
            .path_order()
            .find_map(|(_, r)| r.fields().unix_nanos(format));
        let mut present = [false; NCOLS];
        present[0] = true;
        present[1] = t0.is_some();
        present[2] = t0.is_some();
        // The columns the trace type can fill: the others stay empty in
        // every row and are not asked for.
        let bits = t.view.trace().trace_type().bits();
        let mut possible = [true; NCOLS];
        for (col, p) in possible.iter_mut().enumerate().skip(3) {
            *p = bits & COLUMN_BITS[col - 3] != 0;
        }
        for (hop, rec) in t.path_order() {
            let f = rec.fields();
            let unix = f.unix_nanos(format);
            // The row's cells are gathered on the stack and appended at once.
            let mut row = [(0u32, 0u32); NCOLS];
            for ((col, present), at) in present.iter_mut().enumerate().zip(&mut row) {
                let start = self.text.len();
                if !possible[col] {
                    *at = (start as u32, start as u32);
                    continue;
                }
                let has = match col {
                    0 => {
                        push_u64(&mut self.text, hop as u64);
                        true
                    }
                    1 | 2 if t0.is_none() => false,
                    1 | 2 => {
                        match (unix, col) {
                            (Some(ns), 1) => time_of_day(&mut self.text, ns),
                            (Some(ns), _) => offset(&mut self.text, ns, t0.unwrap_or(0)),
                            (None, _) => self.text.push(b'-'),
                        }
                        true
                    }
                    c => cell(&mut self.text, c - 3, &rec, &f, unix.is_some()),
                };
                *present |= has;
                *at = (start as u32, self.text.len() as u32);
            }
            self.cells.extend_from_slice(&row);
        }
        let header = |col: usize| match col {
            0 => "hop",
            1 => "time (UTC)",
            2 => "offset (s)",
            c => COLUMNS[c - 3],
        };
        let rows = self.cells.len() / NCOLS;
        let mut widths = [0usize; NCOLS];
        for (col, w) in widths.iter_mut().enumerate().filter(|(c, _)| present[*c]) {
            *w = header(col).len();
            for row in 0..rows {
                let (a, b) = self.cells[row * NCOLS + col];
                // An absent cell is shown as `-`.
                *w = (*w).max(((b - a) as usize).max(1));
            }
        }
        line(out, &present, &widths, |col| header(col).as_bytes());
        for row in 0..rows {
            let (text, cells) = (&self.text, &self.cells);
            line(out, &present, &widths, |col| {
                let (a, b) = cells[row * NCOLS + col];
                if a == b {
                    b"-"
                } else {
                    &text[a as usize..b as usize]
                }
            });
        }
    }
}

/// One line of the table: the present columns, numbers right-aligned and
/// the free-text columns (`undefined`, `oss`) left-aligned, without
/// trailing blanks.
fn line<'c>(
    out: &mut Vec<u8>,
    present: &[bool; NCOLS],
    widths: &[usize; NCOLS],
    cell: impl Fn(usize) -> &'c [u8],
) {
    let start = out.len();
    out.extend_from_slice(b"    ");
    let last = (0..NCOLS).rev().find(|c| present[*c]);
    for col in (0..NCOLS).filter(|c| present[*c]) {
        let left = col >= NCOLS - 2;
        out.extend_from_slice(b"  ");
        let text = cell(col);
        let pad = widths[col].saturating_sub(text.len());
        if !left {
            spaces(out, pad);
        }
        out.extend_from_slice(text);
        // The last column is not padded: the line has no trailing blanks.
        if left && Some(col) != last {
            spaces(out, pad);
        }
    }
    while out.len() > start && out.last().is_some_and(u8::is_ascii_whitespace) {
        out.pop();
    }
    out.push(b'\n');
}

/// Append `n` blanks: a constant 32-byte block cut to length (the widths
/// of the table are short), in a loop for wider ones.
fn spaces(out: &mut Vec<u8>, n: usize) {
    let mut n = n;
    while n > 0 {
        let k = n.min(32);
        let start = out.len();
        out.extend_from_slice(&[b' '; 32]);
        out.truncate(start + k);
        n -= k;
    }
}
