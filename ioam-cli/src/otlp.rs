//! OTLP/JSON export: one `ExportTraceServiceRequest` holding one `ioam-span`
//! per CLT-tagged IOAM trace, as the CLT collector reports them (SPEC §6.4).
//!
//! The JSON follows the OTLP/HTTP JSON encoding: ids are lowercase hex
//! strings (not base64), 64-bit integers are strings, enums are integers.

use serde_json::{json, Value};

use crate::capture::Timestamp;
use crate::model::{hex, PacketReport, SpanInfo};

/// Name of every exported span.
pub const SPAN_NAME: &str = "ioam-span";
/// `SPAN_KIND_INTERNAL`.
const SPAN_KIND_INTERNAL: u8 = 1;

/// Collects spans while a capture is decoded.
#[derive(Debug, Default)]
pub struct OtlpExport {
    spans: Vec<Value>,
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

impl OtlpExport {
    /// A new, empty export.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of spans collected so far.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True if no span has been collected.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Add one span per CLT-tagged option of `packet` (`input` is the index
    /// of the capture in the command line, for unique span ids).
    pub fn add_packet(&mut self, input: usize, packet: &PacketReport, time: Option<Timestamp>) {
        for (idx, opt) in packet.ioam.iter().enumerate() {
            let Some(info) = &opt.span else { continue };
            let span_id = derive_span_id(input, packet.frame, idx, info);
            let (start, end) = info.time_range.unwrap_or_else(|| {
                let t = nanos_of(time);
                (t, t)
            });
            let attributes: Vec<Value> = info
                .attributes
                .iter()
                .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
                .collect();
            self.spans.push(json!({
                "traceId": hex(&info.trace_id),
                "spanId": hex(&span_id),
                "parentSpanId": hex(&info.parent_span_id),
                "name": SPAN_NAME,
                "kind": SPAN_KIND_INTERNAL,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": end.to_string(),
                "attributes": attributes,
            }));
        }
    }

    /// The `ExportTraceServiceRequest` JSON value.
    pub fn to_json(&self) -> Value {
        json!({
            "resourceSpans": [{
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "ioam-collector"}}
                    ]
                },
                "scopeSpans": [{
                    "scope": {"name": "ioam-cli", "version": env!("CARGO_PKG_VERSION")},
                    "spans": self.spans,
                }]
            }]
        })
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
    fn request_shape() {
        let mut e = OtlpExport::new();
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
        e.add_packet(0, &p, Some(Timestamp { secs: 2, nanos: 5 }));
        let v = e.to_json();
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
