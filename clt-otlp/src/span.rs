//! From an IOAM trace to the collector's `ioam-span`.
//!
//! A packet whose trace carries a CLT context (the opaque state snapshot
//! under the CLT schema, or the legacy CLT header of a configured namespace)
//! gives one [`IoamSpan`]: the same trace id as the application's span, the
//! carried span id as parent, a fresh random span id, and one attribute per
//! hop in the CLT collector's format (`ioam_namespace<ns>_node<i>`, hop 1 is
//! the originator), plus typed attributes a backend can query.
//!
//! ```
//! use clt_otlp::span::{SpanBuilder, SpanConfig};
//!
//! let builder = SpanBuilder::new(SpanConfig::default());
//! let mut spans = Vec::new();
//! // Not an IPv6 packet: nothing found, nothing exported, the reason kept.
//! let outcome = builder.packet(&[0x45, 0, 0, 20], 0, &mut spans);
//! assert!(spans.is_empty());
//! assert!(outcome.malformed.is_some());
//! ```

use std::fmt::Write as _;

use clt_context::legacy::LegacyTrace;
use clt_context::{CltView, ContextLookup, Diagnostic, TraceFlags, CLT_SCHEMA_ID};
use ioam_trace::timestamp::TimestampFormat;
use ioam_trace::{IoamPacket, Mode, OptionBody, Trace, TraceKind, WalkConfig};

/// The name of every span this crate makes.
pub const SPAN_NAME: &str = "ioam-span";

/// Where a trace was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A captured packet (live or from a file): the records of the nodes
    /// before this host.
    Capture,
    /// A kernel IOAM6 trace event: the records including this host's own.
    KernelEvent,
}

impl Origin {
    /// `"capture"` or `"kernel-event"`.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Capture => "capture",
            Origin::KernelEvent => "kernel-event",
        }
    }
}

/// What is kept of one hop besides its collector attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopSummary {
    /// Node id (short or wide format, whichever the trace type carries).
    pub node_id: Option<u64>,
    /// Transit delay in nanoseconds (bit 6).
    pub transit_delay: Option<u32>,
    /// Queue depth (bit 5).
    pub queue_depth: Option<u32>,
    /// The hop's timestamp, ns since the Unix epoch.
    pub unix_nanos: Option<u64>,
}

/// One `ioam-span`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoamSpan {
    /// The trace id carried in the packet.
    pub trace_id: [u8; 16],
    /// The carried span id: the parent of this span.
    pub parent_span_id: [u8; 8],
    /// This span's own id (random, never zero).
    pub span_id: [u8; 8],
    /// The W3C trace flags carried in the packet.
    pub trace_flags: u8,
    /// Start: the earliest hop timestamp, else the receive time (ns since
    /// the Unix epoch).
    pub start_unix_nanos: u64,
    /// End: the latest hop timestamp, else the receive time.
    pub end_unix_nanos: u64,
    /// The IOAM namespace.
    pub namespace: u16,
    /// The 24-bit IOAM-Trace-Type.
    pub trace_type: u32,
    /// The trace's Overflow flag (always false for kernel events, which do
    /// not carry the flags).
    pub overflow: bool,
    /// Where the trace was read.
    pub origin: Origin,
    /// The hops in path order (hop 1 = originator).
    pub hops: Vec<HopSummary>,
    /// `(ioam_namespace<ns>_node<i>, value)` per hop, in the CLT collector's
    /// format.
    pub hop_attributes: Vec<(String, String)>,
}

impl IoamSpan {
    /// True when the sampled flag is set.
    pub fn sampled(&self) -> bool {
        self.trace_flags & 1 != 0
    }
}

/// Which traces become spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanConfig {
    /// Schema id of the CLT opaque state ([`CLT_SCHEMA_ID`] by default).
    pub schema_id: u32,
    /// Namespaces whose traces carry the legacy CLT header instead.
    pub legacy_namespaces: Vec<u16>,
    /// Only these namespaces (all when empty).
    pub namespaces: Vec<u16>,
    /// Make spans for unsampled contexts too (by default they are counted
    /// and skipped, as the sampled flag asks).
    pub export_unsampled: bool,
    /// Strict (Linux rules) or lenient (RFC 9197) parsing. A collector wants
    /// what it can read: lenient by default.
    pub mode: Mode,
    /// How node timestamps are read (RFC 9197 §5: per namespace).
    pub timestamp_format: TimestampFormat,
}

impl Default for SpanConfig {
    fn default() -> Self {
        SpanConfig {
            schema_id: CLT_SCHEMA_ID,
            legacy_namespaces: Vec::new(),
            namespaces: Vec::new(),
            export_unsampled: false,
            mode: Mode::Lenient,
            timestamp_format: TimestampFormat::default(),
        }
    }
}

/// What one packet (or event) gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// IOAM trace options found.
    pub traces: usize,
    /// Spans made.
    pub spans: usize,
    /// Traces without a CLT context (counted, not exported).
    pub no_context: usize,
    /// Traces of a namespace outside the filter.
    pub filtered: usize,
    /// CLT contexts whose sampled flag is clear (not exported by default).
    pub unsampled: usize,
    /// The first error, in full (rule, offset), if anything was malformed.
    pub malformed: Option<String>,
}

impl Outcome {
    fn error(&mut self, e: &impl Diagnostic, what: &str) {
        if self.malformed.is_none() {
            let mut s = String::new();
            let _ = write!(s, "{what}: {e}");
            self.malformed = Some(s);
        }
    }
}

/// Turns packets and traces into spans; cheap to clone, one per thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanBuilder {
    cfg: SpanConfig,
}

/// A random, non-zero span id.
pub fn random_span_id() -> [u8; 8] {
    let mut id = [0u8; 8];
    loop {
        // The OS generator does not fail on Linux once booted; if it ever
        // does, fall back to the clock so that ids stay distinct.
        if getrandom::fill(&mut id).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1);
            id = t.to_be_bytes();
        }
        if id != [0; 8] {
            return id;
        }
    }
}

impl SpanBuilder {
    /// A builder for `cfg`.
    pub fn new(cfg: SpanConfig) -> Self {
        SpanBuilder { cfg }
    }

    /// The configuration.
    pub fn config(&self) -> &SpanConfig {
        &self.cfg
    }

    /// Every span of one IPv6 packet (from its first byte), received at
    /// `receive_unix_nanos`, appended to `out`.
    pub fn packet(&self, ipv6: &[u8], receive_unix_nanos: u64, out: &mut Vec<IoamSpan>) -> Outcome {
        let mut outcome = Outcome::default();
        let walk = WalkConfig {
            mode: self.cfg.mode,
            ..WalkConfig::default()
        };
        let packet = match IoamPacket::with_config(ipv6, walk) {
            Ok(p) => p,
            Err(e) => {
                outcome.error(&e, "packet");
                return outcome;
            }
        };
        for item in packet {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    outcome.error(&e, "IOAM option");
                    continue;
                }
            };
            let kind = match item.option.ioam_type {
                ioam_wire::ioam::IoamType::PreallocatedTrace => TraceKind::Preallocated,
                ioam_wire::ioam::IoamType::IncrementalTrace => TraceKind::Incremental,
                _ => continue,
            };
            let ns = item.option.namespace_id();
            if ns.is_some_and(|ns| self.cfg.legacy_namespaces.contains(&ns)) {
                outcome.traces += 1;
                match LegacyTrace::from_option(&item.option) {
                    Ok(legacy) => match legacy.view(kind, self.cfg.mode, TraceFlags::SAMPLED) {
                        Ok(view) => self.view(
                            &view,
                            Origin::Capture,
                            receive_unix_nanos,
                            &mut outcome,
                            out,
                        ),
                        Err(e) => outcome.error(&e, "legacy CLT trace"),
                    },
                    Err(e) => outcome.error(&e, "legacy CLT trace"),
                }
                continue;
            }
            match item.body() {
                Ok(OptionBody::PreallocatedTrace(t) | OptionBody::IncrementalTrace(t)) => {
                    outcome.traces += 1;
                    let view = CltView::new(t, self.cfg.schema_id);
                    self.view(
                        &view,
                        Origin::Capture,
                        receive_unix_nanos,
                        &mut outcome,
                        out,
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    outcome.traces += 1;
                    outcome.error(&e, "IOAM trace");
                }
            }
        }
        outcome
    }

    /// The span of one trace read elsewhere (a kernel IOAM6 event, whose
    /// body `ioam_capture::events::TraceEvent::write_trace_body` builds).
    pub fn trace(
        &self,
        trace: Trace<'_>,
        origin: Origin,
        receive_unix_nanos: u64,
        out: &mut Vec<IoamSpan>,
    ) -> Outcome {
        let mut outcome = Outcome {
            traces: 1,
            ..Outcome::default()
        };
        let view = CltView::new(trace, self.cfg.schema_id);
        self.view(&view, origin, receive_unix_nanos, &mut outcome, out);
        outcome
    }

    fn view(
        &self,
        view: &CltView<'_>,
        origin: Origin,
        receive: u64,
        outcome: &mut Outcome,
        out: &mut Vec<IoamSpan>,
    ) {
        let ns = view.namespace_id();
        if !self.cfg.namespaces.is_empty() && !self.cfg.namespaces.contains(&ns) {
            outcome.filtered += 1;
            return;
        }
        let ctx = match *view.context() {
            ContextLookup::Found(found) => found.ctx,
            ContextLookup::BadOss { error, .. } => {
                outcome.error(&error, "CLT opaque state");
                return;
            }
            _ => {
                outcome.no_context += 1;
                return;
            }
        };
        if ctx.flags.0 & 1 == 0 && !self.cfg.export_unsampled {
            outcome.unsampled += 1;
            return;
        }
        let mut hops = Vec::new();
        let mut hop_attributes = Vec::new();
        for hop in view.hops() {
            let hop = match hop {
                Ok(h) => h,
                Err(e) => {
                    // Hops read before the malformed record are kept.
                    outcome.error(&e, "node record");
                    break;
                }
            };
            let f = hop.fields();
            hops.push(HopSummary {
                node_id: f.node_id_wide.or(f.node_id.map(u64::from)),
                transit_delay: f.transit_delay,
                queue_depth: f.queue_depth,
                unix_nanos: f.unix_nanos(self.cfg.timestamp_format),
            });
            let mut value = String::new();
            let _ = hop.attribute_value().write_to(&mut value);
            hop_attributes.push((hop.attribute_key().to_string(), value));
        }
        let mut times = hops.iter().filter_map(|h| h.unix_nanos);
        let (start, end) = match times.next() {
            Some(first) => times.fold((first, first), |(a, b), t| (a.min(t), b.max(t))),
            None => (receive, receive),
        };
        let header = view.trace().header();
        out.push(IoamSpan {
            trace_id: ctx.trace_id.0,
            parent_span_id: ctx.span_id.0,
            span_id: random_span_id(),
            trace_flags: ctx.flags.0,
            start_unix_nanos: start,
            end_unix_nanos: end,
            namespace: ns,
            trace_type: header.trace_type.bits(),
            overflow: header.flags.overflow,
            origin,
            hops,
            hop_attributes,
        });
        outcome.spans += 1;
    }
}
