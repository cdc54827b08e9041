//! Timestamp conversions for trace-type bits 2 and 3 (RFC 9197 §4.4.2,
//! §4.4.2, formats of RFC 9197 §5).
//!
//! The format is chosen per namespace and not signalled in the packet. Linux
//! writes the POSIX format (seconds and microseconds of CLOCK_REALTIME).
//!
//! ```
//! use ioam_trace::timestamp::{posix_to_unix_nanos, ntp_to_unix_nanos, NTP_UNIX_OFFSET};
//! assert_eq!(posix_to_unix_nanos(1, 500_000), Some(1_500_000_000));
//! // NTP: 2^31 of 2^32 is half a second.
//! assert_eq!(ntp_to_unix_nanos(NTP_UNIX_OFFSET as u32 + 1, 1 << 31), Some(1_500_000_000));
//! ```

/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// The three timestamp formats of RFC 9197 §5. The default is POSIX, what
/// Linux writes. Names for configuration files and command lines:
/// [`TimestampFormat::name`] and [`TimestampFormat::from_name`] (`"posix"`,
/// `"ptp"`, `"ntp"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TimestampFormat {
    /// PTP truncated (RFC 9197 §5): seconds and nanoseconds since the PTP
    /// epoch (1970-01-01, on the PTP timescale; no leap-second correction is
    /// applied here).
    Ptp,
    /// NTP 64-bit (RFC 9197 §5): seconds since 1900-01-01 (era 0) and a
    /// fraction in units of 2^-32 s.
    Ntp,
    /// POSIX (RFC 9197 §5): seconds since 1970-01-01 and microseconds
    /// (what Linux writes).
    #[default]
    Posix,
}

impl TimestampFormat {
    /// Every format, in the order of RFC 9197 §5.
    pub const ALL: [TimestampFormat; 3] = [
        TimestampFormat::Ptp,
        TimestampFormat::Ntp,
        TimestampFormat::Posix,
    ];

    /// The format of a [`TimestampFormat::name`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The lowercase name: `"ptp"`, `"ntp"` or `"posix"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TimestampFormat::Ptp => "ptp",
            TimestampFormat::Ntp => "ntp",
            TimestampFormat::Posix => "posix",
        }
    }
}

impl core::fmt::Display for TimestampFormat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl TimestampFormat {
    /// Nanoseconds since the Unix epoch from the seconds (bit 2) and
    /// fraction (bit 3) words; see the per-format functions.
    #[must_use]
    pub const fn to_unix_nanos(self, secs: u32, frac: u32) -> Option<u64> {
        match self {
            TimestampFormat::Ptp => ptp_to_unix_nanos(secs, frac),
            TimestampFormat::Ntp => ntp_to_unix_nanos(secs, frac),
            TimestampFormat::Posix => posix_to_unix_nanos(secs, frac),
        }
    }

    /// The sub-second part in nanoseconds; `None` if out of range.
    #[must_use]
    pub const fn frac_to_nanos(self, frac: u32) -> Option<u32> {
        match self {
            TimestampFormat::Ptp => {
                if (frac as u64) < NANOS_PER_SEC {
                    Some(frac)
                } else {
                    None
                }
            }
            TimestampFormat::Ntp => Some(((frac as u64 * NANOS_PER_SEC) >> 32) as u32),
            TimestampFormat::Posix => {
                if frac < 1_000_000 {
                    Some(frac * 1000)
                } else {
                    None
                }
            }
        }
    }
}

/// PTP truncated: `secs` + `nanos`. `None` if `nanos` is not below 10^9.
#[must_use]
pub const fn ptp_to_unix_nanos(secs: u32, nanos: u32) -> Option<u64> {
    if nanos as u64 >= NANOS_PER_SEC {
        return None;
    }
    Some(secs as u64 * NANOS_PER_SEC + nanos as u64)
}

/// NTP 64-bit (era 0): seconds since 1900 and a 2^-32 s fraction, rounded
/// down to the nanosecond. `None` for instants before 1970.
#[must_use]
pub const fn ntp_to_unix_nanos(secs: u32, frac: u32) -> Option<u64> {
    if (secs as u64) < NTP_UNIX_OFFSET {
        return None;
    }
    let ns = (frac as u64 * NANOS_PER_SEC) >> 32;
    Some((secs as u64 - NTP_UNIX_OFFSET) * NANOS_PER_SEC + ns)
}

/// POSIX: seconds since 1970 and microseconds. `None` if `micros` is not
/// below 10^6.
#[must_use]
pub const fn posix_to_unix_nanos(secs: u32, micros: u32) -> Option<u64> {
    if micros >= 1_000_000 {
        return None;
    }
    Some(secs as u64 * NANOS_PER_SEC + micros as u64 * 1000)
}

/// Splits nanoseconds since the Unix epoch into the words a node writes in
/// the given format; `None` when the seconds do not fit 32 bits.
#[must_use]
pub const fn from_unix_nanos(format: TimestampFormat, nanos: u64) -> Option<(u32, u32)> {
    let secs = nanos / NANOS_PER_SEC;
    let sub = nanos % NANOS_PER_SEC;
    let (secs, frac) = match format {
        TimestampFormat::Ptp => (secs, sub),
        TimestampFormat::Posix => (secs, sub / 1000),
        TimestampFormat::Ntp => (secs + NTP_UNIX_OFFSET, (sub << 32) / NANOS_PER_SEC),
    };
    if secs > u32::MAX as u64 {
        return None;
    }
    Some((secs as u32, frac as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptp() {
        assert_eq!(ptp_to_unix_nanos(0, 0), Some(0));
        assert_eq!(ptp_to_unix_nanos(2, 999_999_999), Some(2_999_999_999));
        assert_eq!(ptp_to_unix_nanos(2, 1_000_000_000), None);
        assert_eq!(
            ptp_to_unix_nanos(u32::MAX, 0),
            Some(u64::from(u32::MAX) * 1_000_000_000)
        );
    }

    #[test]
    fn ntp() {
        assert_eq!(ntp_to_unix_nanos(2_208_988_800, 0), Some(0));
        assert_eq!(ntp_to_unix_nanos(2_208_988_799, u32::MAX), None);
        // 2^-32 s is 0.23 ns: rounds down to 0; the largest fraction to 999_999_999.
        assert_eq!(ntp_to_unix_nanos(2_208_988_800, 1), Some(0));
        assert_eq!(
            ntp_to_unix_nanos(2_208_988_800, u32::MAX),
            Some(999_999_999)
        );
        assert_eq!(
            ntp_to_unix_nanos(2_208_988_810, 1 << 30),
            Some(10_250_000_000)
        );
    }

    #[test]
    fn posix() {
        assert_eq!(
            posix_to_unix_nanos(1_700_000_000, 123_456),
            Some(1_700_000_000_123_456_000)
        );
        assert_eq!(posix_to_unix_nanos(1, 1_000_000), None);
    }

    #[test]
    fn round_trips() {
        let t = 1_764_000_000_123_456_789u64;
        let (s, f) = from_unix_nanos(TimestampFormat::Ptp, t).unwrap();
        assert_eq!(TimestampFormat::Ptp.to_unix_nanos(s, f), Some(t));
        let (s, f) = from_unix_nanos(TimestampFormat::Posix, t).unwrap();
        assert_eq!(TimestampFormat::Posix.to_unix_nanos(s, f), Some(t - 789));
        let (s, f) = from_unix_nanos(TimestampFormat::Ntp, t).unwrap();
        let back = TimestampFormat::Ntp.to_unix_nanos(s, f).unwrap();
        assert!(t - back <= 1, "{t} {back}");
        assert_eq!(TimestampFormat::Posix.frac_to_nanos(7), Some(7000));
        assert_eq!(
            TimestampFormat::Ntp.frac_to_nanos(1 << 31),
            Some(500_000_000)
        );
        assert_eq!(TimestampFormat::Ptp.frac_to_nanos(1_000_000_000), None);
        // NTP era 0 ends in 2036.
        assert_eq!(
            from_unix_nanos(TimestampFormat::Ntp, 2_100_000_000 * 1_000_000_000),
            None
        );
    }
}
