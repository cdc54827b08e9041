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
//! - [`render_attributes`]: the collector attribute strings written with
//!   `write_str` and a digit buffer instead of `write!` per item and
//!   `write_char` per hex digit (`clt_context::view`).

use core::fmt::{self, Write};

use clt_context::view::HopFields;
use clt_context::CltView;
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

/// Writes `v` in decimal with one `write_str`.
#[inline]
fn dec(w: &mut impl Write, v: u64) -> fmt::Result {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    w.write_str(core::str::from_utf8(&buf[i..]).map_err(|_| fmt::Error)?)
}

/// Writes `0x` and the lowercase hex of `bytes`, 32 bytes per `write_str`.
#[inline]
fn hex(w: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.write_str("0x")?;
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (b, pair) in chunk.iter().zip(buf.chunks_exact_mut(2)) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
        }
        w.write_str(core::str::from_utf8(&buf[..chunk.len() * 2]).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

#[inline]
fn item(w: &mut impl Write, key: &str, v: Option<u64>) -> fmt::Result {
    if let Some(v) = v {
        w.write_str(key)?;
        dec(w, v)?;
        w.write_str("; ")?;
    }
    Ok(())
}

#[inline]
fn hex_item(w: &mut impl Write, key: &str, v: Option<&[u8]>) -> fmt::Result {
    if let Some(b) = v {
        w.write_str(key)?;
        hex(w, b)?;
        w.write_str("; ")?;
    }
    Ok(())
}

/// One hop's attribute value, the same text as
/// `clt_context::view::AttributeValue::write_to`.
fn value(w: &mut impl Write, h: &HopFields<'_>) -> fmt::Result {
    let hop_limit = h.hop_limit_wide.or(h.hop_limit).map(u64::from);
    if let (Some(_), Some(id)) = (h.hop_limit, h.node_id) {
        item(w, "HopLimit=", hop_limit)?;
        item(w, "Id=", Some(u64::from(id)))?;
    }
    if let (Some(i), Some(e)) = (h.ingress_if_id, h.egress_if_id) {
        item(w, "IngressId=", Some(u64::from(i)))?;
        item(w, "EgressId=", Some(u64::from(e)))?;
    }
    item(w, "TimestampSecs=", h.timestamp_secs.map(u64::from))?;
    item(w, "TimestampFrac=", h.timestamp_frac.map(u64::from))?;
    item(w, "TransitDelay=", h.transit_delay.map(u64::from))?;
    let ns = h.namespace_data.map(u32::to_be_bytes);
    hex_item(w, "NamespaceData=", ns.as_ref().map(|b| &b[..]))?;
    item(w, "QueueDepth=", h.queue_depth.map(u64::from))?;
    item(w, "CsumComp=", h.checksum_complement.map(u64::from))?;
    if let (Some(_), Some(id)) = (h.hop_limit_wide, h.node_id_wide) {
        item(w, "HopLimit=", hop_limit)?;
        item(w, "IdWide=", Some(id))?;
    }
    if let (Some(i), Some(e)) = (h.ingress_if_id_wide, h.egress_if_id_wide) {
        item(w, "IngressIdWide=", Some(u64::from(i)))?;
        item(w, "EgressIdWide=", Some(u64::from(e)))?;
    }
    let nsw = h.namespace_data_wide.map(u64::to_be_bytes);
    hex_item(w, "NamespaceDataWide=", nsw.as_ref().map(|b| &b[..]))?;
    item(w, "BufferOccupancy=", h.buffer_occupancy.map(u64::from))?;
    if let Some(oss) = h.oss {
        item(w, "OpaqueStateSchemaId=", Some(u64::from(oss.schema_id)))?;
        hex_item(w, "OpaqueStateData=", Some(oss.data))?;
    }
    Ok(())
}

/// The lines of `CltView::write_attributes`, written without `core::fmt`
/// argument formatting. Returns the number of hops.
///
/// # Errors
/// When the trace cannot be walked or the writer fails.
pub fn render_attributes(view: &CltView<'_>, w: &mut impl Write) -> Result<usize, fmt::Error> {
    let mut n = 0;
    for hop in view.hops() {
        let hop = hop.map_err(|_| fmt::Error)?;
        let key = hop.attribute_key();
        w.write_str("ioam_namespace")?;
        dec(w, u64::from(key.namespace_id))?;
        w.write_str("_node")?;
        dec(w, key.index as u64)?;
        w.write_char('=')?;
        value(w, &hop.fields())?;
        w.write_char('\n')?;
        n += 1;
    }
    Ok(n)
}
