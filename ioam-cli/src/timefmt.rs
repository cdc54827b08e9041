//! RFC 3339 formatting of UTC timestamps, without a date library.

use ioam_capture::file::Timestamp;

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format `t` as RFC 3339 UTC: `YYYY-MM-DDTHH:MM:SS[.ffffff|.fffffffff]Z`.
/// The fraction has 6 digits when the time is a whole number of
/// microseconds, 9 otherwise, and is omitted for whole seconds.
///
/// `None` outside the years 0000-9999: RFC 3339 writes four-digit years
/// only (a pcapng time offset can put a capture time anywhere).
pub fn rfc3339(t: Timestamp) -> Option<String> {
    let days = t.secs.div_euclid(86_400);
    let sod = t.secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut s = String::with_capacity(30);
    push_digits(&mut s, y as u64, 4);
    s.push('-');
    push_digits(&mut s, m.into(), 2);
    s.push('-');
    push_digits(&mut s, d.into(), 2);
    s.push('T');
    push_digits(&mut s, (sod / 3600) as u64, 2);
    s.push(':');
    push_digits(&mut s, ((sod / 60) % 60) as u64, 2);
    s.push(':');
    push_digits(&mut s, (sod % 60) as u64, 2);
    if t.nanos != 0 {
        s.push('.');
        if t.nanos.is_multiple_of(1000) {
            push_digits(&mut s, (t.nanos / 1000).into(), 6);
        } else {
            push_digits(&mut s, t.nanos.into(), 9);
        }
    }
    s.push('Z');
    Some(s)
}

/// Append `v` as exactly `width` decimal digits (`v < 10^width`).
fn push_digits(s: &mut String, v: u64, width: u32) {
    let mut div = 10u64.pow(width - 1);
    while div > 0 {
        s.push(char::from(b'0' + ((v / div) % 10) as u8));
        div /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp { secs, nanos }
    }

    #[test]
    fn known_dates() {
        let text = |secs, nanos| rfc3339(ts(secs, nanos)).unwrap();
        assert_eq!(text(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(text(951_782_400, 0), "2000-02-29T00:00:00Z");
        assert_eq!(text(1_700_000_000, 5_000), "2023-11-14T22:13:20.000005Z");
        assert_eq!(text(1_700_000_000, 1), "2023-11-14T22:13:20.000000001Z");
        assert_eq!(text(-1, 0), "1969-12-31T23:59:59Z");
        assert_eq!(text(4_102_444_800, 0), "2100-01-01T00:00:00Z");
        assert_eq!(text(-62_167_219_200, 0), "0000-01-01T00:00:00Z");
        assert_eq!(text(253_402_300_799, 0), "9999-12-31T23:59:59Z");
        // Years RFC 3339 cannot write (a negative pcapng time offset once
        // printed -146138510344-07-14T16:14:57Z).
        assert_eq!(rfc3339(ts(253_402_300_800, 120_000_000)), None);
        assert_eq!(rfc3339(ts(-62_167_219_201, 0)), None);
        assert_eq!(rfc3339(ts(i64::MIN / 2, 0)), None);
    }
}
