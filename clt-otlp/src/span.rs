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
use clt_context::view::AttributeWriter;
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
    pub hop_attributes: HopAttributes,
}

/// The collector attributes of a span's hops, `(key, value)` per hop in
/// path order, kept in one text buffer: two allocations per span instead
/// of two per hop.
///
/// ```
/// use clt_otlp::span::HopAttributes;
///
/// let mut a = HopAttributes::default();
/// a.push("ioam_namespace7_node1", "HopLimit=64; Id=1; ");
/// a.push("ioam_namespace7_node2", "HopLimit=63; Id=2; ");
/// assert_eq!(a.len(), 2);
/// assert_eq!(a.get(1), Some(("ioam_namespace7_node2", "HopLimit=63; Id=2; ")));
/// let keys: Vec<&str> = a.iter().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["ioam_namespace7_node1", "ioam_namespace7_node2"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HopAttributes {
    text: String,
    /// Per hop: where its key ends and where its value ends in `text`.
    ends: Vec<(usize, usize)>,
    /// Whether `text` may hold a byte that a JSON string escapes (a
    /// control character, `"` or `\`). Checked for the text of
    /// [`Self::push`] and [`Self::push_with`]; never true for the span
    /// builder's, whose keys and values clt-context writes in printable
    /// ASCII without either, so that the JSON writers copy it as it is.
    escapes: bool,
}

impl HopAttributes {
    /// Room for `hops` attributes of about `bytes` bytes in all.
    pub fn with_capacity(hops: usize, bytes: usize) -> Self {
        HopAttributes {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(hops),
            escapes: false,
        }
    }

    /// Number of hops.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True without hops.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Append the attribute of the next hop.
    pub fn push(&mut self, key: &str, value: &str) {
        self.push_with(|t| t.push_str(key), |t| t.push_str(value));
    }

    /// Append the attribute of the next hop, key and value written by the
    /// two functions straight into the buffer.
    pub fn push_with(&mut self, key: impl FnOnce(&mut String), value: impl FnOnce(&mut String)) {
        let start = self.text.len();
        key(&mut self.text);
        let k = self.text.len();
        value(&mut self.text);
        self.ends.push((k, self.text.len()));
        let added = self.text.as_bytes().get(start..).unwrap_or_default();
        self.escapes |= crate::json::needs_escape(added);
    }

    /// Remove every hop.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.escapes = false;
    }

    /// Whether a JSON string of a key or value may need an escape (see
    /// [`crate::json::needs_escape`]); false when none does.
    pub(crate) fn escapes(&self) -> bool {
        self.escapes
    }

    /// The attribute of hop `i + 1`.
    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p)?.1,
            None => 0,
        };
        let (k, v) = *self.ends.get(i)?;
        Some((self.text.get(start..k)?, self.text.get(k..v)?))
    }

    /// The attributes in path order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for HopAttributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut a = HopAttributes::default();
        for (k, v) in iter {
            a.push(k.as_ref(), v.as_ref());
        }
        a
    }
}

/// Where a [`SpanBuilder`] puts the spans it makes: a plain
/// `Vec<IoamSpan>` (each span gets new buffers), or a [`SpanBatch`], which
/// fills the buffers of spent spans (those the export thread hands back,
/// [`crate::pipeline::Submitter::reclaim`]) so that a steady stream of
/// spans allocates nothing once the buffers have grown.
pub trait SpanOut {
    /// Empty hop and attribute buffers for the next span.
    fn buffers(&mut self) -> (Vec<HopSummary>, HopAttributes);
    /// The span made.
    fn push(&mut self, span: IoamSpan);
}

impl SpanOut for Vec<IoamSpan> {
    fn buffers(&mut self) -> (Vec<HopSummary>, HopAttributes) {
        (Vec::new(), HopAttributes::default())
    }

    fn push(&mut self, span: IoamSpan) {
        Vec::push(self, span);
    }
}

/// Spans made by a [`SpanBuilder`] (`spans`), and spent spans whose
/// buffers it reuses for the next ones (`spare`, taken from the end).
///
/// ```
/// use clt_otlp::span::{SpanBatch, SpanBuilder, SpanConfig};
///
/// let builder = SpanBuilder::new(SpanConfig::default());
/// let mut batch = SpanBatch::default();
/// let outcome = builder.packet(&[0x45, 0, 0, 20], 0, &mut batch);
/// assert!(batch.spans.is_empty() && outcome.malformed.is_some());
/// // Later: hand `batch.spans` to the pipeline (`Submitter::submit_batch`)
/// // and refill `batch.spare` with `Submitter::reclaim`.
/// ```
#[derive(Debug, Default)]
pub struct SpanBatch {
    /// The spans made, in order.
    pub spans: Vec<IoamSpan>,
    /// Spent spans; their contents do not matter, only their buffers.
    pub spare: Vec<IoamSpan>,
}

impl SpanOut for SpanBatch {
    fn buffers(&mut self) -> (Vec<HopSummary>, HopAttributes) {
        match self.spare.pop() {
            Some(IoamSpan {
                mut hops,
                mut hop_attributes,
                ..
            }) => {
                hops.clear();
                hop_attributes.clear();
                (hops, hop_attributes)
            }
            None => (Vec::new(), HopAttributes::default()),
        }
    }

    fn push(&mut self, span: IoamSpan) {
        self.spans.push(span);
    }
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
///
/// Each thread seeds a SplitMix64 generator once from the OS generator and
/// steps it per id: a system call per span (what `getrandom` costs) would
/// be a large part of the cost of a span. SplitMix64 is a bijection of its
/// 64-bit counter, so a thread repeats no id within 2^64 ids, and seeds
/// from the OS keep threads and processes apart.
pub fn random_span_id() -> [u8; 8] {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    loop {
        let x = STATE.with(|s| {
            let x = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            s.set(x);
            x
        });
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        if z != 0 {
            return z.to_be_bytes();
        }
    }
}

/// The generator's seed: from the OS, or (if that ever fails) the clock
/// and the thread's stack address.
fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_ok() {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let local = 0u8;
    t ^ (core::ptr::addr_of!(local) as u64).rotate_left(32)
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
    pub fn packet(&self, ipv6: &[u8], receive_unix_nanos: u64, out: &mut impl SpanOut) -> Outcome {
        let mut outcome = Outcome::default();
        let walk = WalkConfig {
            mode: self.cfg.mode,
            ..WalkConfig::default()
        };
        // Iterated in place, through a reference: moved out of its
        // `Result`, the walk's 144 bytes were copied by a `memcpy` call
        // per packet.
        let mut walked = IoamPacket::with_config(ipv6, walk);
        let packet = match &mut walked {
            Ok(p) => p,
            Err(e) => {
                outcome.error(e, "packet");
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
        out: &mut impl SpanOut,
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
        out: &mut impl SpanOut,
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
        // One walk of the records: its length sizes the buffers.
        let walk = view.hops();
        let n = walk.len();
        // Empty buffers, perhaps a spent span's (see `SpanOut`).
        let (
            mut hops,
            HopAttributes {
                mut text, mut ends, ..
            },
        ) = out.buffers();
        hops.reserve(n);
        // Room for the text: the key, and per 4 bytes of node data at most
        // one `Name=4294967295; ` item (2 hex digits per byte of snapshot).
        let header = view.trace().header();
        let per_hop =
            32 + usize::from(header.node_len) * 4 * 6 + view.trace().body().len() / n.max(1) * 2;
        text.reserve(n * per_hop);
        ends.reserve(n);
        // One gathering writer for the whole span: the text reaches the
        // string in `PIECE_LEN`-byte pieces, not one piece per key and per value.
        let mut attributes = AttributeWriter::new(&mut text);
        for hop in walk {
            let hop = match hop {
                Ok(h) => h,
                Err(e) => {
                    // Hops read before the malformed record are kept.
                    outcome.error(&e, "node record");
                    break;
                }
            };
            // The fields are read once, into the value that writes them.
            let value = hop.attribute_value();
            let f = value.fields();
            hops.push(HopSummary {
                node_id: f.node_id_wide.or(f.node_id.map(u64::from)),
                transit_delay: f.transit_delay,
                queue_depth: f.queue_depth,
                unix_nanos: f.unix_nanos(self.cfg.timestamp_format),
            });
            // Writing into a `String` cannot fail.
            let _ = attributes.key(&hop.attribute_key());
            let key_end = attributes.written();
            let _ = attributes.value(&value);
            ends.push((key_end, attributes.written()));
        }
        let _ = attributes.finish();
        // clt-context's attribute texts are printable ASCII without `"` or
        // `\` (its property test `attribute_text_is_printable_ascii_without_quotes`).
        debug_assert!(!crate::json::needs_escape(text.as_bytes()));
        let hop_attributes = HopAttributes {
            text,
            ends,
            escapes: false,
        };
        let mut times = hops.iter().filter_map(|h| h.unix_nanos);
        let (start, end) = match times.next() {
            Some(first) => times.fold((first, first), |(a, b), t| (a.min(t), b.max(t))),
            None => (receive, receive),
        };
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

#[cfg(test)]
mod tests {
    use super::{random_span_id, Origin, SpanBuilder, SpanConfig};
    use clt_context::injector::HopByHopInjector;
    use clt_context::{CltView, SpanContext, CLT_SCHEMA_ID};
    use ioam_trace::writer::{write_transit, TransitConfig};
    use ioam_trace::{Mode, NodeData, Trace, TraceType};
    use std::collections::HashSet;

    /// A span built into a spent span's buffers is the span built fresh
    /// (but for its random id), and the buffers are the spent span's when
    /// they are large enough: nothing of the old contents shows through.
    #[test]
    fn spans_built_in_spent_buffers_equal_fresh_ones() {
        let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let trace_of = |trace_type: u32, hops: u32| {
            let inj = HopByHopInjector {
                namespace_id: 7,
                trace_type: TraceType::from_bits(trace_type).unwrap(),
                extra_hops: hops as usize,
                sender: NodeData {
                    node_id: 1,
                    ..NodeData::unavailable()
                },
                ctx,
                ..HopByHopInjector::default()
            };
            let hbh = inj.build().unwrap();
            let mut body = hbh[8..8 + usize::from(hbh[5]) - 2].to_vec();
            for i in 1..=hops {
                let node = NodeData {
                    node_id: 1 + i,
                    queue_depth: 10 * i,
                    ..NodeData::unavailable()
                };
                write_transit(&mut body, 7, &node, &TransitConfig::default()).unwrap();
            }
            body
        };
        let builder = SpanBuilder::new(SpanConfig::default());
        // A long span first, then shorter ones of other types into its
        // buffers (and the other way round).
        let bodies = [
            trace_of(0xfff002, 2),
            trace_of(0x800002, 1),
            trace_of(0xc20002, 3),
            trace_of(0xfff002, 1),
        ];
        let mut batch = super::SpanBatch::default();
        for body in &bodies {
            let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
            let mut fresh = Vec::new();
            builder.trace(trace, Origin::Capture, 5, &mut fresh);
            // The spare: the last span built, spent.
            batch.spare.append(&mut batch.spans);
            let spare_buffers = batch
                .spare
                .last()
                .map(|s| (s.hops.as_ptr(), s.hops.capacity(), s.hop_attributes.len()));
            let out = builder.trace(trace, Origin::Capture, 5, &mut batch);
            assert_eq!(out.spans, 1);
            assert!(batch.spare.is_empty(), "the spare was used");
            let (mut got, mut want) = (batch.spans[0].clone(), fresh[0].clone());
            got.span_id = [0; 8];
            want.span_id = [0; 8];
            assert_eq!(got, want);
            if let Some((ptr, cap, _)) = spare_buffers {
                if cap >= want.hops.len() {
                    assert_eq!(batch.spans[0].hops.as_ptr(), ptr, "the spent hops buffer");
                }
            }
        }
    }

    /// A span's attributes are written for the whole span through one
    /// gathering buffer; each hop's key and value must still be exactly
    /// the hop's own texts (`Display` of the key and the value, which the
    /// clt-context tests hold against a reference model), also for hops
    /// whose text crosses the buffer's `PIECE_LEN`-byte pieces.
    #[test]
    fn span_attributes_are_each_hops_own_text() {
        let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let node = |i: u32| NodeData {
            hop_limit: 250 - i as u8,
            node_id: 0xff_fff0 + i,
            ingress_if_id: 65_000 + i as u16,
            egress_if_id: 64_000 + i as u16,
            timestamp_secs: 4_000_000_000 + i,
            timestamp_frac: 999_999_000 + i,
            transit_delay: 0x7fff_fff0 + i,
            namespace_data: 0xdead_bee0 + i,
            queue_depth: 3_000_000_000 + i,
            checksum_complement: 0xffff_fff0 + i,
            node_id_wide: 0x00ff_ffff_ffff_fff0 + u64::from(i),
            ingress_if_id_wide: 0xffff_fff0 + i,
            egress_if_id_wide: 0xffff_ffe0 + i,
            namespace_data_wide: 0x0123_4567_89ab_cde0 + u64::from(i),
            buffer_occupancy: 0xffff_ff00 + i,
            ..NodeData::unavailable()
        };
        let inj = HopByHopInjector {
            namespace_id: 123,
            trace_type: TraceType::from_bits(0xfff002).unwrap(),
            extra_hops: 2,
            sender: node(0),
            ctx,
            ..HopByHopInjector::default()
        };
        let hbh = inj.build().unwrap();
        let mut body = hbh[8..8 + usize::from(hbh[5]) - 2].to_vec();
        for i in 1..=2 {
            write_transit(&mut body, 123, &node(i), &TransitConfig::default()).unwrap();
        }
        let trace = Trace::parse_preallocated(&body, Mode::Strict).unwrap();
        let mut spans = Vec::new();
        let out =
            SpanBuilder::new(SpanConfig::default()).trace(trace, Origin::Capture, 0, &mut spans);
        assert_eq!(out.spans, 1, "{out:?}");
        let got: Vec<(&str, &str)> = spans[0].hop_attributes.iter().collect();
        let view = CltView::new(trace, CLT_SCHEMA_ID);
        let want: Vec<(String, String)> = view
            .hops()
            .map(|h| {
                let h = h.unwrap();
                (
                    h.attribute_key().to_string(),
                    h.attribute_value().to_string(),
                )
            })
            .collect();
        assert_eq!(want.len(), 3);
        let text: usize = want.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(
            text > clt_context::view::PIECE_LEN,
            "the text spans two buffer pieces: {text} bytes"
        );
        let want: Vec<(&str, &str)> = want.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
        // The builder's text needs no JSON escape, so the JSON Lines writer
        // copies it as it is: the line is still serde_json's.
        assert!(!spans[0].hop_attributes.escapes());
        let mut line = Vec::new();
        crate::pipeline::write_jsonl(&mut line, &spans[0]);
        let mut want = serde_json::to_vec(&crate::pipeline::JsonSpan::of(&spans[0])).unwrap();
        want.push(b'\n');
        assert_eq!(
            String::from_utf8(line).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn pushed_attributes_are_checked_for_json_escapes() {
        use super::HopAttributes;
        let mut a = HopAttributes::default();
        a.push("ioam_namespace7_node1", "HopLimit=64; ");
        assert!(!a.escapes());
        a.push("k", "a \"quote\"");
        assert!(a.escapes());
        a.clear();
        assert!(!a.escapes());
        a.push_with(|t| t.push_str("key"), |t| t.push('\u{1}'));
        assert!(a.escapes());
        let b: HopAttributes = [("k", "back\\slash")].into_iter().collect();
        assert!(b.escapes());
    }

    #[test]
    fn span_ids_are_non_zero_and_distinct_within_and_across_threads() {
        let ids = |n| (0..n).map(|_| random_span_id()).collect::<Vec<_>>();
        let mut all: HashSet<[u8; 8]> = ids(100_000).into_iter().collect();
        assert_eq!(all.len(), 100_000);
        let other = std::thread::spawn(move || ids(100_000)).join().unwrap();
        all.extend(other);
        assert_eq!(all.len(), 200_000, "two threads gave the same id");
        assert!(!all.contains(&[0; 8]));
    }
}
