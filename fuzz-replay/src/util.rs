//! Offset helpers: every error offset must lie inside the input.

use clt_context::legacy::LegacyError;
use clt_context::oss::OssError;
use clt_context::TraceparentError;
use ioam_trace::TraceError;
use ioam_wire::dex::DexError;
use ioam_wire::e2e::E2eError;
use ioam_wire::integrity::IntegrityError;
use ioam_wire::pot::PotError;
use ioam_wire::WireError;

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

pub(crate) fn wire_offset(e: &WireError) -> Option<usize> {
    e.offset()
}

pub(crate) fn trace_offset(e: &TraceError) -> Option<usize> {
    match *e {
        TraceError::Truncated { offset, .. }
        | TraceError::DataNotWordAligned { offset, .. }
        | TraceError::DataTooLong { offset, .. }
        | TraceError::RemainingLenBeyondSpace { offset, .. }
        | TraceError::NodeLenMismatch { offset, .. }
        | TraceError::NodeLenTooSmall { offset, .. }
        | TraceError::EmptyTraceType { offset }
        | TraceError::EmptyRecord { offset, .. }
        | TraceError::LoopbackTraceType { offset, .. }
        | TraceError::UndefinedBits { offset, .. }
        | TraceError::TooLong { offset, .. }
        | TraceError::Packet { offset, .. } => Some(offset),
        TraceError::Wire(w) => w.offset(),
        _ => None,
    }
}

pub(crate) fn pot_offset(e: &PotError) -> Option<usize> {
    match *e {
        PotError::HeaderTruncated { offset, .. } | PotError::Type0DataLength { offset, .. } => {
            Some(offset)
        }
        PotError::Wire(w) => w.offset(),
        _ => None,
    }
}

pub(crate) fn e2e_offset(e: &E2eError) -> Option<usize> {
    match *e {
        E2eError::HeaderTruncated { offset, .. }
        | E2eError::BothSequenceNumbers { offset }
        | E2eError::DataTruncated { offset, .. }
        | E2eError::DataTooLong { offset, .. } => Some(offset),
        E2eError::Wire(w) => w.offset(),
        _ => None,
    }
}

pub(crate) fn dex_offset(e: &DexError) -> Option<usize> {
    match *e {
        DexError::HeaderTruncated { offset, .. } | DexError::LengthMismatch { offset, .. } => {
            Some(offset)
        }
        DexError::Wire(w) => w.offset(),
        _ => None,
    }
}

pub(crate) fn integrity_offset(e: &IntegrityError) -> Option<usize> {
    match e {
        IntegrityError::Truncated { offset, .. } => Some(*offset),
        IntegrityError::Pot(p) => pot_offset(p),
        IntegrityError::E2e(p) => e2e_offset(p),
        IntegrityError::Wire(w) => w.offset(),
        _ => None,
    }
}

pub(crate) fn oss_offset(e: &OssError) -> Option<usize> {
    Some(e.offset())
}

pub(crate) fn legacy_offset(e: &LegacyError) -> Option<usize> {
    Some(e.offset())
}

pub(crate) fn traceparent_offset(e: &TraceparentError) -> Option<usize> {
    Some(e.offset())
}
