//! The per-packet decoder: from the bytes of one captured frame (or one
//! IPv6 packet) to a stream of typed views that every output format of
//! `ioam decode` writes straight into its buffer, and to the owned
//! [`PacketReport`] model for callers that want a value.
//!
//! Everything about the packet comes from the core crates: the walk over
//! every IOAM option and its typed body from `ioam_trace::IoamPacket`
//! (offsets from the first byte of the IPv6 header), every node field from
//! `NodeRecord::fields`, the CLT context and the collector attributes from
//! `clt_context`, every error's offset and one-line text from its
//! `Diagnostic`. This module only sorts the results into views. It never
//! panics on any input, and in steady state it does not allocate: the
//! views borrow the packet, the errors are kept in a buffer the
//! [`Decoder`] reuses.
//!
//! ```
//! use ioam_cli::decode::{Decoder, DecodeOptions};
//! use ioam_cli::jsonline::JsonSink;
//!
//! // An IPv6 packet with a Hop-by-Hop pre-allocated trace (0x800000, one record).
//! let mut pkt = vec![0x60, 0, 0, 0, 0, 24, 0, 64];
//! pkt.extend_from_slice(&[0; 32]);
//! // Pad2, the option (4n-aligned), its trace header, the record, PadN.
//! pkt.extend_from_slice(&[59, 2, 1, 0, 0x31, 14, 0, 0, 0, 7, 0x08, 0, 0x80, 0, 0, 0]);
//! pkt.extend_from_slice(&[64, 0, 0, 1, 1, 2, 0, 0]);
//! let mut decoder = Decoder::new(DecodeOptions::default());
//! let mut json = JsonSink::new();
//! let outcome = decoder.ipv6(1, None, &pkt, &mut json).expect("an IOAM packet");
//! assert!(outcome.has_ioam && !outcome.malformed);
//! let line = String::from_utf8(json.take()).unwrap();
//! assert!(line.contains(r#""nodes":[{"hop":1,"hop_limit":64,"node_id":1}]"#), "{line}");
//! ```

use core::fmt;

use clt_context::legacy::LegacyTrace;
use clt_context::{CltError, CltView, ContextLookup, SpanContext, TraceFlags as W3cFlags};
use ioam_trace::timestamp::TimestampFormat;
use ioam_trace::{
    IoamItem, IoamPacket, NodeRecord, OptionBody, PathOrder, ProtectedTrace, TraceError,
    TraceHeader, TraceHeaderRepr, TraceKind, TraceType, WalkConfig,
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

use crate::fmtbuf::TimeCache;
use crate::model::{
    hex, CltReport, ErrorReport, FlagsReport, IntegrityReport, NodeReport, OptionReport, OssReport,
    PacketReport, SpanInfo,
};
use ioam_capture::file::{Frame, Timestamp};
use ioam_capture::link::{ipv6_payload, LinkError, Payload};

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
    /// Build the collector attributes of a CLT-tagged trace in the owned
    /// report ([`SpanInfo::attributes`], which only OTLP export reads).
    /// When false, `attributes` is left empty. The streaming writers read
    /// the attributes from the trace view themselves and ignore this.
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

/// What is wrong (or, for a finding, unusual) and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset, from the first byte of the IPv6 header (from the start
    /// of the frame for a link-layer error).
    pub offset: usize,
    /// The error itself; its `Display` is the one-line message.
    pub kind: ProblemKind,
}

/// The error of a [`Problem`], as the core crate that found it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// IPv6 header, extension headers, option framing, option bodies.
    Wire(WireError),
    /// Trace headers and node records.
    Trace(TraceError),
    /// CLT snapshot and legacy header.
    Clt(CltError),
    /// The link-layer header of the frame.
    Link(LinkError),
    /// An IOAM option in a header, or with an option code, that RFC 9486
    /// does not give its type (a finding: the option is decoded anyway).
    Placement {
        /// The IPv6 option code.
        option_type: u8,
        /// The header the option is in.
        header: ExtKind,
        /// What RFC 9486 says instead.
        placement: Placement,
    },
    /// A capture time that RFC 3339 cannot write (the `time` key is left out).
    TimeOutOfRange {
        /// Seconds since the Unix epoch.
        secs: i64,
    },
}

macro_rules! problem_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for ProblemKind {
            fn from(e: $t) -> Self {
                ProblemKind::$v(e)
            }
        }
    )*};
}
problem_from!(WireError => Wire, TraceError => Trace, CltError => Clt, LinkError => Link);

impl Problem {
    /// The problem of error `e`, at its own offset or at `fallback` when
    /// it has none (a value error).
    fn of<E: Diagnostic + Into<ProblemKind>>(e: E, fallback: usize) -> Self {
        Problem {
            offset: e.offset().unwrap_or(fallback),
            kind: e.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::Wire(e) => e.fmt(f),
            ProblemKind::Trace(e) => e.fmt(f),
            ProblemKind::Clt(e) => e.fmt(f),
            ProblemKind::Link(e) => e.fmt(f),
            ProblemKind::Placement {
                option_type,
                header,
                placement,
            } => write!(
                f,
                "IOAM option 0x{option_type:02x} in a {header} header: {placement}"
            ),
            ProblemKind::TimeOutOfRange { secs } => write!(
                f,
                "capture time {secs}s from the Unix epoch is outside the years 0000-9999 that RFC 3339 writes: time omitted"
            ),
        }
    }
}

/// What every view of one packet shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHead {
    /// 1-based frame number in the capture.
    pub frame: u64,
    /// The capture time, when RFC 3339 can write it (see [`Self::capture_time`]).
    pub time: Option<Timestamp>,
    /// The capture time as recorded, even one RFC 3339 cannot write.
    pub capture_time: Option<Timestamp>,
    /// IPv6 source address (absent when the IPv6 header is unreadable).
    pub src: Option<[u8; 16]>,
    /// IPv6 destination address.
    pub dst: Option<[u8; 16]>,
    /// `(captured, on_wire)` bytes when a snap length cut the frame: every
    /// error (not the findings) then says so after its message, as
    /// [`Self::write_note`] writes it.
    pub truncated: Option<(usize, usize)>,
}

impl PacketHead {
    /// Append the snap-length note of an error message, if the frame was cut.
    pub fn write_note(&self, w: &mut impl fmt::Write) -> fmt::Result {
        match self.truncated {
            Some((captured, on_wire)) => write!(
                w,
                " (only {captured} of the {on_wire} bytes of the frame were captured)"
            ),
            None => Ok(()),
        }
    }
}

/// An error message with the packet's snap-length note: what the outputs
/// print for an error.
#[derive(Debug, Clone, Copy)]
pub struct ErrorText<'p> {
    /// The error.
    pub problem: &'p Problem,
    /// Its packet.
    pub head: &'p PacketHead,
}

impl fmt::Display for ErrorText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)?;
        self.head.write_note(f)
    }
}

/// Errors of one option (at most one per check: misalignment, body, loopback,
/// record, snapshot).
pub type OptionErrors = heapless::Vec<Problem, 8>;

/// Bytes the decoder keeps opaque: a slice of the packet, or the few
/// unassigned DEX words, copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opaque<'a> {
    /// A slice of the packet.
    Bytes(&'a [u8]),
    /// Up to 24 bytes, of which `len` are used.
    Inline([u8; 24], u8),
}

impl Opaque<'_> {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Opaque::Bytes(b) => b,
            Opaque::Inline(b, len) => &b[..usize::from(*len)],
        }
    }
}

/// The integrity header of an integrity-protected option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegrityView<'a> {
    /// Integrity method (0 = AES-GMAC).
    pub method: u8,
    /// Nonce (absent when the method or nonce length is unknown).
    pub nonce: Option<&'a [u8]>,
    /// Integrity check value (absent when the method is unknown).
    pub icv: Option<&'a [u8]>,
}

/// One IOAM option, decoded: the typed counterpart of [`OptionReport`]
/// (same fields, same meaning), borrowing the packet. The node records
/// of a trace come beside it, in a [`TraceView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionView<'a> {
    /// 0-based index among the IOAM options of the packet.
    pub index: usize,
    /// The extension header holding the option.
    pub header: ExtKind,
    /// The IPv6 option code.
    pub option_type: u8,
    /// The IOAM option type.
    pub ioam_type: IoamType,
    /// Namespace-ID.
    pub namespace_id: Option<u16>,
    /// Trace: NodeLen in 4-byte words.
    pub node_len: Option<u8>,
    /// Trace: flags.
    pub flags: Option<FlagsReport>,
    /// Trace: RemainingLen in 4-byte words.
    pub remaining_len: Option<u8>,
    /// Trace and DEX: the 24-bit trace type.
    pub trace_type: Option<u32>,
    /// POT: POT type.
    pub pot_type: Option<u8>,
    /// POT: POT flags.
    pub pot_flags: Option<u8>,
    /// POT type 0: packet id.
    pub pkt_id: Option<u64>,
    /// POT type 0: cumulative.
    pub cumulative: Option<u64>,
    /// E2E: the 16-bit E2E type bitmap.
    pub e2e_type: Option<u16>,
    /// E2E and DEX: sequence number.
    pub seq_num: Option<u64>,
    /// E2E: timestamp seconds.
    pub timestamp_secs: Option<u32>,
    /// E2E: timestamp fraction.
    pub timestamp_frac: Option<u32>,
    /// DEX: flags byte.
    pub dex_flags: Option<u8>,
    /// DEX: extension flags byte, as received.
    pub extension_flags: Option<u8>,
    /// DEX: flow id.
    pub flow_id: Option<u32>,
    /// Integrity-protected types: the integrity header.
    pub integrity: Option<IntegrityView<'a>>,
    /// Bytes kept opaque.
    pub data: Option<Opaque<'a>>,
    /// Errors inside this option, in the order they were found.
    pub errors: OptionErrors,
    /// The placement finding, if any (not an error).
    pub finding: Option<Problem>,
}

/// A parsed trace beside its [`OptionView`]: the records that could be
/// read and the CLT context.
#[derive(Debug, Clone)]
pub struct TraceView<'t> {
    /// The trace and its context lookup.
    pub view: CltView<'t>,
    /// `"opaque-state"` or `"legacy-header"`: where the context was looked for.
    pub encoding: &'static str,
    /// The timestamp format of the namespace.
    pub timestamp_format: TimestampFormat,
}

impl<'t> TraceView<'t> {
    /// The view of a trace, under the timestamp format of `opts`. Inlined:
    /// built where it is used, it is not copied (see `set_trace`).
    #[inline(always)]
    fn new(view: CltView<'t>, encoding: &'static str, opts: &DecodeOptions) -> Self {
        Self {
            view,
            encoding,
            timestamp_format: opts.timestamp_format,
        }
    }

    /// The records read before the first malformed one (all of them when
    /// none is), oldest first, from the view's one walk (see
    /// [`CltView::readable_records`]). The iterator yields no error;
    /// [`Self::path_order`] numbers them.
    pub fn records(&self) -> PathOrder<'t> {
        self.view.readable_records().0
    }

    /// The records read (see [`Self::records`]) in path order (first node
    /// first), numbered from 1.
    pub fn path_order(&self) -> impl Iterator<Item = (usize, NodeRecord<'t>)> + '_ {
        self.records()
            .map_while(Result::ok)
            .enumerate()
            .map(|(i, r)| (i + 1, r))
    }

    /// The CLT context found (ids may be all zero), if any.
    pub fn context(&self) -> Option<SpanContext> {
        match *self.view.context() {
            ContextLookup::Found(f) | ContextLookup::ZeroIds(f) => Some(f.ctx),
            _ => None,
        }
    }

    /// The context of the `ioam-span` to export: found, with valid ids.
    pub fn span_context(&self) -> Option<SpanContext> {
        match *self.view.context() {
            ContextLookup::Found(f) => Some(f.ctx),
            _ => None,
        }
    }

    /// Earliest and latest node timestamps (ns since the Unix epoch), when
    /// the records carry timestamps.
    pub fn time_range(&self) -> Option<(u64, u64)> {
        // Without the seconds field no record has a time: no walk.
        if !self
            .view
            .trace()
            .trace_type()
            .contains(TraceType::TIMESTAMP_SECS)
        {
            return None;
        }
        let fmt = self.timestamp_format;
        let mut times = self.path_order().filter_map(|(_, r)| r.unix_nanos(fmt));
        let first = times.next()?;
        Some(times.fold((first, first), |(a, b), t| (a.min(t), b.max(t))))
    }
}

/// Whether the outputs show a context's W3C `traceparent`: when its ids
/// are valid (the rule of [`traceparent`], for the sinks that write the
/// value in place).
pub fn has_traceparent(ctx: &SpanContext) -> bool {
    ctx.is_valid()
}

/// The W3C `traceparent` of a context, when its ids are valid.
pub fn traceparent(ctx: &SpanContext) -> Option<clt_context::traceparent::TraceparentText> {
    has_traceparent(ctx).then(|| clt_context::traceparent::format(ctx))
}

/// A receiver of decoded packets: an output format, or the owned model.
/// For each reported packet the decoder calls [`begin`](Self::begin)
/// once, [`option`](Self::option) for each IOAM option in packet order,
/// then [`end`](Self::end) with the packet-level errors.
pub trait PacketSink {
    /// A packet starts.
    fn begin(&mut self, head: &PacketHead);
    /// One IOAM option, with its trace when it is a trace that parsed.
    fn option(&mut self, head: &PacketHead, option: &OptionView<'_>, trace: Option<&TraceView<'_>>);
    /// The packet ends; `errors` are its packet-level errors (link layer,
    /// IPv6 header, extension-header chain, option framing).
    fn end(&mut self, head: &PacketHead, errors: &[Problem]);
}

/// What the decoder found in a reported packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The packet has at least one IOAM option.
    pub has_ioam: bool,
    /// The packet or one of its options has an error.
    pub malformed: bool,
}

/// The decoder, with the buffers it reuses from packet to packet.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    opts: DecodeOptions,
    errors: Vec<Problem>,
    times: TimeCache,
}

impl Decoder {
    /// A decoder with these settings.
    pub fn new(opts: DecodeOptions) -> Self {
        Decoder {
            opts,
            errors: Vec::with_capacity(16),
            times: TimeCache::default(),
        }
    }

    /// The settings.
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Decode one captured frame into `sink`. Returns `None` (and tells the
    /// sink nothing) when the frame is not IPv6, or is well-formed IPv6
    /// without any IOAM option.
    pub fn frame(&mut self, frame: &Frame<'_>, sink: &mut impl PacketSink) -> Option<Outcome> {
        match ipv6_payload(frame.linktype, frame.data) {
            Ok(Payload::Ipv6 { packet, .. }) => {
                let captured = frame.data.len();
                let on_wire = frame.orig_len as usize;
                let truncated = (on_wire > captured).then_some((captured, on_wire));
                self.packet(frame.number, frame.time, packet, truncated, sink)
            }
            Ok(Payload::Other) => None,
            Err(e) => {
                let head = PacketHead {
                    frame: frame.number,
                    time: frame.time.filter(|t| self.times.writable(*t)),
                    capture_time: frame.time,
                    src: None,
                    dst: None,
                    truncated: None,
                };
                self.errors.clear();
                self.errors.push(Problem {
                    offset: 0,
                    kind: ProblemKind::Link(e),
                });
                self.finish(&head, sink);
                Some(Outcome {
                    has_ioam: false,
                    malformed: true,
                })
            }
        }
    }

    /// Decode one IPv6 packet (starting at its fixed header) into `sink`;
    /// see [`Self::frame`].
    pub fn ipv6(
        &mut self,
        frame: u64,
        time: Option<Timestamp>,
        packet: &[u8],
        sink: &mut impl PacketSink,
    ) -> Option<Outcome> {
        self.packet(frame, time, packet, None, sink)
    }

    fn packet(
        &mut self,
        frame: u64,
        time: Option<Timestamp>,
        packet: &[u8],
        truncated: Option<(usize, usize)>,
        sink: &mut impl PacketSink,
    ) -> Option<Outcome> {
        let ip = Ipv6Header::new_checked(packet).ok();
        let head = PacketHead {
            frame,
            time: time.filter(|t| self.times.writable(*t)),
            capture_time: time,
            src: ip.as_ref().map(Ipv6Header::src_addr),
            dst: ip.as_ref().map(Ipv6Header::dst_addr),
            truncated,
        };
        self.errors.clear();
        let mut options = 0;
        let mut malformed = false;
        let opts = &self.opts;
        // The walk is iterated where it was built, through a reference:
        // moved out of its `Result`, its 144 bytes were copied by a
        // `memcpy` call per packet.
        let mut walked = IoamPacket::with_config(packet, opts.walk());
        match &mut walked {
            Ok(walk) => {
                for item in walk {
                    match item {
                        Ok(item) => {
                            if options == 0 {
                                sink.begin(&head);
                            }
                            decode_option(&item, options, opts, &mut |o, t| {
                                malformed |= !o.errors.is_empty();
                                sink.option(&head, o, t);
                            });
                            options += 1;
                        }
                        Err(e) => self.errors.push(Problem::of(e, 0)),
                    }
                }
            }
            Err(e) => self.errors.push(Problem::of(*e, 0)),
        }
        if options == 0 && self.errors.is_empty() {
            return None;
        }
        // A reported packet whose Payload Length runs past its bytes says so
        // (the walks stop at the bytes there are).
        if let Some(Err(e)) = ip.map(|h| h.check_payload_len()) {
            self.errors.push(Problem::of(e, IPV6_HEADER_LEN));
        }
        if let (Some(t), None) = (time, head.time) {
            // A reported packet says why its `time` key is missing.
            self.errors.push(Problem {
                offset: 0,
                kind: ProblemKind::TimeOutOfRange { secs: t.secs },
            });
        }
        if options == 0 {
            sink.begin(&head);
        }
        sink.end(&head, &self.errors);
        Some(Outcome {
            has_ioam: options > 0,
            malformed: malformed || !self.errors.is_empty(),
        })
    }

    /// `begin` and `end` of a packet without options.
    fn finish(&self, head: &PacketHead, sink: &mut impl PacketSink) {
        sink.begin(head);
        sink.end(head, &self.errors);
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

/// JSON name of the header holding an option.
pub fn header_name(kind: ExtKind) -> &'static str {
    match kind {
        ExtKind::HopByHop => "hop-by-hop",
        _ => "destination",
    }
}

fn push_error(r: &mut OptionView<'_>, p: Problem) {
    // At most one error per check: the capacity is never reached.
    let _ = r.errors.push(p);
}

/// Decode one IOAM option found by the walk (offsets from the packet start)
/// and hand it to `emit`.
fn decode_option<'a>(
    item: &IoamItem<'a>,
    index: usize,
    opts: &DecodeOptions,
    emit: &mut impl FnMut(&OptionView<'_>, Option<&TraceView<'_>>),
) {
    let o = &item.option;
    let mut r = OptionView {
        index,
        header: item.header,
        option_type: o.option_type,
        ioam_type: o.ioam_type,
        namespace_id: None,
        node_len: None,
        flags: None,
        remaining_len: None,
        trace_type: None,
        pot_type: None,
        pot_flags: None,
        pkt_id: None,
        cumulative: None,
        e2e_type: None,
        seq_num: None,
        timestamp_secs: None,
        timestamp_frac: None,
        dex_flags: None,
        extension_flags: None,
        flow_id: None,
        integrity: None,
        data: None,
        errors: OptionErrors::new(),
        finding: None,
    };
    let placement = item.placement();
    if let Placement::Mismatch { .. } = placement {
        // RFC 9486 says where each type goes, but an option elsewhere is
        // still well-formed: a finding, not an error (not malformed).
        r.finding = Some(Problem {
            offset: o.offset,
            kind: ProblemKind::Placement {
                option_type: o.option_type,
                header: item.header,
                placement,
            },
        });
    }
    if !o.is_aligned() {
        // Strict parsing already stopped at this; lenient parsing reports it.
        let e = WireError::Invalid {
            rule: Rule::IoamMisaligned,
            offset: o.offset,
        };
        push_error(&mut r, Problem::of(e, o.offset));
    }
    let kind = match o.ioam_type {
        IoamType::PreallocatedTrace => Some(TraceKind::Preallocated),
        IoamType::IncrementalTrace => Some(TraceKind::Incremental),
        _ => None,
    };
    let namespace = o.namespace_id();
    if let Some(kind) = kind {
        if namespace.is_some_and(|ns| opts.legacy_clt_ns.contains(&ns)) {
            return decode_legacy_trace(r, item, kind, opts, emit);
        }
    }
    match item.body() {
        Ok(OptionBody::PreallocatedTrace(t) | OptionBody::IncrementalTrace(t)) => {
            return set_trace(
                &mut r,
                TraceView::new(CltView::new(t, opts.clt_schema_id), OPAQUE_STATE, opts),
                emit,
            );
        }
        Ok(OptionBody::Pot(p)) => set_pot(&mut r, &p),
        Ok(OptionBody::E2e(e)) => set_e2e(&mut r, &e),
        Ok(OptionBody::Dex(d)) => set_dex(&mut r, &d, o.body),
        Ok(OptionBody::Integrity(i)) => return set_integrity(r, item, &i, opts, emit),
        Ok(OptionBody::Unknown { ioam_type, data }) => {
            if !matches!(ioam_type, IoamType::Unknown(_)) {
                r.namespace_id = namespace;
            }
            r.data = Some(Opaque::Bytes(data));
            // Nothing else reads this body: check the 4n length here
            // (RFC 9486 §4 keeps every IOAM option body 4-byte aligned).
            if !data.len().is_multiple_of(4) {
                let e = WireError::Invalid {
                    rule: Rule::IoamBodyUnaligned(data.len()),
                    offset: o.offset,
                };
                push_error(&mut r, Problem::of(e, o.offset));
            }
        }
        Ok(_) => {}
        Err(e) => {
            set_partial(&mut r, o.ioam_type, o.body);
            push_error(&mut r, Problem::of(e, item.body_offset()));
        }
    }
    emit(&r, None);
}

/// What the fixed header of a malformed body still tells (shown next to
/// its error, read through the `ioam_wire` views).
fn set_partial(r: &mut OptionView<'_>, ioam_type: IoamType, body: &[u8]) {
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
                r.e2e_type = Some(u16::from(v.e2e_type()));
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

fn set_pot<'a>(r: &mut OptionView<'a>, p: &PotRepr<'a>) {
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
            r.data = Some(Opaque::Bytes(data));
        }
    }
}

fn set_e2e<'a>(r: &mut OptionView<'a>, p: &E2eRepr<'a>) {
    r.namespace_id = Some(p.namespace_id);
    r.e2e_type = Some(u16::from(p.e2e_type()));
    r.seq_num = p.sequence_number.map(SequenceNumber::value);
    r.timestamp_secs = p.timestamp_secs;
    r.timestamp_frac = p.timestamp_frac;
    if !p.opaque.is_empty() {
        r.data = Some(Opaque::Bytes(p.opaque));
    }
}

fn set_dex(r: &mut OptionView<'_>, d: &DexRepr, body: &[u8]) {
    r.namespace_id = Some(d.namespace_id);
    r.dex_flags = Some(d.flags);
    // The byte as received (its bit order depends on the layout).
    r.extension_flags = Some(Dex::new_unchecked(body).extension_flags());
    r.trace_type = Some(d.trace_type);
    r.flow_id = d.flow_id;
    r.seq_num = d.sequence_number.map(u64::from);
    let mut buf = [0u8; 24];
    let mut len = 0;
    for v in d.unassigned.iter().flatten() {
        buf[len..len + 4].copy_from_slice(&v.to_be_bytes());
        len += 4;
    }
    if len > 0 {
        r.data = Some(Opaque::Inline(buf, len as u8));
    }
}

fn set_integrity<'a>(
    mut r: OptionView<'a>,
    item: &IoamItem<'a>,
    opt: &IntegrityRepr<'a>,
    opts: &DecodeOptions,
    emit: &mut impl FnMut(&OptionView<'_>, Option<&TraceView<'_>>),
) {
    match opt.protection {
        Protection::Decoded { nonce, icv, .. } => {
            r.integrity = Some(IntegrityView {
                method: opt.method_id,
                nonce: Some(nonce),
                icv: Some(icv),
            });
        }
        Protection::Opaque { rest, .. } => {
            r.namespace_id = item.option.namespace_id();
            r.integrity = Some(IntegrityView {
                method: opt.method_id,
                nonce: None,
                icv: None,
            });
            r.data = Some(Opaque::Bytes(rest));
        }
    }
    if let Some(protected) = ProtectedTrace::of(item, opt) {
        match protected {
            Ok(p) => match p.trace(opts.mode) {
                Ok(t) => {
                    return set_trace(
                        &mut r,
                        TraceView::new(CltView::new(t, opts.clt_schema_id), OPAQUE_STATE, opts),
                        emit,
                    );
                }
                Err(e) => {
                    set_partial(&mut r, IoamType::PreallocatedTrace, p.body());
                    push_error(&mut r, Problem::of(e, item.body_offset()));
                }
            },
            Err(e) => {
                r.namespace_id = item.option.namespace_id();
                push_error(&mut r, Problem::of(e, item.body_offset()));
            }
        }
        return emit(&r, None);
    }
    match opt.protected() {
        Some(Ok(ProtectedOption::Pot(p))) => set_pot(&mut r, &p),
        Some(Ok(ProtectedOption::E2e(p))) => set_e2e(&mut r, &p),
        Some(Err(e)) => {
            r.namespace_id = item.option.namespace_id();
            push_error(
                &mut r,
                Problem::of(e.with_base(item.body_offset()), item.body_offset()),
            );
        }
        // Traces are handled above; opaque parts carry no option to show.
        Some(Ok(_)) | None => {}
    }
    emit(&r, None);
}

/// A trace of a namespace told to carry the legacy CLT header.
fn decode_legacy_trace(
    mut r: OptionView<'_>,
    item: &IoamItem<'_>,
    kind: TraceKind,
    opts: &DecodeOptions,
    emit: &mut impl FnMut(&OptionView<'_>, Option<&TraceView<'_>>),
) {
    let legacy = match LegacyTrace::from_option(&item.option) {
        Ok(l) => l,
        Err(e) => {
            r.namespace_id = item.option.namespace_id();
            push_error(&mut r, Problem::of(e, item.body_offset()));
            return emit(&r, None);
        }
    };
    // The legacy header has no flags; the reference collector reports such
    // spans as sampled.
    match legacy.view(kind, opts.mode, W3cFlags::SAMPLED) {
        Ok(view) => set_trace(&mut r, TraceView::new(view, "legacy-header", opts), emit),
        Err(e) => {
            set_partial(&mut r, item.option.ioam_type, legacy.standard_body());
            push_error(&mut r, Problem::of(e, item.body_offset()));
            emit(&r, None);
        }
    }
}

fn set_header(r: &mut OptionView<'_>, h: &TraceHeaderRepr) {
    r.namespace_id = Some(h.namespace_id);
    r.node_len = Some(h.node_len);
    r.flags = Some(FlagsReport {
        overflow: h.flags.overflow,
        loopback: h.flags.loopback,
        active: h.flags.active,
    });
    r.remaining_len = Some(h.remaining_len);
    r.trace_type = Some(h.trace_type.bits());
}

/// The `encoding` of a context found in the opaque state snapshot.
const OPAQUE_STATE: &str = "opaque-state";

/// A parsed trace: its header into `r`, its errors (loopback, the first
/// malformed record, a bad CLT snapshot) into `r.errors`; then `r` and the
/// trace's view (records and context) go to `emit`.
/// Reports a parsed trace. `tv` is built by the caller, in place: moved
/// in here as a view and a `TraceView` made of it, its 256 bytes were
/// copied once per trace.
fn set_trace(
    r: &mut OptionView<'_>,
    tv: TraceView<'_>,
    emit: &mut impl FnMut(&OptionView<'_>, Option<&TraceView<'_>>),
) {
    let trace = tv.view.trace();
    set_header(r, trace.header());
    if let Err(e) = trace.check_loopback() {
        push_error(r, Problem::of(e, trace.base()));
    }
    // Records read before a malformed one are still shown (located once,
    // by the view: `TraceView::records`).
    if let (_, Some(e)) = tv.view.readable_records() {
        push_error(r, Problem::of(e, trace.base()));
    }
    if let ContextLookup::BadOss { offset, error, .. } = *tv.view.context() {
        push_error(r, Problem::of(error, offset));
    }
    // No bit 22, no record, another schema: no context, nothing wrong.
    emit(r, Some(&tv));
}

/// The owned model of one packet, built from the views: what
/// [`decode_frame`] and [`decode_ipv6`] return.
#[derive(Debug, Default)]
pub struct ReportSink {
    /// Build [`SpanInfo::attributes`] (see [`DecodeOptions::collector_attributes`]).
    pub collector_attributes: bool,
    report: Option<PacketReport>,
}

impl ReportSink {
    /// A sink that builds the collector attributes or not.
    pub fn new(collector_attributes: bool) -> Self {
        ReportSink {
            collector_attributes,
            report: None,
        }
    }

    /// The report of the last packet, if one was reported since.
    pub fn take(&mut self) -> Option<PacketReport> {
        self.report.take()
    }
}

fn error_report(head: &PacketHead, p: &Problem) -> ErrorReport {
    ErrorReport {
        offset: p.offset,
        message: ErrorText { problem: p, head }.to_string(),
    }
}

fn node_report(hop: usize, rec: &NodeRecord<'_>, format: TimestampFormat) -> NodeReport {
    let f = rec.fields();
    let undefined: Vec<u32> = rec.undefined_words().collect();
    NodeReport {
        hop,
        hop_limit: f.hop_limit,
        node_id: f.node_id,
        ingress_if_id: f.ingress_if_id,
        egress_if_id: f.egress_if_id,
        timestamp_secs: f.timestamp_secs,
        timestamp_frac: f.timestamp_frac,
        transit_delay: f.transit_delay,
        namespace_data: f
            .namespace_data
            .map(|v| crate::model::hex_prefixed(v.into(), 8)),
        queue_depth: f.queue_depth,
        checksum_complement: f.checksum_complement,
        hop_limit_wide: f.hop_limit_wide,
        node_id_wide: f.node_id_wide,
        ingress_if_id_wide: f.ingress_if_id_wide,
        egress_if_id_wide: f.egress_if_id_wide,
        namespace_data_wide: f
            .namespace_data_wide
            .map(|v| crate::model::hex_prefixed(v, 16)),
        buffer_occupancy: f.buffer_occupancy,
        undefined: (!undefined.is_empty()).then_some(undefined),
        oss: f.oss.map(|o| OssReport {
            schema_id: o.schema_id(),
            data: hex(o.data()),
        }),
        unix_nanos: f.unix_nanos(format),
    }
}

impl PacketSink for ReportSink {
    fn begin(&mut self, head: &PacketHead) {
        self.report = Some(PacketReport {
            frame: head.frame,
            time: head.time.and_then(crate::fmtbuf::rfc3339),
            src: head.src.map(crate::model::ipv6_text),
            dst: head.dst.map(crate::model::ipv6_text),
            ioam: Vec::new(),
            errors: Vec::new(),
        });
    }

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, trace: Option<&TraceView<'_>>) {
        let hexp = |v: Option<u64>, digits| v.map(|v| crate::model::hex_prefixed(v, digits));
        let mut r = OptionReport {
            header: header_name(o.header),
            option_type: o.option_type,
            ioam_type: ioam_type_name(o.ioam_type),
            ioam_type_value: u8::from(o.ioam_type),
            namespace_id: o.namespace_id,
            node_len: o.node_len,
            flags: o.flags,
            remaining_len: o.remaining_len,
            trace_type: hexp(o.trace_type.map(u64::from), 6),
            nodes: None,
            clt: None,
            pot_type: o.pot_type,
            pot_flags: o.pot_flags,
            pkt_id: o.pkt_id,
            cumulative: o.cumulative,
            e2e_type: hexp(o.e2e_type.map(u64::from), 4),
            seq_num: o.seq_num,
            timestamp_secs: o.timestamp_secs,
            timestamp_frac: o.timestamp_frac,
            dex_flags: o.dex_flags,
            extension_flags: o.extension_flags,
            flow_id: o.flow_id,
            integrity: o.integrity.map(|i| IntegrityReport {
                method: i.method,
                nonce: i.nonce.map(hex),
                icv: i.icv.map(hex),
            }),
            data: o.data.map(|d| hex(d.as_bytes())),
            errors: o.errors.iter().map(|p| error_report(head, p)).collect(),
            findings: o
                .finding
                .iter()
                .map(|p| ErrorReport {
                    offset: p.offset,
                    message: p.to_string(),
                })
                .collect(),
            span: None,
        };
        if let Some(t) = trace {
            let nodes: Vec<NodeReport> = t
                .path_order()
                .map(|(hop, rec)| node_report(hop, &rec, t.timestamp_format))
                .collect();
            if let Some(ctx) = t.context() {
                r.clt = Some(CltReport {
                    trace_id: hex(&ctx.trace_id.0),
                    span_id: hex(&ctx.span_id.0),
                    trace_flags: ctx.flags.0,
                    encoding: t.encoding,
                    traceparent: traceparent(&ctx).map(|tp| tp.as_str().to_string()),
                });
            }
            if let Some(ctx) = t.span_context() {
                let mut attributes = Vec::new();
                if self.collector_attributes {
                    for hop in t.view.hops().flatten() {
                        let mut value = String::new();
                        // Writing into a String cannot fail.
                        let _ = hop.attribute_value().write_to(&mut value);
                        attributes.push((hop.attribute_key().to_string(), value));
                    }
                }
                r.span = Some(SpanInfo {
                    trace_id: ctx.trace_id.0,
                    parent_span_id: ctx.span_id.0,
                    trace_flags: ctx.flags.0,
                    attributes,
                    time_range: t.time_range(),
                });
            }
            r.nodes = Some(nodes);
        }
        if let Some(report) = &mut self.report {
            report.ioam.push(r);
        }
    }

    fn end(&mut self, head: &PacketHead, errors: &[Problem]) {
        if let Some(report) = &mut self.report {
            report
                .errors
                .extend(errors.iter().map(|p| error_report(head, p)));
        }
    }
}

/// Decode one captured frame into the owned model. Returns `None` when the
/// frame is not IPv6, or is well-formed IPv6 without any IOAM option;
/// otherwise a report (with errors for a malformed packet). Error offsets
/// count from the first byte of the IPv6 header (from the frame start for
/// link-layer errors). For many packets, a [`Decoder`] and a sink of the
/// output format cost less.
pub fn decode_frame(frame: &Frame<'_>, opts: &DecodeOptions) -> Option<PacketReport> {
    let mut sink = ReportSink::new(opts.collector_attributes);
    Decoder::new(opts.clone()).frame(frame, &mut sink)?;
    sink.take()
}

/// Decode one IPv6 packet (starting at its fixed header). See
/// [`decode_frame`] for the result.
pub fn decode_ipv6(
    frame: u64,
    time: Option<Timestamp>,
    packet: &[u8],
    opts: &DecodeOptions,
) -> Option<PacketReport> {
    let mut sink = ReportSink::new(opts.collector_attributes);
    Decoder::new(opts.clone()).ipv6(frame, time, packet, &mut sink)?;
    sink.take()
}

/// The capture recorded from real Linux IOAM routers (`data/sample-linux.pcap`
/// in the repository, made by the interop suite), embedded in the binary:
/// what `ioam decode` reads when given no file.
pub const SAMPLE_CAPTURE: &[u8] = include_bytes!("../../data/sample-linux.pcap");
