//! JSON text appended to a byte buffer as serde_json writes it: strings
//! with their escapes, decimal numbers, lowercase hex. The one set of
//! writers shared by the `jsonl` file sink and by `ioam decode`, whose
//! bytes are checked against serde_json. None allocates once the buffer
//! has grown to its working size.

use clt_context::view::{write_decimal, write_hex, DECIMAL_ROOM};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The two ASCII digits of 00..99, as one little-endian `u16` each.
const PAIRS16: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = (b'0' + (i / 10) as u8) as u16 | ((b'0' + (i % 10) as u8) as u16) << 8;
        i += 1;
    }
    t
};

/// Grow `out` by `N` zero bytes and return where they start and the bytes
/// themselves, for a writer that fills a prefix of them in place and then
/// cuts the rest off with `truncate` (a constant-size append is a couple
/// of register stores).
#[inline(always)]
fn scratch<const N: usize>(out: &mut Vec<u8>) -> (usize, &mut [u8; N]) {
    let start = out.len();
    out.extend_from_slice(&[0u8; N]);
    let block = out[start..]
        .first_chunk_mut::<N>()
        .expect("N bytes were just appended");
    (start, block)
}

/// Append the decimal digits of `v` (what `v.to_string()` gives).
///
/// One and two digits (hop numbers, hop limits, small ids: most numbers
/// of a trace) are written inline at the call site; longer numbers by
/// clt-context's [`write_decimal`], in place.
#[inline(always)]
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
    } else if v < 100 {
        out.extend_from_slice(&PAIRS16[v as usize].to_le_bytes());
    } else {
        push_u64_long(out, v);
    }
}

#[inline(never)]
fn push_u64_long(out: &mut Vec<u8>, v: u64) {
    let (start, room) = scratch::<DECIMAL_ROOM>(out);
    let n = write_decimal(v, room);
    out.truncate(start + n);
}

/// Append the lowercase hex of `bytes`: clt-context's [`write_hex`], 16
/// bytes at a time into a 32-byte block appended in place.
#[inline]
pub fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2 + 32);
    for chunk in bytes.chunks(16) {
        let (start, buf) = scratch::<32>(out);
        let n = write_hex(chunk, buf);
        out.truncate(start + n);
    }
}

/// Append a JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx` (lowercase hex);
/// everything else, non-ASCII included, as is.
pub fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Whether `s` holds a byte JSON must escape (a control character, `"`
/// or `\\`). Blocks of 16 bytes are folded without a branch (the compiler
/// turns each fold into a few vector compares), with a test between
/// blocks; the last block of a string of 16 bytes or more overlaps the one
/// before instead of going byte by byte.
pub fn needs_escape(s: &[u8]) -> bool {
    let special = |b: u8| u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    let any = |block: &[u8; 16]| block.iter().fold(0, |acc, &b| acc | special(b)) != 0;
    let mut blocks = s.chunks_exact(16);
    for block in &mut blocks {
        if block.first_chunk::<16>().is_some_and(any) {
            return true;
        }
    }
    if blocks.remainder().is_empty() {
        return false;
    }
    match s.last_chunk::<16>() {
        Some(last) => any(last),
        None => s.iter().fold(0, |acc, &b| acc | special(b)) != 0,
    }
}

/// The inside of a JSON string: `s` with serde_json's escapes (see
/// [`push_str`]).
pub fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    if !needs_escape(s) {
        out.extend_from_slice(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&s[start..i]);
                start = i + 1;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_hex_like_std() {
        let mut vals = vec![0u64, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX];
        vals.extend((0..64).map(|s| 1u64 << s));
        vals.extend((1..20).flat_map(|p| [10u64.pow(p) - 1, 10u64.pow(p)]));
        for v in vals {
            let mut out = b"x".to_vec();
            push_u64(&mut out, v);
            assert_eq!(out, format!("x{v}").into_bytes());
        }
        let bytes: Vec<u8> = (0..=255).collect();
        for n in [0, 1, 15, 16, 17, 63, 64, 65, 256] {
            let mut out = Vec::new();
            push_hex(&mut out, &bytes[..n]);
            let want: String = bytes[..n].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(out, want.into_bytes());
        }
    }

    #[test]
    fn escape_check_finds_every_byte_json_escapes() {
        for len in 0..50 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    let must = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&s), must, "byte {b:#x} at {at} of {len}");
                }
            }
        }
        // Neighbours of the special bytes do not trip it.
        assert!(!needs_escape(b"!#[]^_ ~\x7f\x80\xff0123456789abcdef"));
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é ∑ 😀");
        for s in ["", "plain", "a\"b\\c", "\n\r\t\u{8}\u{c}", "\u{7f}", &all] {
            let mut v = Vec::new();
            push_str(&mut v, s.as_bytes());
            assert_eq!(v, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }
}
