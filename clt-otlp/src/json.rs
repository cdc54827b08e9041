//! JSON strings as serde_json writes them, appended to a byte buffer: the
//! one escaping shared by the direct writers of the `jsonl` file sink and
//! of `ioam decode`, whose bytes are checked against serde_json.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append a JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx` (lowercase hex);
/// everything else, non-ASCII included, as is.
pub fn push_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

/// Whether `s` holds a byte JSON must escape (a control character, `"`
/// or `\\`), eight bytes at a time: a word has such a byte when one of its
/// bytes is below 0x20 or is zero after an XOR with the quote or the
/// backslash (the classic "has a byte less than n" bit tricks; a borrow can
/// only flag bytes above one that really matches).
pub fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH != 0;
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        if below(w, 0x20)
            || below(w ^ (ONES * u64::from(b'"')), 1)
            || below(w ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
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
    fn escape_check_finds_every_byte_json_escapes() {
        for len in 0..24 {
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
