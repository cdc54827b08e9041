//! Fixtures and measured operations shared by the criterion benchmarks
//! (`benches/hot_paths.rs`) and the instruction-count harness
//! (`src/bin/icount.rs`), so both measure exactly the same code.
//!
//! Every fixture is built with the project's own builders and transit
//! writer (`ioam_trace::encap::PreallocatedTraceBuilder`,
//! `ioam_trace::write_transit`, `clt_context::injector::HopByHopInjector`,
//! `ioam_wire::build::insert_ext_header`) and checked once by
//! [`verify_all`] before anything is measured.
//!
//! [`cases`] lists every measured case as a [`Case`]: a group (one hot
//! path), a function (the project's code, its peer or its floor) and a
//! fixture. Each case is a closure returning a `u64` derived from its
//! result, so that nothing can be optimised away; inputs pass through
//! [`black_box`] on every call.
//!
//! A note on trace sizes: an IOAM trace option carries at most 244 bytes of
//! node data (RFC 9486 §4: Opt Data Len is 8 bits; RFC 9197 §4.4). A record
//! of trace type 0xfff002 is 64 bytes (NodeLen 15 plus the opaque state
//! word), and the CLT originator's is 92, so such a trace holds at most
//! three records (220 bytes, see clt-context's README, "The CLT opaque state"). The largest 0xfff002 fixture is
//! therefore that full three-record trace; eight hops exist for the smaller
//! types (0x800000, 0x800002).

use core::fmt::Write as _;
use core::hint::black_box;
use ioam_wire::Mode;

use clt_context::injector::HopByHopInjector;
use clt_context::{find_context, oss, traceparent, CltView, SpanContext, CLT_SCHEMA_ID};
use etherparse::{Ipv6ExtensionSlice, Ipv6Slice};
use ioam_trace::encap::{trace_space_for, PreallocatedTraceBuilder};
use ioam_trace::prepared::{write_transit_prepared, PreparedRecord};
use ioam_trace::{
    write_transit, NodeData, NodeRecord, Trace, TraceType, TransitConfig, TransitOutcome,
};
use ioam_wire::build::{insert_ext_header, IOAM_HEADER_BODY_OFFSET};
use ioam_wire::ext::ExtKind;
use ioam_wire::ioam::IoamType;
use ioam_wire::packet::{first_hbh_ioam, IoamOptions};

/// The IOAM namespace of every fixture.
pub const NAMESPACE: u16 = 123;

/// The span context the CLT fixtures carry (W3C example value).
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Schema ID of the opaque state a transit node writes in the
/// "0xfff002 with a schema" transit case.
pub const TRANSIT_SCHEMA_ID: u32 = 0x00_0123;

/// Opaque state data of that transit node (8 bytes: two words).
pub static TRANSIT_SCHEMA_DATA: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];

/// Value returned by a case whose operation failed (never expected: the
/// fixtures are verified first).
pub const FAILED: u64 = u64::MAX;

/// The span context of [`TRACEPARENT`].
///
/// # Panics
/// Never: the constant is a valid traceparent.
#[must_use]
pub fn span_context() -> SpanContext {
    traceparent::parse(TRACEPARENT)
        .expect("TRACEPARENT is valid")
        .ctx
}

/// The values node `index` (0 = originator) writes, every field distinct
/// and none "unavailable", so that the decoders do real work.
#[must_use]
pub fn node(index: usize, hop_limit: u8) -> NodeData<'static> {
    let i = index as u32;
    NodeData {
        hop_limit,
        node_id: i + 1,
        ingress_if_id: (10 * i + 1) as u16,
        egress_if_id: (10 * i + 2) as u16,
        timestamp_secs: 1_700_000_000 + i,
        timestamp_frac: 1000 * i + 7,
        transit_delay: 500 + i,
        namespace_data: 0xdead_0000 | i,
        queue_depth: 3000 + i,
        checksum_complement: 0x0102_0000 | i,
        node_id_wide: 0x0001_0000_0000 + u64::from(i),
        ingress_if_id_wide: 100 + i,
        egress_if_id_wide: 200 + i,
        namespace_data_wide: 0x0102_0304_0506_0000 | u64::from(i),
        buffer_occupancy: 4000 + i,
        oss: None,
    }
}

/// The trace type `bits`.
///
/// # Panics
/// If `bits` is not a 24-bit value.
#[must_use]
pub fn trace_type(bits: u32) -> TraceType {
    TraceType::from_bits(bits).expect("24-bit trace type")
}

/// A complete Hop-by-Hop header (Linux layout) holding a Pre-allocated
/// Trace of `bits` sized for, and filled by, `hops` nodes: the originator
/// (with the CLT snapshot of [`span_context`] when the type has bit 22)
/// through the encapsulator, then `hops - 1` transit nodes through the
/// transit writer (opaque state "nothing to report", as Linux writes).
///
/// # Panics
/// If the project's builder or writer refuses (a bug the fixture exposes).
#[must_use]
pub fn filled_hbh(bits: u32, hops: usize) -> Vec<u8> {
    let tt = trace_type(bits);
    let ctx_data = oss::encode(&span_context());
    let mut origin: NodeData<'_> = node(0, 64);
    let origin_words = if tt.has_oss() {
        origin.oss = Some((CLT_SCHEMA_ID, &ctx_data[..]));
        ctx_data.len() / 4
    } else {
        0
    };
    let space = trace_space_for(hops, tt, 0, origin_words);
    let builder = PreallocatedTraceBuilder::new(NAMESPACE, tt, space)
        .with_originator(&origin)
        .with_next_header(ioam_wire::proto::UDP);
    let mut hbh = vec![0u8; builder.buffer_len().expect("builder accepts the fixture")];
    builder.emit(&mut hbh).expect("builder emits the fixture");
    let body = &mut hbh[IOAM_HEADER_BODY_OFFSET..IOAM_HEADER_BODY_OFFSET + builder.body_len()];
    for j in 1..hops {
        let out = write_transit(
            body,
            NAMESPACE,
            &node(j, 64 - j as u8),
            &TransitConfig::default(),
        )
        .expect("transit writer accepts the fixture");
        assert!(
            matches!(out, TransitOutcome::Written { .. }),
            "hop {j} of 0x{bits:06x}: {out:?}"
        );
    }
    hbh
}

/// The trace body (from the Namespace-ID) inside a header from
/// [`filled_hbh`] or the injector.
///
/// # Panics
/// If `hbh` is not such a header.
#[must_use]
pub fn body_of(hbh: &[u8]) -> &[u8] {
    let opt_len = usize::from(hbh[5]);
    &hbh[IOAM_HEADER_BODY_OFFSET..IOAM_HEADER_BODY_OFFSET + opt_len - 2]
}

/// An IPv6/UDP packet (32 bytes of payload) with `hbh` inserted as its
/// Hop-by-Hop header by `ioam_wire::build::insert_ext_header`.
///
/// # Panics
/// If the insertion fails.
#[must_use]
pub fn packet_with(hbh: &[u8]) -> Vec<u8> {
    const PAYLOAD: usize = 8 + 32;
    let mut buf = vec![0u8; 40 + PAYLOAD + hbh.len()];
    buf[0] = 0x60;
    buf[4..6].copy_from_slice(&(PAYLOAD as u16).to_be_bytes());
    buf[6] = ioam_wire::proto::UDP;
    buf[7] = 64;
    buf[8..10].copy_from_slice(&[0x20, 0x01]);
    buf[10..12].copy_from_slice(&[0x0d, 0xb8]);
    buf[23] = 1;
    buf[24..26].copy_from_slice(&[0x20, 0x01]);
    buf[26..28].copy_from_slice(&[0x0d, 0xb8]);
    buf[39] = 2;
    // UDP 12345 -> 9999, length 40, checksum left 0 (not inspected).
    buf[40..48].copy_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, PAYLOAD as u8, 0, 0]);
    for (k, b) in buf[48..40 + PAYLOAD].iter_mut().enumerate() {
        *b = k as u8;
    }
    let len = insert_ext_header(&mut buf, 40 + PAYLOAD, ExtKind::HopByHop, hbh)
        .expect("insert_ext_header accepts the fixture")
        .packet_len;
    buf.truncate(len);
    buf
}

/// One IPv6 packet carrying a filled trace.
#[derive(Debug, Clone)]
pub struct PacketFixture {
    /// Short name, e.g. `0x800000-8hop`.
    pub name: String,
    /// The trace type.
    pub bits: u32,
    /// Records in the trace.
    pub hops: usize,
    /// The whole IPv6 packet.
    pub packet: Vec<u8>,
}

/// The packets of groups 1 and 2: types 0x800000 (1, 3, 8 hops) and
/// 0xfff002 with the CLT opaque state (1 and 3 hops; 3 is the most that
/// fits, see the crate docs).
#[must_use]
pub fn packet_fixtures() -> Vec<PacketFixture> {
    [
        (0x80_0000, 1),
        (0x80_0000, 3),
        (0x80_0000, 8),
        (0xff_f002, 1),
        (0xff_f002, 3),
    ]
    .into_iter()
    .map(|(bits, hops)| PacketFixture {
        name: format!("0x{bits:06x}-{hops}hop"),
        bits,
        hops,
        packet: packet_with(&filled_hbh(bits, hops)),
    })
    .collect()
}

/// A trace body for group 5 (CLT): 0x800002 with 8 hops and 0xfff002 with
/// its maximum of 3.
#[must_use]
pub fn clt_fixtures() -> Vec<(String, Vec<u8>)> {
    [(0x80_0002, 8), (0xff_f002, 3)]
        .into_iter()
        .map(|(bits, hops)| {
            let hbh = filled_hbh(bits, hops);
            (format!("0x{bits:06x}-{hops}hop"), body_of(&hbh).to_vec())
        })
        .collect()
}

/// A transit-write fixture: an empty pre-allocated trace body and the node
/// that writes into it.
#[derive(Debug, Clone)]
pub struct TransitFixture {
    /// Short name.
    pub name: &'static str,
    /// The body as the previous node left it (here: empty, space for
    /// several records).
    pub template: Vec<u8>,
    /// What this node writes.
    pub node: NodeData<'static>,
    /// Bytes of the record it writes.
    pub record_len: usize,
}

/// Transit fixtures: 0x800000 (4-byte record into space for 8),
/// 0xfff000 (60-byte record, space for 3), 0xfff002 with a schema and two
/// words of opaque state data (72-byte record, space for 3).
#[must_use]
pub fn transit_fixtures() -> Vec<TransitFixture> {
    let with_schema = NodeData {
        oss: Some((TRANSIT_SCHEMA_ID, &TRANSIT_SCHEMA_DATA[..])),
        ..node(2, 62)
    };
    [
        ("0x800000", 0x80_0000, 8, node(2, 62)),
        ("0xfff000", 0xff_f000, 3, node(2, 62)),
        ("0xfff002-schema", 0xff_f002, 3, with_schema),
    ]
    .into_iter()
    .map(|(name, bits, slots, n)| {
        let tt = trace_type(bits);
        let record_len = n.record_len(tt);
        let space = slots * record_len;
        let b = PreallocatedTraceBuilder::new(NAMESPACE, tt, space);
        let mut template = vec![0u8; b.body_len()];
        b.emit_body(&mut template)
            .expect("builder accepts the fixture");
        TransitFixture {
            name,
            template,
            node: n,
            record_len,
        }
    })
    .collect()
}

/// Injector fixtures (group 4): CLT sender headers for an 8-hop path of
/// type 0x800002 and a 3-hop path of type 0xfff002.
#[must_use]
pub fn injector_fixtures() -> Vec<(&'static str, HopByHopInjector<'static>)> {
    vec![
        (
            "clt-0x800002-8hop",
            HopByHopInjector {
                namespace_id: NAMESPACE,
                trace_type: trace_type(0x80_0002),
                extra_hops: 7,
                sender: node(0, 64),
                ctx: span_context(),
                ..Default::default()
            },
        ),
        (
            "clt-0xfff002-3hop",
            HopByHopInjector {
                namespace_id: NAMESPACE,
                trace_type: trace_type(0xff_f002),
                extra_hops: 2,
                sender: node(0, 64),
                ctx: span_context(),
                ..Default::default()
            },
        ),
    ]
}

/// Encapsulator fixtures (group 4): no context, no originator record, as
/// the Linux `ioam6` encapsulation: 0x800000 for 8 hops, 0xfff000 for 3.
#[must_use]
pub fn encap_fixtures() -> Vec<(&'static str, PreallocatedTraceBuilder<'static>)> {
    vec![
        (
            "encap-0x800000-8hop",
            PreallocatedTraceBuilder::new(NAMESPACE, trace_type(0x80_0000), 32),
        ),
        (
            "encap-0xfff000-3hop",
            PreallocatedTraceBuilder::new(NAMESPACE, trace_type(0xff_f000), 180),
        ),
    ]
}

// ---------------------------------------------------------------------------
// The measured operations.

/// Full walk: every extension header and every option of the packet
/// (strict, as Linux), keeping the first pre-allocated trace, whose header
/// is then validated (strict NodeLen, RemainingLen within the space).
#[inline]
#[must_use]
pub fn locate_trace(packet: &[u8]) -> Option<Trace<'_>> {
    let mut found = None;
    for o in IoamOptions::new(packet, Mode::Strict).ok()? {
        let o = o.ok()?;
        if found.is_none() && o.option.ioam_type == IoamType::PreallocatedTrace {
            found = Some(o.option.body);
        }
    }
    Trace::parse_preallocated(found?, Mode::Strict).ok()
}

/// Fast path: the first IOAM option of the Hop-by-Hop header
/// (`ioam_wire::packet::first_hbh_ioam`), then the same trace validation.
#[inline]
#[must_use]
pub fn locate_trace_fast(packet: &[u8]) -> Option<Trace<'_>> {
    let o = first_hbh_ioam(packet, Mode::Strict).ok()??;
    if o.option.ioam_type != IoamType::PreallocatedTrace {
        return None;
    }
    Trace::parse_preallocated(o.option.body, Mode::Strict).ok()
}

/// A summary of a located trace (so the work is observable).
#[inline]
fn trace_summary(t: Option<Trace<'_>>) -> u64 {
    t.map_or(FAILED, |t| {
        (t.records_offset() + t.free_space()) as u64 + u64::from(t.namespace_id())
    })
}

/// Group 1, the project: [`locate_trace`].
#[must_use]
pub fn locate(packet: &[u8]) -> u64 {
    trace_summary(locate_trace(packet))
}

/// Group 1, the project's fast path: [`locate_trace_fast`].
#[must_use]
pub fn locate_fast(packet: &[u8]) -> u64 {
    trace_summary(locate_trace_fast(packet))
}

/// Group 1, the peer: etherparse 0.21 slices the IPv6 header and walks its
/// extension headers (`Ipv6Slice::from_slice`, which also checks the
/// Payload Length), then returns the Hop-by-Hop options bytes. It does not
/// look inside the options.
#[must_use]
pub fn etherparse_walk(packet: &[u8]) -> u64 {
    let Ok(s) = Ipv6Slice::from_slice(packet) else {
        return FAILED;
    };
    for e in s.extensions().clone() {
        if let Ipv6ExtensionSlice::HopByHop(h) = e {
            let p = h.payload();
            return p.len() as u64 + u64::from(p[0]);
        }
    }
    FAILED
}

/// The floor: copy `src` into `dst` (a `memcpy` of the same bytes).
#[inline]
#[must_use]
pub fn copy_floor(src: &[u8], dst: &mut [u8]) -> u64 {
    let dst = &mut dst[..src.len()];
    dst.copy_from_slice(src);
    u64::from(dst[src.len() / 2])
}

/// Reads every field of a record through its accessors.
#[inline]
#[must_use]
pub fn sum_fields(r: &NodeRecord<'_>) -> u64 {
    let mut s = 0u64;
    let mut add = |v: Option<u64>| s = s.wrapping_add(v.unwrap_or(0));
    add(r.hop_limit().map(u64::from));
    add(r.node_id().map(u64::from));
    add(r.ingress_if_id().map(u64::from));
    add(r.egress_if_id().map(u64::from));
    add(r.timestamp_secs().map(u64::from));
    add(r.timestamp_frac().map(u64::from));
    add(r.transit_delay().map(u64::from));
    add(r.namespace_data().map(u64::from));
    add(r.queue_depth().map(u64::from));
    add(r.checksum_complement().map(u64::from));
    add(r.hop_limit_wide().map(u64::from));
    add(r.node_id_wide());
    add(r.ingress_if_id_wide().map(u64::from));
    add(r.egress_if_id_wide().map(u64::from));
    add(r.namespace_data_wide());
    add(r.buffer_occupancy().map(u64::from));
    add(r.oss().map(|o| {
        u64::from(o.schema_id())
            + u64::from(o.length())
            + o.data().first().map_or(0, |&b| u64::from(b))
    }));
    s
}

/// [`sum_fields`] through [`NodeRecord::fields`] (every field at once, one
/// pass over the trace type's fields): the same sum.
#[inline]
#[must_use]
pub fn sum_fields_at_once(r: &NodeRecord<'_>) -> u64 {
    let f = r.fields();
    let v = [
        f.hop_limit.map(u64::from),
        f.node_id.map(u64::from),
        f.ingress_if_id.map(u64::from),
        f.egress_if_id.map(u64::from),
        f.timestamp_secs.map(u64::from),
        f.timestamp_frac.map(u64::from),
        f.transit_delay.map(u64::from),
        f.namespace_data.map(u64::from),
        f.queue_depth.map(u64::from),
        f.checksum_complement.map(u64::from),
        f.hop_limit_wide.map(u64::from),
        f.node_id_wide,
        f.ingress_if_id_wide.map(u64::from),
        f.egress_if_id_wide.map(u64::from),
        f.namespace_data_wide,
        f.buffer_occupancy.map(u64::from),
        f.oss.map(|o| {
            u64::from(o.schema_id())
                + u64::from(o.length())
                + o.data().first().map_or(0, |&b| u64::from(b))
        }),
    ];
    v.iter().fold(0u64, |s, x| s.wrapping_add(x.unwrap_or(0)))
}

/// Group 2: every field of every record, wire order, read with
/// [`NodeRecord::fields`].
#[inline]
#[must_use]
pub fn iterate_fields_at_once(t: &Trace<'_>) -> u64 {
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(sum_fields_at_once(&r)),
            Err(_) => return FAILED,
        }
    }
    s
}

/// The goal's composite (full walk) with [`NodeRecord::fields`].
#[must_use]
pub fn decode_iterate_at_once(packet: &[u8]) -> u64 {
    locate_trace(packet).map_or(FAILED, |t| iterate_fields_at_once(&t))
}

/// The same with the Hop-by-Hop fast path.
#[must_use]
pub fn decode_iterate_fast_at_once(packet: &[u8]) -> u64 {
    locate_trace_fast(packet).map_or(FAILED, |t| iterate_fields_at_once(&t))
}

/// Every value of a record through [`NodeRecord::values`] (only the
/// fields the trace type carries), and the snapshot: the same sum as
/// [`sum_fields`].
#[inline]
#[must_use]
pub fn sum_values(r: &NodeRecord<'_>) -> u64 {
    let s = r.values().fold(0u64, |s, (_, v)| s.wrapping_add(v));
    s.wrapping_add(r.oss().map_or(0, |o| {
        u64::from(o.schema_id())
            + u64::from(o.length())
            + o.data().first().map_or(0, |&b| u64::from(b))
    }))
}

/// Group 2: every value of every record, wire order, read with
/// [`NodeRecord::values`].
#[inline]
#[must_use]
pub fn iterate_values(t: &Trace<'_>) -> u64 {
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(sum_values(&r)),
            Err(_) => return FAILED,
        }
    }
    s
}

/// The goal's composite (full walk) with [`NodeRecord::values`].
#[must_use]
pub fn decode_iterate_values(packet: &[u8]) -> u64 {
    locate_trace(packet).map_or(FAILED, |t| iterate_values(&t))
}

/// The same with the Hop-by-Hop fast path.
#[must_use]
pub fn decode_iterate_fast_values(packet: &[u8]) -> u64 {
    locate_trace_fast(packet).map_or(FAILED, |t| iterate_values(&t))
}

/// Group 2: every field of every record, wire order (newest first).
#[inline]
#[must_use]
pub fn iterate_fields(t: &Trace<'_>) -> u64 {
    let mut s = 0u64;
    for r in t.records() {
        match r {
            Ok(r) => s = s.wrapping_add(sum_fields(&r)),
            Err(_) => return FAILED,
        }
    }
    s
}

/// Group 2: every field of every record, path order (first hop first).
#[inline]
#[must_use]
pub fn iterate_fields_path_order(t: &Trace<'_>) -> u64 {
    let mut s = 0u64;
    for r in t.records_path_order() {
        match r {
            Ok(r) => s = s.wrapping_add(sum_fields(&r)),
            Err(_) => return FAILED,
        }
    }
    s
}

/// The goal's composite: locate and validate the trace in the packet (full
/// walk), then read every field of every record.
#[must_use]
pub fn decode_iterate(packet: &[u8]) -> u64 {
    locate_trace(packet).map_or(FAILED, |t| iterate_fields(&t))
}

/// The same with the Hop-by-Hop fast path.
#[must_use]
pub fn decode_iterate_fast(packet: &[u8]) -> u64 {
    locate_trace_fast(packet).map_or(FAILED, |t| iterate_fields(&t))
}

/// Group 3: reset `buf` from `template` (the floor), then write one
/// record as a transit node of [`NAMESPACE`].
#[must_use]
pub fn transit_write(buf: &mut [u8], template: &[u8], node: &NodeData<'_>) -> u64 {
    buf.copy_from_slice(template);
    match write_transit(buf, NAMESPACE, node, &TransitConfig::default()) {
        Ok(TransitOutcome::Written { offset, len }) => (offset + len) as u64,
        _ => FAILED,
    }
}

/// Group 3's floor: only the reset.
#[must_use]
pub fn transit_reset(buf: &mut [u8], template: &[u8]) -> u64 {
    buf.copy_from_slice(template);
    u64::from(buf[buf.len() / 2])
}

/// Group 4: the CLT injector writes its whole Hop-by-Hop header.
#[must_use]
pub fn inject(inj: &HopByHopInjector<'_>, buf: &mut [u8]) -> u64 {
    inj.emit(buf)
        .map_or(FAILED, |n| n as u64 + u64::from(buf[n - 1]))
}

/// Group 4: the encapsulator writes its Hop-by-Hop header (no originator).
#[must_use]
pub fn encap(b: &PreallocatedTraceBuilder<'_>, buf: &mut [u8]) -> u64 {
    b.emit(buf)
        .map_or(FAILED, |n| n as u64 + u64::from(buf[n - 1]))
}

/// Group 5: the CLT context only (trace header mode, path-order
/// index, snapshot decode).
#[must_use]
pub fn clt_context_of(body: &[u8]) -> u64 {
    let Ok(t) = Trace::parse_preallocated(body, Mode::Strict) else {
        return FAILED;
    };
    find_context(&t, CLT_SCHEMA_ID)
        .found()
        .map_or(FAILED, |f| u64::from(f.ctx.span_id.0[7]) + f.hop as u64)
}

/// Group 5: the context and the collector attribute strings of every hop,
/// rendered into the reusable `out` (cleared first; no allocation once its
/// capacity suffices).
#[must_use]
pub fn clt_render(body: &[u8], out: &mut String) -> u64 {
    out.clear();
    let Ok(t) = Trace::parse_preallocated(body, Mode::Strict) else {
        return FAILED;
    };
    let view = CltView::new(t, CLT_SCHEMA_ID);
    if view.context().context().is_none() {
        return FAILED;
    }
    match view.write_attributes(out) {
        Ok(n) => (n + out.len()) as u64,
        Err(_) => FAILED,
    }
}

/// Group 6: `traceparent` parse.
#[must_use]
pub fn tp_parse(s: &str) -> u64 {
    traceparent::parse(s).map_or(FAILED, |tp| {
        u64::from(tp.ctx.span_id.0[7]) + u64::from(tp.ctx.flags.0)
    })
}

/// Group 6: `traceparent` format.
#[must_use]
pub fn tp_format(ctx: &SpanContext) -> u64 {
    let t = traceparent::format(ctx);
    let b = black_box(t.as_bytes());
    u64::from(b[54]) + u64::from(b[3])
}

/// Group 6's peer: a plain-std parse (split on `-`, `from_str_radix`). It
/// checks less than the W3C rules (it accepts uppercase digits and a `+`
/// sign, and does not reject all-zero ids).
#[must_use]
pub fn tp_parse_std(s: &str) -> u64 {
    let mut parts = s.split('-');
    let (Some(v), Some(t), Some(p), Some(f), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return FAILED;
    };
    if v.len() != 2 || t.len() != 32 || p.len() != 16 || f.len() != 2 {
        return FAILED;
    }
    match (
        u8::from_str_radix(v, 16),
        u128::from_str_radix(t, 16),
        u64::from_str_radix(p, 16),
        u8::from_str_radix(f, 16),
    ) {
        (Ok(v), Ok(t), Ok(p), Ok(f)) => u64::from(v) + (t as u64) + p + u64::from(f),
        _ => FAILED,
    }
}

/// Group 6's peer: `write!` with `{:032x}`-style formatting into a reusable
/// `String`.
#[must_use]
pub fn tp_format_std(ctx: &SpanContext, out: &mut String) -> u64 {
    out.clear();
    let r = write!(
        out,
        "00-{:032x}-{:016x}-{:02x}",
        u128::from_be_bytes(ctx.trace_id.0),
        u64::from_be_bytes(ctx.span_id.0),
        ctx.flags.0
    );
    if r.is_err() {
        return FAILED;
    }
    out.len() as u64 + u64::from(out.as_bytes()[54])
}

// ---------------------------------------------------------------------------
// Verification of the fixtures.

/// Checks every fixture once: each packet parses through both paths and
/// etherparse to the same option, every record decodes, the CLT context
/// comes back, transit writes land where expected, the built headers parse.
///
/// # Panics
/// On the first fixture that does not check out, naming it.
pub fn verify_all() {
    let ctx = span_context();
    for f in packet_fixtures() {
        let t = locate_trace(&f.packet).unwrap_or_else(|| panic!("{}: no trace", f.name));
        let fast = locate_trace_fast(&f.packet).unwrap_or_else(|| panic!("{}: fast", f.name));
        assert_eq!(t, fast, "{}: paths disagree", f.name);
        assert_eq!(t.trace_type().bits(), f.bits, "{}", f.name);
        assert_eq!(t.records().count(), f.hops, "{}", f.name);
        assert!(t.records().all(|r| r.is_ok()), "{}", f.name);
        let first = t.records_path_order().next().unwrap().unwrap();
        assert_eq!(first.node_id(), Some(1), "{}", f.name);
        assert_eq!(first.hop_limit(), Some(64), "{}", f.name);
        assert_ne!(iterate_fields(&t), FAILED, "{}", f.name);
        assert_eq!(
            iterate_fields(&t),
            iterate_fields_path_order(&t),
            "{}",
            f.name
        );
        if t.trace_type().has_oss() {
            assert_eq!(
                find_context(&t, CLT_SCHEMA_ID).context(),
                Some(ctx),
                "{}",
                f.name
            );
        }
        let ep = etherparse_walk(&f.packet);
        let hbh_len = (usize::from(f.packet[41]) + 1) * 8;
        assert_eq!(ep, (hbh_len - 2) as u64 + 1, "{}: etherparse", f.name);
        for v in [
            locate(&f.packet),
            locate_fast(&f.packet),
            decode_iterate(&f.packet),
        ] {
            assert_ne!(v, FAILED, "{}", f.name);
        }
        // Every way of reading the records reads the same values.
        let all = decode_iterate(&f.packet);
        for v in [
            decode_iterate_fast(&f.packet),
            decode_iterate_at_once(&f.packet),
            decode_iterate_fast_at_once(&f.packet),
            decode_iterate_values(&f.packet),
            decode_iterate_fast_values(&f.packet),
        ] {
            assert_eq!(v, all, "{}", f.name);
        }
    }
    for f in transit_fixtures() {
        let mut buf = f.template.clone();
        let end = transit_write(&mut buf, &f.template, &f.node);
        assert_eq!(end, f.template.len() as u64, "{}", f.name);
        let t = Trace::parse_preallocated(&buf, Mode::Strict).expect(f.name);
        let r = t.records().next().unwrap().expect(f.name);
        assert_eq!(r.len(), f.record_len, "{}", f.name);
        assert_eq!(r.node_id(), Some(3), "{}", f.name);
        if let Some(o) = r.oss() {
            assert_eq!(o.schema_id(), TRANSIT_SCHEMA_ID, "{}", f.name);
            assert_eq!(o.data(), &TRANSIT_SCHEMA_DATA[..], "{}", f.name);
        }
    }
    for (name, inj) in injector_fixtures() {
        let mut buf = [0u8; 264];
        let n = inj.emit(&mut buf).expect(name);
        let t = Trace::parse_preallocated(body_of(&buf[..n]), Mode::Strict).expect(name);
        assert_eq!(
            find_context(&t, CLT_SCHEMA_ID).context(),
            Some(ctx),
            "{name}"
        );
        assert_eq!(
            locate_trace_fast(&packet_with(&buf[..n])).map(|t| t.records().count()),
            Some(1),
            "{name}"
        );
    }
    for (name, inj) in injector_fixtures() {
        // The per-packet path gives the injector's bytes for another context.
        let other: SpanContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
            .parse()
            .expect("valid traceparent");
        let mut b = [0u8; 264];
        let inj2 = HopByHopInjector { ctx: other, ..inj };
        let n = inj2.emit(&mut b).expect(name);
        let mut built = inj.build().expect(name);
        built.set_context(&other);
        assert_eq!(built.as_bytes(), &b[..n], "{name}: set_context differs");
    }
    for (name, b) in encap_fixtures() {
        let mut buf = [0u8; 264];
        let n = b.emit(&mut buf).expect(name);
        let t = Trace::parse_preallocated(body_of(&buf[..n]), Mode::Strict).expect(name);
        assert_eq!(t.records().count(), 0, "{name}");
        assert_eq!(t.free_space(), b.space, "{name}");
    }
    for (name, body) in clt_fixtures() {
        let mut out = String::new();
        let hops = if name.contains("-8hop") { 8 } else { 3 };
        assert_eq!(
            clt_render(&body, &mut out),
            (hops + out.len()) as u64,
            "{name}"
        );
        assert_eq!(out.lines().count(), hops, "{name}");
        assert!(
            out.starts_with("ioam_namespace123_node1=HopLimit=64; Id=1; "),
            "{name}: {out}"
        );
        assert!(
            out.contains(
                "OpaqueStateData=0x4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b701000000; "
            ),
            "{name}"
        );
        assert_ne!(clt_context_of(&body), FAILED, "{name}");
    }
    let mut s = String::new();
    assert_eq!(traceparent::format(&ctx).as_str(), TRACEPARENT);
    assert_eq!(tp_format_std(&ctx, &mut s), 55 + u64::from(b'1'));
    assert_eq!(s, TRACEPARENT);
    assert_ne!(tp_parse(TRACEPARENT), FAILED);
    assert_ne!(tp_parse_std(TRACEPARENT), FAILED);
}

// ---------------------------------------------------------------------------
// The case registry.

/// What a case stands for in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The project's code.
    Subject,
    /// Another implementation of the same job.
    Peer,
    /// The least any implementation must do (copying the bytes).
    Floor,
}

/// One measured case.
pub struct Case {
    /// The hot path (criterion group).
    pub group: &'static str,
    /// The implementation (criterion function name).
    pub function: &'static str,
    /// The fixture (criterion parameter).
    pub fixture: String,
    /// Subject, peer or floor.
    pub role: Role,
    /// One operation; returns a value derived from its result.
    pub run: Box<dyn FnMut() -> u64>,
}

impl Case {
    /// `group/function/fixture`, the criterion id.
    #[must_use]
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.group, self.function, self.fixture)
    }
}

impl core::fmt::Debug for Case {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id())
            .field("role", &self.role)
            .finish()
    }
}

fn case(
    group: &'static str,
    function: &'static str,
    fixture: &str,
    role: Role,
    run: impl FnMut() -> u64 + 'static,
) -> Case {
    Case {
        group,
        function,
        fixture: fixture.to_owned(),
        role,
        run: Box::new(run),
    }
}

/// Every case, group by group, subject first then its peer and floor.
#[must_use]
pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let packets = packet_fixtures();

    // 1. Locate and validate the trace in a whole packet.
    for f in &packets {
        let p = f.packet.clone();
        v.push(case("locate", "ioam", &f.name, Role::Subject, move || {
            locate(black_box(&p))
        }));
        let p = f.packet.clone();
        v.push(case(
            "locate",
            "ioam-fast",
            &f.name,
            Role::Subject,
            move || locate_fast(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "locate",
            "etherparse",
            &f.name,
            Role::Peer,
            move || etherparse_walk(black_box(&p)),
        ));
        let p = f.packet.clone();
        let mut dst = vec![0u8; p.len()];
        v.push(case("locate", "memcpy", &f.name, Role::Floor, move || {
            copy_floor(black_box(&p), black_box(&mut dst))
        }));
    }

    // 2. Every field of every record of the same traces (already located).
    for f in &packets {
        let p: &'static [u8] = Box::leak(f.packet.clone().into_boxed_slice());
        let t = locate_trace(p).expect("verified fixture");
        v.push(case(
            "iterate",
            "wire-order",
            &f.name,
            Role::Subject,
            move || iterate_fields(black_box(&t)),
        ));
        v.push(case(
            "iterate",
            "path-order",
            &f.name,
            Role::Subject,
            move || iterate_fields_path_order(black_box(&t)),
        ));
        v.push(case(
            "iterate",
            "fields",
            &f.name,
            Role::Subject,
            move || iterate_fields_at_once(black_box(&t)),
        ));
        v.push(case(
            "iterate",
            "values",
            &f.name,
            Role::Subject,
            move || iterate_values(black_box(&t)),
        ));
    }

    // 1+2. The goal's composite beside the memcpy floor.
    for f in &packets {
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam",
            &f.name,
            Role::Subject,
            move || decode_iterate(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam-fast",
            &f.name,
            Role::Subject,
            move || decode_iterate_fast(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam-fields",
            &f.name,
            Role::Subject,
            move || decode_iterate_at_once(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam-fast-fields",
            &f.name,
            Role::Subject,
            move || decode_iterate_fast_at_once(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam-values",
            &f.name,
            Role::Subject,
            move || decode_iterate_values(black_box(&p)),
        ));
        let p = f.packet.clone();
        v.push(case(
            "decode_iterate",
            "ioam-fast-values",
            &f.name,
            Role::Subject,
            move || decode_iterate_fast_values(black_box(&p)),
        ));
        let p = f.packet.clone();
        let mut dst = vec![0u8; p.len()];
        v.push(case(
            "decode_iterate",
            "memcpy",
            &f.name,
            Role::Floor,
            move || copy_floor(black_box(&p), black_box(&mut dst)),
        ));
    }

    // 3. Transit write of one record, reset from a template each time.
    for f in transit_fixtures() {
        let mut buf = f.template.clone();
        let (template, node) = (f.template.clone(), f.node);
        v.push(case("transit", "write", f.name, Role::Subject, move || {
            transit_write(black_box(&mut buf), black_box(&template), black_box(&node))
        }));
        let mut buf = f.template.clone();
        let template = f.template;
        v.push(case(
            "transit",
            "reset-only",
            f.name,
            Role::Floor,
            move || transit_reset(black_box(&mut buf), black_box(&template)),
        ));
    }

    for f in transit_fixtures() {
        // The crate's serialize-once path: `PreparedRecord` built once per
        // node, `write_transit_prepared` per packet (same header rules).
        let tt = Trace::parse_preallocated(&f.template, Mode::Strict)
            .expect("verified fixture")
            .trace_type();
        let rec =
            PreparedRecord::new(tt, &f.node, &TransitConfig::default()).expect("verified fixture");
        let mut buf = f.template.clone();
        let template = f.template.clone();
        v.push(case(
            "transit",
            "prepared",
            f.name,
            Role::Subject,
            move || {
                let buf = black_box(&mut buf);
                buf.copy_from_slice(black_box(&template));
                match write_transit_prepared(buf, NAMESPACE, black_box(&rec)) {
                    Ok(TransitOutcome::Written { offset, len }) => (offset + len) as u64,
                    _ => FAILED,
                }
            },
        ));
    }

    // 4. Injector (CLT) and encapsulator headers, beside a copy of the same
    // bytes.
    for (name, inj) in injector_fixtures() {
        let mut buf = [0u8; 264];
        v.push(case("header", "inject", name, Role::Subject, move || {
            inject(black_box(&inj), black_box(&mut buf))
        }));
        let mut built = [0u8; 264];
        let n = inj.emit(&mut built).expect("verified fixture");
        let src = built[..n].to_vec();
        let mut dst = [0u8; 264];
        v.push(case("header", "memcpy", name, Role::Floor, move || {
            copy_floor(black_box(&src), black_box(&mut dst))
        }));
    }
    for (name, inj) in injector_fixtures() {
        // The crate's per-packet path: the header built once, copied into
        // the packet buffer and patched with the context.
        let built = inj.build().expect("verified fixture");
        let slot = built.context_slot();
        let src = built.as_bytes().to_vec();
        let ctx = inj.ctx;
        let mut buf = [0u8; 264];
        v.push(case(
            "header",
            "copy-set-context",
            name,
            Role::Subject,
            move || {
                let src = black_box(&src);
                let buf = black_box(&mut buf);
                buf[..src.len()].copy_from_slice(src);
                match slot.apply(buf, black_box(&ctx)) {
                    Ok(()) => src.len() as u64 + u64::from(buf[src.len() - 1]),
                    Err(_) => FAILED,
                }
            },
        ));
    }
    for (name, b) in encap_fixtures() {
        let mut buf = [0u8; 264];
        v.push(case("header", "encap", name, Role::Subject, move || {
            encap(black_box(&b), black_box(&mut buf))
        }));
        let mut built = [0u8; 264];
        let n = b.emit(&mut built).expect("verified fixture");
        let src = built[..n].to_vec();
        let mut dst = [0u8; 264];
        v.push(case("header", "memcpy", name, Role::Floor, move || {
            copy_floor(black_box(&src), black_box(&mut dst))
        }));
    }

    // 5. CLT context and collector attribute strings.
    for (name, body) in clt_fixtures() {
        let b = body.clone();
        v.push(case("clt", "context", &name, Role::Subject, move || {
            clt_context_of(black_box(&b))
        }));
        let b = body.clone();
        let mut out = String::with_capacity(8192);
        v.push(case("clt", "render", &name, Role::Subject, move || {
            clt_render(black_box(&b), black_box(&mut out))
        }));
        let mut rendered = String::new();
        let _ = clt_render(&body, &mut rendered);
        let src = rendered.into_bytes();
        let mut dst = vec![0u8; src.len()];
        v.push(case(
            "clt",
            "memcpy-output",
            &name,
            Role::Floor,
            move || copy_floor(black_box(&src), black_box(&mut dst)),
        ));
    }

    // 6. traceparent.
    let ctx = span_context();
    v.push(case("traceparent", "parse", "w3c", Role::Subject, || {
        tp_parse(black_box(TRACEPARENT))
    }));
    v.push(case("traceparent", "parse-std", "w3c", Role::Peer, || {
        tp_parse_std(black_box(TRACEPARENT))
    }));
    v.push(case(
        "traceparent",
        "format",
        "w3c",
        Role::Subject,
        move || tp_format(black_box(&ctx)),
    ));
    let mut out = String::with_capacity(64);
    v.push(case(
        "traceparent",
        "format-std",
        "w3c",
        Role::Peer,
        move || tp_format_std(black_box(&ctx), black_box(&mut out)),
    ));
    let mut dst = [0u8; 64];
    v.push(case(
        "traceparent",
        "memcpy",
        "w3c",
        Role::Floor,
        move || copy_floor(black_box(TRACEPARENT.as_bytes()), black_box(&mut dst)),
    ));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_verify() {
        verify_all();
    }

    #[test]
    fn every_case_succeeds() {
        let mut ids = Vec::new();
        for mut c in cases() {
            let id = c.id();
            assert_ne!((c.run)(), FAILED, "{id}");
            assert!(!ids.contains(&id), "duplicate {id}");
            ids.push(id);
        }
        assert!(ids.len() > 50);
    }
}
