//! Where each data field sits inside a node's record, computed once per
//! trace type (RFC 9197 §4.4.2).
//!
//! The fields of a record follow the order of the trace-type bits, so the
//! offset of a field depends on which earlier bits are set. A
//! [`RecordLayout`] holds that offset for every field bit (0-21), so that
//! reading a field is one table load and one bounds-checked read, with no
//! bit counting per access. [`crate::Trace`] computes it once when it
//! parses the header and every [`crate::NodeRecord`] carries a copy.

use crate::trace_type::{TraceType, FIRST_BYTE_LEN};

/// Number of field bits with a fixed-size field: RFC bits 0-21.
const FIELD_BITS: usize = 22;

/// The table entry of a field the trace type does not carry.
///
/// No record or field area is anywhere near 255 bytes long (a trace's
/// data area holds at most 244, the fields of a record at most 100), so a
/// bounds-checked read at this offset finds nothing: absence and
/// truncation are one test.
pub(crate) const ABSENT: u8 = u8::MAX;

/// The fields of four consecutive trace-type bits, for one value of those
/// bits: their offsets from the first field of the group, byte `i` for
/// the group's bit `i` (0 when absent), [`ABSENT`] bytes for absent fields,
/// and the bytes the group takes.
#[derive(Clone, Copy)]
struct Group {
    offsets: u32,
    absent: u32,
    len: u8,
}

impl Group {
    /// The table entries of the group's four bits when its first field
    /// is at `base` (at most 64, so no byte carries into the next).
    const fn place(self, base: u8) -> [u8; 4] {
        (self.offsets.wrapping_add(base as u32 * 0x0101_0101) | self.absent).to_le_bytes()
    }
}

/// The 16 [`Group`]s of four bits whose fields have the given widths.
const fn groups(widths: [u8; 4]) -> [Group; 16] {
    let mut table = [Group {
        offsets: 0,
        absent: 0,
        len: 0,
    }; 16];
    let mut value = 0;
    while value < 16 {
        let mut g = Group {
            offsets: 0,
            absent: 0,
            len: 0,
        };
        let mut i = 0;
        while i < 4 {
            // The group's first bit is the most significant of the four.
            if value & (8 >> i) != 0 {
                g.offsets |= (g.len as u32) << (8 * i);
                g.len += widths[i];
            } else {
                g.absent |= (ABSENT as u32) << (8 * i);
            }
            i += 1;
        }
        table[value] = g;
        value += 1;
    }
    table
}

/// Bits 0-7, one word each, for every value of those bits: the table
/// entries of the eight bits as the bytes (little-endian) of one `u64`.
const FIRST_BYTE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut value = 0;
    while value < 256 {
        let mut entries = [ABSENT; 8];
        let mut offset = 0u8;
        let mut i = 0;
        while i < 8 {
            // RFC bit i is the most significant of the eight first.
            if value & (0x80 >> i) != 0 {
                entries[i] = offset;
                offset += 4;
            }
            i += 1;
        }
        table[value] = u64::from_le_bytes(entries);
        value += 1;
    }
    table
};

/// Bits 8-11: two words each for 8-10, one for 11.
const WIDE_GROUPS: [Group; 16] = groups([8, 8, 8, 4]);

/// Byte offset of every data field inside a record of one trace type
/// (RFC 9197 §4.4.2), with the length of the fields.
///
/// ```
/// use ioam_trace::{RecordLayout, TraceType};
/// let l = RecordLayout::new(TraceType::from_bits_truncate(0xfff002));
/// assert_eq!(l.offset(0), Some(0)); // hop limit and node id
/// assert_eq!(l.offset(9), Some(40)); // wide interface ids, after wide node id
/// assert_eq!(l.offset(12), None); // undefined bit, not set
/// assert_eq!(l.fields_len(), 60); // NodeLen 15
/// assert!(l.has_oss());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordLayout {
    /// Byte offset of the field of RFC bit k, or [`ABSENT`].
    at: [u8; FIELD_BITS],
    /// NodeLen * 4 of the trace type (at most 100).
    fields_len: u8,
    trace_type: TraceType,
}

impl RecordLayout {
    /// The layout of a record of `trace_type`: bits 0-7, 11 and 12-21 take
    /// one word, bits 8-10 two, in bit order; bits 22 (opaque state, after
    /// the fields) and 23 none.
    #[must_use]
    #[inline]
    pub const fn new(trace_type: TraceType) -> Self {
        let bits = trace_type.bits();
        // Bits 0-7 by one table lookup, bits 8-11 by another placed after them.
        let first = ((bits >> 16) & 0xff) as usize;
        let [a0, a1, a2, a3, a4, a5, a6, a7] = FIRST_BYTE[first].to_le_bytes();
        let len0 = FIRST_BYTE_LEN[first];
        let g2 = WIDE_GROUPS[((bits >> 12) & 0xf) as usize];
        let [a8, a9, a10, a11] = g2.place(len0);
        let x = ABSENT;
        let mut layout = Self {
            at: [
                a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, x, x, x, x, x, x, x, x, x, x,
            ],
            fields_len: len0 + g2.len,
            trace_type,
        };
        if bits & TraceType::UNDEFINED.bits() != 0 {
            layout.place_undefined();
        }
        layout
    }

    /// Places the undefined bits 12-21 that are set (one word each) after
    /// the named fields. Kept out of line: these bits are rarely set.
    #[cold]
    #[inline(never)]
    const fn place_undefined(&mut self) {
        let bits = self.trace_type.bits();
        let mut k = 12;
        while k < FIELD_BITS {
            if bits & (1 << (23 - k)) != 0 {
                self.at[k] = self.fields_len;
                self.fields_len += 4;
            }
            k += 1;
        }
    }

    /// The trace type this layout is for.
    #[must_use]
    #[inline]
    pub const fn trace_type(&self) -> TraceType {
        self.trace_type
    }

    /// Bytes of the data fields of one record: NodeLen * 4, without the
    /// opaque state snapshot.
    #[must_use]
    #[inline]
    pub const fn fields_len(&self) -> usize {
        self.fields_len as usize
    }

    /// Whether records carry an opaque state snapshot (bit 22).
    #[must_use]
    #[inline]
    pub const fn has_oss(&self) -> bool {
        self.trace_type.has_oss()
    }

    /// Byte offset inside a record of the field of RFC bit `bit` (0-21);
    /// `None` when the trace type does not carry it or for any other bit.
    #[must_use]
    #[inline]
    pub const fn offset(&self, bit: u8) -> Option<usize> {
        if bit as usize >= FIELD_BITS {
            return None;
        }
        match self.at[bit as usize] {
            ABSENT => None,
            at => Some(at as usize),
        }
    }

    /// The raw table entry of field bit `bit` (< 22): an offset or
    /// [`ABSENT`].
    #[inline]
    pub(crate) const fn raw(&self, bit: usize) -> u8 {
        self.at[bit]
    }
}

/// Reads `N` bytes at `at + extra` of `bytes`: `None` past the end, and so
/// for an [`ABSENT`] entry (see there).
#[inline]
pub(crate) fn read<const N: usize>(bytes: &[u8], at: u8, extra: usize) -> Option<[u8; N]> {
    let start = usize::from(at) + extra;
    bytes.get(start..start + N)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_word_offsets_for_every_type_sample() {
        // Every single bit, pairs around the wide fields, and dense types.
        let mut types = alloc::vec![0u32, 0xff_ffff, 0xff_f002, 0x80_0000, 0x00_e000, 0x0f_fffc];
        types.extend((0..24).map(|k| 1u32 << k));
        types.extend((0..24).flat_map(|a| (0..24).map(move |b| (1u32 << a) | (1u32 << b))));
        for bits in types {
            let t = TraceType::from_bits_truncate(bits);
            let l = RecordLayout::new(t);
            assert_eq!(l.fields_len(), usize::from(t.node_len()) * 4, "{bits:#x}");
            assert_eq!(l.has_oss(), t.has_oss());
            for k in 0..22u8 {
                let want = t.has_bit(k).then(|| t.word_offset(k) * 4);
                assert_eq!(l.offset(k), want, "{bits:#x} bit {k}");
            }
            assert_eq!(l.offset(22), None);
            assert_eq!(l.offset(200), None);
        }
    }

    #[test]
    fn absent_reads_nothing() {
        let b = [7u8; 252];
        assert_eq!(read::<4>(&b, ABSENT, 0), None);
        assert_eq!(read::<8>(&b, 248, 0), None);
        assert_eq!(read::<4>(&b, 248, 0), Some([7; 4]));
    }
}
