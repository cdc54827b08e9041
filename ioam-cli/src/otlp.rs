//! OTLP/JSON export: one `ExportTraceServiceRequest` holding one `ioam-span`
//! per CLT-tagged IOAM trace, as the CLT collector reports them (Advanced-Observability/ioam-collector-go-jaeger).
//!
//! The JSON follows the OTLP/HTTP JSON encoding: ids are lowercase hex
//! strings (not base64), 64-bit integers are strings, enums are integers.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{hex, PacketReport, SpanInfo};
use ioam_capture::file::Timestamp;

/// Name of every exported span.
pub const SPAN_NAME: &str = "ioam-span";
/// `SPAN_KIND_INTERNAL`.
const SPAN_KIND_INTERNAL: u8 = 1;

/// The request up to the span list.
const PREFIX: &str = concat!(
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ioam-collector"}}]},"#,
    r#""scopeSpans":[{"scope":{"name":"ioam-cli","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""},"spans":["#
);
/// The request after the span list.
const SUFFIX: &str = "]}]}]}";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AnyValue<'a> {
    string_value: &'a str,
}

#[derive(Serialize)]
struct KeyValue<'a> {
    key: &'a str,
    value: AnyValue<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Span<'a> {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: &'static str,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue<'a>>,
}

/// Writes one `ExportTraceServiceRequest` while a capture is decoded, span
/// by span, in constant memory: [`add_packet`](Self::add_packet) for each
/// packet, then [`finish`](Self::finish) once.
#[derive(Debug, Default)]
pub struct OtlpStream {
    spans: usize,
}

/// A deterministic, non-zero span id derived from what identifies the span:
/// the input number, frame number, option index and the CLT context.
pub fn derive_span_id(input: usize, frame: u64, option: usize, info: &SpanInfo) -> [u8; 8] {
    // FNV-1a over the identifying bytes, then the splitmix64 finaliser to
    // spread the bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&(input as u64).to_be_bytes());
    eat(&frame.to_be_bytes());
    eat(&(option as u64).to_be_bytes());
    eat(&info.trace_id);
    eat(&info.parent_span_id);
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 {
        z = 1;
    }
    z.to_be_bytes()
}

fn nanos_of(t: Option<Timestamp>) -> u64 {
    t.and_then(|t| u64::try_from(t.as_unix_nanos()).ok())
        .unwrap_or(0)
}

impl OtlpStream {
    /// A new stream; nothing is written until the first span or `finish`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spans written so far.
    pub fn len(&self) -> usize {
        self.spans
    }

    /// True if no span has been written.
    pub fn is_empty(&self) -> bool {
        self.spans == 0
    }

    /// Write one span per CLT-tagged option of `packet` (`input` is the
    /// index of the capture on the command line, for unique span ids;
    /// `time` the capture time, used when the records carry no timestamp).
    pub fn add_packet(
        &mut self,
        out: &mut impl Write,
        input: usize,
        packet: &PacketReport,
        time: Option<Timestamp>,
    ) -> io::Result<()> {
        for (idx, opt) in packet.ioam.iter().enumerate() {
            let Some(info) = &opt.span else { continue };
            let span_id = derive_span_id(input, packet.frame, idx, info);
            let (start, end) = info.time_range.unwrap_or_else(|| {
                let t = nanos_of(time);
                (t, t)
            });
            let span = Span {
                trace_id: hex(&info.trace_id),
                span_id: hex(&span_id),
                parent_span_id: hex(&info.parent_span_id),
                name: SPAN_NAME,
                kind: SPAN_KIND_INTERNAL,
                start_time_unix_nano: start.to_string(),
                end_time_unix_nano: end.to_string(),
                attributes: info
                    .attributes
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k,
                        value: AnyValue { string_value: v },
                    })
                    .collect(),
            };
            out.write_all(if self.spans == 0 { PREFIX } else { "," }.as_bytes())?;
            serde_json::to_writer(&mut *out, &span)?;
            self.spans += 1;
        }
        Ok(())
    }

    /// Close the request (one line).
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.spans == 0 {
            out.write_all(PREFIX.as_bytes())?;
        }
        out.write_all(SUFFIX.as_bytes())?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> SpanInfo {
        SpanInfo {
            trace_id: [0x11; 16],
            parent_span_id: [0x22; 8],
            trace_flags: 1,
            attributes: vec![("ioam_namespace7_node1".into(), "HopLimit=64; ".into())],
            time_range: None,
        }
    }

    #[test]
    fn span_ids_are_deterministic_and_distinct() {
        let i = info();
        assert_eq!(derive_span_id(0, 1, 0, &i), derive_span_id(0, 1, 0, &i));
        assert_ne!(derive_span_id(0, 1, 0, &i), derive_span_id(0, 2, 0, &i));
        assert_ne!(derive_span_id(0, 1, 0, &i), derive_span_id(1, 1, 0, &i));
        assert_ne!(derive_span_id(0, 1, 0, &i), [0; 8]);
    }

    #[test]
    fn empty_request_is_valid_json() {
        let mut out = Vec::new();
        OtlpStream::new().finish(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["spans"],
            serde_json::json!([])
        );
    }

    #[test]
    fn request_shape() {
        let mut e = OtlpStream::new();
        let mut out = Vec::new();
        let p = PacketReport {
            frame: 3,
            time: None,
            src: None,
            dst: None,
            ioam: vec![crate::model::OptionReport {
                span: Some(info()),
                ..Default::default()
            }],
            errors: vec![],
        };
        let t = Some(Timestamp { secs: 2, nanos: 5 });
        e.add_packet(&mut out, 0, &p, t).unwrap();
        e.finish(&mut out).unwrap();
        assert_eq!(e.len(), 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"],
            "ioam-cli"
        );
        let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "11".repeat(16));
        assert_eq!(span["parentSpanId"], "22".repeat(8));
        assert_eq!(span["name"], "ioam-span");
        assert_eq!(span["startTimeUnixNano"], "2000000005");
        assert_eq!(span["attributes"][0]["key"], "ioam_namespace7_node1");
        assert_eq!(
            span["attributes"][0]["value"]["stringValue"],
            "HopLimit=64; "
        );
    }
}
