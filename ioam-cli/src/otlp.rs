//! OTLP/JSON export: one `ExportTraceServiceRequest` holding one `ioam-span`
//! per CLT-tagged IOAM trace, as the CLT collector reports them (Advanced-Observability/ioam-collector-go-jaeger).
//!
//! The JSON follows the OTLP/HTTP JSON encoding: ids are lowercase hex
//! strings (not base64), 64-bit integers are strings, enums are integers.

use std::io::{self, Write};

use crate::decode::{OptionView, PacketHead, PacketSink, Problem, TraceView};
use crate::fmtbuf::{push_hex, push_u64};
use clt_context::view::{AsciiSink, AttributeWriter};
use ioam_capture::file::Timestamp;

/// Name of every exported span.
pub const SPAN_NAME: &str = "ioam-span";

/// The request up to the span list.
const PREFIX: &str = concat!(
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ioam-collector"}}]},"#,
    r#""scopeSpans":[{"scope":{"name":"ioam-cli","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""},"spans":["#
);
/// The request after the span list.
const SUFFIX: &str = "]}]}]}";

/// The FNV-1a 64-bit offset basis and prime.
const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// `FNV_PRIME^k` for k = 0..=8: FNV-1a over `k` zero bytes is one
/// multiplication by it (a zero byte leaves the xor step unchanged).
const FNV_PRIME_POW: [u64; 9] = {
    let mut t = [1u64; 9];
    let mut k = 1;
    while k < 9 {
        t[k] = t[k - 1].wrapping_mul(FNV_PRIME);
        k += 1;
    }
    t
};

/// A deterministic, non-zero span id derived from what identifies the span:
/// the input number, frame number, option index and the CLT context.
pub fn derive_span_id(
    input: usize,
    frame: u64,
    option: usize,
    trace_id: &[u8; 16],
    parent_span_id: &[u8; 8],
) -> [u8; 8] {
    // FNV-1a over the identifying bytes, then the splitmix64 finaliser to
    // spread the bits.
    let eat = |h: u64, bytes: &[u8]| {
        bytes
            .iter()
            .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
    };
    let mut h = FNV_BASIS;
    // The three numbers are eaten as 8 big-endian bytes each, their
    // leading zero bytes (most of them: input 0, small frame numbers and
    // option indexes) as one multiplication: the same hash, without a
    // chain of dependent multiplications per zero byte (the byte loop's
    // latency was 5 % of `ioam decode --format otlp-json`'s time).
    for v in [input as u64, frame, option as u64] {
        let lead = (v.leading_zeros() / 8) as usize;
        h = eat(
            h.wrapping_mul(FNV_PRIME_POW[lead]),
            v.to_be_bytes().get(lead..).unwrap_or_default(),
        );
    }
    h = eat(h, trace_id);
    h = eat(h, parent_span_id);
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 {
        z = 1;
    }
    z.to_be_bytes()
}

/// The request's bytes, the attribute writer's sink.
#[derive(Debug, Default)]
struct Text(Vec<u8>);

impl AsciiSink for Text {
    #[inline]
    fn put_ascii(&mut self, ascii: &[u8]) -> core::fmt::Result {
        self.0.extend_from_slice(ascii);
        Ok(())
    }
}

fn nanos_of(t: Option<Timestamp>) -> u64 {
    t.and_then(|t| u64::try_from(t.as_unix_nanos()).ok())
        .unwrap_or(0)
}

/// Writes one `ExportTraceServiceRequest` while a capture is decoded, span
/// by span, in constant memory: the sink gets every packet, its spans go
/// to [`Self::buffer`] (drain with [`Self::take`] or [`Self::clear`]), and
/// [`Self::finish`] closes the request once.
#[derive(Debug, Default)]
pub struct OtlpSink {
    /// The request text, in the sink of the attribute writer: one writer,
    /// and its gathering buffer, for all the spans (a writer per span
    /// cleared its `PIECE_LEN` bytes each time). Every span ends with the writer's
    /// `finish`, so between spans the sink holds all the text.
    text: AttributeWriter<Text>,
    spans: usize,
    /// The index of the capture on the command line, for unique span ids.
    input: usize,
    /// Spans written before this sink's first one elsewhere: every span
    /// then starts with its separating comma (see [`Self::append_chunk`]).
    continued: bool,
}

impl OtlpSink {
    /// A new request; nothing is written until the first span or `finish`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The spans of the packets from now on come from input `input`.
    pub fn set_input(&mut self, input: usize) {
        self.input = input;
    }

    /// A sink for one chunk of a request that another sink merges with
    /// [`Self::append_chunk`]: every span starts with `,`, none with the
    /// request's opening.
    pub fn chunk() -> Self {
        OtlpSink {
            continued: true,
            ..Self::default()
        }
    }

    /// Append the text `chunk` of a [`Self::chunk`] sink that wrote
    /// `spans` spans, as if this sink had written them.
    pub fn append_chunk(&mut self, chunk: &[u8], spans: usize) {
        let (head, skip) = self.adopt_chunk(spans);
        let out = self.out();
        out.extend_from_slice(head);
        out.extend_from_slice(chunk.get(skip..).unwrap_or_default());
    }

    /// Count the `spans` of a [`Self::chunk`] sink's text that the caller
    /// writes out itself, after what was written here: returns the bytes
    /// to write before it (the request's opening, before the first span)
    /// and how many of the chunk's leading bytes to leave out (its first
    /// span's separating comma, then).
    pub fn adopt_chunk(&mut self, spans: usize) -> (&'static [u8], usize) {
        if spans == 0 {
            return (b"", 0);
        }
        let first = self.spans == 0;
        self.spans += spans;
        if first {
            (PREFIX.as_bytes(), 1)
        } else {
            (b"", 0)
        }
    }

    /// Start counting spans from zero (a [`Self::chunk`] sink reused for
    /// the next chunk, after its text was taken).
    pub fn reset_count(&mut self) {
        self.spans = 0;
    }

    /// The input the spans come from (see [`Self::set_input`]).
    pub fn input(&self) -> usize {
        self.input
    }

    /// Spans written so far.
    pub fn len(&self) -> usize {
        self.spans
    }

    /// True if no span has been written.
    pub fn is_empty(&self) -> bool {
        self.spans == 0
    }

    /// The request text written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.text.get_ref().0
    }

    /// Forget the text written so far (keeping the buffer's capacity).
    pub fn clear(&mut self) {
        self.out().clear();
    }

    /// The text written so far, leaving the buffer empty.
    pub fn take(&mut self) -> Vec<u8> {
        core::mem::take(self.out())
    }

    /// Exchange the buffer with `other`: the text written so far leaves
    /// without a copy, and the sink goes on in `other`'s (recycled) buffer.
    pub fn swap_buffer(&mut self, other: &mut Vec<u8>) {
        core::mem::swap(self.out(), other);
    }

    /// Close the request (one line) and write what is pending to `w`.
    pub fn finish(&mut self, w: &mut impl Write) -> io::Result<()> {
        let empty = self.spans == 0;
        let out = self.out();
        if empty {
            out.extend_from_slice(PREFIX.as_bytes());
        }
        out.extend_from_slice(SUFFIX.as_bytes());
        out.push(b'\n');
        w.write_all(out)?;
        out.clear();
        Ok(())
    }

    /// The request text written so far, to append to: between spans the
    /// attribute writer gathers nothing (each span ends with its
    /// `finish`), so the sink holds it all.
    fn out(&mut self) -> &mut Vec<u8> {
        &mut self.text.get_mut().0
    }

    fn span(&mut self, head: &PacketHead, o: &OptionView<'_>, t: &TraceView<'_>) {
        let Some(ctx) = t.span_context() else { return };
        let first = self.spans == 0 && !self.continued;
        let out = &mut self.text.get_mut().0;
        out.extend_from_slice(if first { PREFIX } else { "," }.as_bytes());
        self.spans += 1;
        let span_id = derive_span_id(
            self.input,
            head.frame,
            o.index,
            &ctx.trace_id.0,
            &ctx.span_id.0,
        );
        let (start, end) = t.time_range().unwrap_or_else(|| {
            let t = nanos_of(head.capture_time);
            (t, t)
        });
        out.extend_from_slice(b"{\"traceId\":\"");
        push_hex(out, &ctx.trace_id.0);
        out.extend_from_slice(b"\",\"spanId\":\"");
        push_hex(out, &span_id);
        out.extend_from_slice(b"\",\"parentSpanId\":\"");
        push_hex(out, &ctx.span_id.0);
        out.extend_from_slice(b"\",\"name\":\"");
        out.extend_from_slice(SPAN_NAME.as_bytes());
        out.extend_from_slice(b"\",\"kind\":1,\"startTimeUnixNano\":\"");
        let digits = out.len();
        push_u64(out, start);
        let digits = digits..out.len();
        out.extend_from_slice(b"\",\"endTimeUnixNano\":\"");
        if end == start {
            // A span without node timestamps (both ends at the capture
            // time) or with one: the digits already written.
            out.extend_from_within(digits);
        } else {
            push_u64(out, end);
        }
        out.extend_from_slice(b"\",\"attributes\":[");
        // The keys and values are printable ASCII without quotes or
        // backslashes (clt-context's promise): they go into the JSON
        // strings as they are, all of a span's through one gathering writer.
        let w = &mut self.text;
        let mut first_hop = true;
        for hop in t.view.hops() {
            // A malformed trace yields its error as its only item.
            let Ok(hop) = hop else { continue };
            let _ = w.str(if first_hop {
                "{\"key\":\""
            } else {
                ",{\"key\":\""
            });
            first_hop = false;
            let _ = w.key(&hop.attribute_key());
            let _ = w.str("\",\"value\":{\"stringValue\":\"");
            let _ = w.value(&hop.attribute_value());
            let _ = w.str("\"}}");
        }
        let _ = w.finish();
        w.get_mut().0.extend_from_slice(b"]}");
    }
}

impl PacketSink for OtlpSink {
    fn begin(&mut self, _: &PacketHead) {}

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, trace: Option<&TraceView<'_>>) {
        if let Some(t) = trace {
            self.span(head, o, t);
        }
    }

    fn end(&mut self, _: &PacketHead, _: &[Problem]) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The zero-byte shortcut gives FNV-1a's hash of every byte: held to
    /// a plain byte-by-byte FNV-1a with the same finaliser.
    #[test]
    fn span_ids_hash_every_byte() {
        fn plain(input: u64, frame: u64, option: u64, t: &[u8; 16], p: &[u8; 8]) -> [u8; 8] {
            let mut bytes = Vec::new();
            for v in [input, frame, option] {
                bytes.extend_from_slice(&v.to_be_bytes());
            }
            bytes.extend_from_slice(t);
            bytes.extend_from_slice(p);
            let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            });
            let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            z.max(1).to_be_bytes()
        }
        let (t, p) = ([0x4b; 16], [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
        let mut numbers = vec![0u64, 1, 0xff, 0x100, 0xffff_ffff, u64::MAX, 1 << 63];
        numbers.extend((0..64).map(|k| 1u64 << k));
        numbers.extend((0..64).map(|k| u64::MAX >> k));
        for &a in &numbers {
            for &b in &[0u64, 1, 1 << 20, u64::MAX] {
                let (x, y) = (a as usize, b as usize);
                assert_eq!(derive_span_id(x, b, y, &t, &p), plain(a, b, b, &t, &p));
                assert_eq!(derive_span_id(y, a, x, &t, &p), plain(b, a, a, &t, &p));
            }
        }
    }

    #[test]
    fn span_ids_are_deterministic_and_distinct() {
        let (t, p) = ([0x11; 16], [0x22; 8]);
        assert_eq!(
            derive_span_id(0, 1, 0, &t, &p),
            derive_span_id(0, 1, 0, &t, &p)
        );
        assert_ne!(
            derive_span_id(0, 1, 0, &t, &p),
            derive_span_id(0, 2, 0, &t, &p)
        );
        assert_ne!(
            derive_span_id(0, 1, 0, &t, &p),
            derive_span_id(1, 1, 0, &t, &p)
        );
        assert_ne!(
            derive_span_id(0, 1, 0, &t, &p),
            derive_span_id(0, 1, 1, &t, &p)
        );
        assert_ne!(derive_span_id(0, 1, 0, &t, &p), [0; 8]);
    }

    #[test]
    fn empty_request_is_valid_json() {
        let mut out = Vec::new();
        OtlpSink::new().finish(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["spans"],
            serde_json::json!([])
        );
    }
}
