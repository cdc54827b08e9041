//! `ioam decode` as a library call: a capture in, one output format out,
//! on one thread or several, in capture order.
//!
//! [`decode_capture`] reads frames with a [`CaptureReader`], decodes each
//! with a [`Decoder`] into a [`FormatSink`], and hands the sink's bytes to
//! a writer in large blocks. With `threads > 1` the frames are copied into
//! chunks that worker threads decode (each with its own decoder and sink,
//! chunk `i` always to worker `i % threads`), and the main thread writes
//! the chunks' output in capture order: the bytes are the same as on one
//! thread. Buffers go round between the threads, so memory stays flat
//! however long the capture.
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
use std::sync::mpsc;

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
    /// `--format otlp-json`.
    Otlp(OtlpSink),
}

impl FormatSink {
    /// A sink writing `format`.
    pub fn new(format: Format) -> Self {
        match format {
            Format::Text => FormatSink::Text(TextSink::new()),
            Format::Json => FormatSink::Json(JsonSink::new()),
            Format::OtlpJson => FormatSink::Otlp(OtlpSink::new()),
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
                FormatSink::Otlp(w)
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
pub fn decode_capture<R: Read>(
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

/// A chunk decoded: its output, its counts, and the buffers to reuse.
struct Done {
    chunk: Chunk,
    out: Vec<u8>,
    spans: usize,
    counts: Counts,
}

fn parallel<R: Read>(
    reader: &mut CaptureReader<R>,
    decoder: &mut Decoder,
    sink: &mut FormatSink,
    run: RunConfig,
    write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    progress: &mut dyn FnMut(usize),
) -> (Counts, Result<(), StreamError>) {
    let threads = run.threads;
    // Two chunks in flight per worker: one decoding, one waiting.
    let depth = 2 * threads;
    let mut counts = Counts::default();
    let template = sink.worker();
    std::thread::scope(|scope| {
        let mut jobs = Vec::with_capacity(threads);
        let mut results = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (job_tx, job_rx) = mpsc::channel::<(Chunk, Vec<u8>)>();
            let (done_tx, done_rx) = mpsc::channel::<Done>();
            let mut dec = decoder.clone();
            let mut wsink = template.worker();
            scope.spawn(move || {
                for (chunk, mut out) in job_rx {
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
            jobs.push(job_tx);
            results.push(done_rx);
        }
        let mut spare: Vec<(Chunk, Vec<u8>)> = Vec::new();
        let (mut sent, mut received) = (0usize, 0usize);
        let mut status: Result<(), StreamError> = Ok(());
        // Take the oldest chunk's result and write it out.
        let mut collect = |received: &mut usize,
                           spare: &mut Vec<(Chunk, Vec<u8>)>,
                           sink: &mut FormatSink,
                           counts: &mut Counts|
         -> Result<(), StreamError> {
            let Ok(mut done) = results[*received % threads].recv() else {
                return Err(StreamError::Write(io::Error::other(
                    "a decoding thread stopped",
                )));
            };
            *received += 1;
            counts.merge(done.counts);
            let r = sink.write_chunk(&done.out, done.spans, write);
            done.chunk.clear();
            spare.push((done.chunk, done.out));
            r
        };
        let mut chunk = Chunk::default();
        let mut frames_since = 0usize;
        loop {
            let frame = match reader.next_frame() {
                None => break,
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    status = Err(StreamError::Capture(e));
                    break;
                }
            };
            chunk.push(&frame);
            if chunk.frames.len() < run.chunk_frames {
                continue;
            }
            frames_since += chunk.frames.len();
            if sent - received >= depth {
                if let Err(e) = collect(&mut received, &mut spare, sink, &mut counts) {
                    status = Err(e);
                    break;
                }
            }
            let (next, out) = spare.pop().unwrap_or_default();
            let full = core::mem::replace(&mut chunk, next);
            if jobs[sent % threads].send((full, out)).is_err() {
                status = Err(StreamError::Write(io::Error::other(
                    "a decoding thread stopped",
                )));
                break;
            }
            sent += 1;
            if frames_since >= 4096 {
                frames_since = 0;
                progress(reader.position());
            }
        }
        let writing = matches!(status, Ok(()) | Err(StreamError::Capture(_)));
        if !chunk.frames.is_empty()
            && writing
            && jobs[sent % threads].send((chunk, Vec::new())).is_ok()
        {
            sent += 1;
        }
        // Everything sent is written, in order, even after a capture error.
        while received < sent {
            if let Err(e) = collect(&mut received, &mut spare, sink, &mut counts) {
                if status.is_ok() {
                    status = Err(e);
                }
                break;
            }
        }
        drop(jobs);
        let flushed = flush(sink, write);
        (counts, status.and(flushed))
    })
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
