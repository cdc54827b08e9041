//! A transit node's record serialized once and copied into each packet
//! (RFC 9197 §4.4): the fast form of [`write_transit`](crate::writer::write_transit).
//!
//! Most of what a node writes (ids, namespace data, opaque state) changes
//! only with its configuration. A [`PreparedRecord`] checks the node values,
//! computes NodeLen and the record length and serializes the record once;
//! per packet the caller patches the few values that change (hop limit,
//! timestamps, queue depth, ...) through the setters, and
//! [`write_transit_prepared`] applies the header rules of
//! [`write_transit`](crate::writer::write_transit) (the same code) and copies
//! the bytes.
//!
//! ```
//! use ioam_trace::prepared::{write_transit_prepared, PreparedRecord};
//! use ioam_trace::writer::{NodeData, TransitConfig, TransitOutcome};
//! use ioam_trace::TraceType;
//!
//! // Type 0xe00000 (bits 0-2): hop limit + node id, interface ids, timestamp
//! // seconds; NodeLen 3.
//! let t = TraceType::from_bits(0xe0_0000).unwrap();
//! let node = NodeData { node_id: 5, ingress_if_id: 1, egress_if_id: 2, ..NodeData::unavailable() };
//! let mut rec = PreparedRecord::new(t, &node, &TransitConfig::default())?;
//! assert_eq!(rec.len(), 12);
//!
//! // Per packet: namespace 9, space for two records.
//! let mut body = [0u8; 8 + 24];
//! body[..8].copy_from_slice(&[0x00, 0x09, 0x18, 0x06, 0xe0, 0x00, 0x00, 0x00]);
//! rec.set_hop_limit(63);
//! rec.set_timestamp(1_700_000_000, 0);
//! let out = write_transit_prepared(&mut body, 9, &rec)?;
//! assert_eq!(out, TransitOutcome::Written { offset: 20, len: 12 });
//! assert_eq!(body[3], 3); // RemainingLen: 3 words left
//! assert_eq!(&body[20..], &[63, 0, 0, 5, 0, 1, 0, 2, 0x65, 0x53, 0xf1, 0x00]);
//! # Ok::<(), ioam_trace::TraceError>(())
//! ```

use crate::error::TraceError;
use crate::header::REMAINING_LEN_MAX;
use crate::layout::RecordLayout;
use crate::trace_type::TraceType;
use crate::writer::{
    fill_record, HeaderGate, NodeData, SkipReason, TransitConfig, TransitOutcome, UndefinedFill,
};
use ioam_wire::Mode;

/// Largest record a [`PreparedRecord`] holds: 127 words, the most
/// RemainingLen can offer (its field has 7 bits), so the largest record any
/// trace can take.
pub const PREPARED_RECORD_MAX: usize = REMAINING_LEN_MAX as usize * 4;

/// One node's record for one trace type, serialized once (RFC 9197 §4.4.2),
/// with the offsets of the fields that change per packet. Written into
/// traces by [`write_transit_prepared`]; see the [module docs](self).
///
/// Holds the record inline (no allocation): about 540 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreparedRecord {
    /// The record, in its first `len` bytes; zeros after.
    bytes: [u8; PREPARED_RECORD_MAX],
    /// Record length in bytes (a multiple of 4, at most
    /// [`PREPARED_RECORD_MAX`]).
    len: u16,
    /// Where each field sits, and the trace type.
    layout: RecordLayout,
    /// Header checks to apply.
    mode: Mode,
    /// The trace type has undefined bits and the configuration says to add
    /// no data for them (RFC 9197 §4.4.1 option 2).
    skip_undefined: bool,
}

impl PreparedRecord {
    /// Checks `node` for `trace_type` and serializes its record, as
    /// [`write_transit`](crate::writer::write_transit) would write it with
    /// `cfg`.
    ///
    /// # Errors
    /// [`TraceError::ValueOutOfRange`] from [`NodeData::check`];
    /// [`TraceError::RecordTooLarge`] if the record is longer than
    /// [`PREPARED_RECORD_MAX`] (no trace can hold it: `write_transit`
    /// would set Overflow on every packet).
    pub fn new(
        trace_type: TraceType,
        node: &NodeData<'_>,
        cfg: &TransitConfig,
    ) -> Result<Self, TraceError> {
        node.check(trace_type)?;
        let len = node.record_len(trace_type);
        let mut bytes = [0u8; PREPARED_RECORD_MAX];
        let layout = RecordLayout::new(trace_type);
        let slot = bytes.get_mut(..len).ok_or(TraceError::RecordTooLarge {
            required: len,
            space: PREPARED_RECORD_MAX,
        })?;
        fill_record(trace_type, node, slot);
        Ok(Self {
            bytes,
            len: len as u16,
            layout,
            mode: cfg.mode,
            skip_undefined: cfg.undefined_bits == UndefinedFill::NoData
                && trace_type.intersects(TraceType::UNDEFINED),
        })
    }

    /// The trace type the record is for.
    #[must_use]
    #[inline]
    pub const fn trace_type(&self) -> TraceType {
        self.layout.trace_type()
    }

    /// NodeLen of that trace type (words of the data fields).
    #[must_use]
    #[inline]
    pub const fn node_len(&self) -> u8 {
        (self.layout.fields_len() / 4) as u8
    }

    /// Length of the record in bytes, opaque state snapshot included.
    #[must_use]
    #[inline]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the record is empty (a trace type with no field bit and no
    /// bit 22).
    #[must_use]
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The record bytes as they go on the wire.
    #[must_use]
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len()).unwrap_or(&[])
    }

    /// The field layout of the trace type.
    #[must_use]
    #[inline]
    pub const fn layout(&self) -> &RecordLayout {
        &self.layout
    }

    /// Stores `value` at the field of RFC bit `bit`, `extra` bytes in;
    /// nothing when the trace type lacks the bit.
    #[inline]
    fn put(&mut self, bit: u8, extra: usize, value: &[u8]) {
        if let Some(at) = self.layout.offset(bit) {
            if let Some(dst) = self.bytes.get_mut(at + extra..at + extra + value.len()) {
                dst.copy_from_slice(value);
            }
        }
    }

    /// Sets the hop limit of bits 0 and 8 (whichever the type has).
    #[inline]
    pub fn set_hop_limit(&mut self, hop_limit: u8) {
        self.put(0, 0, &[hop_limit]);
        self.put(8, 0, &[hop_limit]);
    }

    /// Sets the timestamp of bits 2 (seconds) and 3 (fraction).
    #[inline]
    pub fn set_timestamp(&mut self, secs: u32, frac: u32) {
        self.put(2, 0, &secs.to_be_bytes());
        self.put(3, 0, &frac.to_be_bytes());
    }

    /// Sets the ingress and egress interface ids of bit 1.
    #[inline]
    pub fn set_if_ids(&mut self, ingress: u16, egress: u16) {
        self.put(1, 0, &ingress.to_be_bytes());
        self.put(1, 2, &egress.to_be_bytes());
    }

    /// Sets the transit delay of bit 4.
    #[inline]
    pub fn set_transit_delay(&mut self, delay: u32) {
        self.put(4, 0, &delay.to_be_bytes());
    }

    /// Sets the queue depth of bit 6.
    #[inline]
    pub fn set_queue_depth(&mut self, depth: u32) {
        self.put(6, 0, &depth.to_be_bytes());
    }

    /// Sets the checksum complement of bit 7.
    #[inline]
    pub fn set_checksum_complement(&mut self, value: u32) {
        self.put(7, 0, &value.to_be_bytes());
    }

    /// Sets the buffer occupancy of bit 11.
    #[inline]
    pub fn set_buffer_occupancy(&mut self, value: u32) {
        self.put(11, 0, &value.to_be_bytes());
    }
}

/// Adds a prepared record to a Pre-allocated Trace body in place.
///
/// When the body's trace type is the record's, the result and the bytes
/// are exactly those of [`write_transit`](crate::writer::write_transit) with
/// the node and configuration the record was prepared from (the header
/// rules are the same code): errors for a malformed header, skips for
/// another namespace, Overflow already set or undefined bits with
/// [`UndefinedFill::NoData`], Overflow set when the record does not fit,
/// else the record copied below the free space and RemainingLen lowered.
///
/// For another trace type the header is checked the same way (same errors,
/// same namespace and Overflow skips), then
/// [`SkipReason::OtherTraceType`] is reported and nothing is touched: the
/// caller falls back to `write_transit`.
///
/// `body` starts at the Namespace-ID; offsets count from there.
///
/// # Errors
/// [`TraceError::Truncated`] (header), [`TraceError::RemainingLenBeyondSpace`],
/// [`TraceError::NodeLenMismatch`], [`TraceError::NodeLenTooSmall`]
/// (lenient), [`TraceError::EmptyTraceType`] (strict). Nothing is modified
/// on error.
pub fn write_transit_prepared(
    body: &mut [u8],
    namespace_id: u16,
    rec: &PreparedRecord,
) -> Result<TransitOutcome, TraceError> {
    let mut gate = HeaderGate::open(body, rec.mode)?;
    let theirs = gate.trace_type();
    let mine = theirs == rec.trace_type();
    let node_len = if mine {
        rec.node_len()
    } else {
        theirs.node_len()
    };
    if let Some(skip) = gate.admit(node_len, namespace_id, rec.mode)? {
        return Ok(skip);
    }
    if !mine {
        return Ok(TransitOutcome::Skipped(SkipReason::OtherTraceType));
    }
    if rec.skip_undefined {
        return Ok(TransitOutcome::Skipped(SkipReason::UndefinedBits));
    }
    match gate.reserve(rec.len() / 4) {
        Ok((slot, written)) => {
            let one_word = slot.len() == 4;
            match (slot.first_chunk_mut::<4>(), rec.bytes.first_chunk::<4>()) {
                // One-word records (0x800000 and the like): a register
                // copy, no call to memcpy.
                (Some(d), Some(s)) if one_word => *d = *s,
                _ => {
                    if let Some(src) = rec.bytes.get(..slot.len()) {
                        slot.copy_from_slice(src);
                    }
                }
            }
            Ok(written)
        }
        Err(outcome) => Ok(outcome),
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::header::{TraceHeader, TraceHeaderRepr};
    use crate::trace_type::strategy::trace_type;
    use crate::writer::strategy::node;
    use crate::writer::write_transit;
    use proptest::prelude::*;

    fn cfg(lenient: bool, no_data: bool) -> TransitConfig {
        TransitConfig {
            undefined_bits: if no_data {
                UndefinedFill::NoData
            } else {
                UndefinedFill::AllOnes
            },
            mode: if lenient { Mode::Lenient } else { Mode::Strict },
        }
    }

    /// A pre-allocated trace body of type `t`, namespace 7, `space` words,
    /// with the header word of NodeLen/flags/RemainingLen then replaced by
    /// `word` when given.
    fn body(t: TraceType, space: usize, fill: u8, word: Option<u16>) -> Vec<u8> {
        let mut b = alloc::vec![fill; 8 + space * 4];
        TraceHeaderRepr::new(7, t, space as u8).emit(&mut TraceHeader::new_unchecked(&mut b[..]));
        if let Some(w) = word {
            b[2..4].copy_from_slice(&w.to_be_bytes());
        }
        b
    }

    /// Both writers on copies of `bytes`: outcomes and bytes must agree.
    fn same_as_write_transit(
        bytes: &[u8],
        ns: u16,
        n: &NodeData<'_>,
        c: &TransitConfig,
        rec: &PreparedRecord,
    ) -> Result<(), TestCaseError> {
        let (mut a, mut b) = (bytes.to_vec(), bytes.to_vec());
        let want = write_transit(&mut a, ns, n, c);
        let got = write_transit_prepared(&mut b, ns, rec);
        prop_assert_eq!(got, want);
        prop_assert_eq!(a, b);
        Ok(())
    }

    proptest! {
        #[test]
        fn prepared_matches_write_transit(
            t in trace_type(),
            space in 0usize..=61,
            earlier in proptest::collection::vec(node(), 0..4),
            n in node(),
            ns in prop_oneof![Just(7u16), Just(8u16)],
            word in proptest::option::weighted(0.3, any::<u16>()),
            fill in any::<u8>(),
            lenient in any::<bool>(),
            no_data in any::<bool>(),
        ) {
            let mut b = body(t, space, fill, None);
            for e in &earlier {
                let _ = write_transit(&mut b, 7, &e.node(), &TransitConfig::default());
            }
            if let Some(w) = word {
                b[2..4].copy_from_slice(&w.to_be_bytes());
            }
            let c = cfg(lenient, no_data);
            let nd = n.node();
            let rec = PreparedRecord::new(t, &nd, &c).unwrap();
            prop_assert_eq!(rec.as_bytes().len(), nd.record_len(t));
            same_as_write_transit(&b, ns, &nd, &c, &rec)?;
        }

        #[test]
        fn prepared_on_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..260),
            t in trace_type(),
            n in node(),
            lenient in any::<bool>(),
            no_data in any::<bool>(),
        ) {
            let c = cfg(lenient, no_data);
            let nd = n.node();
            let rec = PreparedRecord::new(t, &nd, &c).unwrap();
            let ns = u16::from_be_bytes([bytes.first().copied().unwrap_or(0), bytes.get(1).copied().unwrap_or(0)]);
            let theirs = bytes.get(4..7).map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]));
            if theirs == Some(t.bits()) || bytes.len() < 8 {
                same_as_write_transit(&bytes, ns, &nd, &c, &rec)?;
            } else {
                // Another type: the header rules still apply, nothing is written.
                let mut a = bytes.clone();
                let mut b = bytes.clone();
                let want = write_transit(&mut a, ns, &nd, &c);
                let got = write_transit_prepared(&mut b, ns, &rec);
                prop_assert_eq!(&b, &bytes);
                match want {
                    Err(e) => prop_assert_eq!(got, Err(e)),
                    Ok(TransitOutcome::Skipped(r @ (SkipReason::OtherNamespace | SkipReason::OverflowSet))) => {
                        prop_assert_eq!(got, Ok(TransitOutcome::Skipped(r)));
                    }
                    Ok(_) => prop_assert_eq!(got, Ok(TransitOutcome::Skipped(SkipReason::OtherTraceType))),
                }
            }
        }

        #[test]
        fn setters_match_a_fresh_record(
            t in trace_type(),
            n in node(),
            v in any::<(u8, u32, u32, u32, u32, u32, u32)>(),
            ifs in any::<(u16, u16)>(),
        ) {
            let mut rec = PreparedRecord::new(t, &n.node(), &TransitConfig::default()).unwrap();
            rec.set_hop_limit(v.0);
            rec.set_timestamp(v.1, v.2);
            rec.set_transit_delay(v.3);
            rec.set_queue_depth(v.4);
            rec.set_checksum_complement(v.5);
            rec.set_buffer_occupancy(v.6);
            rec.set_if_ids(ifs.0, ifs.1);
            let fresh = NodeData {
                hop_limit: v.0,
                timestamp_secs: v.1,
                timestamp_frac: v.2,
                transit_delay: v.3,
                queue_depth: v.4,
                checksum_complement: v.5,
                buffer_occupancy: v.6,
                ingress_if_id: ifs.0,
                egress_if_id: ifs.1,
                ..n.node()
            };
            let want = PreparedRecord::new(t, &fresh, &TransitConfig::default()).unwrap();
            prop_assert_eq!(rec.as_bytes(), want.as_bytes());
            prop_assert_eq!(&rec, &want);
        }
    }

    fn hop_node() -> NodeData<'static> {
        NodeData {
            hop_limit: 63,
            node_id: 1,
            ..NodeData::unavailable()
        }
    }

    /// Every outcome and error of the writer, each checked against
    /// `write_transit` and by value.
    #[test]
    fn every_path() {
        let t = TraceType::HOP_LIM_NODE_ID;
        let strict = TransitConfig::default();
        let lenient = cfg(true, false);
        let rec = PreparedRecord::new(t, &hop_node(), &strict).unwrap();
        let rec_lenient = PreparedRecord::new(t, &hop_node(), &lenient).unwrap();
        let run = |b: &[u8], r: &PreparedRecord, c: &TransitConfig| {
            let mut x = b.to_vec();
            let out = write_transit_prepared(&mut x, 7, r);
            let mut y = b.to_vec();
            assert_eq!(write_transit(&mut y, 7, &hop_node(), c), out);
            assert_eq!(x, y);
            (out, x)
        };

        // Written, at the end of the free space.
        let (out, after) = run(&body(t, 2, 0, None), &rec, &strict);
        assert_eq!(out, Ok(TransitOutcome::Written { offset: 12, len: 4 }));
        assert_eq!(&after[12..], &[63, 0, 0, 1]);
        assert_eq!(after[3], 1);

        // Every truncation of the header.
        let full = body(t, 2, 0, None);
        for cut in 0..8 {
            let (out, after) = run(&full[..cut], &rec, &strict);
            assert!(matches!(out, Err(TraceError::Truncated { actual, .. }) if actual == cut));
            assert_eq!(after, &full[..cut]);
        }

        // RemainingLen 3 words, 2 of space.
        let (out, _) = run(&body(t, 2, 0, Some(0x0803)), &rec, &strict);
        assert_eq!(
            out,
            Err(TraceError::RemainingLenBeyondSpace {
                offset: 3,
                remaining_len: 3,
                space: 8
            })
        );

        // NodeLen 2 for a one-word type; NodeLen 0 in lenient mode.
        let (out, _) = run(&body(t, 2, 0, Some(0x1002)), &rec, &strict);
        assert_eq!(
            out,
            Err(TraceError::NodeLenMismatch {
                offset: 2,
                node_len: 2,
                expected: 1
            })
        );
        let (out, _) = run(&body(t, 2, 0, Some(0x0002)), &rec_lenient, &lenient);
        assert_eq!(
            out,
            Err(TraceError::NodeLenTooSmall {
                offset: 2,
                node_len: 0,
                required: 1
            })
        );

        // Skips: other namespace, Overflow set.
        let mut other = body(t, 2, 0, None);
        other[1] = 8;
        assert_eq!(
            run(&other, &rec, &strict).0,
            Ok(TransitOutcome::Skipped(SkipReason::OtherNamespace))
        );
        let (out, after) = run(&body(t, 2, 0, Some(0x0c02)), &rec, &strict);
        assert_eq!(out, Ok(TransitOutcome::Skipped(SkipReason::OverflowSet)));
        assert_eq!(after, body(t, 2, 0, Some(0x0c02)));

        // No room: Overflow set, RemainingLen kept.
        let (out, after) = run(&body(t, 0, 0, None), &rec, &strict);
        assert_eq!(out, Ok(TransitOutcome::Overflowed));
        assert_eq!(after[2..4], [0x0c, 0x00]);

        // Undefined bits with "no data".
        let u = TraceType::from_bits(0x80_0800).unwrap(); // bits 0 and 12
        let c = cfg(false, true);
        let r = PreparedRecord::new(u, &hop_node(), &c).unwrap();
        assert_eq!(
            run(&body(u, 4, 0, None), &r, &c).0,
            Ok(TransitOutcome::Skipped(SkipReason::UndefinedBits))
        );

        // Empty trace type: an error when strict, nothing to write when lenient.
        let e = TraceType::from_bits(0).unwrap();
        let r = PreparedRecord::new(e, &hop_node(), &strict).unwrap();
        assert!(r.is_empty());
        assert_eq!(
            run(&body(e, 2, 0, None), &r, &strict).0,
            Err(TraceError::EmptyTraceType { offset: 4 })
        );
        let r = PreparedRecord::new(e, &hop_node(), &lenient).unwrap();
        assert_eq!(
            run(&body(e, 2, 0, None), &r, &lenient).0,
            Ok(TransitOutcome::Skipped(SkipReason::NothingToWrite))
        );

        // Another trace type: nothing touched.
        let w = TraceType::HOP_LIM_NODE_ID_WIDE;
        let b = body(w, 4, 0, None);
        let mut x = b.clone();
        assert_eq!(
            write_transit_prepared(&mut x, 7, &rec),
            Ok(TransitOutcome::Skipped(SkipReason::OtherTraceType))
        );
        assert_eq!(x, b);
        // ... but its header is still checked.
        let mut x = body(w, 4, 0, Some(0x0804));
        assert_eq!(
            write_transit_prepared(&mut x, 7, &rec),
            Err(TraceError::NodeLenMismatch {
                offset: 2,
                node_len: 1,
                expected: 2
            })
        );
    }

    #[test]
    fn new_refuses_bad_values_and_oversized_records() {
        let t = TraceType::HOP_LIM_NODE_ID;
        let bad = NodeData {
            node_id: 0x100_0000,
            ..NodeData::unavailable()
        };
        assert!(matches!(
            PreparedRecord::new(t, &bad, &TransitConfig::default()),
            Err(TraceError::ValueOutOfRange {
                value: 0x100_0000,
                ..
            })
        ));
        let big = [0u8; 600];
        let o = TraceType::from_bits(0x80_0002).unwrap();
        let n = NodeData {
            oss: Some((1, &big[..])),
            ..NodeData::unavailable()
        };
        assert_eq!(
            PreparedRecord::new(o, &n, &TransitConfig::default()),
            Err(TraceError::RecordTooLarge {
                required: 4 + 4 + 600,
                space: PREPARED_RECORD_MAX
            })
        );
        // The largest record that fits: 1 + 1 + 125 words.
        let fits = [0u8; 500];
        let n = NodeData {
            oss: Some((1, &fits[..])),
            ..NodeData::unavailable()
        };
        let r = PreparedRecord::new(o, &n, &TransitConfig::default()).unwrap();
        assert_eq!(r.len(), PREPARED_RECORD_MAX);
        assert_eq!((r.node_len(), r.trace_type()), (1, o));
        assert_eq!(r.layout().offset(0), Some(0));
    }
}
