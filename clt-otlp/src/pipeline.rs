//! The export side of a collector: a bounded queue, batches, sinks, counters.
//!
//! Live sources never wait for the network: [`Pipeline::submit`] puts a span
//! in a bounded queue and returns at once; when the queue is full the span is
//! dropped and counted. A source that can wait (a file) uses
//! [`Submitter::submit_wait`] instead and loses nothing; one with many
//! spans at hand hands them over in batches ([`Submitter::submit_batch`],
//! [`Submitter::submit_batch_wait`]): each handover wakes the worker, which
//! costs more than a span. One worker thread takes batches (up to
//! [`PipelineConfig::batch_size`] spans, or what arrived within
//! [`PipelineConfig::batch_timeout`]) and hands each to every sink: the OTLP
//! exporter (with its retries) and a local file.
//!
//! [`Pipeline::shutdown`] stops intake, flushes what is queued within
//! [`PipelineConfig::flush_timeout`] and returns the final counters. For the
//! OTLP sink they always add up: `submitted = exported + rejected + failed +
//! dropped_queue_full + dropped_at_shutdown`.
//!
//! ```
//! use clt_otlp::pipeline::{FileFormat, Pipeline, PipelineConfig, Sinks};
//! use clt_otlp::proto::Resource;
//!
//! let sinks = Sinks { otlp: None, file: Some((Box::new(Vec::new()), FileFormat::Jsonl)) };
//! let pipeline = Pipeline::start(PipelineConfig::default(), Resource::new("demo"), sinks);
//! let stats = pipeline.shutdown();
//! assert_eq!(stats.submitted, 0);
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::export::{Delivery, Exporter};
use crate::proto::{request, to_json, Resource};
use crate::span::IoamSpan;

/// Queue and batch settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Spans the queue holds before new ones are dropped.
    pub queue_size: usize,
    /// Largest batch.
    pub batch_size: usize,
    /// A partial batch leaves after this long.
    pub batch_timeout: Duration,
    /// How long [`Pipeline::shutdown`] may take to flush.
    pub flush_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_size: 8192,
            batch_size: 512,
            batch_timeout: Duration::from_secs(1),
            flush_timeout: Duration::from_secs(10),
        }
    }
}

/// The local file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// One JSON object per span and line (see [`JsonSpan`]).
    Jsonl,
    /// One OTLP JSON `ExportTraceServiceRequest` per batch and line (what
    /// the OpenTelemetry Collector's file exporter writes).
    OtlpJson,
}

impl FileFormat {
    /// Parse `jsonl` or `otlp-json`.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "jsonl" => Some(FileFormat::Jsonl),
            "otlp-json" => Some(FileFormat::OtlpJson),
            _ => None,
        }
    }
}

/// Where batches go.
pub struct Sinks {
    /// The OTLP/HTTP exporter.
    pub otlp: Option<Exporter>,
    /// A local writer and its format.
    pub file: Option<(Box<dyn Write + Send>, FileFormat)>,
}

impl core::fmt::Debug for Sinks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sinks")
            .field("otlp", &self.otlp)
            .field("file", &self.file.as_ref().map(|(_, fmt)| fmt))
            .finish()
    }
}

/// One span per line in the `jsonl` file format.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonSpan<'a> {
    /// Lowercase hex.
    pub trace_id: String,
    /// Lowercase hex.
    pub span_id: String,
    /// Lowercase hex.
    pub parent_span_id: String,
    /// W3C trace flags.
    pub trace_flags: u8,
    /// `ioam-span`.
    pub name: &'static str,
    /// ns since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// ns since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// IOAM namespace.
    pub namespace: u16,
    /// `0x` + 6 hex digits.
    pub trace_type: String,
    /// Overflow flag.
    pub overflow: bool,
    /// `capture` or `kernel-event`.
    pub source: &'static str,
    /// The collector attributes, in hop order.
    pub hops: Vec<(&'a str, &'a str)>,
}

fn hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 0xf)]));
    }
    s
}

/// Append the `jsonl` line of `s` (with its newline) to `out`: the bytes
/// `serde_json::to_writer` gives for [`JsonSpan::of`], written straight
/// from the span (no `String` per id, no list of hops, one pass over the
/// text of each hop to see whether it needs escapes).
pub fn write_jsonl(out: &mut Vec<u8>, s: &IoamSpan) {
    use crate::json::{push_hex, push_u64};
    let hex_str = |out: &mut Vec<u8>, b: &[u8]| {
        out.push(b'"');
        push_hex(out, b);
        out.push(b'"');
    };
    let num = push_u64;
    out.extend_from_slice(b"{\"traceId\":");
    hex_str(out, &s.trace_id);
    out.extend_from_slice(b",\"spanId\":");
    hex_str(out, &s.span_id);
    out.extend_from_slice(b",\"parentSpanId\":");
    hex_str(out, &s.parent_span_id);
    out.extend_from_slice(b",\"traceFlags\":");
    num(out, s.trace_flags.into());
    out.extend_from_slice(b",\"name\":");
    json_str(out, crate::span::SPAN_NAME);
    out.extend_from_slice(b",\"startTimeUnixNano\":");
    num(out, s.start_unix_nanos);
    out.extend_from_slice(b",\"endTimeUnixNano\":");
    num(out, s.end_unix_nanos);
    out.extend_from_slice(b",\"namespace\":");
    num(out, s.namespace.into());
    out.extend_from_slice(b",\"traceType\":\"0x");
    // At least six digits, all of a wider value (`{:06x}`).
    let digits = (8 - s.trace_type.leading_zeros() as usize / 4).max(6);
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((s.trace_type >> (4 * i)) & 0xf) as usize]);
    }
    out.extend_from_slice(b"\",\"overflow\":");
    out.extend_from_slice(if s.overflow { b"true" } else { b"false" });
    out.extend_from_slice(b",\"source\":");
    json_str(out, s.origin.name());
    out.extend_from_slice(b",\"hops\":[");
    // The span builder's attribute texts need no escape: copied as they are.
    let text: fn(&mut Vec<u8>, &str) = if s.hop_attributes.escapes() {
        json_str
    } else {
        |out, s| {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
    };
    for (i, (k, v)) in s.hop_attributes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        text(out, k);
        out.push(b',');
        text(out, v);
        out.push(b']');
    }
    out.extend_from_slice(b"]}\n");
}

/// A JSON string as serde_json writes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    crate::json::push_str(out, s.as_bytes());
}

impl<'a> JsonSpan<'a> {
    /// The line of `s`.
    pub fn of(s: &'a IoamSpan) -> Self {
        JsonSpan {
            trace_id: hex(&s.trace_id),
            span_id: hex(&s.span_id),
            parent_span_id: hex(&s.parent_span_id),
            trace_flags: s.trace_flags,
            name: crate::span::SPAN_NAME,
            start_time_unix_nano: s.start_unix_nanos,
            end_time_unix_nano: s.end_unix_nanos,
            namespace: s.namespace,
            trace_type: format!("0x{:06x}", s.trace_type),
            overflow: s.overflow,
            source: s.origin.name(),
            hops: s.hop_attributes.iter().collect(),
        }
    }
}

/// Counters, shared between the sources, the worker and the stats printer.
#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    dropped_queue_full: AtomicU64,
    exported: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    dropped_at_shutdown: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    export_errors: AtomicU64,
    file_written: AtomicU64,
    file_errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PipelineStats {
    /// Spans handed to [`Pipeline::submit`].
    pub submitted: u64,
    /// Spans dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Spans the OTLP endpoint accepted.
    pub exported: u64,
    /// Spans in batches the endpoint refused for good (4xx other than 429).
    pub rejected: u64,
    /// Spans in batches that ran out of retries.
    pub failed: u64,
    /// Spans still queued when the flush time ran out.
    pub dropped_at_shutdown: u64,
    /// OTLP requests made (batches).
    pub requests: u64,
    /// Retries of those requests.
    pub retries: u64,
    /// Batches that failed (rejected or given up).
    pub export_errors: u64,
    /// Spans written to the local file.
    pub file_written: u64,
    /// Failed writes to the local file.
    pub file_errors: u64,
    /// The last export or file error, in full.
    pub last_error: Option<String>,
}

impl Counters {
    fn snapshot(&self) -> PipelineStats {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        PipelineStats {
            submitted: g(&self.submitted),
            dropped_queue_full: g(&self.dropped_queue_full),
            exported: g(&self.exported),
            rejected: g(&self.rejected),
            failed: g(&self.failed),
            dropped_at_shutdown: g(&self.dropped_at_shutdown),
            requests: g(&self.requests),
            retries: g(&self.retries),
            export_errors: g(&self.export_errors),
            file_written: g(&self.file_written),
            file_errors: g(&self.file_errors),
            last_error: self.last_error.lock().map(|e| e.clone()).unwrap_or(None),
        }
    }

    fn error(&self, e: String) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = Some(e);
        }
    }
}

struct Shared {
    counters: Counters,
    /// Set by `shutdown`: retries stop and what is left is dropped after it.
    deadline: Mutex<Option<Instant>>,
    /// Spans in the queue now (the bound is [`PipelineConfig::queue_size`]).
    queued: AtomicUsize,
    queue_size: usize,
    /// Delivered spans kept for their buffers, at most [`SPENT_KEPT`]
    /// (see [`Submitter::reclaim`]).
    spent: Mutex<Vec<IoamSpan>>,
}

/// Delivered spans the export thread keeps for reuse, at most: beyond
/// them, spans are freed (a source that never reclaims costs this much).
pub const SPENT_KEPT: usize = 1024;

impl Shared {
    /// Take room for `n` spans; false when the queue has none (an empty
    /// queue always takes a handover, however large, so that a batch
    /// larger than the queue still moves).
    fn reserve(&self, n: usize) -> bool {
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before == 0 || before + n <= self.queue_size {
            return true;
        }
        self.queued.fetch_sub(n, Ordering::AcqRel);
        false
    }
}

/// A handle the sources use to submit spans; cheap to clone.
///
/// Spans go to the worker in handovers: one span ([`submit`](Self::submit),
/// [`submit_wait`](Self::submit_wait)) or many at once
/// ([`submit_batch`](Self::submit_batch),
/// [`submit_batch_wait`](Self::submit_batch_wait)); a handover costs a wake
/// of the worker, so a source with many spans at hand (a file) hands them
/// over in batches. The queue bound counts spans either way.
#[derive(Clone)]
pub struct Submitter {
    tx: SyncSender<Vec<IoamSpan>>,
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Submitter").finish_non_exhaustive()
    }
}

/// How long a waiting submitter sleeps between looks at a full queue.
const FULL_QUEUE_POLL: Duration = Duration::from_micros(200);

impl Submitter {
    /// Queue one span; false (and counted) when the queue is full.
    pub fn submit(&self, span: IoamSpan) -> bool {
        self.submit_batch(&mut vec![span]) == 1
    }

    /// Queue one span, waiting while the queue is full: for sources that
    /// can wait (a file being replayed), so that nothing is dropped. Live
    /// sources use [`submit`](Self::submit).
    pub fn submit_wait(&self, span: IoamSpan) -> bool {
        self.submit_batch_wait(&mut vec![span])
    }

    /// Queue every span of `spans` in one handover (`spans` is left empty);
    /// when the queue has no room for all of them, none is queued and all
    /// are counted as dropped. Returns the number queued.
    pub fn submit_batch(&self, spans: &mut Vec<IoamSpan>) -> usize {
        let n = spans.len();
        if n == 0 {
            return 0;
        }
        let c = &self.shared.counters;
        c.submitted.fetch_add(n as u64, Ordering::Relaxed);
        if self.shared.reserve(n) {
            // The span bound keeps the channel (one slot per span) from
            // ever filling: `try_send` fails only once the worker is gone.
            match self.tx.try_send(std::mem::take(spans)) {
                Ok(()) => return n,
                Err(TrySendError::Full(back) | TrySendError::Disconnected(back)) => {
                    self.shared.queued.fetch_sub(n, Ordering::AcqRel);
                    *spans = back;
                }
            }
        }
        c.dropped_queue_full.fetch_add(n as u64, Ordering::Relaxed);
        spans.clear();
        0
    }

    /// Queue every span of `spans` in one handover (`spans` is left empty),
    /// waiting while the queue is full. False (the spans counted as
    /// dropped) only when the pipeline has shut down.
    pub fn submit_batch_wait(&self, spans: &mut Vec<IoamSpan>) -> bool {
        let n = spans.len();
        if n == 0 {
            return true;
        }
        let c = &self.shared.counters;
        c.submitted.fetch_add(n as u64, Ordering::Relaxed);
        while !self.shared.reserve(n) {
            std::thread::sleep(FULL_QUEUE_POLL);
        }
        if self.tx.send(std::mem::take(spans)).is_err() {
            self.shared.queued.fetch_sub(n, Ordering::AcqRel);
            c.dropped_queue_full.fetch_add(n as u64, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Move the delivered spans the export thread has kept into `into`
    /// (at most [`SPENT_KEPT`] at a time), for a [`SpanBatch`]'s `spare`:
    /// their buffers are reused for new spans, so that a steady stream
    /// allocates nothing and the export thread frees nothing. Never waits:
    /// when the export thread holds the list, nothing is moved this time.
    /// Returns the number moved.
    ///
    /// [`SpanBatch`]: crate::span::SpanBatch
    pub fn reclaim(&self, into: &mut Vec<IoamSpan>) -> usize {
        match self.shared.spent.try_lock() {
            Ok(mut spent) => {
                let n = spent.len();
                into.append(&mut spent);
                n
            }
            Err(_) => 0,
        }
    }

    /// The counters now.
    pub fn stats(&self) -> PipelineStats {
        self.shared.counters.snapshot()
    }
}

/// The running pipeline.
pub struct Pipeline {
    submitter: Submitter,
    worker: JoinHandle<()>,
    flush_timeout: Duration,
}

impl core::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

struct Worker {
    rx: Receiver<Vec<IoamSpan>>,
    shared: Arc<Shared>,
    cfg: PipelineConfig,
    resource: Resource,
    sinks: Sinks,
    /// The `jsonl` lines of a batch, written out with one call.
    lines: Vec<u8>,
}

impl Worker {
    fn deadline(&self) -> Option<Instant> {
        self.shared.deadline.lock().map(|d| *d).unwrap_or(None)
    }

    fn past_deadline(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    fn run(mut self) {
        let mut batch: Vec<IoamSpan> = Vec::with_capacity(self.cfg.batch_size);
        let mut open_since: Option<Instant> = None;
        loop {
            let wait = match open_since {
                Some(t) => self.cfg.batch_timeout.saturating_sub(t.elapsed()),
                None => self.cfg.batch_timeout,
            };
            match self.rx.recv_timeout(wait) {
                Ok(spans) => {
                    self.shared.queued.fetch_sub(spans.len(), Ordering::AcqRel);
                    if self.past_deadline() {
                        self.shared
                            .counters
                            .dropped_at_shutdown
                            .fetch_add(spans.len() as u64, Ordering::Relaxed);
                        continue;
                    }
                    for span in spans {
                        open_since.get_or_insert_with(Instant::now);
                        batch.push(span);
                        if batch.len() >= self.cfg.batch_size {
                            self.deliver(&mut batch);
                            open_since = None;
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !batch.is_empty() {
                        self.deliver(&mut batch);
                    }
                    open_since = None;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if !batch.is_empty() {
                        if self.past_deadline() {
                            self.shared
                                .counters
                                .dropped_at_shutdown
                                .fetch_add(batch.len() as u64, Ordering::Relaxed);
                            batch.clear();
                        } else {
                            self.deliver(&mut batch);
                        }
                    }
                    break;
                }
            }
        }
        if let Some((w, _)) = self.sinks.file.as_mut() {
            if let Err(e) = w.flush() {
                self.shared
                    .counters
                    .file_errors
                    .fetch_add(1, Ordering::Relaxed);
                self.shared.counters.error(format!("output: {e}"));
            }
        }
    }

    fn deliver(&mut self, batch: &mut Vec<IoamSpan>) {
        let c = &self.shared.counters;
        let n = batch.len() as u64;
        if let Some((w, fmt)) = self.sinks.file.as_mut() {
            let r = match fmt {
                FileFormat::Jsonl => {
                    self.lines.clear();
                    for s in batch.iter() {
                        write_jsonl(&mut self.lines, s);
                    }
                    w.write_all(&self.lines).map_err(serde_json::Error::io)
                }
                FileFormat::OtlpJson => {
                    let line = to_json(&request(&self.resource, batch));
                    w.write_all(line.as_bytes())
                        .and_then(|()| w.write_all(b"\n"))
                        .map_err(serde_json::Error::io)
                }
            };
            let r = r.and_then(|()| w.flush().map_err(serde_json::Error::io));
            match r {
                Ok(()) => {
                    c.file_written.fetch_add(n, Ordering::Relaxed);
                }
                Err(e) => {
                    c.file_errors.fetch_add(1, Ordering::Relaxed);
                    c.error(format!("output: {e}"));
                }
            }
        }
        if let Some(exp) = &self.sinks.otlp {
            c.requests.fetch_add(1, Ordering::Relaxed);
            match exp.export(&self.resource, batch, self.deadline()) {
                Delivery::Delivered { retries } => {
                    c.retries.fetch_add(retries.into(), Ordering::Relaxed);
                    c.exported.fetch_add(n, Ordering::Relaxed);
                }
                Delivery::Rejected {
                    status,
                    retries,
                    detail,
                } => {
                    c.retries.fetch_add(retries.into(), Ordering::Relaxed);
                    c.rejected.fetch_add(n, Ordering::Relaxed);
                    c.export_errors.fetch_add(1, Ordering::Relaxed);
                    c.error(format!(
                        "OTLP endpoint {} refused {n} spans: HTTP {status} {detail}",
                        exp.config().traces_url
                    ));
                }
                Delivery::GaveUp {
                    retries,
                    last_error,
                } => {
                    c.retries.fetch_add(retries.into(), Ordering::Relaxed);
                    c.failed.fetch_add(n, Ordering::Relaxed);
                    c.export_errors.fetch_add(1, Ordering::Relaxed);
                    c.error(format!(
                        "OTLP endpoint {}: {n} spans lost after {retries} retries: {last_error}",
                        exp.config().traces_url
                    ));
                }
            }
        }
        // Keep the spans for their buffers (up to the bound); free the rest.
        if let Ok(mut spent) = self.shared.spent.lock() {
            let keep = SPENT_KEPT.saturating_sub(spent.len()).min(batch.len());
            spent.extend(batch.drain(..keep));
        }
        batch.clear();
    }
}

impl Pipeline {
    /// Start the worker thread.
    pub fn start(cfg: PipelineConfig, resource: Resource, sinks: Sinks) -> Self {
        let cfg = PipelineConfig {
            queue_size: cfg.queue_size.max(1),
            batch_size: cfg.batch_size.max(1),
            ..cfg
        };
        let (tx, rx) = mpsc::sync_channel(cfg.queue_size);
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            deadline: Mutex::new(None),
            queued: AtomicUsize::new(0),
            queue_size: cfg.queue_size,
            spent: Mutex::new(Vec::new()),
        });
        let worker = Worker {
            rx,
            shared: Arc::clone(&shared),
            cfg,
            resource,
            sinks,
            lines: Vec::new(),
        };
        let worker = std::thread::Builder::new()
            .name("clt-otlp-export".into())
            .spawn(move || worker.run())
            .expect("spawning the export thread");
        Pipeline {
            submitter: Submitter { tx, shared },
            worker,
            flush_timeout: cfg.flush_timeout,
        }
    }

    /// A handle for a source thread.
    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    /// Queue one span (see [`Submitter::submit`]).
    pub fn submit(&self, span: IoamSpan) -> bool {
        self.submitter.submit(span)
    }

    /// The counters now.
    pub fn stats(&self) -> PipelineStats {
        self.submitter.stats()
    }

    /// Stop intake, flush within the flush timeout, return the final
    /// counters. Spans submitted through clones of the [`Submitter`] after
    /// this are counted as dropped; drop those clones first.
    pub fn shutdown(self) -> PipelineStats {
        let Pipeline {
            submitter,
            worker,
            flush_timeout,
        } = self;
        if let Ok(mut d) = submitter.shared.deadline.lock() {
            *d = Some(Instant::now() + flush_timeout);
        }
        let shared = Arc::clone(&submitter.shared);
        drop(submitter);
        // The worker ends when every sender is gone; a panic in it would be
        // a bug, and the counters are still read.
        let _ = worker.join();
        shared.counters.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{HopAttributes, Origin};
    use std::sync::mpsc::{channel, Receiver, Sender};

    fn span(i: u8) -> IoamSpan {
        IoamSpan {
            trace_id: [i; 16],
            parent_span_id: [1; 8],
            span_id: [2; 8],
            trace_flags: 1,
            start_unix_nanos: 1,
            end_unix_nanos: 2,
            namespace: 7,
            trace_type: 0x80_0002,
            overflow: false,
            origin: Origin::Capture,
            hops: Vec::new(),
            hop_attributes: HopAttributes::default(),
        }
    }

    /// Delivered spans come back through `reclaim`, at most `SPENT_KEPT`,
    /// and a source that never reclaims leaves the export thread holding
    /// no more than that.
    #[test]
    fn delivered_spans_come_back_for_their_buffers() {
        let sinks = Sinks {
            otlp: None,
            file: Some((Box::new(Vec::new()), FileFormat::Jsonl)),
        };
        let pipeline = Pipeline::start(PipelineConfig::default(), Resource::new("t"), sinks);
        let sub = pipeline.submitter();
        let total = SPENT_KEPT + 300;
        let mut spans: Vec<IoamSpan> = (0..total).map(|i| span(i as u8)).collect();
        assert!(sub.submit_batch_wait(&mut spans));
        // Wait (at most 20 s) until every span is written.
        let start = Instant::now();
        while sub.stats().file_written < total as u64 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{:?}",
                sub.stats()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // The first SPENT_KEPT delivered were kept (the list was full from
        // then on, as nothing was reclaimed); the later ones were freed.
        let mut spare = Vec::new();
        let mut got = 0;
        while got < SPENT_KEPT && start.elapsed() < Duration::from_secs(20) {
            // `reclaim` never waits: the export thread may hold the list.
            got += sub.reclaim(&mut spare);
        }
        assert_eq!(got, SPENT_KEPT);
        assert_eq!(spare.len(), SPENT_KEPT);
        // In the order delivered.
        assert!(spare
            .iter()
            .zip(0..)
            .all(|(s, i)| s.trace_id == span(i as u8).trace_id));
        drop(sub);
        assert_eq!(pipeline.shutdown().file_written, total as u64);
    }

    #[test]
    fn jsonl_lines_are_the_bytes_serde_json_writes() {
        let mut spans = vec![span(0), span(0xab)];
        let mut s = span(3);
        s.trace_flags = 0;
        s.start_unix_nanos = u64::MAX;
        s.end_unix_nanos = 0;
        s.namespace = u16::MAX;
        s.trace_type = 0x0f;
        s.overflow = true;
        s.origin = Origin::KernelEvent;
        s.hop_attributes
            .push("ioam_namespace7_node1", "HopLimit=64; Id=1; ");
        // Every byte JSON escapes, non-ASCII text, an empty key.
        let all: String = (0u8..0x80).map(char::from).collect();
        s.hop_attributes.push(&all, "é ∑ \"q\" \\ /");
        s.hop_attributes.push("", "");
        spans.push(s);
        let mut wide = span(4);
        wide.trace_type = 0x1234_5678;
        spans.push(wide);
        for s in &spans {
            let mut direct = Vec::new();
            write_jsonl(&mut direct, s);
            let mut want = serde_json::to_vec(&JsonSpan::of(s)).unwrap();
            want.push(b'\n');
            assert_eq!(
                String::from_utf8(direct).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }

    /// A file sink whose first write says so and then waits to be let go.
    struct Gate {
        entered: Option<Sender<()>>,
        release: Receiver<()>,
    }

    impl Write for Gate {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if let Some(tx) = self.entered.take() {
                let _ = tx.send(());
                let _ = self.release.recv();
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_queue_bound_counts_spans_whatever_the_handover() {
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel();
        let gate = Gate {
            entered: Some(entered_tx),
            release: release_rx,
        };
        let cfg = PipelineConfig {
            queue_size: 4,
            batch_size: 1,
            ..PipelineConfig::default()
        };
        let sinks = Sinks {
            otlp: None,
            file: Some((Box::new(gate), FileFormat::Jsonl)),
        };
        let p = Pipeline::start(cfg, Resource::new("t"), sinks);
        let sub = p.submitter();
        // The worker takes the first span and blocks writing it.
        assert!(sub.submit(span(0)));
        entered.recv().unwrap();
        let mut three = vec![span(1), span(2), span(3)];
        assert_eq!(sub.submit_batch(&mut three), 3);
        assert!(three.is_empty());
        // 3 queued + 2 > 4: the whole handover is dropped.
        let mut two = vec![span(4), span(5)];
        assert_eq!(sub.submit_batch(&mut two), 0);
        assert!(two.is_empty());
        assert!(sub.submit(span(6)), "the fourth place");
        assert!(!sub.submit(span(7)), "the queue is full");
        assert_eq!(sub.submit_batch(&mut Vec::new()), 0);
        release.send(()).unwrap();
        // Once drained, a waiting handover larger than the queue still goes.
        let mut many: Vec<IoamSpan> = (10..20).map(span).collect();
        assert!(sub.submit_batch_wait(&mut many));
        drop(sub);
        let s = p.shutdown();
        assert_eq!(s.submitted, 1 + 3 + 2 + 1 + 1 + 10);
        assert_eq!(s.dropped_queue_full, 3);
        assert_eq!(s.file_written, 1 + 3 + 1 + 10);
        assert_eq!(s.submitted, s.file_written + s.dropped_queue_full);
    }
}
