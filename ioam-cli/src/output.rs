//! `ioam decode` as a library call: a capture in, one output format out,
//! on one thread or several, in capture order.
//!
//! [`decode_capture`] reads frames with a [`CaptureReader`], decodes each
//! with a [`Decoder`] into a [`FormatSink`], and hands the sink's bytes to
//! a writer in large blocks. With `threads > 1` worker threads take turns
//! at the reader: each copies the next chunk of frames out of it (so the
//! frames it decodes are in its own core's cache), decodes them with its
//! own decoder and sink, and hands the output to the calling thread, which
//! writes the chunks in capture order: the bytes are the same as on one
//! thread. A fixed set of buffers (two chunks per worker) goes round
//! between the threads, so memory stays flat however long the capture. A
//! failed write stops the reading; a capture error is reported after the
//! output of every frame before it.
//!
//! No allocation is made per packet once the buffers have grown to their
//! working size (`ioam-cli/tests/alloc.rs` counts them).
//!
//! ```
//! use ioam_cli::decode::{DecodeOptions, Decoder, SAMPLE_CAPTURE};
//! use ioam_cli::output::{decode_capture, Format, FormatSink, RunConfig};
//! use ioam_capture::file::CaptureReader;
//!
//! let mut reader = CaptureReader::new(SAMPLE_CAPTURE)?;
//! let mut decoder = Decoder::new(DecodeOptions::default());
//! let mut sink = FormatSink::new(Format::Json);
//! let mut out = Vec::new();
//! let run = RunConfig { threads: 2, ..RunConfig::default() };
//! let (counts, result) = decode_capture(
//!     &mut reader,
//!     &mut decoder,
//!     &mut sink,
//!     run,
//!     &mut |bytes| { out.extend_from_slice(bytes); Ok(()) },
//!     &mut |_offset| {},
//! );
//! result?;
//! sink.finish(&mut out)?; // closes an OTLP request; here, writes what is left
//! assert_eq!((counts.packets, counts.with_ioam, counts.malformed), (6, 6, 0));
//! assert_eq!(String::from_utf8(out)?.lines().count(), 6); // one JSON line per packet
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read};
use std::sync::{mpsc, Condvar, Mutex};

use crate::decode::{Decoder, OptionView, Outcome, PacketHead, PacketSink, Problem, TraceView};
use crate::jsonline::JsonSink;
use crate::otlp::OtlpSink;
use crate::text::TextSink;
use ioam_capture::file::{CaptureError, CaptureReader, Frame, Timestamp};

/// The output formats of `ioam decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Per packet: addresses, IOAM option headers, CLT context, hop table.
    Text,
    /// JSON Lines, one object per packet with IOAM (or malformed).
    Json,
    /// One OTLP/HTTP JSON `ExportTraceServiceRequest` with an `ioam-span`
    /// per CLT-tagged trace.
    OtlpJson,
}

/// The sink of one of the [`Format`]s.
#[derive(Debug)]
pub enum FormatSink {
    /// `--format text`.
    Text(TextSink),
    /// `--format json`.
    Json(JsonSink),
    /// `--format otlp-json` (boxed: the sink keeps its half-kilobyte
    /// attribute writer).
    Otlp(Box<OtlpSink>),
}

impl FormatSink {
    /// A sink writing `format`.
    pub fn new(format: Format) -> Self {
        match format {
            Format::Text => FormatSink::Text(TextSink::new()),
            Format::Json => FormatSink::Json(JsonSink::new()),
            Format::OtlpJson => FormatSink::Otlp(Box::new(OtlpSink::new())),
        }
    }

    /// The format.
    pub fn format(&self) -> Format {
        match self {
            FormatSink::Text(_) => Format::Text,
            FormatSink::Json(_) => Format::Json,
            FormatSink::Otlp(_) => Format::OtlpJson,
        }
    }

    /// The bytes written and not yet cleared.
    pub fn buffer(&self) -> &[u8] {
        match self {
            FormatSink::Text(s) => s.buffer(),
            FormatSink::Json(s) => s.buffer(),
            FormatSink::Otlp(s) => s.buffer(),
        }
    }

    /// Forget the bytes written (keeping the buffer).
    pub fn clear(&mut self) {
        match self {
            FormatSink::Text(s) => s.clear(),
            FormatSink::Json(s) => s.clear(),
            FormatSink::Otlp(s) => s.clear(),
        }
    }

    /// Say which input the next packets come from: its index on the
    /// command line (OTLP span ids) and, when a run reads several, its
    /// name (the JSON `file` key).
    pub fn set_input(&mut self, index: usize, file: Option<&str>) {
        match self {
            FormatSink::Json(s) => s.set_file(file),
            FormatSink::Otlp(s) => s.set_input(index),
            FormatSink::Text(_) => {}
        }
    }

    /// Write what is pending to `w`, then, for OTLP, close the request.
    pub fn finish(&mut self, w: &mut impl io::Write) -> io::Result<()> {
        w.write_all(self.buffer())?;
        self.clear();
        if let FormatSink::Otlp(s) = self {
            s.finish(w)?;
        }
        Ok(())
    }

    /// A sink for a worker's chunks, merged back with [`Self::append`].
    fn worker(&self) -> Self {
        match self {
            FormatSink::Otlp(s) => {
                let mut w = OtlpSink::chunk();
                w.set_input(s.input());
                FormatSink::Otlp(Box::new(w))
            }
            FormatSink::Json(s) => {
                let mut w = JsonSink::new();
                w.set_file(s.file());
                FormatSink::Json(w)
            }
            FormatSink::Text(_) => FormatSink::Text(TextSink::new()),
        }
    }

    /// Spans written (OTLP), 0 for the other formats.
    fn spans(&self) -> usize {
        match self {
            FormatSink::Otlp(s) => s.len(),
            _ => 0,
        }
    }

    /// Exchange the buffer with `other` (see [`JsonSink::swap_buffer`]).
    fn swap_buffer(&mut self, other: &mut Vec<u8>) {
        match self {
            FormatSink::Otlp(s) => s.swap_buffer(other),
            FormatSink::Json(s) => s.swap_buffer(other),
            FormatSink::Text(s) => s.swap_buffer(other),
        }
    }

    /// Write a worker's chunk output after what is pending here, without
    /// copying it into this sink's buffer.
    fn write_chunk(
        &mut self,
        chunk: &[u8],
        spans: usize,
        write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), StreamError> {
        flush(self, write)?;
        let (head, skip) = match self {
            FormatSink::Otlp(s) => s.adopt_chunk(spans),
            FormatSink::Json(_) | FormatSink::Text(_) => (&b""[..], 0),
        };
        for part in [head, chunk.get(skip..).unwrap_or_default()] {
            if !part.is_empty() {
                write(part).map_err(StreamError::Write)?;
            }
        }
        Ok(())
    }
}

impl PacketSink for FormatSink {
    fn begin(&mut self, head: &PacketHead) {
        match self {
            FormatSink::Text(s) => s.begin(head),
            FormatSink::Json(s) => s.begin(head),
            FormatSink::Otlp(s) => s.begin(head),
        }
    }

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, t: Option<&TraceView<'_>>) {
        match self {
            FormatSink::Text(s) => s.option(head, o, t),
            FormatSink::Json(s) => s.option(head, o, t),
            FormatSink::Otlp(s) => s.option(head, o, t),
        }
    }

    fn end(&mut self, head: &PacketHead, errors: &[Problem]) {
        match self {
            FormatSink::Text(s) => s.end(head, errors),
            FormatSink::Json(s) => s.end(head, errors),
            FormatSink::Otlp(s) => s.end(head, errors),
        }
    }
}

/// What a run read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Frames read.
    pub packets: u64,
    /// Frames with at least one IOAM option.
    pub with_ioam: u64,
    /// Frames with an error.
    pub malformed: u64,
}

impl Counts {
    /// Count one frame and what the decoder said of it.
    pub fn add(&mut self, outcome: Option<Outcome>) {
        self.packets += 1;
        if let Some(o) = outcome {
            self.with_ioam += u64::from(o.has_ioam);
            self.malformed += u64::from(o.malformed);
        }
    }

    /// Add another run's counts.
    pub fn merge(&mut self, other: Counts) {
        self.packets += other.packets;
        self.with_ioam += other.with_ioam;
        self.malformed += other.malformed;
    }
}

/// Why [`decode_capture`] stopped early.
#[derive(Debug)]
pub enum StreamError {
    /// The capture could not be read (everything before was decoded and written).
    Capture(CaptureError),
    /// The output could not be written.
    Write(io::Error),
}

impl core::fmt::Display for StreamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StreamError::Capture(e) => e.fmt(f),
            StreamError::Write(e) => write!(f, "writing the output: {e}"),
        }
    }
}

impl core::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            StreamError::Capture(e) => Some(e),
            StreamError::Write(e) => Some(e),
        }
    }
}

/// How [`decode_capture`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// Decoding threads; 0 or 1 decodes on the calling thread.
    pub threads: usize,
    /// Write the output after every packet (a live stream).
    pub flush_each: bool,
    /// Output bytes collected before a write.
    pub block: usize,
    /// Frames per chunk handed to a worker thread.
    pub chunk_frames: usize,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            threads: 1,
            flush_each: false,
            block: 1 << 20,
            chunk_frames: 2048,
        }
    }
}

/// Decode every frame of `reader` into `sink`, handing its bytes to `write`
/// in blocks (and after the last frame; an OTLP request is closed by
/// [`FormatSink::finish`], not here). `progress` gets the capture offset
/// now and then. Returns the counts, with the error that stopped the run
/// early if any.
pub fn decode_capture<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: &mut FormatSink,
    run: RunConfig,
    write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    progress: &mut dyn FnMut(usize),
) -> (Counts, Result<(), StreamError>) {
    if run.threads > 1 && !run.flush_each {
        return parallel(reader, decoder, sink, run, write, progress);
    }
    let mut counts = Counts::default();
    let mut since_progress = 0u32;
    loop {
        let frame = match reader.next_frame() {
            None => break,
            Some(Ok(f)) => f,
            Some(Err(e)) => {
                let r = flush(sink, write);
                return (counts, r.and(Err(StreamError::Capture(e))));
            }
        };
        counts.add(decoder.frame(&frame, sink));
        if run.flush_each || sink.buffer().len() >= run.block {
            if let Err(e) = flush(sink, write) {
                return (counts, Err(e));
            }
        }
        since_progress += 1;
        if since_progress == 4096 {
            since_progress = 0;
            progress(reader.position());
        }
    }
    (counts, flush(sink, write))
}

fn flush(
    sink: &mut FormatSink,
    write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<(), StreamError> {
    if !sink.buffer().is_empty() {
        write(sink.buffer()).map_err(StreamError::Write)?;
        sink.clear();
    }
    Ok(())
}

/// Frames copied out of the reader's buffer, for a worker.
#[derive(Debug, Default)]
struct Chunk {
    data: Vec<u8>,
    frames: Vec<FrameMeta>,
}

#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    number: u64,
    time: Option<Timestamp>,
    linktype: u32,
    start: usize,
    len: usize,
    orig_len: u32,
}

impl Chunk {
    fn push(&mut self, f: &Frame<'_>) {
        self.frames.push(FrameMeta {
            number: f.number,
            time: f.time,
            linktype: f.linktype,
            start: self.data.len(),
            len: f.data.len(),
            orig_len: f.orig_len,
        });
        self.data.extend_from_slice(f.data);
    }

    fn clear(&mut self) {
        self.data.clear();
        self.frames.clear();
    }
}

/// A chunk decoded: its place in the capture, its output, its counts, and
/// the buffers to reuse.
struct Done {
    seq: u64,
    chunk: Chunk,
    out: Vec<u8>,
    spans: usize,
    counts: Counts,
}

/// What the worker threads share: the reader (each worker reads its own
/// chunk, so that the frames it decodes are in its own core's cache), the
/// spare buffers, and why reading stopped.
struct Source<'r, R> {
    reader: &'r mut CaptureReader<R>,
    /// Number of the next chunk read (the order of the output).
    next_seq: u64,
    /// Buffers free for a chunk and its output; at most `2 * threads` go
    /// round, which bounds the memory.
    spare: Vec<(Chunk, Vec<u8>)>,
    /// No more chunks: the capture ended, failed, or the output failed.
    finished: bool,
    /// The capture error that ended the reading (written after every
    /// frame before it).
    error: Option<CaptureError>,
    /// Capture offset reached, for the progress report.
    position: usize,
}

/// Ends the reading when a decoding thread unwinds (see [`parallel`]).
struct StopOnPanic<'a, 'r, R> {
    source: &'a Mutex<Source<'r, R>>,
    room: &'a Condvar,
}

impl<R> Drop for StopOnPanic<'_, '_, R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // A poisoned lock still holds the state.
            let mut s = self
                .source
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            s.finished = true;
            drop(s);
            self.room.notify_all();
        }
    }
}

/// Take spare buffers and read the next chunk into them, or `None` when
/// there is nothing more to read.
fn read_chunk<R: Read>(
    source: &Mutex<Source<'_, R>>,
    room: &Condvar,
    frames: usize,
) -> Option<(u64, Chunk, Vec<u8>)> {
    let mut s = source.lock().ok()?;
    let (mut chunk, out) = loop {
        if s.finished {
            return None;
        }
        if let Some(bufs) = s.spare.pop() {
            break bufs;
        }
        s = room.wait(s).ok()?;
    };
    while chunk.frames.len() < frames {
        match s.reader.next_frame() {
            Some(Ok(f)) => chunk.push(&f),
            Some(Err(e)) => {
                s.error = Some(e);
                s.finished = true;
                break;
            }
            None => {
                s.finished = true;
                break;
            }
        }
    }
    s.position = s.reader.position();
    if s.finished {
        // Wake the workers waiting for buffers: they stop.
        room.notify_all();
    }
    if chunk.frames.is_empty() {
        s.spare.push((chunk, out));
        return None;
    }
    let seq = s.next_seq;
    s.next_seq += 1;
    Some((seq, chunk, out))
}

fn parallel<R: Read + Send>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: &mut FormatSink,
    run: RunConfig,
    write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    progress: &mut dyn FnMut(usize),
) -> (Counts, Result<(), StreamError>) {
    let threads = run.threads;
    // Two chunks per worker: one being decoded, one done and waiting to be
    // written.
    let depth = 2 * threads;
    let source = Mutex::new(Source {
        reader,
        next_seq: 0,
        spare: (0..depth).map(|_| Default::default()).collect(),
        finished: false,
        error: None,
        position: 0,
    });
    let room = Condvar::new();
    let template = sink.worker();
    let mut counts = Counts::default();
    let mut status: Result<(), StreamError> = Ok(());
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let mut dec = decoder.clone();
            let mut wsink = template.worker();
            let (source, room) = (&source, &room);
            scope.spawn(move || {
                // Should the decoding panic, the others stop reading, so
                // that the calling thread's loop ends and the scope passes
                // the panic on (rather than everyone waiting for a chunk
                // that never comes).
                let _stop = StopOnPanic { source, room };
                while let Some((seq, chunk, mut out)) = read_chunk(source, room, run.chunk_frames) {
                    let mut counts = Counts::default();
                    for m in &chunk.frames {
                        let frame = Frame {
                            number: m.number,
                            time: m.time,
                            linktype: m.linktype,
                            data: &chunk.data[m.start..m.start + m.len],
                            orig_len: m.orig_len,
                        };
                        counts.add(dec.frame(&frame, &mut wsink));
                    }
                    out.clear();
                    wsink.swap_buffer(&mut out);
                    let spans = wsink.spans();
                    if let FormatSink::Otlp(s) = &mut wsink {
                        s.reset_count();
                    }
                    let done = Done {
                        seq,
                        chunk,
                        out,
                        spans,
                        counts,
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // The chunks come back in any order; each is written when every
        // chunk before it has been. At most `depth` wait here.
        let mut waiting: Vec<Done> = Vec::with_capacity(depth);
        let mut next = 0u64;
        let mut written_since = 0usize;
        for done in done_rx {
            waiting.push(done);
            while let Some(i) = waiting.iter().position(|d| d.seq == next) {
                let mut done = waiting.swap_remove(i);
                next += 1;
                if status.is_ok() {
                    counts.merge(done.counts);
                    status = sink.write_chunk(&done.out, done.spans, write);
                    if status.is_err() {
                        // Stop the reading; the chunks under way are dropped.
                        if let Ok(mut s) = source.lock() {
                            s.finished = true;
                        }
                        room.notify_all();
                    }
                }
                written_since += done.chunk.frames.len();
                done.chunk.clear();
                let position = match source.lock() {
                    Ok(mut s) => {
                        s.spare.push((done.chunk, done.out));
                        s.position
                    }
                    Err(_) => 0,
                };
                room.notify_one();
                // Outside the lock: the report may take its time.
                if written_since >= 4096 {
                    written_since = 0;
                    progress(position);
                }
            }
        }
    });
    let error = source.into_inner().ok().and_then(|s| s.error);
    if let (Ok(()), Some(e)) = (&status, error) {
        status = Err(StreamError::Capture(e));
    }
    let flushed = flush(sink, write);
    (counts, status.and(flushed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::DecodeOptions;
    use ioam_capture::file::linktype;
    use ioam_capture::write::PcapWriter;

    /// The random craft corpus as one capture.
    fn corpus() -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), linktype::RAW).unwrap();
        for (i, (pkt, _)) in crate::craft::random::corpus(11, 700).iter().enumerate() {
            let t = Timestamp {
                secs: 1_700_000_000 + i as i64 / 50,
                nanos: (i as u32 * 7919) % 1_000_000_000,
            };
            w.write(t, pkt).unwrap();
        }
        w.into_inner().unwrap()
    }

    fn run(bytes: &[u8], format: Format, threads: usize, chunk_frames: usize) -> (Vec<u8>, Counts) {
        let mut reader = CaptureReader::new(bytes).unwrap();
        let mut decoder = Decoder::new(DecodeOptions::default());
        let mut sink = FormatSink::new(format);
        let mut out = Vec::new();
        let run = RunConfig {
            threads,
            chunk_frames,
            block: 4096,
            ..RunConfig::default()
        };
        let (counts, r) = decode_capture(
            &mut reader,
            &mut decoder,
            &mut sink,
            run,
            &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            },
            &mut |_| {},
        );
        r.unwrap();
        sink.finish(&mut out).unwrap();
        (out, counts)
    }

    #[test]
    fn threads_write_what_one_thread_writes() {
        let bytes = corpus();
        for format in [Format::Text, Format::Json, Format::OtlpJson] {
            let (want, counts) = run(&bytes, format, 1, 2048);
            assert_eq!(counts.packets, 700);
            assert!(
                counts.with_ioam > 300 && counts.malformed > 50,
                "{counts:?}"
            );
            assert!(want.len() > 10_000);
            for (threads, chunk) in [(2, 7), (3, 1), (2, 2048), (4, 64)] {
                let (got, c) = run(&bytes, format, threads, chunk);
                assert_eq!(c, counts, "{format:?} {threads} threads, chunks of {chunk}");
                assert!(
                    got == want,
                    "{format:?} {threads} threads, chunks of {chunk}: output differs"
                );
            }
        }
    }

    #[test]
    fn a_failing_writer_stops_every_thread_and_is_reported() {
        let bytes = corpus();
        for threads in [1, 2, 3] {
            let mut reader = CaptureReader::new(&bytes[..]).unwrap();
            let mut decoder = Decoder::new(DecodeOptions::default());
            let mut sink = FormatSink::new(Format::Json);
            let (mut calls, mut after_failure) = (0, 0);
            let run = RunConfig {
                threads,
                chunk_frames: 8,
                block: 512,
                ..RunConfig::default()
            };
            let (counts, r) = decode_capture(
                &mut reader,
                &mut decoder,
                &mut sink,
                run,
                &mut |_| {
                    calls += 1;
                    if calls > 3 {
                        after_failure += 1;
                    }
                    if calls >= 3 {
                        return Err(io::Error::other("disk full"));
                    }
                    Ok(())
                },
                &mut |_| {},
            );
            assert!(
                matches!(&r, Err(StreamError::Write(e)) if e.to_string() == "disk full"),
                "{threads} threads: {r:?}"
            );
            // The run stopped at the failure: nothing written after it, and
            // the reading stopped far from the end of the capture.
            assert_eq!(after_failure, 0, "{threads} threads");
            assert!(counts.packets < 100, "{threads} threads: {counts:?}");
            let read = reader.position();
            assert!(
                read < bytes.len() / 4,
                "{threads} threads: read {read} bytes"
            );
        }
    }

    #[test]
    fn a_cut_capture_is_written_up_to_the_cut_then_reported() {
        let bytes = corpus();
        let cut = &bytes[..bytes.len() - 10];
        for threads in [1, 2] {
            let mut reader = CaptureReader::new(cut).unwrap();
            let mut decoder = Decoder::new(DecodeOptions::default());
            let mut sink = FormatSink::new(Format::Json);
            let mut lines = 0;
            let run = RunConfig {
                threads,
                chunk_frames: 16,
                ..RunConfig::default()
            };
            let (counts, r) = decode_capture(
                &mut reader,
                &mut decoder,
                &mut sink,
                run,
                &mut |b| {
                    lines += b.iter().filter(|&&c| c == b'\n').count();
                    Ok(())
                },
                &mut |_| {},
            );
            assert!(matches!(r, Err(StreamError::Capture(_))), "{r:?}");
            assert_eq!(counts.packets, 699);
            let reported = usize::try_from(counts.with_ioam.max(counts.malformed)).unwrap();
            assert!(lines >= reported && lines > 300, "{lines} lines");
        }
    }
}
