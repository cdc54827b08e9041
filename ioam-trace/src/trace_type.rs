//! The 24-bit IOAM-Trace-Type bitset (RFC 9197 §4.4.1, §4.4.2).

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

/// The IOAM-Trace-Type: which data fields every node adds (RFC 9197 §4.4.1).
///
/// Bit *k* of the RFC (bit 0 is the most significant of the 24) is the value
/// `1 << (23 - k)`. The value always fits in 24 bits.
///
/// ```
/// use ioam_trace::TraceType;
/// let t = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE;
/// assert_eq!(t.bits(), 0x800002);
/// assert_eq!(t.node_len(), 1); // the opaque state is not counted
/// assert!(t.has_oss());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceType(u32);

impl TraceType {
    /// Bit 0: hop limit and 24-bit node id, 4 bytes (RFC 9197 §4.4.2).
    pub const HOP_LIM_NODE_ID: Self = Self::bit_unchecked(0);
    /// Bit 1: 16-bit ingress and egress interface ids, 4 bytes (§4.4.2).
    pub const INTERFACE_IDS: Self = Self::bit_unchecked(1);
    /// Bit 2: timestamp seconds, 4 bytes (§4.4.2).
    pub const TIMESTAMP_SECS: Self = Self::bit_unchecked(2);
    /// Bit 3: timestamp fraction, 4 bytes (§4.4.2).
    pub const TIMESTAMP_FRAC: Self = Self::bit_unchecked(3);
    /// Bit 4: transit delay, 4 bytes (§4.4.2).
    pub const TRANSIT_DELAY: Self = Self::bit_unchecked(4);
    /// Bit 5: namespace-specific data (short), 4 bytes (§4.4.2).
    pub const NAMESPACE_DATA: Self = Self::bit_unchecked(5);
    /// Bit 6: queue depth, 4 bytes (§4.4.2).
    pub const QUEUE_DEPTH: Self = Self::bit_unchecked(6);
    /// Bit 7: checksum complement, 4 bytes (§4.4.2).
    pub const CHECKSUM_COMPLEMENT: Self = Self::bit_unchecked(7);
    /// Bit 8: hop limit and 56-bit node id, 8 bytes (§4.4.2).
    pub const HOP_LIM_NODE_ID_WIDE: Self = Self::bit_unchecked(8);
    /// Bit 9: 32-bit ingress and egress interface ids, 8 bytes (§4.4.2).
    pub const INTERFACE_IDS_WIDE: Self = Self::bit_unchecked(9);
    /// Bit 10: namespace-specific data (wide), 8 bytes (§4.4.2).
    pub const NAMESPACE_DATA_WIDE: Self = Self::bit_unchecked(10);
    /// Bit 11: buffer occupancy, 4 bytes (§4.4.2).
    pub const BUFFER_OCCUPANCY: Self = Self::bit_unchecked(11);
    /// Bit 12: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_12: Self = Self::bit_unchecked(12);
    /// Bit 13: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_13: Self = Self::bit_unchecked(13);
    /// Bit 14: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_14: Self = Self::bit_unchecked(14);
    /// Bit 15: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_15: Self = Self::bit_unchecked(15);
    /// Bit 16: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_16: Self = Self::bit_unchecked(16);
    /// Bit 17: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_17: Self = Self::bit_unchecked(17);
    /// Bit 18: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_18: Self = Self::bit_unchecked(18);
    /// Bit 19: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_19: Self = Self::bit_unchecked(19);
    /// Bit 20: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_20: Self = Self::bit_unchecked(20);
    /// Bit 21: undefined, 4 bytes when filled (§4.4.1).
    pub const UNDEFINED_21: Self = Self::bit_unchecked(21);
    /// Bit 22: opaque state snapshot, variable length, not counted in
    /// NodeLen (RFC 9197 §4.4.2, "Opaque State Snapshot").
    pub const OPAQUE_STATE: Self = Self::bit_unchecked(22);
    /// Bit 23: reserved, must be zero on send (§4.4.1).
    pub const RESERVED_23: Self = Self::bit_unchecked(23);

    /// No bit set.
    pub const EMPTY: Self = Self(0);
    /// Every bit that adds one 4-byte word: bits 0-7, 11 and 12-21.
    pub const SHORT_FIELDS: Self = Self(0xff_1ffc);
    /// Every bit that adds two 4-byte words: bits 8-10.
    pub const WIDE_FIELDS: Self = Self(0x00_e000);
    /// The undefined bits 12-21.
    pub const UNDEFINED: Self = Self(0x00_0ffc);
    /// The bits whose fields this crate knows by name: 0-11 and 22.
    pub const DEFINED: Self = Self(0xff_f002);
    /// The value that RFC 9322 §4 requires when the Loopback flag is set.
    pub const LOOPBACK_ONLY: Self = Self::HOP_LIM_NODE_ID;

    const fn bit_unchecked(k: u8) -> Self {
        Self(1 << (23 - k as u32))
    }

    /// The bit set from a 24-bit value; `None` if `bits` uses more than 24 bits.
    #[must_use]
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits > 0xff_ffff {
            None
        } else {
            Some(Self(bits))
        }
    }

    /// The bit set from the low 24 bits of `bits`.
    #[must_use]
    pub const fn from_bits_truncate(bits: u32) -> Self {
        Self(bits & 0xff_ffff)
    }

    /// RFC bit `k` (0 = most significant); `None` if `k > 23`.
    #[must_use]
    pub const fn bit(k: u8) -> Option<Self> {
        if k > 23 {
            None
        } else {
            Some(Self::bit_unchecked(k))
        }
    }

    /// The 24-bit value.
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set in `self`.
    #[must_use]
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether RFC bit `k` is set (false for `k > 23`).
    #[must_use]
    pub const fn has_bit(self, k: u8) -> bool {
        k <= 23 && self.0 & (1 << (23 - k as u32)) != 0
    }

    /// Whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits set in both.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The bits set in either.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The bits of `self` not in `other`.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Words one node adds for its data fields, excluding the opaque state
    /// snapshot: one per bit 0-7, 11, 12-21, two per bit 8-10, none for
    /// bits 22 and 23 (RFC 9197 §4.4.1; Linux `ioam6_trace_compute_nodelen`).
    ///
    /// The result is at most 25, so it always fits NodeLen's 5 bits.
    #[must_use]
    #[inline]
    pub const fn node_len(self) -> u8 {
        // Bits 0-11 by table lookup; the undefined bits are rarely set.
        let named = named_fields_len(self.0) / 4;
        let undefined = self.0 & Self::UNDEFINED.0;
        if undefined == 0 {
            named
        } else {
            named + undefined.count_ones() as u8
        }
    }

    /// Whether bit 22 (opaque state snapshot) is set.
    #[must_use]
    pub const fn has_oss(self) -> bool {
        self.contains(Self::OPAQUE_STATE)
    }

    /// The undefined bits 12-21 that are set.
    #[must_use]
    pub const fn undefined_bits(self) -> Self {
        self.intersection(Self::UNDEFINED)
    }

    /// Word offset, inside a record, of the field of RFC bit `k`: the words
    /// of the set bits before it. Meaningful for `k <= 21`. The reference
    /// that [`crate::RecordLayout`] is tested against.
    #[cfg(test)]
    #[must_use]
    pub(crate) const fn word_offset(self, k: u8) -> usize {
        // Bits 0..k are the values above 1 << (23 - k).
        let before = self.0 & !((1u32 << (24 - k as u32)) - 1) & 0xff_ffff;
        Self(before).node_len() as usize
    }

    /// The set bits, most significant (RFC bit 0) first, as RFC bit numbers.
    pub fn iter_bits(self) -> impl Iterator<Item = u8> {
        (0u8..24).filter(move |&k| self.has_bit(k))
    }
}

/// Bytes of the fields of bits 0-7, for every value of those bits (one
/// word per bit; a table load is cheaper than a population count on the
/// baseline x86-64 target).
pub(crate) const FIRST_BYTE_LEN: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut value = 0;
    while value < 256 {
        table[value] = (value as u8).count_ones() as u8 * 4;
        value += 1;
    }
    table
};

/// Bytes of the fields of bits 8-11 (two words each for 8-10, one for 11),
/// for every value of those bits.
const WIDE_LEN: [u8; 16] = {
    let mut table = [0u8; 16];
    let mut value = 0;
    while value < 16 {
        let v = value as u8;
        table[value] = ((v >> 1).count_ones() as u8) * 8 + (v & 1) * 4;
        value += 1;
    }
    table
};

/// Bytes of the fields of bits 0-11 of the 24-bit `bits`: two table
/// lookups, no bit counting.
#[inline]
const fn named_fields_len(bits: u32) -> u8 {
    FIRST_BYTE_LEN[((bits >> 16) & 0xff) as usize] + WIDE_LEN[((bits >> 12) & 0xf) as usize]
}

impl BitOr for TraceType {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for TraceType {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl BitAnd for TraceType {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        self.intersection(rhs)
    }
}

impl fmt::Display for TraceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#08x}", self.0)
    }
}

impl fmt::Debug for TraceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceType({:#08x})", self.0)
    }
}

impl fmt::LowerHex for TraceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for TraceType {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bits_truncate(u32::arbitrary(u)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_values() {
        assert_eq!(TraceType::HOP_LIM_NODE_ID.bits(), 0x80_0000);
        assert_eq!(TraceType::BUFFER_OCCUPANCY.bits(), 0x00_1000);
        assert_eq!(TraceType::UNDEFINED_12.bits(), 0x00_0800);
        assert_eq!(TraceType::UNDEFINED_21.bits(), 0x00_0004);
        assert_eq!(TraceType::OPAQUE_STATE.bits(), 0x00_0002);
        assert_eq!(TraceType::RESERVED_23.bits(), 0x00_0001);
        assert_eq!(TraceType::bit(24), None);
        assert_eq!(TraceType::from_bits(0x100_0000), None);
    }

    #[test]
    fn node_len_examples() {
        // RFC 9197 §4.4.1: 0xfff002 gives NodeLen 15 (bits 8-10 two words).
        assert_eq!(TraceType::from_bits_truncate(0xfff002).node_len(), 15);
        assert_eq!(TraceType::from_bits_truncate(0x800002).node_len(), 1);
        assert_eq!(TraceType::from_bits_truncate(0x000002).node_len(), 0);
        assert_eq!(TraceType::from_bits_truncate(0xffffff).node_len(), 25);
        assert_eq!(TraceType::UNDEFINED.node_len(), 10);
        assert_eq!(TraceType::WIDE_FIELDS.node_len(), 6);
    }

    #[test]
    fn node_len_matches_linux_masks() {
        // Linux masks work on the type shifted left by 8 (with the Reserved byte).
        for bits in [
            0u32, 0xfff002, 0x800000, 0xffffff, 0x0ff000, 0x00e002, 0x123456,
        ] {
            let t = TraceType::from_bits_truncate(bits);
            let w = bits << 8;
            let linux = (w & 0xff1f_fc00).count_ones() + 2 * (w & 0x00e0_0000).count_ones();
            assert_eq!(u32::from(t.node_len()), linux, "{bits:#x}");
        }
    }

    #[test]
    fn node_len_matches_bit_counting_for_every_named_combination() {
        // All 4096 values of bits 0-11, with and without undefined bits,
        // bit 22 and bit 23.
        for named in 0u32..4096 {
            for low in [0u32, 0x000002, 0x000001, 0x000800, 0x000ffc, 0x0005a6] {
                let bits = (named << 12) | low;
                let t = TraceType::from_bits_truncate(bits);
                let want = (bits & TraceType::SHORT_FIELDS.0).count_ones()
                    + 2 * (bits & TraceType::WIDE_FIELDS.0).count_ones();
                assert_eq!(u32::from(t.node_len()), want, "{bits:#x}");
            }
        }
    }

    #[test]
    fn node_len_every_single_bit() {
        for k in 0..24u8 {
            let t = TraceType::bit(k).unwrap();
            let want = match k {
                8..=10 => 2,
                22 | 23 => 0,
                _ => 1,
            };
            assert_eq!(t.node_len(), want, "bit {k}");
        }
    }

    #[test]
    fn word_offsets() {
        let t = TraceType::from_bits_truncate(0xfff002);
        assert_eq!(t.word_offset(0), 0);
        assert_eq!(t.word_offset(1), 1);
        assert_eq!(t.word_offset(8), 8);
        assert_eq!(t.word_offset(9), 10);
        assert_eq!(t.word_offset(10), 12);
        assert_eq!(t.word_offset(11), 14);
        let t = TraceType::NAMESPACE_DATA | TraceType::UNDEFINED_21;
        assert_eq!(t.word_offset(21), 1);
    }

    #[test]
    fn iter_bits_in_rfc_order() {
        let t = TraceType::from_bits_truncate(0x800002);
        let mut it = t.iter_bits();
        assert_eq!(it.next(), Some(0));
        assert_eq!(it.next(), Some(22));
        assert_eq!(it.next(), None);
    }
}

/// proptest strategies for trace types.
#[cfg(test)]
pub(crate) mod strategy {
    use super::TraceType;
    use proptest::prelude::*;

    /// Any non-empty 24-bit trace type, biased towards the small types
    /// used in practice so that records often fit.
    pub(crate) fn trace_type() -> impl Strategy<Value = TraceType> {
        prop_oneof![
            (1u32..=0xff_ffff).prop_map(TraceType::from_bits_truncate),
            (1u32..=0xff_ffff)
                .prop_map(|b| TraceType::from_bits_truncate((b & 0xf0_0002) | 0x80_0000)),
            (1u32..=0xff_ffff)
                .prop_map(|b| TraceType::from_bits_truncate((b & 0xff_f002) | 0x00_0002)),
            (1u32..=0xff_ffff)
                .prop_map(|b| TraceType::from_bits_truncate((b & 0x0c_0c02) | 0x40_0000)),
        ]
    }
}
