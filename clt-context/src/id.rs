//! Trace and span identifiers (W3C Trace Context §3.2.2.3 and §3.2.2.4).
//!
//! [`TraceId`] (16 bytes), [`SpanId`] (8 bytes) and [`TraceFlags`] (1 byte)
//! are the three values a CLT packet carries. They print as lowercase hex
//! and parse from lowercase hex only, as the W3C recommendation requires for
//! the `traceparent` header. The all-zero identifiers are representable (they
//! are what an empty opaque state decodes to) but are *invalid* as a context:
//! see [`TraceId::is_valid`] and [`SpanContext::is_valid`].

use core::fmt;
use core::str::FromStr;

use crate::error::{DigitKind, TraceparentError, TraceparentField};

/// Lowercase hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex, two digits per byte, through
/// [`hex_into`] and a stack buffer (one `write_str` per 32 bytes).
pub(crate) fn write_hex(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        let n = hex_into(chunk, &mut buf);
        // Hex digits only: always ASCII.
        f.write_str(
            core::str::from_utf8(buf.get(..n).unwrap_or_default()).map_err(|_| fmt::Error)?,
        )?;
    }
    Ok(())
}

/// The eight lowercase hex digits of `x` as ASCII in a little-endian word
/// (the most significant digit in the low byte), built in a register: the
/// nibbles are spread one per byte (halves, then quarters, then nibbles),
/// put in reading order by a byte swap, and turned into digits by adding
/// `'0'`, plus `'a' - '0' - 10` where a nibble is 10 or more (found by a
/// carry out of `nibble + 6` into bit 4).
#[inline(always)]
pub(crate) const fn hex_word(x: u32) -> u64 {
    const LOW: u64 = 0x0101_0101_0101_0101;
    let x = x as u64;
    let x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    let x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    let x = ((x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f).swap_bytes();
    let letters = ((x + 6 * LOW) >> 4) & LOW;
    x + 0x30 * LOW + letters * (b'a' - b'0' - 10) as u64
}

/// Writes the lowercase hex of `bytes` at the start of `out`, two digits
/// per byte, as far as `out` reaches; returns the bytes written
/// (`2 * bytes.len()` when `out` is long enough). Four input bytes at a
/// time through [`hex_word`], stored as one word.
#[inline]
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) -> usize {
    let n = bytes.len().min(out.len() / 2);
    let (Some(bytes), Some(out)) = (bytes.get(..n), out.get_mut(..2 * n)) else {
        return 0;
    };
    let mut ins = bytes.chunks_exact(4);
    let mut outs = out.chunks_exact_mut(8);
    for (i, o) in (&mut ins).zip(&mut outs) {
        let w = u32::from_be_bytes([i[0], i[1], i[2], i[3]]);
        o.copy_from_slice(&hex_word(w).to_le_bytes());
    }
    for (&b, pair) in ins
        .remainder()
        .iter()
        .zip(outs.into_remainder().chunks_exact_mut(2))
    {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0x0f)];
    }
    2 * n
}

/// Value of one lowercase hex digit.
pub(crate) const fn hex_val(c: u8) -> Result<u8, DigitKind> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Err(DigitKind::Uppercase),
        _ => Err(DigitKind::NotHex),
    }
}

/// Decodes `2 * N` lowercase hex characters into `N` bytes.
///
/// On error returns the offset (within `s`) of the first bad character.
pub(crate) fn decode_hex<const N: usize>(s: &[u8]) -> Result<[u8; N], (usize, DigitKind)> {
    let mut out = [0u8; N];
    for (i, (byte, pair)) in out.iter_mut().zip(s.chunks_exact(2)).enumerate() {
        let hi = hex_val(pair[0]).map_err(|e| (2 * i, e))?;
        let lo = hex_val(pair[1]).map_err(|e| (2 * i + 1, e))?;
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

fn parse_fixed<const N: usize>(
    s: &str,
    field: TraceparentField,
) -> Result<[u8; N], TraceparentError> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return Err(TraceparentError::IdLength {
            field,
            required: 2 * N,
            actual: b.len(),
        });
    }
    decode_hex::<N>(b).map_err(|(offset, kind)| TraceparentError::Digit {
        field,
        offset,
        kind,
    })
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $len:expr, $what:literal, $field:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;
            #[doc = concat!("The all-zero ", $what, ", which W3C Trace Context declares invalid.")]
            pub const INVALID: Self = Self([0; $len]);

            /// Wraps the bytes (network order, as in the hex text).
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The bytes, in the order of the hex text.
            pub const fn to_bytes(self) -> [u8; $len] {
                self.0
            }

            /// The bytes, borrowed.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            #[doc = concat!("Whether the ", $what, " is not all zero (W3C Trace Context 3.2.2).")]
            pub const fn is_valid(&self) -> bool {
                let mut i = 0;
                while i < $len {
                    if self.0[i] != 0 {
                        return true;
                    }
                    i += 1;
                }
                false
            }

            /// Lowercase hex text, without allocation.
            pub fn to_hex(&self) -> [u8; 2 * $len] {
                let mut out = [0u8; 2 * $len];
                hex_into(&self.0, &mut out);
                out
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl From<$name> for [u8; $len] {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            /// Lowercase hex, two digits per byte.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                write_hex(f, &self.0)?;
                f.write_str(")")
            }
        }

        impl FromStr for $name {
            type Err = TraceparentError;

            /// Parses exactly the lowercase hex digits of the identifier
            /// (uppercase is rejected, as in `traceparent`). The all-zero
            /// value parses; check [`Self::is_valid`] where it matters.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_fixed::<$len>(s, TraceparentField::$field).map(Self)
            }
        }
    };
}

id_type!(
    /// A 16-byte trace identifier (W3C Trace Context §3.2.2.3, OpenTelemetry `TraceId`).
    ///
    /// The byte order is the order of the hex text: the CLT opaque state and
    /// the legacy CLT header carry these bytes unchanged (the legacy header
    /// as two big-endian 64-bit halves, which is the same thing).
    TraceId,
    16,
    "trace id",
    TraceId
);

id_type!(
    /// An 8-byte span identifier, the `parent-id` of W3C Trace Context §3.2.2.4.
    SpanId,
    8,
    "span id",
    ParentId
);

impl TraceId {
    /// Builds a trace id from its big-endian high and low 64-bit halves
    /// (the layout of the legacy CLT header and of the ioam-api `TraceId_High`/`TraceId_Low`).
    pub const fn from_halves(high: u64, low: u64) -> Self {
        let h = high.to_be_bytes();
        let l = low.to_be_bytes();
        let mut b = [0u8; 16];
        let mut i = 0;
        while i < 8 {
            b[i] = h[i];
            b[i + 8] = l[i];
            i += 1;
        }
        Self(b)
    }

    /// The big-endian high and low 64-bit halves.
    pub const fn halves(&self) -> (u64, u64) {
        let mut h = [0u8; 8];
        let mut l = [0u8; 8];
        let mut i = 0;
        while i < 8 {
            h[i] = self.0[i];
            l[i] = self.0[i + 8];
            i += 1;
        }
        (u64::from_be_bytes(h), u64::from_be_bytes(l))
    }
}

impl SpanId {
    /// Builds a span id from a big-endian 64-bit integer.
    pub const fn from_u64(v: u64) -> Self {
        Self(v.to_be_bytes())
    }

    /// The span id as a big-endian 64-bit integer.
    pub const fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }
}

/// The 8-bit `trace-flags` field (W3C Trace Context §3.2.2.5).
///
/// Known bits are [`TraceFlags::SAMPLED`] (0x01) and [`TraceFlags::RANDOM`]
/// (0x02, Trace Context Level 2). Unknown bits are kept as given so that they
/// round-trip; [`TraceFlags::known`] drops them. Bits are always tested with
/// masks, never by comparing the whole byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TraceFlags(pub u8);

impl TraceFlags {
    /// No flag set.
    pub const NONE: Self = Self(0);
    /// `sampled` (bit mask 0x01): the caller may have recorded the trace.
    pub const SAMPLED: Self = Self(0x01);
    /// `random` (bit mask 0x02, Level 2): the trace id's rightmost 7 bytes are random.
    pub const RANDOM: Self = Self(0x02);
    /// Mask of every bit this crate knows.
    pub const KNOWN_MASK: u8 = 0x03;

    /// Wraps a raw flags byte, unknown bits included.
    pub const fn new(bits: u8) -> Self {
        Self(bits)
    }

    /// The raw byte.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the `sampled` bit (0x01) is set.
    pub const fn is_sampled(self) -> bool {
        self.0 & Self::SAMPLED.0 != 0
    }

    /// Whether the `random` bit (0x02) is set.
    pub const fn is_random(self) -> bool {
        self.0 & Self::RANDOM.0 != 0
    }

    /// Returns the flags with `sampled` set or cleared.
    pub const fn with_sampled(self, on: bool) -> Self {
        if on {
            Self(self.0 | Self::SAMPLED.0)
        } else {
            Self(self.0 & !Self::SAMPLED.0)
        }
    }

    /// Returns the flags with `random` set or cleared.
    pub const fn with_random(self, on: bool) -> Self {
        if on {
            Self(self.0 | Self::RANDOM.0)
        } else {
            Self(self.0 & !Self::RANDOM.0)
        }
    }

    /// Only the known bits (what a Level 2 implementation keeps from a
    /// `traceparent` of a higher version).
    pub const fn known(self) -> Self {
        Self(self.0 & Self::KNOWN_MASK)
    }

    /// The bits this crate does not know.
    pub const fn unknown_bits(self) -> u8 {
        self.0 & !Self::KNOWN_MASK
    }
}

impl From<u8> for TraceFlags {
    fn from(b: u8) -> Self {
        Self(b)
    }
}

impl From<TraceFlags> for u8 {
    fn from(f: TraceFlags) -> Self {
        f.0
    }
}

impl core::ops::BitOr for TraceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl core::ops::BitAnd for TraceFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl fmt::Display for TraceFlags {
    /// Two lowercase hex digits, as in `traceparent`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &[self.0])
    }
}

impl fmt::Debug for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TraceFlags(")?;
        write_hex(f, &[self.0])?;
        if self.is_sampled() {
            f.write_str(" sampled")?;
        }
        if self.is_random() {
            f.write_str(" random")?;
        }
        f.write_str(")")
    }
}

impl FromStr for TraceFlags {
    type Err = TraceparentError;

    /// Parses exactly two lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_fixed::<1>(s, TraceparentField::TraceFlags).map(|[b]| Self(b))
    }
}

/// A span context: the trace, the span that sent the packet and the flags.
///
/// This is what a CLT packet carries (the CLT opaque state, crate README). `Display` and `FromStr`
/// use the version-00 `traceparent` form (W3C Trace Context §3.2), e.g.
/// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SpanContext {
    /// The trace the packet belongs to.
    pub trace_id: TraceId,
    /// The span that emitted the packet (the `parent-id` of `traceparent`).
    pub span_id: SpanId,
    /// The trace flags.
    pub flags: TraceFlags,
}

impl SpanContext {
    /// Builds a span context.
    pub const fn new(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Self {
        Self {
            trace_id,
            span_id,
            flags,
        }
    }

    /// Whether both identifiers are non-zero (W3C Trace Context §3.2.2.3-4).
    pub const fn is_valid(&self) -> bool {
        self.trace_id.is_valid() && self.span_id.is_valid()
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for the identifier types.
    use super::*;
    use proptest::prelude::*;

    /// Any trace id, all-zero included.
    pub(crate) fn any_trace_id() -> impl Strategy<Value = TraceId> {
        any::<[u8; 16]>().prop_map(TraceId)
    }

    /// Any span id, all-zero included.
    pub(crate) fn any_span_id() -> impl Strategy<Value = SpanId> {
        any::<[u8; 8]>().prop_map(SpanId)
    }

    /// Any span context, invalid ones included.
    pub(crate) fn any_span_context() -> impl Strategy<Value = SpanContext> {
        (any_trace_id(), any_span_id(), any::<u8>())
            .prop_map(|(t, s, f)| SpanContext::new(t, s, TraceFlags(f)))
    }

    /// A span context with non-zero identifiers.
    pub(crate) fn valid_span_context() -> impl Strategy<Value = SpanContext> {
        any_span_context().prop_filter("ids must be non-zero", SpanContext::is_valid)
    }
}

#[cfg(test)]
mod tests {
    use super::strategies::*;
    use super::*;
    use core::fmt::Write;
    use heapless::String;
    use proptest::prelude::*;

    fn show(v: &impl fmt::Display) -> String<128> {
        let mut s = String::new();
        write!(s, "{v}").unwrap();
        s
    }

    const TID: TraceId = TraceId([
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
        0x36,
    ]);

    #[test]
    fn hex_into_is_two_lowercase_digits_per_byte_as_far_as_out_reaches() {
        let bytes: [u8; 40] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        for n in 0..=bytes.len() {
            let mut want: String<80> = String::new();
            for b in &bytes[..n] {
                write!(want, "{b:02x}").unwrap();
            }
            // Every output length around the exact one, odd ones included.
            for room in (2 * n).saturating_sub(9)..=2 * n + 3 {
                let mut out = [b'!'; 86];
                let written = hex_into(&bytes[..n], &mut out[..room]);
                let fit = (room / 2).min(n) * 2;
                assert_eq!(written, fit, "{n} bytes into {room}");
                assert_eq!(
                    &out[..fit],
                    &want.as_bytes()[..fit],
                    "{n} bytes into {room}"
                );
                assert!(
                    out[fit..].iter().all(|&b| b == b'!'),
                    "{n} bytes into {room}: wrote past"
                );
            }
        }
        // Every byte value.
        let all: [u8; 256] = core::array::from_fn(|i| i as u8);
        let mut out = [0u8; 512];
        assert_eq!(hex_into(&all, &mut out), 512);
        for (b, pair) in all.iter().zip(out.chunks_exact(2)) {
            let mut want: String<2> = String::new();
            write!(want, "{b:02x}").unwrap();
            assert_eq!(pair, want.as_bytes());
        }
    }

    #[test]
    fn hex_word_is_eight_digits_in_reading_order() {
        let edges = (0..32).flat_map(|k| [1u32 << k, (1u32 << k) - 1, !(1u32 << k)]);
        let stride = (0..=u32::MAX).step_by(65_521);
        for x in edges
            .chain(stride)
            .chain([0, u32::MAX, 0x0123_4567, 0x89ab_cdef])
        {
            let mut want: String<8> = String::new();
            write!(want, "{x:08x}").unwrap();
            assert_eq!(&hex_word(x).to_le_bytes(), want.as_bytes(), "{x:#x}");
        }
    }

    #[test]
    fn trace_id_display_and_parse() {
        assert_eq!(show(&TID).as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            "4bf92f3577b34da6a3ce929d0e0e4736".parse::<TraceId>(),
            Ok(TID)
        );
        assert_eq!(&TID.to_hex(), b"4bf92f3577b34da6a3ce929d0e0e4736");
        let mut dbg = String::<64>::new();
        write!(dbg, "{TID:?}").unwrap();
        assert_eq!(dbg.as_str(), "TraceId(4bf92f3577b34da6a3ce929d0e0e4736)");
    }

    #[test]
    fn trace_id_halves() {
        let (h, l) = TID.halves();
        assert_eq!(h, 0x4bf9_2f35_77b3_4da6);
        assert_eq!(l, 0xa3ce_929d_0e0e_4736);
        assert_eq!(TraceId::from_halves(h, l), TID);
    }

    #[test]
    fn span_id_display_and_parse() {
        let s = SpanId::from_u64(0x00f0_67aa_0ba9_02b7);
        assert_eq!(show(&s).as_str(), "00f067aa0ba902b7");
        assert_eq!("00f067aa0ba902b7".parse::<SpanId>(), Ok(s));
        assert_eq!(s.to_u64(), 0x00f0_67aa_0ba9_02b7);
    }

    #[test]
    fn id_parse_errors() {
        assert_eq!(
            "4bf9".parse::<TraceId>(),
            Err(TraceparentError::IdLength {
                field: TraceparentField::TraceId,
                required: 32,
                actual: 4
            })
        );
        assert_eq!(
            "00f067aa0ba902B7".parse::<SpanId>(),
            Err(TraceparentError::Digit {
                field: TraceparentField::ParentId,
                offset: 14,
                kind: DigitKind::Uppercase
            })
        );
        assert_eq!(
            "00f067aa0ba9g2b7".parse::<SpanId>(),
            Err(TraceparentError::Digit {
                field: TraceparentField::ParentId,
                offset: 12,
                kind: DigitKind::NotHex
            })
        );
        // A multi-byte character counts by bytes and is not hex.
        assert_eq!(
            "00f067aa0ba902é".parse::<SpanId>(),
            Err(TraceparentError::Digit {
                field: TraceparentField::ParentId,
                offset: 14,
                kind: DigitKind::NotHex
            })
        );
        let e = "0".parse::<TraceFlags>().unwrap_err();
        assert_eq!(
            show(&e).as_str(),
            "trace-flags needs exactly 2 lowercase hex digits, got 1 characters"
        );
    }

    #[test]
    fn zero_ids_are_invalid_but_representable() {
        assert!(!TraceId::INVALID.is_valid());
        assert!(!SpanId::INVALID.is_valid());
        assert_eq!(
            "00000000000000000000000000000000".parse::<TraceId>(),
            Ok(TraceId::INVALID)
        );
        let mut t = TraceId::INVALID;
        t.0[15] = 1;
        assert!(t.is_valid());
    }

    #[test]
    fn flags_by_mask() {
        let f = TraceFlags(0x03);
        assert!(f.is_sampled() && f.is_random());
        let f = TraceFlags(0xfd);
        assert!(f.is_sampled());
        assert!(!f.is_random());
        assert_eq!(f.unknown_bits(), 0xfc);
        assert_eq!(f.known(), TraceFlags::SAMPLED);
        assert_eq!(TraceFlags::NONE.with_sampled(true), TraceFlags::SAMPLED);
        assert_eq!(TraceFlags(0x03).with_random(false), TraceFlags::SAMPLED);
        assert!((TraceFlags::SAMPLED | TraceFlags::RANDOM).contains(TraceFlags::RANDOM));
        assert_eq!(show(&TraceFlags(0xa1)).as_str(), "a1");
        assert_eq!("a1".parse::<TraceFlags>(), Ok(TraceFlags(0xa1)));
    }

    proptest! {
        #[test]
        fn trace_id_text_round_trip(t in any_trace_id()) {
            let s = show(&t);
            prop_assert_eq!(s.len(), 32);
            prop_assert!(s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
            prop_assert_eq!(s.parse::<TraceId>(), Ok(t));
        }

        #[test]
        fn span_id_text_round_trip(s in any_span_id()) {
            prop_assert_eq!(show(&s).parse::<SpanId>(), Ok(s));
        }

        #[test]
        fn span_context_text_round_trip(c in valid_span_context()) {
            prop_assert_eq!(show(&c).parse::<SpanContext>(), Ok(c));
        }

        #[test]
        fn id_parse_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<TraceId>();
            let _ = s.parse::<SpanId>();
            let _ = s.parse::<TraceFlags>();
        }
    }
}
