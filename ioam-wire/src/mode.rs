//! The one strict / lenient switch of every parser in `ioam-wire`,
//! `ioam-trace` and `clt-context`.

/// How strictly a parser checks what it reads.
///
/// Every parser of the three core crates takes this one enum (`ioam-trace`
/// and `clt-context` re-export it). What each mode accepts:
///
/// | rule | `Strict` | `Lenient` |
/// |---|---|---|
/// | more than 7 consecutive Pad1/PadN bytes (RFC 4942 §2.1.9.5) | error | accepted |
/// | PadN with a non-zero payload | error | accepted |
/// | IOAM option (0x31 or 0x11) not 4n from the start of its header (RFC 9486 §4) | error | accepted, reported by [`IoamOption::is_aligned`](crate::ioam::IoamOption::is_aligned) |
/// | trace NodeLen different from the value the trace type implies | error | accepted if NodeLen is at least that value (the extra words are kept) |
/// | trace type with no bit set | error | accepted (Linux transit forwards it) |
/// | lengths, truncation, RemainingLen beyond the data area | error | error |
///
/// `Strict` is what Linux 6.18 enforces on receive (`ip6_parse_tlv`,
/// `ipv6_hop_ioam`), so a packet a strict parse accepts is one a Linux IOAM
/// node forwards. `Lenient` follows RFC 9197 §4.4.1: receivers trust NodeLen
/// to step over records, and only what is needed to find boundaries is
/// checked. The Linux limit of 8 non-padding options is a sysctl and is not
/// enforced by either mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Mode {
    /// The rules Linux applies on receive.
    #[default]
    Strict,
    /// Only what RFC 9197 / RFC 8200 need to find the boundaries.
    Lenient,
}
