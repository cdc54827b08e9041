#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

use core::fmt::Write as _;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clt_otlp::pipeline::{Pipeline, PipelineConfig, PipelineStats, Sinks, Submitter, SPENT_KEPT};
use clt_otlp::proto::Resource;
use clt_otlp::span::{Origin, Outcome, SpanBatch, SpanBuilder, SpanConfig};
use ioam_capture::events::{EventError, KernelEvents};
use ioam_capture::file::{CaptureReader, Timestamp};
use ioam_capture::link::{ipv6_payload, Payload};
use ioam_capture::live::{LiveCapture, LiveConfig};
use ioam_trace::Trace;

pub mod privileges;

/// What the agent reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources {
    /// Interfaces to capture on.
    pub interfaces: Vec<String>,
    /// Subscribe to the kernel's IOAM6 trace events.
    pub kernel_events: bool,
    /// Capture files to read (in order, on the calling thread).
    pub files: Vec<PathBuf>,
    /// Live capture settings.
    pub live: LiveConfig,
}

/// When the agent stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// After this long.
    pub duration: Option<Duration>,
    /// After this many packets and events read.
    pub count: Option<u64>,
}

/// Source-side counters.
#[derive(Debug, Default)]
struct SourceCounters {
    packets: AtomicU64,
    events: AtomicU64,
    not_ipv6: AtomicU64,
    ioam: AtomicU64,
    spans: AtomicU64,
    no_context: AtomicU64,
    filtered: AtomicU64,
    unsampled: AtomicU64,
    malformed: AtomicU64,
    capture_dropped: AtomicU64,
    netlink_overruns: AtomicU64,
    source_errors: AtomicU64,
    first_malformed: Mutex<Option<String>>,
}

/// All counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// Packets read (captures and files).
    pub packets: u64,
    /// Kernel trace events read.
    pub events: u64,
    /// Frames that are not IPv6.
    pub not_ipv6: u64,
    /// Packets and events with at least one IOAM trace.
    pub ioam: u64,
    /// Spans made (packets with a CLT context that passed the filters).
    pub clt: u64,
    /// Traces without a CLT context.
    pub no_context: u64,
    /// Traces outside the namespace filter.
    pub filtered: u64,
    /// Unsampled CLT contexts (not exported by default).
    pub unsampled: u64,
    /// Packets and events with something malformed.
    pub malformed: u64,
    /// Packets the kernel dropped before the capture read them.
    pub capture_dropped: u64,
    /// Times the netlink socket overflowed (ENOBUFS): each time one or more
    /// events were lost; the kernel does not say how many.
    pub netlink_overruns: u64,
    /// Read errors of a source (the source goes on where it can).
    pub source_errors: u64,
    /// The first malformed packet's error, in full.
    pub first_malformed: Option<String>,
    /// The export side.
    pub pipeline: PipelineStats,
}

impl AgentStats {
    /// One line of `key=value` counters.
    pub fn line(&self) -> String {
        let p = &self.pipeline;
        let mut s = String::new();
        let _ = write!(
            s,
            "packets={} events={} not_ipv6={} ioam={} clt={} no_context={} filtered={} unsampled={} \
             malformed={} capture_dropped={} netlink_overruns={} source_errors={} \
             queued={} exported={} retried={} rejected={} failed={} dropped_queue_full={} \
             dropped_at_shutdown={} requests={} export_errors={} written={}",
            self.packets,
            self.events,
            self.not_ipv6,
            self.ioam,
            self.clt,
            self.no_context,
            self.filtered,
            self.unsampled,
            self.malformed,
            self.capture_dropped,
            self.netlink_overruns,
            self.source_errors,
            p.submitted,
            p.exported,
            p.retries,
            p.rejected,
            p.failed,
            p.dropped_queue_full,
            p.dropped_at_shutdown,
            p.requests,
            p.export_errors,
            p.file_written,
        );
        s
    }
}

struct Shared {
    counters: SourceCounters,
    stop: Arc<AtomicBool>,
}

impl Shared {
    fn record(&self, o: &Outcome) {
        let c = &self.counters;
        if o.traces > 0 {
            c.ioam.fetch_add(1, Ordering::Relaxed);
        }
        c.spans.fetch_add(o.spans as u64, Ordering::Relaxed);
        c.no_context
            .fetch_add(o.no_context as u64, Ordering::Relaxed);
        c.filtered.fetch_add(o.filtered as u64, Ordering::Relaxed);
        c.unsampled.fetch_add(o.unsampled as u64, Ordering::Relaxed);
        if let Some(e) = &o.malformed {
            c.malformed.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut g) = c.first_malformed.lock() {
                g.get_or_insert_with(|| e.clone());
            }
        }
    }

    fn stats(&self, pipeline: PipelineStats) -> AgentStats {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        AgentStats {
            packets: g(&c.packets),
            events: g(&c.events),
            not_ipv6: g(&c.not_ipv6),
            ioam: g(&c.ioam),
            clt: g(&c.spans),
            no_context: g(&c.no_context),
            filtered: g(&c.filtered),
            unsampled: g(&c.unsampled),
            malformed: g(&c.malformed),
            capture_dropped: g(&c.capture_dropped),
            netlink_overruns: g(&c.netlink_overruns),
            source_errors: g(&c.source_errors),
            first_malformed: c.first_malformed.lock().map(|e| e.clone()).unwrap_or(None),
            pipeline,
        }
    }

    fn under_count(&self, limits: &Limits) -> bool {
        let n = self.counters.packets.load(Ordering::Relaxed)
            + self.counters.events.load(Ordering::Relaxed);
        if limits.count.is_some_and(|c| n >= c) {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }
}

fn nanos(t: Timestamp) -> u64 {
    u64::try_from(t.as_unix_nanos()).unwrap_or(0)
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// How a source hands spans over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handover {
    /// Live: never wait; a full queue drops (counted).
    NoWait,
    /// A file: wait for room, lose nothing; hand over in batches of
    /// this many spans (see [`file_handover`]).
    Wait(usize),
}

/// Spans a file source gathers before it hands them to the pipeline: as
/// many as the export thread keeps for reuse ([`SPENT_KEPT`]), and no more
/// than the queue holds. Every handover wakes the export thread; on one
/// core that is two context switches, and 64-span handovers cost the agent
/// ~12 % of its time (benches/README.md, "A fifth round"). More than
/// `SPENT_KEPT` would allocate the surplus spans anew.
fn file_handover(queue_size: usize) -> usize {
    SPENT_KEPT.min(queue_size).max(1)
}

/// What a source thread needs to turn its input into queued spans.
struct Feed {
    shared: Arc<Shared>,
    builder: SpanBuilder,
    sub: Submitter,
    how: Handover,
    /// The spans made and not handed over yet, and spent ones whose
    /// buffers the builder fills again (reclaimed from the export thread).
    spans: SpanBatch,
}

impl Feed {
    /// Count what a packet gave and hand its spans over: a live source at
    /// once (one handover per packet), a file in batches (a handover wakes
    /// the export thread, which costs more than a span; see
    /// [`file_handover`]).
    fn submit_all(&mut self, o: &Outcome) {
        self.shared.record(o);
        match self.how {
            Handover::NoWait => {
                if !self.spans.spans.is_empty() {
                    self.sub.submit_batch(&mut self.spans.spans);
                    self.reclaim();
                }
            }
            Handover::Wait(every) if self.spans.spans.len() >= every => self.flush(),
            Handover::Wait(_) => {}
        }
    }

    /// Hand over the spans a file source holds (at the end of its files).
    fn flush(&mut self) {
        self.sub.submit_batch_wait(&mut self.spans.spans);
        self.reclaim();
    }

    /// Take back spent spans for their buffers when few are left.
    fn reclaim(&mut self) {
        if self.spans.spare.len() < SPENT_KEPT / 2 {
            self.sub.reclaim(&mut self.spans.spare);
        }
    }

    /// Decode one frame and submit its spans.
    fn frame(&mut self, linktype: u32, data: &[u8], time: u64) {
        self.shared.counters.packets.fetch_add(1, Ordering::Relaxed);
        let o = match ipv6_payload(linktype, data) {
            Ok(Payload::Ipv6 { packet, .. }) => self.builder.packet(packet, time, &mut self.spans),
            Ok(Payload::Other) => {
                self.shared
                    .counters
                    .not_ipv6
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(e) => Outcome {
                malformed: Some(format!("link layer: {e}")),
                ..Outcome::default()
            },
        };
        self.submit_all(&o);
    }

    /// Decode one kernel trace event (its body already built) and submit its span.
    fn event(&mut self, body: &[u8]) {
        self.shared.counters.events.fetch_add(1, Ordering::Relaxed);
        let o = match Trace::parse_preallocated(body, self.builder.config().mode) {
            Ok(t) => self
                .builder
                .trace(t, Origin::KernelEvent, now_nanos(), &mut self.spans),
            Err(err) => Outcome {
                traces: 1,
                malformed: Some(format!("kernel event: {err}")),
                ..Outcome::default()
            },
        };
        self.submit_all(&o);
    }
}

/// Add the kernel's drops since the last reading to the counters.
fn count_drops(cap: &mut LiveCapture, shared: &Shared, last: &mut u64) {
    if let Ok(s) = cap.stats() {
        let d = s.dropped + s.if_dropped;
        if d > *last {
            shared
                .counters
                .capture_dropped
                .fetch_add(d - *last, Ordering::Relaxed);
            *last = d;
        }
    }
}

fn live_thread(
    mut cap: LiveCapture,
    mut feed: Feed,
    limits: Limits,
    log: Logger,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("capture-{}", cap.interface()))
        .spawn(move || {
            let shared = Arc::clone(&feed.shared);
            let mut last_dropped = 0;
            let mut last_stats = Instant::now();
            while !shared.stop.load(Ordering::Relaxed) && shared.under_count(&limits) {
                match cap.next_packet() {
                    Ok(Some(p)) => feed.frame(p.linktype, p.data, nanos(p.time)),
                    Ok(None) => {}
                    Err(e) => {
                        shared
                            .counters
                            .source_errors
                            .fetch_add(1, Ordering::Relaxed);
                        log(&format!(
                            "capture on {}: {e}; stopping this source",
                            cap.interface()
                        ));
                        break;
                    }
                }
                // The kernel's drop counter costs a system call: read it
                // once a second, not per packet (and once more at the end).
                if last_stats.elapsed() >= Duration::from_secs(1) {
                    last_stats = Instant::now();
                    count_drops(&mut cap, &shared, &mut last_dropped);
                }
            }
            count_drops(&mut cap, &shared, &mut last_dropped);
        })
        .expect("spawning a capture thread")
}

fn events_thread(
    mut ev: KernelEvents,
    mut feed: Feed,
    limits: Limits,
    log: Logger,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("ioam6-events".into())
        .spawn(move || {
            let shared = Arc::clone(&feed.shared);
            let mut body = Vec::new();
            while !shared.stop.load(Ordering::Relaxed) && shared.under_count(&limits) {
                match ev.next_batch() {
                    Ok(Some(batch)) => {
                        for e in batch.events {
                            e.write_trace_body(&mut body);
                            feed.event(&body);
                        }
                    }
                    Ok(None) => {}
                    Err(EventError::Overrun) => {
                        shared.counters.netlink_overruns.fetch_add(1, Ordering::Relaxed);
                        log("kernel events: the netlink socket overflowed (ENOBUFS); some events were lost");
                    }
                    Err(e @ EventError::Malformed { .. }) => shared.record(&Outcome {
                        malformed: Some(e.to_string()),
                        ..Outcome::default()
                    }),
                    Err(e) => {
                        shared.counters.source_errors.fetch_add(1, Ordering::Relaxed);
                        log(&format!("{e}; stopping this source"));
                        break;
                    }
                }
            }
        })
        .expect("spawning the events thread")
}

/// Where log lines go (standard error in the CLI).
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// Everything `ioam agent` needs.
pub struct AgentConfig {
    /// The sources.
    pub sources: Sources,
    /// Which traces become spans.
    pub spans: SpanConfig,
    /// Queue and batches.
    pub pipeline: PipelineConfig,
    /// The resource the spans are reported under.
    pub resource: Resource,
    /// The sinks.
    pub sinks: Sinks,
    /// When to stop by itself.
    pub limits: Limits,
    /// Counters every this long (none: only at the end).
    pub stats_interval: Option<Duration>,
    /// Become this user (a name or a uid) once every source is open, before
    /// any packet is parsed ([`privileges::drop_to`]; needs root).
    pub run_as: Option<String>,
}

/// Run until stopped; returns the final counters.
pub fn run(cfg: AgentConfig, stop: Arc<AtomicBool>, log: Logger) -> Result<AgentStats> {
    let AgentConfig {
        sources,
        spans,
        pipeline,
        resource,
        sinks,
        limits,
        stats_interval,
        run_as,
    } = cfg;
    // Open every source first: a missing capability fails now, with its
    // reason, before anything is exported.
    let mut captures = Vec::new();
    for iface in &sources.interfaces {
        captures.push(LiveCapture::open(iface, &sources.live)?);
    }
    let events = if sources.kernel_events {
        Some(KernelEvents::subscribe()?)
    } else {
        None
    };
    let mut files = Vec::new();
    for path in &sources.files {
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let r = CaptureReader::new(std::io::BufReader::with_capacity(1 << 16, f))
            .with_context(|| format!("reading {}", path.display()))?;
        files.push((path.clone(), r));
    }

    let mut what: Vec<String> = captures
        .iter()
        .map(|c| format!("capture on {} (link type {})", c.interface(), c.linktype()))
        .collect();
    if events.is_some() {
        what.push("kernel IOAM6 events".into());
    }
    what.extend(files.iter().map(|(p, _)| p.display().to_string()));
    // Everything privileged is open; the parsers below never run as root.
    if let Some(user) = &run_as {
        let who = privileges::drop_to(user)?;
        log(&format!(
            "running as {} (uid {}, gid {}): root and every capability dropped",
            who.user, who.uid, who.gid
        ));
    }
    log(&format!("reading {}", what.join(", ")));
    let builder = SpanBuilder::new(spans);
    let handover = file_handover(pipeline.queue_size);
    let pipeline = Pipeline::start(pipeline, resource, sinks);
    let shared = Arc::new(Shared {
        counters: SourceCounters::default(),
        stop: Arc::clone(&stop),
    });
    let started = Instant::now();
    let mut threads = Vec::new();
    let live_sources = !captures.is_empty() || events.is_some();
    let feed = |how| Feed {
        shared: Arc::clone(&shared),
        builder: builder.clone(),
        sub: pipeline.submitter(),
        how,
        spans: SpanBatch::default(),
    };
    let mut stoppers = Vec::new();
    for mut cap in captures {
        stoppers.push(cap.stopper());
        threads.push(live_thread(
            cap,
            feed(Handover::NoWait),
            limits,
            Arc::clone(&log),
        ));
    }
    if let Some(ev) = events {
        threads.push(events_thread(
            ev,
            feed(Handover::NoWait),
            limits,
            Arc::clone(&log),
        ));
    }
    let mut last_stats = Instant::now();
    let mut tick = |pipeline: &Pipeline| {
        if let Some(iv) = stats_interval {
            if last_stats.elapsed() >= iv {
                last_stats = Instant::now();
                log(&format!("stats: {}", shared.stats(pipeline.stats()).line()));
            }
        }
        if limits.duration.is_some_and(|d| started.elapsed() >= d) {
            stop.store(true, Ordering::Relaxed);
        }
    };

    // Files on this thread, with the same checks between frames.
    let mut file_feed = feed(Handover::Wait(handover));
    'files: for (path, mut reader) in files {
        let mut n: u64 = 0;
        while let Some(frame_res) = reader.next_frame() {
            if stop.load(Ordering::Relaxed) || !shared.under_count(&limits) {
                break 'files;
            }
            match frame_res {
                Ok(f) => {
                    let t = f.time.map(nanos).unwrap_or_else(now_nanos);
                    file_feed.frame(f.linktype, f.data, t);
                }
                Err(e) => {
                    shared
                        .counters
                        .source_errors
                        .fetch_add(1, Ordering::Relaxed);
                    log(&format!(
                        "{}: {e}; the rest of the file is skipped",
                        path.display()
                    ));
                    break;
                }
            }
            n += 1;
            if n.is_multiple_of(4096) {
                tick(&pipeline);
            }
        }
    }
    file_feed.flush();
    drop(file_feed);

    if live_sources {
        while !stop.load(Ordering::Relaxed) && !threads.iter().all(|t| t.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            tick(&pipeline);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for s in &stoppers {
        s.stop();
    }
    for t in threads {
        let _ = t.join();
    }
    let final_pipeline = pipeline.shutdown();
    Ok(shared.stats(final_pipeline))
}
