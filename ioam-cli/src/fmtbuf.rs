//! Byte-level formatting into a reused output buffer, shared by the output
//! writers of `ioam decode` ([`crate::jsonline`], [`crate::text`],
//! [`crate::otlp`]): decimal and hex numbers, hex strings, IPv6 addresses,
//! RFC 3339 times and JSON strings, each appended to a `Vec<u8>` without
//! going through `core::fmt` and without allocating once the buffer has
//! grown to its working size.
//!
//! What repeats from packet to packet is cached: the text of the last
//! addresses seen ([`AddrCache`]) and the date and time of the last second
//! ([`TimeCache`]). Decimal numbers, hex strings and JSON strings are
//! `clt_otlp::json`'s writers, re-exported here, which the agent's file
//! sink uses too.
//!
//! The hot writers append through a [`Gather`] instead of the `Vec`
//! itself: many small appends collected in a fixed buffer whose position
//! stays in a register, handed to the `Vec` 2 KiB at a time.

use clt_context::view::{hex_digits, write_decimal, write_hex, DECIMAL_ROOM};
pub use clt_otlp::json::{
    needs_escape as needs_json_escape, push_escaped as push_json_escaped, push_hex,
    push_str as push_json_str, push_u64,
};
use ioam_capture::file::Timestamp;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `0x` and the lowercase hex digits of `v`, zero-padded to at least
/// `digits` (what `format!("0x{v:0digits$x}")` gives), in an 18-byte block
/// of which the first returned count are the text.
///
/// Built in registers and stored as two blocks (the sixteen digits of `v`
/// shifted down to the last `digits` of them): copied through a buffer of
/// variable length, the block was read back while its bytes were still
/// in the store buffer, a stall of about a dozen cycles per number.
#[inline(always)]
pub fn hex_prefixed(v: u64, digits: usize) -> (usize, [u8; 18]) {
    let needed = (64 - v.leading_zeros() as usize).div_ceil(4);
    let digits = digits.clamp(needed, 16);
    let body = hex_digits(v)
        .checked_shr(8 * (16 - digits) as u32)
        .unwrap_or(0);
    let mut buf = [0u8; 18];
    buf[..2].copy_from_slice(b"0x");
    buf[2..].copy_from_slice(&body.to_le_bytes());
    (2 + digits, buf)
}

/// Append `0x` and the lowercase hex digits of `v`, zero-padded to at
/// least `digits`: what `format!("0x{v:0digits$x}")` gives.
#[inline]
pub fn push_hex_prefixed(out: &mut Vec<u8>, v: u64, digits: usize) {
    let (n, buf) = hex_prefixed(v, digits);
    out.extend_from_slice(&buf[..n]);
}

/// Append what `format!("{v:#x}")` gives (`0x` and the digits without
/// leading zeros).
pub fn push_hex_alt(out: &mut Vec<u8>, v: u64) {
    push_hex_prefixed(out, v, 1);
}

/// Append an IPv6 address in the text form of `core::net::Ipv6Addr`'s
/// `Display` (RFC 5952: lowercase, the first longest run of two or more
/// zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`).
pub fn push_ipv6(out: &mut Vec<u8>, bytes: [u8; 16]) {
    let addr = core::net::Ipv6Addr::from(bytes);
    if let Some(v4) = addr.to_ipv4_mapped() {
        out.extend_from_slice(b"::ffff:");
        for (i, o) in v4.octets().iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            push_u64(out, u64::from(*o));
        }
        return;
    }
    let groups = addr.segments();
    // The first longest run of zero groups, if at least two long.
    let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
    for (i, &g) in groups.iter().enumerate() {
        if g == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best, best_len) = (run, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let mut i = 0;
    while i < groups.len() {
        if best_len > 1 && i == best {
            out.extend_from_slice(b"::");
            i += best_len;
            continue;
        }
        if i > 0 && !(best_len > 1 && i == best + best_len) {
            out.push(b':');
        }
        let g = groups[i];
        let mut started = false;
        for shift in [12u16, 8, 4, 0] {
            let d = (g >> shift) & 0xf;
            if d != 0 || started || shift == 0 {
                started = true;
                out.push(HEX[usize::from(d)]);
            }
        }
        i += 1;
    }
}

/// An address, its text and the text's length.
type CachedAddr = ([u8; 16], [u8; 45], u8);

/// The text of the last two IPv6 addresses written (a capture's packets
/// mostly repeat one source and one destination).
#[derive(Debug, Clone, Default)]
pub struct AddrCache {
    entries: [Option<CachedAddr>; 2],
    next: usize,
    scratch: Vec<u8>,
}

impl AddrCache {
    /// The text of `addr` (see [`push_ipv6`]) in a 45-byte block, and its
    /// length: from the cache when it is one of the last two addresses.
    #[inline]
    pub fn text(&mut self, addr: [u8; 16]) -> (&[u8; 45], usize) {
        let hit = self
            .entries
            .iter()
            .position(|e| e.is_some_and(|(b, _, _)| b == addr));
        let at = match hit {
            Some(at) => at,
            None => {
                // Written in a scratch buffer kept with the cache: no
                // allocation once it has grown to an address's length.
                let out = &mut self.scratch;
                out.clear();
                push_ipv6(out, addr);
                let mut text = [0u8; 45];
                let len = out.len().min(45);
                text[..len].copy_from_slice(&out[..len]);
                let at = self.next;
                self.entries[at] = Some((addr, text, len as u8));
                self.next ^= 1;
                at
            }
        };
        match &self.entries[at] {
            Some((_, text, len)) => (text, usize::from(*len)),
            None => (&[0; 45], 0),
        }
    }

    /// Append the text of `addr` (see [`push_ipv6`]).
    pub fn push(&mut self, out: &mut Vec<u8>, addr: [u8; 16]) {
        let (text, len) = self.text(addr);
        out.extend_from_slice(&text[..len]);
    }
}

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

/// `YYYY-MM-DDTHH:MM:SS` of a second since the Unix epoch, or `None`
/// outside the years 0000-9999, which RFC 3339 cannot write.
fn date_time(secs: i64) -> Option<[u8; 19]> {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u64;
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, v: u64, width: usize| {
        let mut v = v;
        for d in b[at..at + width].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, y as u64, 4);
    put(5, m.into(), 2);
    put(8, d.into(), 2);
    put(11, sod / 3600, 2);
    put(14, (sod / 60) % 60, 2);
    put(17, sod % 60, 2);
    Some(b)
}

/// Append `t` as RFC 3339 UTC: `YYYY-MM-DDTHH:MM:SS[.ffffff|.fffffffff]Z`
/// (6 fraction digits for a whole number of microseconds, 9 otherwise,
/// none for a whole second). Returns false, writing nothing, outside the
/// years 0000-9999.
pub fn push_rfc3339(out: &mut Vec<u8>, t: Timestamp) -> bool {
    TimeCache::default().push(out, t)
}

/// `t` as an RFC 3339 string (see [`push_rfc3339`]), `None` outside the
/// years 0000-9999 (a pcapng time offset can put a capture time anywhere).
pub fn rfc3339(t: Timestamp) -> Option<String> {
    let mut out = Vec::with_capacity(30);
    push_rfc3339(&mut out, t).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// The fraction of a second of an RFC 3339 time, as a value and its
/// digit count: none for 0, 6 digits for a whole number of microseconds,
/// 9 otherwise.
fn fraction_digits(nanos: u32) -> Option<(u64, u32)> {
    match nanos {
        0 => None,
        n if n.is_multiple_of(1000) => Some(((n / 1000).into(), 6)),
        n => Some((n.into(), 9)),
    }
}

/// Writes `.` and exactly `width` decimal digits of `v` (`width` at most
/// 19, leading zeros kept) at the start of `to`; returns how many bytes:
/// the digits of `10^width + v`, their leading `1` overwritten by the dot.
#[inline(always)]
fn write_fraction(v: u64, width: u32, to: &mut [u8; DECIMAL_ROOM]) -> usize {
    let scale = 10u64.pow(width.min(19));
    let n = write_decimal(scale + v % scale, to);
    to[0] = b'.';
    n
}

/// The date and time of the last second written by [`TimeCache::push`]
/// (captures hold thousands of packets per second).
#[derive(Debug, Clone, Default)]
pub struct TimeCache {
    last: Option<(i64, Option<[u8; 19]>)>,
}

impl TimeCache {
    /// The date and time of `secs`, from the cache when it is the last
    /// second asked for.
    fn prefix(&mut self, secs: i64) -> Option<[u8; 19]> {
        match self.last {
            Some((last, prefix)) if last == secs => prefix,
            _ => {
                let prefix = date_time(secs);
                self.last = Some((secs, prefix));
                prefix
            }
        }
    }

    /// Append `t` like [`push_rfc3339`]; false (nothing written) outside
    /// the years 0000-9999.
    pub fn push(&mut self, out: &mut Vec<u8>, t: Timestamp) -> bool {
        let Some(prefix) = self.prefix(t.secs) else {
            return false;
        };
        out.extend_from_slice(&prefix);
        if let Some((v, width)) = fraction_digits(t.nanos) {
            let mut block = [0; DECIMAL_ROOM];
            let n = write_fraction(v, width, &mut block);
            out.extend_from_slice(&block[..n]);
        }
        out.push(b'Z');
        true
    }

    /// [`Self::push`] through a [`Gather`].
    #[inline]
    pub fn put(&mut self, out: &mut Gather<'_>, t: Timestamp) -> bool {
        let Some(prefix) = self.prefix(t.secs) else {
            return false;
        };
        out.put(&prefix);
        if let Some((v, width)) = fraction_digits(t.nanos) {
            out.fraction(v, width);
        }
        out.byte(b'Z');
        true
    }

    /// Whether `t` can be written (its year is 0000-9999).
    pub fn writable(&mut self, t: Timestamp) -> bool {
        self.prefix(t.secs).is_some()
    }
}

/// Bytes a [`Gather`] collects before it hands them to its `Vec`.
pub const GATHER: usize = 2048;

/// A writer that collects many small appends (keys, numbers, hex) in a
/// fixed buffer and hands them to a `Vec<u8>` in one copy per
/// [`GATHER`] bytes, and when dropped.
///
/// Appending to a `Vec` through `&mut Vec` costs a length and capacity
/// load, a test and a length store each time, and the compiler must reload
/// them after every byte stored (a byte store may alias them). A `Gather`
/// lives in a local variable: its position stays in a register, and an
/// append of a constant size is a bounds test and a few stores. Every
/// append checks its room and flushes first when the buffer is full, so
/// no input can make it fail; the `Vec` receives exactly the bytes
/// appended, in order.
pub struct Gather<'a> {
    out: &'a mut Vec<u8>,
    buf: &'a mut [u8; GATHER],
    at: usize,
}

impl<'a> Gather<'a> {
    /// A writer appending to `out`, collecting in `buf` (whose bytes it
    /// overwrites; their initial value does not matter).
    #[inline(always)]
    pub fn new(out: &'a mut Vec<u8>, buf: &'a mut [u8; GATHER]) -> Self {
        Self { out, buf, at: 0 }
    }

    /// Hands the collected bytes to the `Vec`.
    #[inline(never)]
    fn flush(&mut self) {
        self.out
            .extend_from_slice(self.buf.get(..self.at).unwrap_or_default());
        self.at = 0;
    }

    /// Append `bytes`.
    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.at..self.at + bytes.len()) {
            Some(to) => {
                to.copy_from_slice(bytes);
                self.at += bytes.len();
            }
            None => self.put_long(bytes),
        }
    }

    #[cold]
    #[inline(never)]
    fn put_long(&mut self, bytes: &[u8]) {
        self.flush();
        self.out.extend_from_slice(bytes);
    }

    /// Append one byte.
    #[inline(always)]
    pub fn byte(&mut self, b: u8) {
        self.put(&[b]);
    }

    /// `N` bytes of room (`N <= GATHER`) at the current position, to be
    /// followed by [`Self::advance`] by the bytes actually written.
    #[inline(always)]
    fn room<const N: usize>(&mut self) -> &mut [u8; N] {
        const { assert!(N <= GATHER) };
        if self.at + N > GATHER {
            self.flush();
        }
        self.buf[self.at..]
            .first_chunk_mut::<N>()
            .expect("N <= GATHER bytes fit, after a flush if need be")
    }

    #[inline(always)]
    fn advance(&mut self, n: usize) {
        self.at += n;
    }

    /// Append the first `len` bytes of `block` (`len <= N`): a copy of
    /// constant size, for a text of varying length kept in a fixed block.
    #[inline(always)]
    pub fn put_prefix<const N: usize>(&mut self, block: &[u8; N], len: usize) {
        self.room::<N>().copy_from_slice(block);
        self.advance(len.min(N));
    }

    /// Append `lead` blanks (at most 32), then the first `len` bytes of
    /// `block` (`len <= N <= 32`): a right-aligned table cell and the
    /// blanks before it, as constant-size stores without a loop.
    #[inline(always)]
    pub fn put_after_blanks<const N: usize>(&mut self, lead: usize, block: &[u8; N], len: usize) {
        const { assert!(N <= 32) };
        let lead = lead.min(32);
        let room = self.room::<64>();
        room[..32].copy_from_slice(&[b' '; 32]);
        if let Some(to) = room.get_mut(lead..lead + N) {
            to.copy_from_slice(block);
        }
        self.advance(lead + len.min(N));
    }

    /// Append `N` bytes that `fill` writes in place (`N <= GATHER`), for a
    /// text of fixed length made by another crate's writer: no copy of
    /// bytes just stored.
    #[inline(always)]
    pub fn fill<const N: usize>(&mut self, fill: impl FnOnce(&mut [u8; N])) {
        fill(self.room::<N>());
        self.advance(N);
    }

    /// Append `.` and exactly `width` decimal digits of `v` (`width` at
    /// most 19, `v < 10^width`, leading zeros kept), written in place
    /// (digits stored one at a time and copied on as one block stalled
    /// the store forwarding).
    #[inline(always)]
    pub fn fraction(&mut self, v: u64, width: u32) {
        let n = write_fraction(v, width, self.room::<DECIMAL_ROOM>());
        self.advance(n);
    }

    /// Append the decimal digits of `v` (what `v.to_string()` gives).
    #[inline(always)]
    pub fn dec(&mut self, v: u64) {
        if v < 10 {
            self.byte(b'0' + v as u8);
        } else {
            let n = write_decimal(v, self.room::<DECIMAL_ROOM>());
            self.advance(n);
        }
    }

    /// Append the lowercase hex of `bytes` (two digits per byte).
    #[inline(always)]
    pub fn hex(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(16) {
            let n = write_hex(chunk, self.room::<32>());
            self.advance(n);
        }
    }

    /// Append what [`push_hex_prefixed`] appends.
    #[inline(always)]
    pub fn hex_prefixed(&mut self, v: u64, digits: usize) {
        let (n, word) = hex_prefixed(v, digits);
        let room = self.room::<18>();
        room.copy_from_slice(&word);
        self.advance(n);
    }

    /// Hand everything over and give the `Vec` back, for the appends
    /// that need it whole (escaped strings, cached texts).
    #[inline(always)]
    pub fn vec(&mut self) -> &mut Vec<u8> {
        if self.at > 0 {
            self.flush();
        }
        self.out
    }
}

/// The buffer of a [`Gather`], kept by a sink from packet to packet.
pub struct GatherBuf(Box<[u8; GATHER]>);

impl Default for GatherBuf {
    fn default() -> Self {
        Self(Box::new([0; GATHER]))
    }
}

impl core::fmt::Debug for GatherBuf {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GatherBuf")
    }
}

impl Clone for GatherBuf {
    /// A fresh buffer: the contents are scratch.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl GatherBuf {
    /// A [`Gather`] appending to `out` through this buffer.
    #[inline(always)]
    pub fn to<'a>(&'a mut self, out: &'a mut Vec<u8>) -> Gather<'a> {
        Gather::new(out, &mut self.0)
    }
}

impl Drop for Gather<'_> {
    fn drop(&mut self) {
        if self.at > 0 {
            self.flush();
        }
    }
}

/// A `core::fmt::Write` over a byte buffer, for the few values that only
/// have a `Display` (error messages): writing into it does not allocate
/// once the buffer has grown.
pub struct ByteWriter<'a>(pub &'a mut Vec<u8>);

impl core::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn gathered_bytes_are_the_appended_bytes_across_every_flush() {
        // Pieces of every kind, at every fill level around the buffer's end
        // (a 37-byte step walks the offsets), against the same appends done
        // on a Vec directly; a piece longer than the buffer goes straight
        // through.
        let long: Vec<u8> = (0..GATHER + 300).map(|i| b'a' + (i % 26) as u8).collect();
        let mut buf = GatherBuf::default();
        for lead in 0..64usize {
            let mut got = b"prefix".to_vec();
            let mut want = got.clone();
            {
                let mut g = buf.to(&mut got);
                g.put(&long[..lead]);
                want.extend_from_slice(&long[..lead]);
                for i in 0..200u64 {
                    let v = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (i % 64);
                    g.dec(v);
                    push_u64(&mut want, v);
                    g.byte(b',');
                    want.push(b',');
                    g.hex(&v.to_be_bytes()[..(i % 9) as usize]);
                    push_hex(&mut want, &v.to_be_bytes()[..(i % 9) as usize]);
                    g.hex_prefixed(v, (i % 17) as usize);
                    push_hex_prefixed(&mut want, v, (i % 17) as usize);
                    g.put(&long[..(i as usize * 37) % 90]);
                    want.extend_from_slice(&long[..(i as usize * 37) % 90]);
                    // A right-aligned cell: blanks, then part of a block
                    // (the block's bytes after `len` must not show).
                    let (blanks, len) = ((i % 33) as usize, (i % 25) as usize);
                    let block: [u8; 24] = core::array::from_fn(|k| b'A' + k as u8);
                    g.put_after_blanks(blanks, &block, len);
                    want.extend(core::iter::repeat_n(b' ', blanks));
                    want.extend_from_slice(&block[..len]);
                    if i % 50 == 49 {
                        g.put(&long);
                        want.extend_from_slice(&long);
                        g.vec().extend_from_slice(b"[direct]");
                        want.extend_from_slice(b"[direct]");
                    }
                }
            }
            assert_eq!(got, want, "lead {lead}");
        }
    }

    #[test]
    fn numbers_like_std() {
        let mut vals = vec![0u64, 1, 9, 10, 42, 99, 100, 101, 999, 1000, 12345, u64::MAX];
        vals.extend((0..64).map(|s| 1u64 << s));
        vals.extend((1..20).map(|p| 10u64.pow(p) - 1));
        vals.extend((1..20).map(|p| 10u64.pow(p)));
        // Every digit count with every digit value somewhere (a SplitMix64
        // sequence cut to each length).
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..4000u64 {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            vals.push((z ^ (z >> 31)) >> (i % 64));
        }
        for v in vals {
            assert_eq!(text(|o| push_u64(o, v)), v.to_string());
            for d in [1, 2, 4, 6, 8, 16] {
                assert_eq!(text(|o| push_hex_prefixed(o, v, d)), format!("0x{v:0d$x}"));
            }
            assert_eq!(text(|o| push_hex_alt(o, v)), format!("{v:#x}"));
        }
    }

    #[test]
    fn addresses_like_display_and_cached() {
        let mut cache = AddrCache::default();
        let check = |cache: &mut AddrCache, b: [u8; 16]| {
            let want = core::net::Ipv6Addr::from(b).to_string();
            assert_eq!(text(|o| push_ipv6(o, b)), want, "{b:?}");
            assert_eq!(text(|o| cache.push(o, b)), want, "{b:?}");
            assert_eq!(text(|o| cache.push(o, b)), want, "{b:?} cached");
        };
        // Every pattern of zero / non-zero groups, with several values.
        for mask in 0u32..256 {
            for v in [1u16, 0x0a, 0x100, 0xabcd, 0xffff] {
                let mut b = [0u8; 16];
                for g in 0..8 {
                    if mask & (1 << g) != 0 {
                        let x = v.wrapping_add(g as u16 * 0x1111);
                        let x = if x == 0 { 1 } else { x };
                        b[2 * g..2 * g + 2].copy_from_slice(&x.to_be_bytes());
                    }
                }
                check(&mut cache, b);
            }
        }
        for v4 in [
            [0, 0, 0, 0],
            [1, 2, 3, 4],
            [192, 168, 100, 255],
            [10, 0, 0, 1],
        ] {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&v4);
            check(&mut cache, b);
            b[10] = 0xff;
            b[11] = 0xff;
            check(&mut cache, b);
        }
    }

    #[test]
    fn times() {
        let t = |secs, nanos| {
            let mut cache = TimeCache::default();
            let mut o = Vec::new();
            let ok = cache.push(&mut o, Timestamp { secs, nanos });
            // Twice through the same cache: the cached second.
            let mut o2 = Vec::new();
            assert_eq!(cache.push(&mut o2, Timestamp { secs, nanos }), ok);
            assert_eq!(o, o2);
            // And through a Gather.
            let (mut o3, mut buf) = (Vec::new(), GatherBuf::default());
            assert_eq!(
                cache.put(&mut buf.to(&mut o3), Timestamp { secs, nanos }),
                ok
            );
            assert_eq!(o, o3);
            ok.then(|| String::from_utf8(o).unwrap())
        };
        assert_eq!(t(0, 0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(t(951_782_400, 0).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(
            t(1_700_000_000, 5_000).unwrap(),
            "2023-11-14T22:13:20.000005Z"
        );
        assert_eq!(
            t(1_700_000_000, 1).unwrap(),
            "2023-11-14T22:13:20.000000001Z"
        );
        assert_eq!(
            t(1_700_000_000, 999_999_999).unwrap(),
            "2023-11-14T22:13:20.999999999Z"
        );
        assert_eq!(
            t(1_700_000_000, 120_000_000).unwrap(),
            "2023-11-14T22:13:20.120000Z"
        );
        // Every digit count of the fraction, both widths (the helper
        // holds the Gather path to the Vec path).
        let every = (0..9).flat_map(|k| {
            let p = 10u64.pow(k);
            [p, p * 7 + 3, p * 1000]
        });
        for nanos in every {
            let nanos = (nanos % 1_000_000_000) as u32;
            let text = t(1_700_000_000, nanos).unwrap();
            let digits = text.split(['.', 'Z']).nth(1).unwrap_or("");
            let (want, scale) = if nanos == 0 {
                (0, 0)
            } else if nanos.is_multiple_of(1000) {
                (6, 1000)
            } else {
                (9, 1)
            };
            assert_eq!(digits.len(), want, "{nanos}: {text}");
            // The digits read back are the fraction.
            let back = digits.parse::<u32>().map_or(0, |d| d * scale);
            assert_eq!(back, nanos, "{text}");
        }
        assert_eq!(t(-1, 0).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(t(4_102_444_800, 0).unwrap(), "2100-01-01T00:00:00Z");
        assert_eq!(t(-62_167_219_200, 0).unwrap(), "0000-01-01T00:00:00Z");
        assert_eq!(t(253_402_300_799, 0).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(t(253_402_300_800, 120_000_000), None);
        assert_eq!(t(-62_167_219_201, 0), None);
        assert_eq!(t(i64::MIN / 2, 0), None);
    }
}
