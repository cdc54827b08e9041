//! The per-packet decoder: a pure function from the bytes of one captured
//! frame (or one IPv6 packet) to a [`PacketReport`], the model behind every
//! output format of `ioam decode`. Used by the binary, the tests and the
//! fuzz targets.
//!
//! All protocol parsing is done by the core crates: `ioam_wire` walks the
//! extension-header chain and the options and reads the POT / E2E / DEX /
//! integrity bodies, `ioam_trace` reads trace headers and node records,
//! `clt_context` finds the CLT span context. This module calls them, makes
//! every offset absolute (from the first byte of the IPv6 header) and turns
//! results and errors into the report. It never panics on any input.

use core::fmt::Display;

use clt_context::{CltView, ContextLookup};
use ioam_trace::{NodeRecord, Trace, TraceError, TraceHeader, TraceHeaderRepr, TraceKind};
use ioam_wire::dex::{DexError, DexRepr};
use ioam_wire::e2e::{E2eError, E2eRepr, SequenceNumber};
use ioam_wire::ext::{ExtHeaders, ExtKind};
use ioam_wire::integrity::{IntegrityError, IntegrityOption, ProtectedOption, Protection};
use ioam_wire::ioam::{IoamOption, IoamType, Placement};
use ioam_wire::ipv6::{Ipv6Header, IPV6_HEADER_LEN};
use ioam_wire::opt::Opt;
use ioam_wire::pot::{PotData, PotError, PotRepr};
use ioam_wire::{Mode, WireError};

use crate::capture::{Frame, Timestamp};
use crate::linklayer::{ipv6_payload, Payload};
use crate::model::{
    hex, hex_prefixed, CltReport, ErrorReport, FlagsReport, IntegrityReport, NodeReport,
    OptionReport, OssReport, PacketReport, SpanInfo,
};
use crate::timefmt::rfc3339;

/// How timestamps in node records are read (the format is chosen per
/// namespace and not signalled in the packet, RFC 9197 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimestampFormat {
    /// POSIX: seconds, microseconds (what Linux writes).
    #[default]
    Posix,
    /// PTP truncated: seconds, nanoseconds.
    Ptp,
    /// NTP 64-bit: seconds since 1900, fraction in 2^-32 s.
    Ntp,
}

/// Decoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Strict (Linux-like) validation when true, lenient (RFC-like) otherwise.
    pub strict: bool,
    /// Namespaces whose traces use the legacy CLT header.
    pub legacy_clt_ns: Vec<u16>,
    /// Schema ID of the CLT opaque state snapshot.
    pub clt_schema_id: u32,
    /// Timestamp format of node records.
    pub timestamp_format: TimestampFormat,
    /// Read DEX Extension-Flags in the pre-RFC 9326 bit order (flow id
    /// 0x01, sequence number 0x02), as some older captures use.
    pub legacy_dex: bool,
    /// Build the collector attributes of a CLT-tagged trace
    /// ([`SpanInfo::attributes`], needed by the OTLP export only). When
    /// false, `attributes` is left empty.
    pub collector_attributes: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            strict: true,
            legacy_clt_ns: Vec::new(),
            clt_schema_id: clt_context::CLT_SCHEMA_ID,
            timestamp_format: TimestampFormat::Posix,
            legacy_dex: false,
            collector_attributes: true,
        }
    }
}

impl DecodeOptions {
    fn mode(&self) -> Mode {
        if self.strict {
            Mode::Strict
        } else {
            Mode::Lenient
        }
    }
}

fn error(offset: usize, message: impl Display) -> ErrorReport {
    ErrorReport {
        offset,
        message: message.to_string(),
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
            time: frame.time.map(rfc3339),
            src: None,
            dst: None,
            ioam: Vec::new(),
            errors: vec![error(0, e)],
        }),
    }
}

fn addr(bytes: [u8; 16]) -> String {
    crate::model::ipv6_text(bytes)
}

fn wire_error(e: WireError) -> ErrorReport {
    error(e.offset().unwrap_or(0), e)
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
        time: time.map(rfc3339),
        src: None,
        dst: None,
        ioam: Vec::new(),
        errors: Vec::new(),
    };
    if packet.len() >= IPV6_HEADER_LEN {
        let h = Ipv6Header::new_unchecked(packet);
        report.src = Some(addr(h.src_addr()));
        report.dst = Some(addr(h.dst_addr()));
    }
    let headers = match ExtHeaders::new(packet) {
        Ok(h) => h,
        Err(e) => {
            report.errors.push(wire_error(e));
            return Some(report);
        }
    };
    for item in headers {
        let header = match item {
            Ok(h) => h,
            Err(e) => {
                report.errors.push(wire_error(e));
                break;
            }
        };
        let Some(options) = header.options(opts.mode()) else {
            continue;
        };
        for opt in options {
            match opt {
                Ok(Opt::Ioam(o)) => {
                    let o = o.with_base(header.offset);
                    report.ioam.push(decode_option(header.kind, &o, opts));
                }
                Ok(_) => {}
                Err(e) => {
                    report.errors.push(wire_error(e.with_base(header.offset)));
                    break;
                }
            }
        }
    }
    if report.ioam.is_empty() && report.errors.is_empty() {
        None
    } else {
        Some(report)
    }
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

/// Decode one IOAM option whose offsets are already absolute.
fn decode_option(kind: ExtKind, o: &IoamOption<'_>, opts: &DecodeOptions) -> OptionReport {
    let mut r = OptionReport {
        header: header_name(kind),
        option_type: o.option_type,
        ioam_type: ioam_type_name(o.ioam_type),
        ioam_type_value: u8::from(o.ioam_type),
        ..Default::default()
    };
    if let Placement::Mismatch { .. } = o.placement(kind) {
        r.errors.push(error(
            o.offset,
            format_args!(
                "IOAM option 0x{:02x} in a {} header: {}",
                o.option_type,
                kind,
                o.placement(kind)
            ),
        ));
    }
    if !o.is_aligned() {
        // Strict parsing already stopped at this; lenient parsing reports it.
        r.errors.push(error(
            o.offset,
            WireError::Invalid {
                rule: ioam_wire::error::Rule::IoamMisaligned,
                offset: o.offset,
            },
        ));
    }
    match o.ioam_type {
        IoamType::PreallocatedTrace => {
            decode_trace(&mut r, o.body, o.body_offset, TraceKind::Preallocated, opts)
        }
        IoamType::IncrementalTrace => {
            decode_trace(&mut r, o.body, o.body_offset, TraceKind::Incremental, opts)
        }
        IoamType::ProofOfTransit => decode_pot(&mut r, o.body, o.body_offset),
        IoamType::EdgeToEdge => decode_e2e(&mut r, o.body, o.body_offset),
        IoamType::DirectExport => decode_dex(&mut r, o.body, o.body_offset, opts.legacy_dex),
        IoamType::IntegrityPreallocatedTrace
        | IoamType::IntegrityIncrementalTrace
        | IoamType::IntegrityProofOfTransit
        | IoamType::IntegrityEdgeToEdge => {
            decode_integrity(&mut r, u8::from(o.ioam_type), o.body, o.body_offset, opts)
        }
        _ => {
            if let Some(ns) = o.body.get(..2) {
                if !matches!(o.ioam_type, IoamType::Unknown(_)) {
                    r.namespace_id = Some(u16::from_be_bytes([ns[0], ns[1]]));
                }
            }
            r.data = Some(hex(o.body));
            // Nothing else reads this body: check the 4n length here
            // (RFC 9486 §4 keeps every IOAM option body 4-byte aligned).
            if !o.body.len().is_multiple_of(4) {
                r.errors.push(error(
                    o.offset,
                    WireError::Invalid {
                        rule: ioam_wire::error::Rule::IoamBodyUnaligned(o.body.len()),
                        offset: o.offset,
                    },
                ));
            }
        }
    }
    r
}

fn pot_error(e: PotError, base: usize) -> ErrorReport {
    let e = e.with_base(base);
    let offset = match e {
        PotError::HeaderTruncated { offset, .. } | PotError::Type0DataLength { offset, .. } => {
            offset
        }
        _ => base,
    };
    error(offset, e)
}

fn decode_pot(r: &mut OptionReport, body: &[u8], base: usize) {
    match PotRepr::parse_bytes(body) {
        Ok(p) => {
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
        Err(e) => {
            header_u16(r, body);
            r.errors.push(pot_error(e, base));
        }
    }
}

fn header_u16(r: &mut OptionReport, body: &[u8]) {
    if let Some(ns) = body.get(..2) {
        r.namespace_id = Some(u16::from_be_bytes([ns[0], ns[1]]));
    }
}

fn e2e_error(e: E2eError, base: usize) -> ErrorReport {
    let e = e.with_base(base);
    let offset = match e {
        E2eError::HeaderTruncated { offset, .. }
        | E2eError::BothSequenceNumbers { offset }
        | E2eError::DataTruncated { offset, .. }
        | E2eError::DataTooLong { offset, .. } => offset,
        _ => base,
    };
    error(offset, e)
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

fn decode_e2e(r: &mut OptionReport, body: &[u8], base: usize) {
    match E2eRepr::parse_bytes(body) {
        Ok(p) => set_e2e(r, &p),
        Err(e) => {
            header_u16(r, body);
            if let Some(t) = body.get(2..4) {
                r.e2e_type = Some(format!("0x{:02x}{:02x}", t[0], t[1]));
            }
            r.errors.push(e2e_error(e, base));
        }
    }
}

fn dex_error(e: DexError, base: usize) -> ErrorReport {
    let e = e.with_base(base);
    let offset = match e {
        DexError::HeaderTruncated { offset, .. } | DexError::LengthMismatch { offset, .. } => {
            offset
        }
        _ => base,
    };
    error(offset, e)
}

fn decode_dex(r: &mut OptionReport, body: &[u8], base: usize, legacy: bool) {
    let parsed = if legacy {
        DexRepr::parse_legacy(body)
    } else {
        DexRepr::parse_bytes(body)
    };
    match parsed {
        Ok(d) => {
            r.namespace_id = Some(d.namespace_id);
            r.dex_flags = Some(d.flags);
            // The byte as received (its bit order depends on the layout).
            r.extension_flags = body.get(3).copied();
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
        Err(e) => {
            header_u16(r, body);
            if let Some(f) = body.get(2..4) {
                r.dex_flags = Some(f[0]);
                r.extension_flags = Some(f[1]);
            }
            r.errors.push(dex_error(e, base));
        }
    }
}

fn integrity_error(e: IntegrityError, base: usize) -> ErrorReport {
    match e {
        IntegrityError::Pot(p) => pot_error(p, base),
        IntegrityError::E2e(p) => e2e_error(p, base),
        IntegrityError::Truncated { offset, .. } => error(base + offset, e.with_base(base)),
        other => error(base, other),
    }
}

fn decode_integrity(
    r: &mut OptionReport,
    ioam_type: u8,
    body: &[u8],
    base: usize,
    opts: &DecodeOptions,
) {
    let opt = match IntegrityOption::parse(ioam_type, body) {
        Ok(o) => o,
        Err(e) => {
            header_u16(r, body);
            r.errors.push(integrity_error(e, base));
            return;
        }
    };
    match opt.protection {
        Protection::Decoded { nonce, icv, .. } => {
            r.integrity = Some(IntegrityReport {
                method: opt.method_id,
                nonce: Some(hex(nonce)),
                icv: Some(hex(icv)),
            });
        }
        Protection::Opaque { rest, .. } => {
            header_u16(r, body);
            r.integrity = Some(IntegrityReport {
                method: opt.method_id,
                nonce: None,
                icv: None,
            });
            r.data = Some(hex(rest));
        }
    }
    let Some(protected) = opt.protected() else {
        return;
    };
    let data_offset = opt.data_offset().unwrap_or(0);
    match protected {
        Ok(ProtectedOption::PreallocatedTrace(parts))
        | Ok(ProtectedOption::IncrementalTrace(parts)) => {
            let kind = if ioam_type == ioam_wire::integrity::IOAM_TYPE_PREALLOCATED_TRACE {
                TraceKind::Preallocated
            } else {
                TraceKind::Incremental
            };
            // The trace layer reads a contiguous body: header, then data.
            let mut standard = parts.header.to_vec();
            standard.extend_from_slice(parts.data);
            let map = BodyMap {
                base,
                shift_after_header: data_offset.saturating_sub(ioam_trace::TRACE_HEADER_LEN),
            };
            decode_trace_body(r, &standard, map, kind, opts, None);
        }
        Ok(ProtectedOption::Pot(p)) => {
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
        Ok(ProtectedOption::E2e(p)) => set_e2e(r, &p),
        Err(e) => {
            header_u16(r, body);
            r.errors.push(integrity_error(e, base));
        }
    }
}

fn trace_error_offset(e: &TraceError) -> Option<usize> {
    Some(match *e {
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
        | TraceError::Packet { offset, .. } => offset,
        _ => return None,
    })
}

/// Where the standard trace body handed to `ioam_trace` sits in the packet:
/// the body offset, and for the legacy CLT header the 24 bytes of ids that
/// were cut out after the 8-byte header.
#[derive(Clone, Copy)]
struct BodyMap {
    base: usize,
    shift_after_header: usize,
}

impl BodyMap {
    fn abs(&self, off: usize) -> usize {
        if off >= ioam_trace::TRACE_HEADER_LEN {
            self.base + off + self.shift_after_header
        } else {
            self.base + off
        }
    }

    fn trace_error(&self, e: TraceError) -> ErrorReport {
        let rel = trace_error_offset(&e).unwrap_or(0);
        let abs = self.abs(rel);
        error(abs, e.with_base(abs - rel))
    }
}

fn decode_trace(
    r: &mut OptionReport,
    body: &[u8],
    base: usize,
    kind: TraceKind,
    opts: &DecodeOptions,
) {
    let ns = body.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    if let Some(ns) = ns {
        if opts.legacy_clt_ns.contains(&ns) {
            match clt_context::legacy::LegacyTrace::from_body(body) {
                Ok(legacy) => {
                    let map = BodyMap {
                        base,
                        shift_after_header: clt_context::legacy::LegacyTrace::OFFSET_SHIFT,
                    };
                    decode_trace_body(
                        r,
                        legacy.standard_body(),
                        map,
                        kind,
                        opts,
                        Some(legacy.ids()),
                    );
                }
                Err(e) => {
                    r.namespace_id = Some(ns);
                    r.errors.push(error(
                        base + ioam_wire::error::Diagnostic::offset(&e).unwrap_or(0),
                        e,
                    ));
                }
            }
            return;
        }
    }
    let map = BodyMap {
        base,
        shift_after_header: 0,
    };
    decode_trace_body(r, body, map, kind, opts, None);
}

/// The CLT report of a context (ids may be all zero: reported as found,
/// without a traceparent, which W3C forbids for them).
fn clt_report(ctx: &clt_context::SpanContext, encoding: &'static str) -> CltReport {
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

fn decode_trace_body(
    r: &mut OptionReport,
    body: &[u8],
    map: BodyMap,
    kind: TraceKind,
    opts: &DecodeOptions,
    legacy: Option<clt_context::legacy::LegacyIds>,
) {
    let trace = match Trace::parse(body, opts.mode(), kind) {
        Ok(t) => t,
        Err(e) => {
            // Show what the header says even when the trace is unusable.
            if let Ok(h) = TraceHeader::new_checked(body) {
                if let Ok(repr) = TraceHeaderRepr::parse(&h) {
                    set_header(r, &repr);
                }
            }
            r.errors.push(map.trace_error(e));
            return;
        }
    };
    set_header(r, trace.header());
    if let Err(e) = trace.check_loopback() {
        r.errors.push(map.trace_error(e));
    }
    // Wire order is newest first; path order is its reverse. Records read
    // before a malformed one are still shown.
    let mut nodes: Vec<NodeReport> = Vec::new();
    for rec in trace.records() {
        match rec {
            Ok(rec) => nodes.push(node_report(0, &rec, opts.timestamp_format)),
            Err(e) => {
                r.errors.push(map.trace_error(e));
                break;
            }
        }
    }
    nodes.reverse();
    for (i, n) in nodes.iter_mut().enumerate() {
        n.hop = i + 1;
    }

    // The CLT context and the collector attributes come from clt-context.
    let (view, encoding) = match legacy {
        // The legacy header has no flags; the reference collector reports
        // such spans as sampled.
        Some(ids) => (
            CltView::with_legacy_ids(trace, ids, clt_context::TraceFlags::SAMPLED),
            "legacy-header",
        ),
        None => (CltView::new(trace, opts.clt_schema_id), "opaque-state"),
    };
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
        ContextLookup::BadOss {
            offset, error: e, ..
        } => {
            r.errors.push(error(
                map.abs(offset + ioam_wire::error::Diagnostic::offset(&e).unwrap_or(0)),
                e,
            ));
        }
        // No bit 22, no record, another schema: no context, nothing wrong.
        // A malformed record walk was reported above.
        _ => {}
    }
    r.nodes = Some(nodes);
}

fn node_report(hop: usize, rec: &NodeRecord<'_>, format: TimestampFormat) -> NodeReport {
    let undefined: Vec<u32> = (12..=21).filter_map(|b| rec.undefined(b)).collect();
    NodeReport {
        hop,
        hop_limit: rec.hop_limit(),
        node_id: rec.node_id(),
        ingress_if_id: rec.ingress_if_id(),
        egress_if_id: rec.egress_if_id(),
        timestamp_secs: rec.timestamp_secs(),
        timestamp_frac: rec.timestamp_frac(),
        transit_delay: rec.transit_delay(),
        namespace_data: rec.namespace_data().map(|v| hex_prefixed(v.into(), 8)),
        queue_depth: rec.queue_depth(),
        checksum_complement: rec.checksum_complement(),
        hop_limit_wide: rec.hop_limit_wide(),
        node_id_wide: rec.node_id_wide(),
        ingress_if_id_wide: rec.ingress_if_id_wide(),
        egress_if_id_wide: rec.egress_if_id_wide(),
        namespace_data_wide: rec.namespace_data_wide().map(|v| hex_prefixed(v, 16)),
        buffer_occupancy: rec.buffer_occupancy(),
        undefined: (!undefined.is_empty()).then_some(undefined),
        oss: rec.oss().map(|o| OssReport {
            schema_id: o.schema_id(),
            data: hex(o.data()),
        }),
        unix_nanos: match (rec.timestamp_secs(), rec.timestamp_frac()) {
            // All ones is "unavailable" (RFC 9197 §4.4.2).
            (Some(u32::MAX), _) => None,
            (Some(secs), frac) => timestamp_nanos(secs, frac, format),
            (None, _) => None,
        },
    }
}

impl From<TimestampFormat> for ioam_trace::timestamp::TimestampFormat {
    fn from(f: TimestampFormat) -> Self {
        match f {
            TimestampFormat::Posix => ioam_trace::timestamp::TimestampFormat::Posix,
            TimestampFormat::Ptp => ioam_trace::timestamp::TimestampFormat::Ptp,
            TimestampFormat::Ntp => ioam_trace::timestamp::TimestampFormat::Ntp,
        }
    }
}

/// Nanoseconds since the Unix epoch of a node timestamp (a missing
/// fraction counts as 0).
pub fn timestamp_nanos(secs: u32, frac: Option<u32>, format: TimestampFormat) -> Option<u64> {
    ioam_trace::timestamp::TimestampFormat::from(format).to_unix_nanos(secs, frac.unwrap_or(0))
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
