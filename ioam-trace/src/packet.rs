//! A Linux-like transit pass over a whole IPv6 packet (RFC 9486 §4): every
//! Pre-allocated Trace of its Hop-by-Hop header gets this node's record,
//! from node data ([`write_transit_hbh`]) or from a record serialized once
//! ([`write_transit_hbh_prepared`]). The header is located by
//! `ioam_wire::packet::hop_by_hop` and its options walked by
//! `ioam_wire::opt::Options`.

use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::opt::Options;
use ioam_wire::packet::hop_by_hop;
use ioam_wire::Mode;

use crate::error::TraceError;
use crate::prepared::{write_transit_prepared, PreparedRecord};
use crate::writer::{write_transit, NodeData, TransitConfig, TransitOutcome};

/// The `index`-th Pre-allocated Trace option with code 0x31 of the header
/// `hbh` at `base`: (absolute body offset, body length).
fn nth_preallocated(
    hbh: &[u8],
    base: usize,
    index: usize,
) -> Result<Option<(usize, usize)>, TraceError> {
    let mut seen = 0;
    let mut opts = Options::new(hbh, Mode::Strict);
    while let Some(io) = opts.next_ioam() {
        let io = io.map_err(|e| e.with_base(base))?;
        if io.option_type == OPT_IOAM && io.ioam_type == IoamType::PreallocatedTrace {
            if seen == index {
                return Ok(Some((base + io.body_offset, io.body.len())));
            }
            seen += 1;
        }
    }
    Ok(None)
}

/// Runs `write` on the body of every Pre-allocated Trace option (code
/// 0x31) of the Hop-by-Hop header of `packet`, in order; `on_trace` hears
/// each body's offset and outcome. Returns the number of such options.
fn for_each_hbh_trace(
    packet: &mut [u8],
    mut write: impl FnMut(&mut [u8]) -> Result<TransitOutcome, TraceError>,
    mut on_trace: impl FnMut(usize, TransitOutcome),
) -> Result<usize, TraceError> {
    let Some((start, end)) = hop_by_hop(packet)?.map(|h| (h.offset, h.end())) else {
        return Ok(0);
    };
    let mut index = 0;
    loop {
        // Writing never changes a length, so a fresh walk finds the next one.
        let Some((off, blen)) = nth_preallocated(&packet[start..end], start, index)? else {
            return Ok(index);
        };
        let outcome = write(&mut packet[off..off + blen]).map_err(|e| e.with_base(off))?;
        on_trace(off, outcome);
        index += 1;
    }
}

/// Applies [`write_transit`] to every Pre-allocated Trace option (code
/// 0x31) of the Hop-by-Hop header of the IPv6 packet `packet`, in order, as
/// a Linux router with IOAM enabled on the ingress interface does
/// (`ipv6_hop_ioam`). `on_trace` hears the absolute body offset and the
/// outcome of each; the return value is the number of such options.
///
/// The options area is checked with the rules Linux applies on receive
/// (`ioam_wire::opt::Mode::Strict`). The IPv6 header, including its
/// Hop Limit, is not touched: pass `NodeData::linux_hop_limit(packet[7])`
/// as the hop limit to write what Linux writes. Other headers (Destination
/// Options included) are not looked at. A packet without a Hop-by-Hop
/// header gives 0.
///
/// Error offsets count from the packet start. When a later option is
/// malformed, earlier ones have already been written; Linux drops such a
/// packet.
///
/// # Errors
/// [`TraceError::Wire`] for a malformed IPv6 header, Hop-by-Hop header or
/// options area, and the errors of [`write_transit`].
pub fn write_transit_hbh(
    packet: &mut [u8],
    namespace_id: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
    on_trace: impl FnMut(usize, TransitOutcome),
) -> Result<usize, TraceError> {
    for_each_hbh_trace(
        packet,
        |body| write_transit(body, namespace_id, node, cfg),
        on_trace,
    )
}

/// [`write_transit_hbh`] with a [`PreparedRecord`]: every Pre-allocated
/// Trace option (code 0x31) of the Hop-by-Hop header gets the record through
/// [`write_transit_prepared`], with the same outcomes and bytes as the plain
/// writer for the record's trace type, and
/// [`SkipReason::OtherTraceType`](crate::writer::SkipReason::OtherTraceType)
/// (nothing written) for a trace of another type. The per-packet fields
/// (hop limit, timestamps, ...) are those set on the record before the call.
///
/// ```
/// use ioam_trace::encap::PreallocatedTraceBuilder;
/// use ioam_trace::prepared::PreparedRecord;
/// use ioam_trace::writer::{NodeData, TransitConfig, TransitOutcome};
/// use ioam_trace::{write_transit_hbh_prepared, TraceType};
///
/// // IPv6 (payload 24) with a Hop-by-Hop header: room for 2 nodes of 0x800000.
/// let mut p = [0u8; 64];
/// p[..8].copy_from_slice(&[0x60, 0, 0, 0, 0, 24, 0, 64]);
/// let builder = PreallocatedTraceBuilder::new(123, TraceType::HOP_LIM_NODE_ID, 8);
/// builder.emit(&mut p[40..])?;
/// p[40] = 59; // No Next Header after it
///
/// let me = NodeData { hop_limit: 63, node_id: 7, ..NodeData::unavailable() };
/// let rec = PreparedRecord::new(TraceType::HOP_LIM_NODE_ID, &me, &TransitConfig::default())?;
/// let mut seen = None;
/// let n = write_transit_hbh_prepared(&mut p, 123, &rec, |off, o| seen = Some((off, o)))?;
/// assert_eq!(n, 1);
/// assert_eq!(seen, Some((48, TransitOutcome::Written { offset: 12, len: 4 })));
/// assert_eq!(&p[60..64], &[63, 0, 0, 7]);
/// # Ok::<(), ioam_trace::TraceError>(())
/// ```
///
/// # Errors
/// As [`write_transit_hbh`].
pub fn write_transit_hbh_prepared(
    packet: &mut [u8],
    namespace_id: u16,
    rec: &PreparedRecord,
    on_trace: impl FnMut(usize, TransitOutcome),
) -> Result<usize, TraceError> {
    for_each_hbh_trace(
        packet,
        |body| write_transit_prepared(body, namespace_id, rec),
        on_trace,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encap::PreallocatedTraceBuilder;
    use crate::trace_type::TraceType;

    fn packet_with(hbh: &[u8]) -> [u8; 128] {
        let mut p = [0u8; 128];
        p[0] = 0x60;
        p[5] = (hbh.len() + 8) as u8;
        p[6] = 0;
        p[7] = 64;
        p[40..40 + hbh.len()].copy_from_slice(hbh);
        p
    }

    #[test]
    fn every_preallocated_trace_of_the_hbh() {
        // Two traces of namespaces 1 and 2 in one Hop-by-Hop header.
        let mut hbh = [0u8; 48];
        let a = PreallocatedTraceBuilder::new(1, TraceType::HOP_LIM_NODE_ID, 8);
        let n = a.emit(&mut hbh).unwrap();
        assert_eq!(n, 24);
        // Append a second option by hand: 0x31, len 18, ns 2, RemLen 2, then PadN.
        hbh[1] = 5; // 48 bytes
        hbh[24..28].copy_from_slice(&[0x31, 18, 0, 0]);
        hbh[28..36].copy_from_slice(&[0, 2, 0x08, 2, 0x80, 0, 0, 0]);
        hbh[44..48].copy_from_slice(&[1, 2, 0, 0]);
        let mut p = packet_with(&hbh);
        let node = NodeData {
            hop_limit: NodeData::linux_hop_limit(p[7]),
            node_id: 5,
            ..NodeData::unavailable()
        };
        let mut seen = [None; 2];
        let count = write_transit_hbh(
            &mut p[..88],
            2,
            &node,
            &TransitConfig::default(),
            |off, o| {
                seen[usize::from(off != 48)] = Some(o);
            },
        )
        .unwrap();
        assert_eq!(count, 2);
        assert_eq!(
            seen,
            [
                Some(TransitOutcome::Skipped(
                    crate::writer::SkipReason::OtherNamespace
                )),
                Some(TransitOutcome::Written { offset: 12, len: 4 })
            ]
        );
        assert_eq!(&p[80..84], &[63, 0, 0, 5]);

        // Read back through the packet walk.
        let item = crate::IoamPacket::new(&p[..88], Mode::Strict)
            .unwrap()
            .nth(1)
            .unwrap()
            .unwrap();
        let body = item.body().unwrap();
        let t = body.trace().unwrap();
        assert_eq!(t.records().next().unwrap().unwrap().node_id(), Some(5));

        // The prepared record writes the same bytes, on a fresh copy.
        let mut q = packet_with(&hbh);
        let rec = PreparedRecord::new(TraceType::HOP_LIM_NODE_ID, &node, &TransitConfig::default())
            .unwrap();
        let mut seen_prepared = [None; 2];
        let count = write_transit_hbh_prepared(&mut q[..88], 2, &rec, |off, o| {
            seen_prepared[usize::from(off != 48)] = Some(o);
        })
        .unwrap();
        assert_eq!((count, seen_prepared), (2, seen));
        assert_eq!(q, p);
    }

    #[test]
    fn malformed_and_absent() {
        let node = NodeData::unavailable();
        let cfg = TransitConfig::default();
        let mut p = packet_with(&[17, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(
            write_transit_hbh(&mut p[..56], 1, &node, &cfg, |_, _| {}),
            Ok(0)
        );
        p[6] = 17;
        assert_eq!(
            write_transit_hbh(&mut p[..56], 1, &node, &cfg, |_, _| {}),
            Ok(0)
        );
        p[6] = 0;
        for n in 0..48 {
            assert!(
                write_transit_hbh(&mut p[..n], 1, &node, &cfg, |_, _| {}).is_err(),
                "{n}"
            );
        }
        // A trace whose RemainingLen exceeds its space: offsets from the packet start.
        let mut hbh = [0u8; 24];
        PreallocatedTraceBuilder::new(1, TraceType::HOP_LIM_NODE_ID, 8)
            .emit(&mut hbh)
            .unwrap();
        hbh[11] = 3;
        let mut p = packet_with(&hbh);
        assert_eq!(
            write_transit_hbh(&mut p[..72], 1, &node, &cfg, |_, _| {}),
            Err(TraceError::RemainingLenBeyondSpace {
                offset: 48 + 3,
                remaining_len: 3,
                space: 8
            })
        );
    }
}
