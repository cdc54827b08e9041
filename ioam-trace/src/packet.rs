//! Traces inside whole IPv6 packets (RFC 9486 §4): finding the trace of an
//! IOAM option, and a Linux-like transit pass over a packet.

use ioam_wire::ioam::{IoamOption, IoamType, OPT_IOAM};
use ioam_wire::ipv6::IPV6_HEADER_LEN;
use ioam_wire::opt::{Opt, Options};
use ioam_wire::proto;
use ioam_wire::Mode;

use crate::error::{PacketProblem, TraceError};
use crate::trace::{Trace, TraceKind};
use crate::writer::{write_transit, NodeData, TransitConfig, TransitOutcome};

impl<'a> Trace<'a> {
    /// The trace carried by an IOAM option found by `ioam_wire`: `Ok(None)`
    /// when the option is not a Pre-allocated or Incremental Trace. Error
    /// offsets are moved by `option.body_offset`, so they count from
    /// wherever the option's offsets count from (the extension header, or
    /// the packet after `IoamOption::with_base`).
    ///
    /// # Errors
    /// As [`Trace::parse`].
    pub fn from_ioam_option(
        option: &IoamOption<'a>,
        mode: Mode,
    ) -> Result<Option<Self>, TraceError> {
        let kind = match option.ioam_type {
            IoamType::PreallocatedTrace => TraceKind::Preallocated,
            IoamType::IncrementalTrace => TraceKind::Incremental,
            _ => return Ok(None),
        };
        Trace::parse(option.body, mode, kind)
            .map(Some)
            .map_err(|e| e.with_base(option.body_offset))
    }
}

/// The Hop-by-Hop header of `packet` (from its Next Header byte), if the
/// IPv6 Next Header says there is one.
fn hbh_range(packet: &[u8]) -> Result<Option<(usize, usize)>, TraceError> {
    if packet.len() < IPV6_HEADER_LEN {
        return Err(TraceError::Packet {
            offset: 0,
            reason: PacketProblem::Truncated,
        });
    }
    if packet[6] != proto::HOP_BY_HOP {
        return Ok(None);
    }
    let Some(&hel) = packet.get(IPV6_HEADER_LEN + 1) else {
        return Err(TraceError::Packet {
            offset: IPV6_HEADER_LEN,
            reason: PacketProblem::Truncated,
        });
    };
    let len = (usize::from(hel) + 1) * 8;
    if packet.len() < IPV6_HEADER_LEN + len {
        return Err(TraceError::Packet {
            offset: IPV6_HEADER_LEN,
            reason: PacketProblem::Truncated,
        });
    }
    Ok(Some((IPV6_HEADER_LEN, len)))
}

/// The `index`-th Pre-allocated Trace option with code 0x31 of the header
/// `hbh` at `base`: (absolute body offset, body length).
fn nth_preallocated(
    hbh: &[u8],
    base: usize,
    index: usize,
) -> Result<Option<(usize, usize)>, TraceError> {
    let mut seen = 0;
    for o in Options::new(hbh, Mode::Strict) {
        let o = o.map_err(|e| TraceError::Wire(e.with_base(base)))?;
        if let Opt::Ioam(io) = o {
            if io.option_type == OPT_IOAM && io.ioam_type == IoamType::PreallocatedTrace {
                if seen == index {
                    return Ok(Some((base + io.body_offset, io.body.len())));
                }
                seen += 1;
            }
        }
    }
    Ok(None)
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
/// [`TraceError::Packet`] for a truncated packet, [`TraceError::Wire`] for
/// a malformed options area, and the errors of [`write_transit`].
pub fn write_transit_hbh(
    packet: &mut [u8],
    namespace_id: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
    mut on_trace: impl FnMut(usize, TransitOutcome),
) -> Result<usize, TraceError> {
    let Some((base, len)) = hbh_range(packet)? else {
        return Ok(0);
    };
    let mut index = 0;
    loop {
        // Writing never changes a length, so a fresh walk finds the next one.
        let Some((off, blen)) = nth_preallocated(&packet[base..base + len], base, index)? else {
            return Ok(index);
        };
        let body = &mut packet[off..off + blen];
        let outcome = write_transit(body, namespace_id, node, cfg).map_err(|e| e.with_base(off))?;
        on_trace(off, outcome);
        index += 1;
    }
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

        // From the option, through ioam-wire.
        let opt = ioam_wire::packet::IoamOptions::new(&p[..96], Mode::Strict)
            .unwrap()
            .nth(1)
            .unwrap()
            .unwrap()
            .absolute();
        let t = Trace::from_ioam_option(&opt, Mode::Strict)
            .unwrap()
            .unwrap();
        assert_eq!(t.records().next().unwrap().unwrap().node_id(), Some(5));
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
