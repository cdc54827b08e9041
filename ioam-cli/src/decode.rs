//! The per-packet decoder: a pure function from the bytes of one captured
//! frame (or one IPv6 packet) to a [`PacketReport`], the model behind every
//! output format of `ioam decode`. Used by the binary, the tests and the
//! fuzz targets.
//!
//! Everything about the packet comes from the core crates: the walk over
//! every IOAM option and its typed body from `ioam_trace::IoamPacket`
//! (offsets from the first byte of the IPv6 header), every node field from
//! `NodeRecord::fields`, the CLT context and the collector attributes from
//! `clt_context`, every error's offset and one-line text from its
//! `Diagnostic`. This module only shapes the results into the report. It
//! never panics on any input.

use clt_context::legacy::LegacyTrace;
use clt_context::{CltView, ContextLookup, SpanContext, TraceFlags as W3cFlags};
use ioam_trace::timestamp::TimestampFormat;
use ioam_trace::{
    IoamItem, IoamPacket, NodeRecord, OptionBody, ProtectedTrace, Trace, TraceHeader,
    TraceHeaderRepr, TraceKind, WalkConfig,
};
use ioam_wire::dex::{Dex, DexLayout, DexRepr};
use ioam_wire::e2e::{E2e, E2eRepr, SequenceNumber};
use ioam_wire::error::{Diagnostic, Rule};
use ioam_wire::ext::ExtKind;
use ioam_wire::integrity::{IntegrityRepr, ProtectedOption, Protection};
use ioam_wire::ioam::{IoamType, Placement};
use ioam_wire::ipv6::{Ipv6Header, IPV6_HEADER_LEN};
use ioam_wire::pot::{PotData, PotRepr};
use ioam_wire::{Mode, WireError};

use crate::model::{
    hex, hex_prefixed, CltReport, ErrorReport, FlagsReport, IntegrityReport, NodeReport,
    OptionReport, OssReport, PacketReport, SpanInfo,
};
use crate::timefmt::rfc3339;
use ioam_capture::file::{Frame, Timestamp};
use ioam_capture::link::{ipv6_payload, Payload};

/// Decoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Strict (Linux) or lenient (RFC 9197) checks.
    pub mode: Mode,
    /// Namespaces whose traces use the legacy CLT header.
    pub legacy_clt_ns: Vec<u16>,
    /// Schema ID of the CLT opaque state snapshot.
    pub clt_schema_id: u32,
    /// Timestamp format of node records (RFC 9197 §5: chosen per
    /// namespace, not signalled in the packet).
    pub timestamp_format: TimestampFormat,
    /// Extension-Flags order of DEX bodies (the pre-RFC order only for
    /// older captures known to use it).
    pub dex_layout: DexLayout,
    /// Build the collector attributes of a CLT-tagged trace
    /// ([`SpanInfo::attributes`], needed by the OTLP export only). When
    /// false, `attributes` is left empty.
    pub collector_attributes: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            mode: Mode::Strict,
            legacy_clt_ns: Vec::new(),
            clt_schema_id: clt_context::CLT_SCHEMA_ID,
            timestamp_format: TimestampFormat::Posix,
            dex_layout: DexLayout::Rfc9326,
            collector_attributes: true,
        }
    }
}

impl DecodeOptions {
    fn walk(&self) -> WalkConfig {
        WalkConfig {
            mode: self.mode,
            dex_layout: self.dex_layout,
        }
    }
}

/// The report of an error: its offset (or `fallback` when it has none, as
/// for a value error) and its one-line text.
fn error_report(e: &impl Diagnostic, fallback: usize) -> ErrorReport {
    ErrorReport {
        offset: e.offset().unwrap_or(fallback),
        message: e.to_string(),
    }
}

/// Decode one captured frame. Returns `None` when the frame is not IPv6, or
/// is well-formed IPv6 without any IOAM option; otherwise a report (with
/// errors for a malformed packet). Error offsets count from the first byte
/// of the IPv6 header (from the frame start for link-layer errors).
pub fn decode_frame(frame: &Frame<'_>, opts: &DecodeOptions) -> Option<PacketReport> {
    match ipv6_payload(frame.linktype, frame.data) {
        Ok(Payload::Ipv6 { packet, .. }) => {
            let mut report = decode_ipv6(frame.number, frame.time, packet, opts)?;
            let captured = frame.data.len();
            let on_wire = frame.orig_len as usize;
            if on_wire > captured {
                // A snap length cut the frame: say so next to every error,
                // which then concerns the capture rather than the packet.
                let note =
                    format!(" (only {captured} of the {on_wire} bytes of the frame were captured)");
                let all = report
                    .errors
                    .iter_mut()
                    .chain(report.ioam.iter_mut().flat_map(|o| o.errors.iter_mut()));
                for e in all {
                    e.message.push_str(&note);
                }
            }
            Some(report)
        }
        Ok(Payload::Other) => None,
        Err(e) => Some(PacketReport {
            frame: frame.number,
            time: frame.time.and_then(rfc3339),
            src: None,
            dst: None,
            ioam: Vec::new(),
            errors: vec![ErrorReport {
                offset: 0,
                message: e.to_string(),
            }],
        }),
    }
}

/// Decode one IPv6 packet (starting at its fixed header). See
/// [`decode_frame`] for the result.
pub fn decode_ipv6(
    frame: u64,
    time: Option<Timestamp>,
    packet: &[u8],
    opts: &DecodeOptions,
) -> Option<PacketReport> {
    let mut report = PacketReport {
        frame,
        time: time.and_then(rfc3339),
        src: None,
        dst: None,
        ioam: Vec::new(),
        errors: Vec::new(),
    };

    let ip = Ipv6Header::new_checked(packet).ok();
    if let Some(h) = &ip {
        report.src = Some(crate::model::ipv6_text(h.src_addr()));
        report.dst = Some(crate::model::ipv6_text(h.dst_addr()));
    }
    match IoamPacket::with_config(packet, opts.walk()) {
        Ok(walk) => {
            for item in walk {
                match item {
                    Ok(item) => report.ioam.push(decode_option(&item, opts)),
                    Err(e) => report.errors.push(error_report(&e, 0)),
                }
            }
        }
        Err(e) => report.errors.push(error_report(&e, 0)),
    }
    if report.ioam.is_empty() && report.errors.is_empty() {
        return None;
    }
    // A reported packet whose Payload Length runs past its bytes says so
    // (the walks stop at the bytes there are).
    if let Some(Err(e)) = ip.map(|h| h.check_payload_len()) {
        report.errors.push(error_report(&e, IPV6_HEADER_LEN));
    }
    if let (Some(t), None) = (time, &report.time) {
        // A reported packet says why its `time` key is missing.
        report.errors.push(ErrorReport {
            offset: 0,
            message: format!(
                "capture time {}s from the Unix epoch is outside the years 0000-9999 that RFC 3339 writes: time omitted",
                t.secs
            ),
        });
    }
    Some(report)
}

/// JSON name of an IOAM option type.
pub fn ioam_type_name(t: IoamType) -> &'static str {
    match t {
        IoamType::PreallocatedTrace => "preallocated-trace",
        IoamType::IncrementalTrace => "incremental-trace",
        IoamType::ProofOfTransit => "pot",
        IoamType::EdgeToEdge => "e2e",
        IoamType::DirectExport => "dex",
        IoamType::IntegrityPreallocatedTrace => "integrity-preallocated-trace",
        IoamType::IntegrityIncrementalTrace => "integrity-incremental-trace",
        IoamType::IntegrityProofOfTransit => "integrity-pot",
        IoamType::IntegrityEdgeToEdge => "integrity-e2e",
        _ => "unknown",
    }
}

fn header_name(kind: ExtKind) -> &'static str {
    match kind {
        ExtKind::HopByHop => "hop-by-hop",
        _ => "destination",
    }
}

/// Decode one IOAM option found by the walk (offsets from the packet start).
fn decode_option(item: &IoamItem<'_>, opts: &DecodeOptions) -> OptionReport {
    let o = &item.option;
    let mut r = OptionReport {
        header: header_name(item.header),
        option_type: o.option_type,
        ioam_type: ioam_type_name(o.ioam_type),
        ioam_type_value: u8::from(o.ioam_type),
        ..Default::default()
    };
    let placement = item.placement();
    if let Placement::Mismatch { .. } = placement {
        // RFC 9486 says where each type goes, but an option elsewhere is
        // still well-formed: a finding, not an error (not malformed).
        r.findings.push(ErrorReport {
            offset: o.offset,
            message: format!(
                "IOAM option 0x{:02x} in a {} header: {placement}",
                o.option_type, item.header
            ),
        });
    }
    if !o.is_aligned() {
        // Strict parsing already stopped at this; lenient parsing reports it.
        let e = WireError::Invalid {
            rule: Rule::IoamMisaligned,
            offset: o.offset,
        };
        r.errors.push(error_report(&e, o.offset));
    }
    let kind = match o.ioam_type {
        IoamType::PreallocatedTrace => Some(TraceKind::Preallocated),
        IoamType::IncrementalTrace => Some(TraceKind::Incremental),
        _ => None,
    };
    let namespace = o.namespace_id();
    if let Some(kind) = kind {
        if namespace.is_some_and(|ns| opts.legacy_clt_ns.contains(&ns)) {
            decode_legacy_trace(&mut r, item, kind, opts);
            return r;
        }
    }
    match item.body() {
        Ok(OptionBody::PreallocatedTrace(t) | OptionBody::IncrementalTrace(t)) => set_trace(
            &mut r,
            &CltView::new(t, opts.clt_schema_id),
            OPAQUE_STATE,
            opts,
        ),
        Ok(OptionBody::Pot(p)) => set_pot(&mut r, &p),
        Ok(OptionBody::E2e(e)) => set_e2e(&mut r, &e),
        Ok(OptionBody::Dex(d)) => set_dex(&mut r, &d, o.body),
        Ok(OptionBody::Integrity(i)) => set_integrity(&mut r, item, &i, opts),
        Ok(OptionBody::Unknown { ioam_type, data }) => {
            if !matches!(ioam_type, IoamType::Unknown(_)) {
                r.namespace_id = namespace;
            }
            r.data = Some(hex(data));
            // Nothing else reads this body: check the 4n length here
            // (RFC 9486 §4 keeps every IOAM option body 4-byte aligned).
            if !data.len().is_multiple_of(4) {
                let e = WireError::Invalid {
                    rule: Rule::IoamBodyUnaligned(data.len()),
                    offset: o.offset,
                };
                r.errors.push(error_report(&e, o.offset));
            }
        }
        Ok(_) => {}
        Err(e) => {
            set_partial(&mut r, o.ioam_type, o.body);
            r.errors.push(error_report(&e, item.body_offset()));
        }
    }
    r
}

/// What the fixed header of a malformed body still tells (shown next to
/// its error, read through the `ioam_wire` views).
fn set_partial(r: &mut OptionReport, ioam_type: IoamType, body: &[u8]) {
    if body.len() < 2 {
        return;
    }
    match ioam_type {
        IoamType::PreallocatedTrace | IoamType::IncrementalTrace => {
            // Show what the header says even when the trace is unusable.
            if let Ok(h) = TraceHeader::new_checked(body) {
                if let Ok(repr) = TraceHeaderRepr::parse(&h) {
                    set_header(r, &repr);
                }
            }
        }
        IoamType::EdgeToEdge => {
            let v = E2e::new_unchecked(body);
            r.namespace_id = Some(v.namespace_id());
            if body.len() >= 4 {
                r.e2e_type = Some(hex_prefixed(u16::from(v.e2e_type()).into(), 4));
            }
        }
        IoamType::DirectExport => {
            let v = Dex::new_unchecked(body);
            r.namespace_id = Some(v.namespace_id());
            if body.len() >= 4 {
                r.dex_flags = Some(v.flags());
                r.extension_flags = Some(v.extension_flags());
            }
        }
        IoamType::Unknown(_) => {}
        _ => r.namespace_id = Some(u16::from_be_bytes([body[0], body[1]])),
    }
}

fn set_pot(r: &mut OptionReport, p: &PotRepr<'_>) {
    r.namespace_id = Some(p.namespace_id);
    r.pot_flags = Some(p.flags);
    match p.data {
        PotData::Type0 { pkt_id, cumulative } => {
            r.pot_type = Some(0);
            r.pkt_id = Some(pkt_id);
            r.cumulative = Some(cumulative);
        }
        PotData::Unknown { pot_type, data } => {
            r.pot_type = Some(pot_type);
            r.data = Some(hex(data));
        }
    }
}

fn set_e2e(r: &mut OptionReport, p: &E2eRepr<'_>) {
    r.namespace_id = Some(p.namespace_id);
    r.e2e_type = Some(hex_prefixed(u16::from(p.e2e_type()).into(), 4));
    r.seq_num = p.sequence_number.map(SequenceNumber::value);
    r.timestamp_secs = p.timestamp_secs;
    r.timestamp_frac = p.timestamp_frac;
    if !p.opaque.is_empty() {
        r.data = Some(hex(p.opaque));
    }
}

fn set_dex(r: &mut OptionReport, d: &DexRepr, body: &[u8]) {
    r.namespace_id = Some(d.namespace_id);
    r.dex_flags = Some(d.flags);
    // The byte as received (its bit order depends on the layout).
    r.extension_flags = Some(Dex::new_unchecked(body).extension_flags());
    r.trace_type = Some(hex_prefixed(d.trace_type.into(), 6));
    r.flow_id = d.flow_id;
    r.seq_num = d.sequence_number.map(u64::from);
    let unassigned: Vec<u8> = d
        .unassigned
        .iter()
        .flatten()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    if !unassigned.is_empty() {
        r.data = Some(hex(&unassigned));
    }
}

fn set_integrity(
    r: &mut OptionReport,
    item: &IoamItem<'_>,
    opt: &IntegrityRepr<'_>,
    opts: &DecodeOptions,
) {
    match opt.protection {
        Protection::Decoded { nonce, icv, .. } => {
            r.integrity = Some(IntegrityReport {
                method: opt.method_id,
                nonce: Some(hex(nonce)),
                icv: Some(hex(icv)),
            });
        }
        Protection::Opaque { rest, .. } => {
            r.namespace_id = item.option.namespace_id();
            r.integrity = Some(IntegrityReport {
                method: opt.method_id,
                nonce: None,
                icv: None,
            });
            r.data = Some(hex(rest));
        }
    }
    if let Some(protected) = ProtectedTrace::of(item, opt) {
        match protected {
            Ok(p) => match p.trace(opts.mode) {
                Ok(t) => set_trace(r, &CltView::new(t, opts.clt_schema_id), OPAQUE_STATE, opts),
                Err(e) => {
                    set_partial(r, IoamType::PreallocatedTrace, p.body());
                    r.errors.push(error_report(&e, item.body_offset()));
                }
            },
            Err(e) => {
                r.namespace_id = item.option.namespace_id();
                r.errors.push(error_report(&e, item.body_offset()));
            }
        }
        return;
    }
    match opt.protected() {
        Some(Ok(ProtectedOption::Pot(p))) => set_pot(r, &p),
        Some(Ok(ProtectedOption::E2e(p))) => set_e2e(r, &p),
        Some(Err(e)) => {
            r.namespace_id = item.option.namespace_id();
            r.errors.push(error_report(
                &e.with_base(item.body_offset()),
                item.body_offset(),
            ));
        }
        // Traces are handled above; opaque parts carry no option to show.
        Some(Ok(_)) | None => {}
    }
}

/// A trace of a namespace told to carry the legacy CLT header.
fn decode_legacy_trace(
    r: &mut OptionReport,
    item: &IoamItem<'_>,
    kind: TraceKind,
    opts: &DecodeOptions,
) {
    let legacy = match LegacyTrace::from_option(&item.option) {
        Ok(l) => l,
        Err(e) => {
            r.namespace_id = item.option.namespace_id();
            r.errors.push(error_report(&e, item.body_offset()));
            return;
        }
    };
    // The legacy header has no flags; the reference collector reports such
    // spans as sampled.
    match legacy.view(kind, opts.mode, W3cFlags::SAMPLED) {
        Ok(view) => set_trace(r, &view, "legacy-header", opts),
        Err(e) => {
            set_partial(r, item.option.ioam_type, legacy.standard_body());
            r.errors.push(error_report(&e, item.body_offset()));
        }
    }
}

/// The CLT report of a context (ids may be all zero: reported as found,
/// without a traceparent, which W3C forbids for them).
fn clt_report(ctx: &SpanContext, encoding: &'static str) -> CltReport {
    CltReport {
        trace_id: hex(&ctx.trace_id.0),
        span_id: hex(&ctx.span_id.0),
        trace_flags: ctx.flags.0,
        encoding,
        traceparent: ctx
            .is_valid()
            .then(|| clt_context::traceparent::format(ctx).as_str().to_string()),
    }
}

fn set_header(r: &mut OptionReport, h: &TraceHeaderRepr) {
    r.namespace_id = Some(h.namespace_id);
    r.node_len = Some(h.node_len);
    r.flags = Some(FlagsReport {
        overflow: h.flags.overflow,
        loopback: h.flags.loopback,
        active: h.flags.active,
    });
    r.remaining_len = Some(h.remaining_len);
    r.trace_type = Some(hex_prefixed(h.trace_type.bits().into(), 6));
}

/// The `encoding` of a context found in the opaque state snapshot.
const OPAQUE_STATE: &str = "opaque-state";

/// A parsed trace: header, records (path order), CLT context (found with
/// `encoding`: `"opaque-state"` or `"legacy-header"`).
fn set_trace(
    r: &mut OptionReport,
    view: &CltView<'_>,
    encoding: &'static str,
    opts: &DecodeOptions,
) {
    let trace: &Trace<'_> = view.trace();
    set_header(r, trace.header());
    if let Err(e) = trace.check_loopback() {
        r.errors.push(error_report(&e, trace.base()));
    }
    // Wire order is newest first; path order is its reverse. Records read
    // before a malformed one are still shown.
    let mut nodes: Vec<NodeReport> = Vec::new();
    for rec in trace.records() {
        match rec {
            Ok(rec) => nodes.push(node_report(&rec, opts.timestamp_format)),
            Err(e) => {
                r.errors.push(error_report(&e, trace.base()));
                break;
            }
        }
    }
    nodes.reverse();
    for (i, n) in nodes.iter_mut().enumerate() {
        n.hop = i + 1;
    }
    match *view.context() {
        ContextLookup::Found(found) => {
            r.clt = Some(clt_report(&found.ctx, encoding));
            let mut attributes = Vec::new();
            if opts.collector_attributes {
                for hop in view.hops().flatten() {
                    let mut value = String::new();
                    // Writing into a String cannot fail.
                    let _ = hop.attribute_value().write_to(&mut value);
                    attributes.push((hop.attribute_key().to_string(), value));
                }
            }
            r.span = Some(SpanInfo {
                trace_id: found.ctx.trace_id.0,
                parent_span_id: found.ctx.span_id.0,
                trace_flags: found.ctx.flags.0,
                attributes,
                time_range: time_range(&nodes),
            });
        }
        ContextLookup::ZeroIds(found) => r.clt = Some(clt_report(&found.ctx, encoding)),
        ContextLookup::BadOss { offset, error, .. } => r.errors.push(error_report(&error, offset)),
        // No bit 22, no record, another schema: no context, nothing wrong.
        // A malformed record walk was reported above.
        _ => {}
    }
    r.nodes = Some(nodes);
}

fn node_report(rec: &NodeRecord<'_>, format: TimestampFormat) -> NodeReport {
    let f = rec.fields();
    let undefined: Vec<u32> = rec.undefined_words().collect();
    NodeReport {
        hop: 0,
        hop_limit: f.hop_limit,
        node_id: f.node_id,
        ingress_if_id: f.ingress_if_id,
        egress_if_id: f.egress_if_id,
        timestamp_secs: f.timestamp_secs,
        timestamp_frac: f.timestamp_frac,
        transit_delay: f.transit_delay,
        namespace_data: f.namespace_data.map(|v| hex_prefixed(v.into(), 8)),
        queue_depth: f.queue_depth,
        checksum_complement: f.checksum_complement,
        hop_limit_wide: f.hop_limit_wide,
        node_id_wide: f.node_id_wide,
        ingress_if_id_wide: f.ingress_if_id_wide,
        egress_if_id_wide: f.egress_if_id_wide,
        namespace_data_wide: f.namespace_data_wide.map(|v| hex_prefixed(v, 16)),
        buffer_occupancy: f.buffer_occupancy,
        undefined: (!undefined.is_empty()).then_some(undefined),
        oss: f.oss.map(|o| OssReport {
            schema_id: o.schema_id(),
            data: hex(o.data()),
        }),
        unix_nanos: f.unix_nanos(format),
    }
}

fn time_range(nodes: &[NodeReport]) -> Option<(u64, u64)> {
    let mut times = nodes.iter().filter_map(|n| n.unix_nanos);
    let first = times.next()?;
    Some(times.fold((first, first), |(a, b), t| (a.min(t), b.max(t))))
}

/// The capture recorded from real Linux IOAM routers (`data/sample-linux.pcap`
/// in the repository, made by the interop suite), embedded in the binary:
/// what `ioam decode` reads when given no file.
pub const SAMPLE_CAPTURE: &[u8] = include_bytes!("../../data/sample-linux.pcap");
