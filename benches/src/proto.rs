//! Prototypes of the fixes proposed for the hot paths that miss their
//! goals, written against the crates' public API so they can be measured
//! beside the code they would replace (role [`crate::Role::Prototype`]).
//! [`crate::verify_all`] checks that each gives the same result as the
//! crate code.
//!
//! - [`FieldOffsets`] / [`iterate_fields_table`]: the byte offset of every
//!   field computed once per trace instead of per accessor call
//!   (`NodeRecord::at` in ioam-trace computes `TraceType::word_offset`,
//!   two population counts, on every call).
//! - [`TransitTemplate`]: a transit node's record serialized once and
//!   copied per packet, with the hop limit patched.
//! - [`InjectorTemplate`]: the CLT sender's Hop-by-Hop header built once
//!   and patched per packet with the span context.

use ioam_trace::{Trace, TraceType};

/// Byte offset of each field inside a record for one trace type, computed
/// once: `NONE` when the type lacks the field.
#[derive(Debug, Clone, Copy)]
pub struct FieldOffsets {
    /// Offset of the field of RFC bit k (0..=11).
    at: [u8; 12],
    /// Offset of the opaque state header (NodeLen * 4), if bit 22 is set.
    oss: Option<usize>,
}

impl FieldOffsets {
    /// Marks an absent field.
    const NONE: u8 = u8::MAX;

    /// The offsets for `t`.
    #[must_use]
    pub fn new(t: TraceType) -> Self {
        let mut at = [Self::NONE; 12];
        let mut word = 0u8;
        for (k, slot) in at.iter_mut().enumerate() {
            if t.has_bit(k as u8) {
                *slot = word * 4;
                word += if (8..=10).contains(&k) { 2 } else { 1 };
            }
        }
        Self {
            at,
            oss: t.has_oss().then_some(usize::from(t.node_len()) * 4),
        }
    }

    #[inline]
    fn get<const N: usize>(&self, rec: &[u8], bit: usize, extra: usize) -> Option<[u8; N]> {
        let off = self.at[bit];
        if off == Self::NONE {
            return None;
        }
        let at = usize::from(off) + extra;
        rec.get(at..at + N)?.try_into().ok()
    }

    #[inline]
    fn u32_of(&self, rec: &[u8], bit: usize) -> Option<u32> {
        self.get::<4>(rec, bit, 0).map(u32::from_be_bytes)
    }

    /// Every field of the record `rec` (its bytes), summed like
    /// [`crate::sum_fields`].
    #[inline]
    #[must_use]
    pub fn sum_fields(&self, rec: &[u8]) -> u64 {
        let mut s = 0u64;
        let mut add = |v: Option<u64>| s = s.wrapping_add(v.unwrap_or(0));
        add(self.get::<1>(rec, 0, 0).map(|b| u64::from(b[0])));
        add(self.u32_of(rec, 0).map(|w| u64::from(w & 0x00ff_ffff)));
        add(self
            .get::<2>(rec, 1, 0)
            .map(|b| u64::from(u16::from_be_bytes(b))));
        add(self
            .get::<2>(rec, 1, 2)
            .map(|b| u64::from(u16::from_be_bytes(b))));
        for bit in 2..=7 {
            add(self.u32_of(rec, bit).map(u64::from));
        }
        add(self.get::<1>(rec, 8, 0).map(|b| u64::from(b[0])));
        add(self
            .get::<8>(rec, 8, 0)
            .map(|b| u64::from_be_bytes(b) & 0x00ff_ffff_ffff_ffff));
        add(self.u32_of(rec, 9).map(u64::from));
        add(self
            .get::<4>(rec, 9, 4)
            .map(|b| u64::from(u32::from_be_bytes(b))));
        add(self.get::<8>(rec, 10, 0).map(u64::from_be_bytes));
        add(self.u32_of(rec, 11).map(u64::from));
        if let Some(at) = self.oss {
            add(rec.get(at..at + 4).map(|h| {
                let len = usize::from(h[0]);
                let schema = u32::from_be_bytes([0, h[1], h[2], h[3]]);
                let first = if len > 0 {
                    rec.get(at + 4).copied().unwrap_or(0)
                } else {
                    0
                };
                u64::from(schema) + len as u64 + u64::from(first)
            }));
        }
        s
    }
}

/// Group 2 with the offsets computed once per trace.
#[must_use]
pub fn iterate_fields_table(t: &Trace<'_>) -> u64 {
    let offs = FieldOffsets::new(t.trace_type());
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(offs.sum_fields(r.as_bytes())),
            Err(_) => return crate::FAILED,
        }
    }
    s
}

/// The CLT sender's header built once per (namespace, trace type, path
/// length, sender values) and patched per packet: only the 25 bytes of the
/// span context in the originator's snapshot change between packets.
#[derive(Debug, Clone)]
pub struct InjectorTemplate {
    bytes: Vec<u8>,
    /// Offset of the snapshot data (trace id) from the header start.
    ctx_at: usize,
}

impl InjectorTemplate {
    /// Builds the template with the injector's own code and finds the
    /// snapshot through the decoder.
    ///
    /// # Errors
    /// When the injector refuses or its output carries no context.
    pub fn new(inj: &clt_context::injector::HopByHopInjector<'_>) -> Result<Self, &'static str> {
        let built = inj.build().map_err(|_| "injector")?;
        let body = crate::body_of(&built);
        let t = Trace::parse_preallocated(body, ioam_trace::Mode::Strict).map_err(|_| "trace")?;
        let found = clt_context::find_context(&t, inj.schema_id);
        let f = found.found().ok_or("context")?;
        Ok(Self {
            bytes: built.to_vec(),
            ctx_at: ioam_wire::build::IOAM_HEADER_BODY_OFFSET + f.offset + 4,
        })
    }

    /// Writes the header for `ctx` into the start of `buf`; returns its
    /// length, or 0 if `buf` is too short.
    #[inline]
    pub fn emit(&self, ctx: &clt_context::SpanContext, buf: &mut [u8]) -> usize {
        let n = self.bytes.len();
        let Some(out) = buf.get_mut(..n) else {
            return 0;
        };
        out.copy_from_slice(&self.bytes);
        let at = self.ctx_at;
        out[at..at + 16].copy_from_slice(&ctx.trace_id.0);
        out[at + 16..at + 24].copy_from_slice(&ctx.span_id.0);
        out[at + 24] = ctx.flags.0;
        n
    }
}

/// A transit node's record serialized once (its values change rarely;
/// the hop limit is patched per packet), then written per packet after the
/// header checks `ioam_trace::write_transit` makes, in the same order.
#[derive(Debug, Clone)]
pub struct TransitTemplate {
    namespace_id: u16,
    /// The trace type the record was built for (24 bits, big-endian).
    trace_type: [u8; 3],
    /// NodeLen of that type.
    node_len: u8,
    /// The record bytes.
    record: Vec<u8>,
    /// Offsets of the hop limit bytes (bits 0 and 8) in the record;
    /// `u8::MAX` when absent. Other per-packet values (timestamps, queue
    /// depth) would be patched the same way.
    hop_limit_at: [u8; 2],
}

/// What [`TransitTemplate::write`] did: the same cases as
/// `ioam_trace::TransitOutcome`, without the error details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateOutcome {
    /// Written at this offset.
    Written(usize),
    /// Not written: malformed header, other namespace or type, overflow
    /// already set, or no room (Overflow then set).
    NotWritten,
}

impl TransitTemplate {
    /// Serializes `node`'s record for `trace_type` with the crate's
    /// `emit_record`.
    ///
    /// # Errors
    /// When `emit_record` refuses the values.
    pub fn new(
        namespace_id: u16,
        trace_type: TraceType,
        node: &ioam_trace::NodeData<'_>,
    ) -> Result<Self, ioam_trace::TraceError> {
        let mut record = vec![0u8; node.record_len(trace_type)];
        ioam_trace::emit_record(trace_type, node, &mut record)?;
        let b = trace_type.bits().to_be_bytes();
        Ok(Self {
            namespace_id,
            trace_type: [b[1], b[2], b[3]],
            node_len: trace_type.node_len(),
            record,
            hop_limit_at: {
                let offs = FieldOffsets::new(trace_type);
                [offs.at[0], offs.at[8]]
            },
        })
    }

    /// Adds the record to the pre-allocated trace `body` with `hop_limit`.
    /// Only for bodies of the template's trace type (others are left
    /// untouched: the caller falls back to `write_transit`).
    #[inline]
    pub fn write(&self, body: &mut [u8], hop_limit: u8) -> TemplateOutcome {
        let [n0, n1, b2, b3, t0, t1, t2, _, data @ ..] = body else {
            return TemplateOutcome::NotWritten;
        };
        if [*t0, *t1, *t2] != self.trace_type
            || u16::from_be_bytes([*n0, *n1]) != self.namespace_id
            || *b2 >> 3 != self.node_len
        {
            return TemplateOutcome::NotWritten;
        }
        let free = usize::from(*b3 & 0x7f) * 4;
        if free > data.len() || *b2 & 0x04 != 0 {
            return TemplateOutcome::NotWritten;
        }
        let need = self.record.len();
        if free < need || free == 0 {
            *b2 |= 0x04;
            return TemplateOutcome::NotWritten;
        }
        let at = free - need;
        *b3 = (*b3 & 0x80) | (at / 4) as u8;
        let slot = &mut data[at..free];
        slot.copy_from_slice(&self.record);
        for &h in &self.hop_limit_at {
            if let Some(b) = slot.get_mut(usize::from(h)) {
                *b = hop_limit;
            }
        }
        TemplateOutcome::Written(8 + at)
    }
}

/// Reads `N` bytes at `at`, zeros past the end (the record iterator has
/// already checked the record covers NodeLen words).
#[inline]
fn word<const N: usize>(rec: &[u8], at: usize) -> [u8; N] {
    rec.get(at..at + N)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; N])
}

/// Every field of the record `rec` decoded in one pass over the bits that
/// are set (most significant first, each field read once at a running
/// offset), summed like [`crate::sum_fields`]: the cost follows the fields
/// present, not the 17 accessors.
#[inline]
#[must_use]
pub fn sum_fields_one_pass(t: TraceType, node_len: u8, rec: &[u8]) -> u64 {
    let mut bits = t.bits() & 0x00ff_f000; // bits 0-11
    let mut pos = 0usize;
    let mut s = 0u64;
    while bits != 0 {
        let top = 31 - bits.leading_zeros(); // 23 - RFC bit number
        bits ^= 1 << top;
        let k = 23 - top;
        if (8..=10).contains(&k) {
            let d = u64::from_be_bytes(word::<8>(rec, pos));
            pos += 8;
            s = s.wrapping_add(match k {
                8 => (d >> 56) + (d & 0x00ff_ffff_ffff_ffff),
                9 => (d >> 32) + (d & 0xffff_ffff),
                _ => d,
            });
        } else {
            let w = u32::from_be_bytes(word::<4>(rec, pos));
            pos += 4;
            s = s.wrapping_add(u64::from(match k {
                0 => (w >> 24) + (w & 0x00ff_ffff),
                1 => (w >> 16) + (w & 0xffff),
                _ => w,
            }));
        }
    }
    if t.has_oss() {
        let at = usize::from(node_len) * 4;
        let h = word::<4>(rec, at);
        let first = if h[0] > 0 {
            rec.get(at + 4).copied().unwrap_or(0)
        } else {
            0
        };
        s = s.wrapping_add(
            u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]))
                + u64::from(h[0])
                + u64::from(first),
        );
    }
    s
}

/// Group 2 with [`sum_fields_one_pass`].
#[must_use]
pub fn iterate_fields_one_pass(t: &Trace<'_>) -> u64 {
    let (tt, node_len) = (t.trace_type(), t.header().node_len);
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(sum_fields_one_pass(tt, node_len, r.as_bytes())),
            Err(_) => return crate::FAILED,
        }
    }
    s
}

/// The fields a trace type carries, listed once per trace as
/// `(RFC bit, byte offset)`, so each record is read with one pass over
/// that list and no bit arithmetic.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    fields: [(u8, u8); 12],
    count: usize,
    oss_at: Option<usize>,
}

impl Layout {
    /// The layout of `t`.
    #[must_use]
    pub fn new(t: TraceType, node_len: u8) -> Self {
        let mut fields = [(0u8, 0u8); 12];
        let (mut count, mut off) = (0usize, 0u8);
        for k in 0..12u8 {
            if t.has_bit(k) {
                fields[count] = (k, off);
                count += 1;
                off += if (8..=10).contains(&k) { 8 } else { 4 };
            }
        }
        Self {
            fields,
            count,
            oss_at: t.has_oss().then_some(usize::from(node_len) * 4),
        }
    }

    /// The same sum as [`crate::sum_fields`] for the record `rec`.
    #[inline]
    #[must_use]
    pub fn sum_fields(&self, rec: &[u8]) -> u64 {
        let mut s = 0u64;
        for &(k, off) in &self.fields[..self.count] {
            let at = usize::from(off);
            let v = if (8..=10).contains(&k) {
                let d = u64::from_be_bytes(word::<8>(rec, at));
                match k {
                    8 => (d >> 56) + (d & 0x00ff_ffff_ffff_ffff),
                    9 => (d >> 32) + (d & 0xffff_ffff),
                    _ => d,
                }
            } else {
                let w = u32::from_be_bytes(word::<4>(rec, at));
                u64::from(match k {
                    0 => (w >> 24) + (w & 0x00ff_ffff),
                    1 => (w >> 16) + (w & 0xffff),
                    _ => w,
                })
            };
            s = s.wrapping_add(v);
        }
        if let Some(at) = self.oss_at {
            let h = word::<4>(rec, at);
            let first = if h[0] > 0 {
                rec.get(at + 4).copied().unwrap_or(0)
            } else {
                0
            };
            s = s.wrapping_add(
                u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]))
                    + u64::from(h[0])
                    + u64::from(first),
            );
        }
        s
    }
}

/// Group 2 with a [`Layout`] computed once per trace.
#[must_use]
pub fn iterate_fields_layout(t: &Trace<'_>) -> u64 {
    let layout = Layout::new(t.trace_type(), t.header().node_len);
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(layout.sum_fields(r.as_bytes())),
            Err(_) => return crate::FAILED,
        }
    }
    s
}
