//! [`IoamSpan`]s as OTLP messages (the official protobuf definitions, through
//! `opentelemetry-proto`), encoded as protobuf or as the OTLP JSON mapping.
//!
//! ```
//! use clt_otlp::proto::{request, Resource};
//! use clt_otlp::span::{IoamSpan, Origin};
//!
//! let span = IoamSpan {
//!     trace_id: [0x11; 16], parent_span_id: [0x22; 8], span_id: [0x33; 8], trace_flags: 1,
//!     start_unix_nanos: 5, end_unix_nanos: 9, namespace: 123, trace_type: 0x800000,
//!     overflow: false, origin: Origin::Capture, hops: vec![], hop_attributes: vec![],
//! };
//! let req = request(&Resource::new("ioam-agent"), &[span]);
//! let json = clt_otlp::proto::to_json(&req);
//! assert!(json.contains(r#""traceId":"11111111111111111111111111111111""#));
//! ```

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, ResourceSpans, ScopeSpans, Span};
use prost::Message;

use crate::span::{IoamSpan, SPAN_NAME};

/// The instrumentation scope of every span.
pub const SCOPE_NAME: &str = "clt-otlp";

/// The resource the spans are reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// `service.name`.
    pub service_name: String,
    /// Other attributes (`OTEL_RESOURCE_ATTRIBUTES`), as strings.
    pub attributes: Vec<(String, String)>,
}

impl Resource {
    /// A resource with only `service.name`.
    pub fn new(service_name: &str) -> Self {
        Resource {
            service_name: service_name.to_string(),
            attributes: Vec::new(),
        }
    }
}

fn string(key: &str, v: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
    }
}

fn boolean(key: &str, v: bool) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(v)),
        }),
    }
}

/// The attributes of a span: the CLT collector's per-hop strings first,
/// then typed ones (`ioam.namespace`, `ioam.trace_type`, `ioam.hop_count`,
/// `ioam.overflow`, `ioam.source`, and per hop `ioam.hop<i>.node_id`,
/// `ioam.hop<i>.transit_delay_ns`, `ioam.hop<i>.queue_depth` when present).
pub fn attributes(span: &IoamSpan) -> Vec<KeyValue> {
    let mut a: Vec<KeyValue> = span
        .hop_attributes
        .iter()
        .map(|(k, v)| string(k, v.as_str()))
        .collect();
    a.push(int("ioam.namespace", span.namespace.into()));
    a.push(string(
        "ioam.trace_type",
        format!("0x{:06x}", span.trace_type),
    ));
    a.push(int("ioam.hop_count", span.hops.len() as i64));
    a.push(boolean("ioam.overflow", span.overflow));
    a.push(string("ioam.source", span.origin.name()));
    for (i, h) in span.hops.iter().enumerate() {
        let n = i + 1;
        if let Some(id) = h.node_id {
            // OTLP integers are signed 64-bit; a wide node id is 56 bits.
            a.push(int(&format!("ioam.hop{n}.node_id"), id as i64));
        }
        if let Some(d) = h.transit_delay {
            a.push(int(&format!("ioam.hop{n}.transit_delay_ns"), d.into()));
        }
        if let Some(q) = h.queue_depth {
            a.push(int(&format!("ioam.hop{n}.queue_depth"), q.into()));
        }
    }
    a
}

/// One OTLP span.
pub fn span(s: &IoamSpan) -> Span {
    Span {
        trace_id: s.trace_id.to_vec(),
        span_id: s.span_id.to_vec(),
        parent_span_id: s.parent_span_id.to_vec(),
        // W3C trace flags in the low byte (OTLP's SpanFlags).
        flags: u32::from(s.trace_flags),
        name: SPAN_NAME.to_string(),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: s.start_unix_nanos,
        end_time_unix_nano: s.end_unix_nanos,
        attributes: attributes(s),
        ..Span::default()
    }
}

/// One `ExportTraceServiceRequest` holding `spans`.
pub fn request(resource: &Resource, spans: &[IoamSpan]) -> ExportTraceServiceRequest {
    let mut attrs = vec![string("service.name", resource.service_name.as_str())];
    attrs.extend(
        resource
            .attributes
            .iter()
            .filter(|(k, _)| k != "service.name")
            .map(|(k, v)| string(k, v.as_str())),
    );
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(ProtoResource {
                attributes: attrs,
                ..ProtoResource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..InstrumentationScope::default()
                }),
                spans: spans.iter().map(span).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The protobuf encoding (the `http/protobuf` body).
pub fn to_protobuf(req: &ExportTraceServiceRequest) -> Vec<u8> {
    req.encode_to_vec()
}

/// The OTLP JSON encoding (the `http/json` body): hex ids, 64-bit integers
/// as strings, enums as integers, one line.
pub fn to_json(req: &ExportTraceServiceRequest) -> String {
    // Serialising these plain structs cannot fail.
    serde_json::to_string(req).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{HopSummary, Origin};

    fn sample() -> IoamSpan {
        IoamSpan {
            trace_id: [0x11; 16],
            parent_span_id: [0x22; 8],
            span_id: [0x33; 8],
            trace_flags: 1,
            start_unix_nanos: 1_700_000_000_000_000_001,
            end_unix_nanos: 1_700_000_000_000_000_009,
            namespace: 123,
            trace_type: 0xf0_0002,
            overflow: true,
            origin: Origin::KernelEvent,
            hops: vec![HopSummary {
                node_id: Some(7),
                transit_delay: Some(40),
                queue_depth: None,
                unix_nanos: None,
            }],
            hop_attributes: vec![("ioam_namespace123_node1".into(), "HopLimit=64; ".into())],
        }
    }

    #[test]
    fn protobuf_round_trip() {
        let req = request(&Resource::new("svc"), &[sample()]);
        let back = ExportTraceServiceRequest::decode(&to_protobuf(&req)[..]).unwrap();
        assert_eq!(back, req);
        let s = &back.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.name, "ioam-span");
        assert_eq!(s.kind, 1);
        assert_eq!(s.parent_span_id, vec![0x22; 8]);
    }

    #[test]
    fn json_follows_the_otlp_mapping() {
        let req = request(&Resource::new("svc"), &[sample()]);
        let v: serde_json::Value = serde_json::from_str(&to_json(&req)).unwrap();
        let s = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "11".repeat(16));
        assert_eq!(s["parentSpanId"], "22".repeat(8));
        assert_eq!(s["startTimeUnixNano"], "1700000000000000001");
        assert_eq!(s["kind"], 1);
        let attrs = s["attributes"].as_array().unwrap();
        assert_eq!(attrs[0]["key"], "ioam_namespace123_node1");
        assert_eq!(attrs[0]["value"]["stringValue"], "HopLimit=64; ");
        let find = |k: &str| attrs.iter().find(|a| a["key"] == k).unwrap()["value"].clone();
        assert_eq!(find("ioam.namespace")["intValue"], "123");
        assert_eq!(find("ioam.overflow")["boolValue"], true);
        assert_eq!(find("ioam.hop1.node_id")["intValue"], "7");
        assert_eq!(find("ioam.hop1.transit_delay_ns")["intValue"], "40");
        assert_eq!(find("ioam.source")["stringValue"], "kernel-event");
    }
}
