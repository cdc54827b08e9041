//! Offset helpers: every error offset must lie inside the input.

use ioam_wire::error::Diagnostic;

/// A length-prefixed byte string from the front of the input: two bytes of
/// big-endian length, then that many bytes (fewer if the input ends). Seed
/// files put packets and bodies here verbatim.
pub(crate) fn blob<'a>(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<&'a [u8]> {
    let n = u
        .bytes(2)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    u.bytes(n.min(u.len()))
}

/// Asserts `offset <= len` for an error offset.
#[track_caller]
pub(crate) fn inside(offset: Option<usize>, len: usize, what: &dyn core::fmt::Debug) {
    if let Some(o) = offset {
        assert!(
            o <= len,
            "error offset {o} outside input of {len} bytes: {what:?}"
        );
    }
}

/// Asserts that the offset of an error, read through the library's
/// [`Diagnostic`] (no matching of our own), lies inside the input, and that
/// its one-line report names it.
#[track_caller]
pub(crate) fn inside_err<E: Diagnostic>(e: &E, len: usize) {
    inside(e.offset(), len, e);
    assert!(!e.layer().is_empty() && !e.rule().is_empty(), "{e:?}");
    if let Some(l) = e.lengths() {
        assert_ne!((l.required, l.actual), (0, 0), "{e:?}");
    }
}
