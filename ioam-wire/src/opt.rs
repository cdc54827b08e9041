//! The options area of Hop-by-Hop and Destination Options headers
//! (RFC 8200 §4.2): Pad1, PadN, IOAM (RFC 9486) and other TLVs.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! |  Option Type  |  Opt Data Len |  Option Data
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//! ```
//! Pad1 is a lone `00` byte; every other option is a TLV.

use core::fmt;
use core::iter::FusedIterator;

use zerocopy::FromBytes;

use crate::error::{Layer, Rule, WireError};
use crate::ioam::{is_ioam_option_type, IoamOption, RawIoamOptionHeader};

/// Option type of Pad1 (RFC 8200 §4.2).
pub const OPT_PAD1: u8 = 0x00;
/// Option type of PadN (RFC 8200 §4.2).
pub const OPT_PADN: u8 = 0x01;

pub use crate::mode::Mode;

/// What a node that does not recognise an option must do, from the two
/// high bits of the option type (RFC 8200 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptAction {
    /// `00`: skip the option and continue.
    Skip,
    /// `01`: discard the packet.
    Discard,
    /// `10`: discard and send an ICMP Parameter Problem.
    DiscardIcmp,
    /// `11`: discard and send an ICMP Parameter Problem unless the
    /// destination is multicast.
    DiscardIcmpUnlessMulticast,
}

/// The action bits of an option type byte (RFC 8200 §4.2).
#[inline]
pub const fn option_action(option_type: u8) -> OptAction {
    match option_type >> 6 {
        0 => OptAction::Skip,
        1 => OptAction::Discard,
        2 => OptAction::DiscardIcmp,
        _ => OptAction::DiscardIcmpUnlessMulticast,
    }
}

/// Whether an option type byte says its data may change en route (the
/// third-highest bit, RFC 8200 §4.2).
#[inline]
pub const fn option_may_change(option_type: u8) -> bool {
    option_type & 0x20 != 0
}

/// An option this crate does not interpret, kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOption<'a> {
    /// Offset of the option type byte from the start of the extension
    /// header.
    pub offset: usize,
    /// The option type byte.
    pub option_type: u8,
    /// The option data (Opt Data Len bytes).
    pub data: &'a [u8],
}

impl UnknownOption<'_> {
    /// What a node that does not know the option must do.
    #[inline]
    pub const fn action(&self) -> OptAction {
        option_action(self.option_type)
    }

    /// Whether the option data may change en route.
    #[inline]
    pub const fn may_change(&self) -> bool {
        option_may_change(self.option_type)
    }

    /// Total bytes of the option, type byte included.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        self.data.len() + 2
    }
}

/// One item of an options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt<'a> {
    /// A Pad1 byte.
    Pad1 {
        /// Offset from the start of the extension header.
        offset: usize,
    },
    /// A PadN option.
    PadN {
        /// Offset from the start of the extension header.
        offset: usize,
        /// Total bytes of the option (2 + Opt Data Len).
        len: usize,
    },
    /// An IOAM option (type 0x31 or 0x11).
    Ioam(IoamOption<'a>),
    /// Any other option.
    Unknown(UnknownOption<'a>),
}

impl Opt<'_> {
    /// Offset of the option from the start of the extension header.
    #[inline]
    pub const fn offset(&self) -> usize {
        match self {
            Opt::Pad1 { offset } | Opt::PadN { offset, .. } => *offset,
            Opt::Ioam(o) => o.offset,
            Opt::Unknown(o) => o.offset,
        }
    }

    /// Total bytes of the option, type byte included.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        match self {
            Opt::Pad1 { .. } => 1,
            Opt::PadN { len, .. } => *len,
            Opt::Ioam(o) => o.len(),
            Opt::Unknown(o) => o.len(),
        }
    }

    /// The option type byte.
    #[inline]
    pub const fn option_type(&self) -> u8 {
        match self {
            Opt::Pad1 { .. } => OPT_PAD1,
            Opt::PadN { .. } => OPT_PADN,
            Opt::Ioam(o) => o.option_type,
            Opt::Unknown(o) => o.option_type,
        }
    }

    /// Whether the item is Pad1 or PadN.
    #[inline]
    pub const fn is_padding(&self) -> bool {
        matches!(self, Opt::Pad1 { .. } | Opt::PadN { .. })
    }
}

impl fmt::Display for Opt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Pad1 { offset } => write!(f, "Pad1 @{offset}"),
            Opt::PadN { offset, len } => write!(f, "PadN({len}) @{offset}"),
            Opt::Ioam(o) => write!(
                f,
                "IOAM 0x{:02x} {} body {} bytes @{}",
                o.option_type,
                o.ioam_type,
                o.body.len(),
                o.offset
            ),
            Opt::Unknown(o) => write!(
                f,
                "option 0x{:02x} ({} data bytes) @{}",
                o.option_type,
                o.data.len(),
                o.offset
            ),
        }
    }
}

/// A fused iterator over the options of one Hop-by-Hop or Destination
/// Options header (RFC 8200 §4.2).
///
/// Items are `Result<Opt, WireError>`; after an error it yields nothing
/// more. Offsets in items and errors are from the start of the extension
/// header (the Next Header byte), which is also what 4n alignment is
/// measured from.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    area: &'a [u8],
    base: usize,
    pos: usize,
    pad_run: usize,
    mode: Mode,
    short_header: bool,
    done: bool,
}

impl<'a> Options<'a> {
    /// Iterates the options of a whole extension header (`header` starts at
    /// its Next Header byte and ends where the header ends; the 2-byte
    /// Next Header / Hdr Ext Len prefix is skipped). A slice shorter than 2
    /// bytes yields one [`WireError::Truncated`].
    #[inline]
    pub fn new(header: &'a [u8], mode: Mode) -> Self {
        match header.get(2..) {
            Some(area) => Self::from_area(area, 2, mode),
            None => Options {
                area: header,
                base: 0,
                pos: 0,
                pad_run: 0,
                mode,
                short_header: true,
                done: false,
            },
        }
    }

    /// Iterates an options area alone; `base` is the offset of its first
    /// byte from the start of its extension header (2 for a whole area).
    #[inline]
    pub const fn from_area(area: &'a [u8], base: usize, mode: Mode) -> Self {
        Options {
            area,
            base,
            pos: 0,
            pad_run: 0,
            mode,
            short_header: false,
            done: false,
        }
    }

    /// Offset (from the header start) of the next option to be read.
    #[inline]
    pub const fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, e: WireError) -> Option<Result<Opt<'a>, WireError>> {
        self.done = true;
        Some(Err(e))
    }

    /// One step of the walk. With `ALL` every option is an item (the
    /// iterator); without it, padding and options other than IOAM are
    /// checked in the same way and passed over inside the loop, so that
    /// only an IOAM option, an error or the end comes back
    /// ([`Options::next_ioam`]).
    #[inline(always)]
    fn step<const ALL: bool>(&mut self) -> Option<Result<Opt<'a>, WireError>> {
        if self.done {
            return None;
        }
        if self.short_header {
            // Built by `new` from a slice without room for the prefix.
            return self.fail(WireError::Truncated {
                layer: Layer::Option(OPT_PAD1),
                offset: 0,
                required: 2,
                actual: self.area.len(),
            });
        }
        let strict = self.mode == Mode::Strict;
        loop {
            let offset = self.base + self.pos;
            let rest = match self.area.get(self.pos..) {
                Some(r) if !r.is_empty() => r,
                _ => {
                    self.done = true;
                    return None;
                }
            };
            let t = rest[0];
            if t == OPT_PAD1 {
                self.pad_run += 1;
                self.pos += 1;
                if strict && self.pad_run > 7 {
                    return self.fail(WireError::invalid(
                        Rule::PadRunTooLong(self.pad_run),
                        offset,
                    ));
                }
                if ALL {
                    return Some(Ok(Opt::Pad1 { offset }));
                }
                continue;
            }
            if rest.len() < 2 {
                return self.fail(WireError::Truncated {
                    layer: Layer::Option(t),
                    offset,
                    required: 2,
                    actual: rest.len(),
                });
            }
            let data_len = rest[1];
            let total = usize::from(data_len) + 2;
            let Some(opt) = rest.get(..total) else {
                return self.fail(WireError::Truncated {
                    layer: Layer::Option(t),
                    offset,
                    required: total,
                    actual: rest.len(),
                });
            };
            let data = &opt[2..];
            self.pos += total;
            if t == OPT_PADN {
                self.pad_run += total;
                if strict {
                    if self.pad_run > 7 {
                        return self.fail(WireError::invalid(
                            Rule::PadRunTooLong(self.pad_run),
                            offset,
                        ));
                    }
                    if data.iter().any(|&b| b != 0) {
                        return self.fail(WireError::invalid(Rule::PadNNonZero, offset));
                    }
                }
                if ALL {
                    return Some(Ok(Opt::PadN { offset, len: total }));
                }
                continue;
            }
            self.pad_run = 0;
            if is_ioam_option_type(t) {
                let Ok((header, body)) = RawIoamOptionHeader::ref_from_prefix(opt) else {
                    return self.fail(WireError::invalid(
                        Rule::IoamDataLenTooShort(data_len),
                        offset,
                    ));
                };
                if strict && !offset.is_multiple_of(4) {
                    return self.fail(WireError::invalid(Rule::IoamMisaligned, offset));
                }
                return Some(Ok(Opt::Ioam(IoamOption::from_raw(offset, header, body))));
            }
            if ALL {
                return Some(Ok(Opt::Unknown(UnknownOption {
                    offset,
                    option_type: t,
                    data,
                })));
            }
        }
    }

    /// The next IOAM option of the area: padding and other options are
    /// checked as the iterator checks them (in the same [`Mode`], with
    /// the same errors) and passed over without an item each. The walk a
    /// packet parser wants; [`IoamOptions`](crate::packet::IoamOptions)
    /// runs on it.
    ///
    /// ```
    /// use ioam_wire::opt::{Mode, Options};
    /// // NH, HEL | PadN(0) | IOAM pre-allocated trace, 12 body bytes | PadN(2)
    /// let header = [17, 2, 1, 0, 0x31, 14, 0, 0, 0, 0x7b, 0x08, 0x01,
    ///               0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0];
    /// let mut opts = Options::new(&header, Mode::Strict);
    /// let ioam = opts.next_ioam().unwrap()?;
    /// assert_eq!((ioam.offset, ioam.body.len()), (4, 12));
    /// assert!(opts.next_ioam().is_none());
    /// # Ok::<(), ioam_wire::WireError>(())
    /// ```
    #[inline]
    pub fn next_ioam(&mut self) -> Option<Result<IoamOption<'a>, WireError>> {
        loop {
            match self.step::<false>()? {
                Ok(Opt::Ioam(o)) => return Some(Ok(o)),
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<Opt<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.step::<true>()
    }
}

impl FusedIterator for Options<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ioam::IoamType;
    use crate::ioam::{OPT_IOAM, OPT_IOAM_NOCHANGE};

    fn collect<'a>(h: &'a [u8], mode: Mode) -> ([Option<Opt<'a>>; 16], Option<WireError>) {
        let mut out = [None; 16];
        let mut err = None;
        for (i, o) in Options::new(h, mode).enumerate() {
            match o {
                Ok(o) => out[i] = Some(o),
                Err(e) => err = Some(e),
            }
        }
        (out, err)
    }

    /// Linux ioam6 selftest encapsulation of trace type 0x800000 with room
    /// for 1 node (RemLen 1): HEL 2, PadN(0), IOAM 0x31 len 14, trace
    /// header, 4 bytes of data, PadN(2).
    const LINUX_800000: [u8; 24] = [
        0x11, 0x02, // NH UDP, HEL 2
        0x01, 0x00, // PadN, 0 data bytes
        0x31, 0x0e, 0x00, 0x00, // IOAM, len 14, reserved, pre-allocated
        0x00, 0x7b, 0x08, 0x01, // ns 123, nodelen 1, flags 0, remlen 1
        0x80, 0x00, 0x00, 0x00, // type 0x800000, reserved
        0x00, 0x00, 0x00, 0x00, // data
        0x01, 0x02, 0x00, 0x00, // PadN 2
    ];

    #[test]
    fn parses_linux_layout() {
        let (opts, err) = collect(&LINUX_800000, Mode::Strict);
        assert_eq!(err, None);
        assert_eq!(opts[0], Some(Opt::PadN { offset: 2, len: 2 }));
        let Some(Opt::Ioam(io)) = opts[1] else {
            panic!("{:?}", opts[1])
        };
        assert_eq!(io.offset, 4);
        assert_eq!(io.option_type, OPT_IOAM);
        assert_eq!(io.ioam_type, IoamType::PreallocatedTrace);
        assert_eq!(io.body_offset, 8);
        assert_eq!(io.body, &LINUX_800000[8..20]);
        assert_eq!(io.data_len(), 14);
        assert_eq!(opts[2], Some(Opt::PadN { offset: 20, len: 4 }));
        assert_eq!(opts[3], None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for cut in 0..LINUX_800000.len() {
            let h = &LINUX_800000[..cut];
            let res: Result<usize, _> =
                Options::new(h, Mode::Lenient).try_fold(0, |n, o| o.map(|_| n + 1));
            match cut {
                // Cut at an option boundary: a valid, shorter area.
                2 => assert_eq!(res, Ok(0)),
                4 => assert_eq!(res, Ok(1)),
                20 => assert_eq!(res, Ok(2)),
                _ => {
                    let e = res.unwrap_err();
                    let Some((offset, required, actual)) = e.truncated() else {
                        panic!("{cut}: {e:?}");
                    };
                    assert!(actual < required, "{cut}: {e:?}");
                    if cut >= 2 {
                        assert_eq!(offset + actual, cut, "{cut}: {e:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn pad_rules_strict_vs_lenient() {
        // 8 consecutive pad bytes: Pad1 x2 + PadN(4) + Pad1 x... in an
        // 16-byte header: 2 + 8 pads + unknown option (6 bytes).
        let h = [17, 1, 0, 0, 1, 4, 0, 0, 0, 0, 0x3e, 4, 1, 2, 3, 4];
        let (_, err) = collect(&h, Mode::Strict);
        assert_eq!(err, Some(WireError::invalid(Rule::PadRunTooLong(8), 4)));
        let (opts, err) = collect(&h, Mode::Lenient);
        assert_eq!(err, None);
        let Some(Opt::Unknown(u)) = opts[3] else {
            panic!()
        };
        assert_eq!(
            (u.offset, u.option_type, u.data),
            (10, 0x3e, &[1u8, 2, 3, 4][..])
        );
        assert_eq!(u.action(), OptAction::Skip);
        assert!(u.may_change());
        // 8 Pad1 in a row.
        let h = [17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 2, 0, 0, 0, 0];
        let (_, err) = collect(&h, Mode::Strict);
        assert_eq!(err, Some(WireError::invalid(Rule::PadRunTooLong(8), 9)));
        // Non-zero PadN.
        let h = [17, 0, 1, 4, 0, 0, 9, 0];
        let (_, err) = collect(&h, Mode::Strict);
        assert_eq!(err, Some(WireError::invalid(Rule::PadNNonZero, 2)));
        let (opts, err) = collect(&h, Mode::Lenient);
        assert_eq!(
            (opts[0], err),
            (Some(Opt::PadN { offset: 2, len: 6 }), None)
        );
        // Padding runs reset after a non-pad option.
        let h = [17, 1, 1, 4, 0, 0, 0, 0, 0x3e, 0, 1, 4, 0, 0, 0, 0];
        assert_eq!(collect(&h, Mode::Strict).1, None);
    }

    #[test]
    fn ioam_rules() {
        // Misaligned: IOAM at offset 2.
        let h = [17, 0, 0x31, 2, 0, 0, 1, 0];
        assert_eq!(
            collect(&h, Mode::Strict).1,
            Some(WireError::invalid(Rule::IoamMisaligned, 2))
        );
        let (opts, err) = collect(&h, Mode::Lenient);
        assert_eq!(err, None);
        let Some(Opt::Ioam(io)) = opts[0] else {
            panic!()
        };
        assert!(!io.is_aligned());
        assert!(io.body.is_empty());
        // OptDataLen 1 and 0: too short in both modes.
        for len in [0u8, 1] {
            let mut h = [17, 0, 1, 0, OPT_IOAM_NOCHANGE, len, 0, 0];
            if len == 0 {
                h[6] = 1; // PadN to end
                h[7] = 0;
            }
            for mode in [Mode::Strict, Mode::Lenient] {
                assert_eq!(
                    collect(&h, mode).1,
                    Some(WireError::invalid(Rule::IoamDataLenTooShort(len), 4))
                );
            }
        }
    }

    #[test]
    fn overrun_reports_offset_and_lengths() {
        let h = [17, 0, 1, 0, 0x31, 6, 0, 0];
        assert_eq!(
            collect(&h, Mode::Strict).1,
            Some(WireError::Truncated {
                layer: Layer::Option(0x31),
                offset: 4,
                required: 8,
                actual: 4
            })
        );
        assert_eq!(
            collect(&[17], Mode::Strict).1,
            Some(WireError::Truncated {
                layer: Layer::Option(0),
                offset: 0,
                required: 2,
                actual: 1
            })
        );
    }

    #[test]
    fn action_bits() {
        assert_eq!(option_action(0x31), OptAction::Skip);
        assert_eq!(option_action(0x5f), OptAction::Discard);
        assert_eq!(option_action(0x80), OptAction::DiscardIcmp);
        assert_eq!(option_action(0xc2), OptAction::DiscardIcmpUnlessMulticast);
        assert!(option_may_change(0x31));
        assert!(!option_may_change(0x11));
    }

    #[test]
    fn fused_after_error() {
        let h = [17, 0, 0x31, 2, 0, 0, 1, 0];
        let mut it = Options::new(&h, Mode::Strict);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }
}

#[cfg(test)]
mod proptests {
    extern crate alloc;

    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    /// Option bytes biased toward the types the walk tells apart.
    fn header() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(OPT_PAD1),
            Just(OPT_PADN),
            Just(0x31u8),
            Just(0x11u8),
            Just(0x1eu8),
            0u8..8,
            any::<u8>(),
        ];
        proptest::collection::vec(byte, 0..48)
    }

    proptest! {
        /// `next_ioam` yields the IOAM items of the iterator, in order,
        /// then the iterator's error (if any) and nothing after it.
        #[test]
        fn next_ioam_is_the_iterators_ioam_items(h in header()) {
            for mode in [Mode::Strict, Mode::Lenient] {
                let mut want = Vec::new();
                for o in Options::new(&h, mode) {
                    match o {
                        Ok(Opt::Ioam(io)) => want.push(Ok(io)),
                        Ok(_) => {}
                        Err(e) => want.push(Err(e)),
                    }
                }
                let mut opts = Options::new(&h, mode);
                let got: Vec<_> = core::iter::from_fn(|| opts.next_ioam()).collect();
                prop_assert_eq!(&got, &want);
                prop_assert!(opts.next_ioam().is_none());
            }
        }
    }
}
