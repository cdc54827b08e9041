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
//!     overflow: false, origin: Origin::Capture, hops: vec![], hop_attributes: Default::default(),
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
        .map(|(k, v)| string(k, v))
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

/// The `http/protobuf` body of `spans` under `resource`, written straight
/// from the spans: the same bytes as `to_protobuf(&request(resource,
/// spans))` (fields in tag order, proto3 defaults left out, as prost writes
/// them), without building the message structs (a `String` per attribute
/// key and value). The resource and the scope, once per request, still go
/// through the `opentelemetry-proto` structs. Appended to `out`; an
/// exporter that sends many requests keeps a [`RequestEncoder`] instead.
pub fn encode_request(resource: &Resource, spans: &[IoamSpan], out: &mut Vec<u8>) {
    out.extend_from_slice(RequestEncoder::default().encode(resource, spans));
}

/// [`encode_request`] with its buffers kept from request to request (a
/// request of 512 spans is about half a megabyte: fresh buffers would be
/// grown, copied and page-faulted in for every request).
#[derive(Debug, Default)]
pub struct RequestEncoder {
    /// The request's outer fields, before they are put in front of the spans.
    head: Vec<u8>,
    scratch: SpanScratch,
    body: Vec<u8>,
}

impl RequestEncoder {
    /// The body of one request, valid until the next call.
    pub fn encode(&mut self, resource: &Resource, spans: &[IoamSpan]) -> &[u8] {
        let scope = InstrumentationScope {
            name: SCOPE_NAME.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            ..InstrumentationScope::default()
        }
        .encode_to_vec();
        let mut attrs = vec![string("service.name", resource.service_name.as_str())];
        attrs.extend(
            resource
                .attributes
                .iter()
                .filter(|(k, _)| k != "service.name")
                .map(|(k, v)| string(k, v.as_str())),
        );
        let res = ProtoResource {
            attributes: attrs,
            ..ProtoResource::default()
        }
        .encode_to_vec();
        // The spans go straight into the body after a gap that the request's
        // outer fields fill once the spans' length is known: the spans,
        // most of the body, are copied once.
        // ResourceSpans { resource = 1, scope_spans = 2 } and ScopeSpans
        // { scope = 1, spans = 2 }: four keys and four lengths at most.
        let gap = 4 * (1 + 10) + res.len() + scope.len();
        let out = &mut self.body;
        out.clear();
        out.resize(gap, 0);
        for s in spans {
            // Each span is written in place after room for its key and a
            // two-byte length (any span of 128 bytes to 16 KiB), which is
            // filled in afterwards; another length moves the span once.
            let at = out.len();
            out.extend_from_slice(&[0; 3]);
            self.scratch.encode_span(s, out);
            let len = out.len() - at - 3;
            let head = &mut self.head;
            head.clear();
            len_field(head, 2, len);
            let n = head.len();
            if n > 3 {
                out.resize(out.len() + n - 3, 0);
            }
            if n != 3 {
                out.copy_within(at + 3..at + 3 + len, at + n);
                out.truncate(at + n + len);
            }
            out[at..at + n].copy_from_slice(head);
        }
        let spans_len = out.len() - gap;
        let scope_spans_len = field_len(scope.len()) + spans_len;
        let resource_spans_len = field_len(res.len()) + field_len(scope_spans_len);
        let head = &mut self.head;
        head.clear();
        len_field(head, 1, resource_spans_len);
        len_field(head, 1, res.len());
        head.extend_from_slice(&res);
        len_field(head, 2, scope_spans_len);
        len_field(head, 1, scope.len());
        head.extend_from_slice(&scope);
        let start = gap - head.len();
        out[start..gap].copy_from_slice(head);
        &out[start..]
    }
}

/// Bytes of a length-delimited field of `len` bytes (a one-byte key: every
/// tag written here is below 16).
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Protobuf wire types (the low three bits of a field key).
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// Writes `v` as a varint at `at` in `b`; returns where it ends.
#[inline(always)]
fn put_varint(b: &mut [u8; 16], mut at: usize, mut v: u64) -> usize {
    while v >= 0x80 {
        if let Some(x) = b.get_mut(at) {
            *x = v as u8 | 0x80;
        }
        v >>= 7;
        at += 1;
    }
    if let Some(x) = b.get_mut(at) {
        *x = v as u8;
    }
    at + 1
}

/// The key of field `tag` (wire type `wire`) and then, unless `value` is
/// `None`, a varint: one append instead of one per byte (a key of a field
/// below 2^11 is at most 2 bytes, a varint at most 10).
#[inline(always)]
fn push_key(out: &mut Vec<u8>, tag: u32, wire: u32, value: Option<u64>) {
    // Fields below 16 with values below 2^14 (almost every key and
    // length here): appends of a constant size, which compile to stores.
    if tag < 16 {
        let key = (tag << 3 | wire) as u8;
        match value {
            None => return out.push(key),
            Some(v @ 0..0x80) => return out.extend_from_slice(&[key, v as u8]),
            Some(v @ 0x80..0x4000) => {
                return out.extend_from_slice(&[key, v as u8 | 0x80, (v >> 7) as u8]);
            }
            Some(_) => {}
        }
    }
    let mut b = [0u8; 16];
    let mut n = put_varint(&mut b, 0, u64::from(tag << 3 | wire));
    if let Some(v) = value {
        n = put_varint(&mut b, n, v);
    }
    out.extend_from_slice(b.get(..n).unwrap_or_default());
}

#[inline(always)]
fn len_field(out: &mut Vec<u8>, tag: u32, len: usize) {
    push_key(out, tag, LEN, Some(len as u64));
}

/// The value of one attribute (`AnyValue`'s oneof: always written, even
/// when it holds the default).
enum Value<'a> {
    Str(&'a [u8]),
    Int(i64),
    Bool(bool),
}

impl Value<'_> {
    /// Encoded length of the `AnyValue` message.
    fn len(&self) -> usize {
        match self {
            Value::Str(s) => field_len(s.len()),
            Value::Int(v) => 1 + prost::encoding::encoded_len_varint(*v as u64),
            Value::Bool(_) => 2,
        }
    }
}

/// Buffers reused from span to span.
#[derive(Debug, Default)]
struct SpanScratch {
    key: Vec<u8>,
}

/// A `KeyValue` (tag 9 of `Span`).
fn key_value(out: &mut Vec<u8>, key: &[u8], value: Value<'_>) {
    let key_len = if key.is_empty() {
        0
    } else {
        field_len(key.len())
    };
    let any_len = value.len();
    len_field(out, 9, key_len + field_len(any_len));
    if !key.is_empty() {
        len_field(out, 1, key.len());
        out.extend_from_slice(key);
    }
    len_field(out, 2, any_len);
    match value {
        Value::Str(s) => {
            len_field(out, 1, s.len());
            out.extend_from_slice(s);
        }
        Value::Int(v) => {
            push_key(out, 3, VARINT, Some(v as u64));
        }
        Value::Bool(b) => {
            push_key(out, 2, VARINT, Some(u64::from(b)));
        }
    }
}

/// `ioam.hop<n>.<field>`.
fn hop_key(key: &mut Vec<u8>, n: usize, field: &str) {
    key.clear();
    key.extend_from_slice(b"ioam.hop");
    crate::json::push_u64(key, n as u64);
    key.push(b'.');
    key.extend_from_slice(field.as_bytes());
}

impl SpanScratch {
    /// The fields of one `Span` message appended to `out`, as [`span`]
    /// builds it.
    fn encode_span(&mut self, s: &IoamSpan, out: &mut Vec<u8>) {
        for (tag, id) in [
            (1, &s.trace_id[..]),
            (2, &s.span_id),
            (4, &s.parent_span_id),
        ] {
            len_field(out, tag, id.len());
            out.extend_from_slice(id);
        }
        len_field(out, 5, SPAN_NAME.len());
        out.extend_from_slice(SPAN_NAME.as_bytes());
        push_key(out, 6, VARINT, Some(SpanKind::Internal as u64));
        for (tag, t) in [(7, s.start_unix_nanos), (8, s.end_unix_nanos)] {
            if t != 0 {
                push_key(out, tag, FIXED64, None);
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        for (k, v) in s.hop_attributes.iter() {
            key_value(out, k.as_bytes(), Value::Str(v.as_bytes()));
        }
        key_value(out, b"ioam.namespace", Value::Int(s.namespace.into()));
        let mut tt = [0u8; 8];
        let hex = b"0123456789abcdef";
        tt[..2].copy_from_slice(b"0x");
        for (i, d) in tt[2..].iter_mut().enumerate() {
            *d = hex[((s.trace_type >> (4 * (5 - i))) & 0xf) as usize];
        }
        // Trace types are 24 bits; a wider value gets all its digits.
        let wide;
        let tt: &[u8] = if s.trace_type > 0xff_ffff {
            wide = format!("0x{:06x}", s.trace_type);
            wide.as_bytes()
        } else {
            &tt
        };
        key_value(out, b"ioam.trace_type", Value::Str(tt));
        key_value(out, b"ioam.hop_count", Value::Int(s.hops.len() as i64));
        key_value(out, b"ioam.overflow", Value::Bool(s.overflow));
        key_value(out, b"ioam.source", Value::Str(s.origin.name().as_bytes()));
        for (i, h) in s.hops.iter().enumerate() {
            let n = i + 1;
            if let Some(id) = h.node_id {
                hop_key(&mut self.key, n, "node_id");
                key_value(out, &self.key, Value::Int(id as i64));
            }
            if let Some(d) = h.transit_delay {
                hop_key(&mut self.key, n, "transit_delay_ns");
                key_value(out, &self.key, Value::Int(d.into()));
            }
            if let Some(q) = h.queue_depth {
                hop_key(&mut self.key, n, "queue_depth");
                key_value(out, &self.key, Value::Int(q.into()));
            }
        }
        if s.trace_flags != 0 {
            push_key(out, 16, FIXED32, None);
            out.extend_from_slice(&u32::from(s.trace_flags).to_le_bytes());
        }
    }
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
            hop_attributes: [("ioam_namespace123_node1", "HopLimit=64; ")]
                .into_iter()
                .collect(),
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

    #[test]
    fn direct_encoding_is_the_bytes_prost_writes() {
        let mut spans = vec![sample()];
        let mut unsampled = sample();
        unsampled.trace_flags = 0;
        unsampled.start_unix_nanos = 0;
        unsampled.end_unix_nanos = 0;
        unsampled.trace_type = 0x0100_0000;
        unsampled.hops.push(HopSummary {
            node_id: Some(u64::MAX),
            transit_delay: None,
            queue_depth: Some(0),
            unix_nanos: Some(3),
        });
        unsampled.hop_attributes.push(&"k".repeat(200), "");
        spans.push(unsampled);
        let mut empty = sample();
        empty.hops.clear();
        empty.hop_attributes.clear();
        spans.push(empty);
        // A span of more than 16 KiB: a three-byte length.
        let mut huge = sample();
        huge.hop_attributes.push("huge", &"v".repeat(20_000));
        spans.push(huge);
        // Lengths of two and three varint bytes (a span is never shorter
        // than 128 bytes: its fixed attributes alone take more).
        let lens: Vec<usize> = spans
            .iter()
            .map(|s| prost::Message::encoded_len(&span(s)))
            .collect();
        assert!(lens.iter().any(|&l| (128..16384).contains(&l)), "{lens:?}");
        assert!(lens.iter().any(|&l| l >= 16384), "{lens:?}");
        let mut res = Resource::new("svc");
        res.attributes.push(("host.name".into(), "h".repeat(300)));
        for n in 0..=spans.len() {
            let mut direct = Vec::new();
            encode_request(&res, &spans[..n], &mut direct);
            assert_eq!(
                direct,
                to_protobuf(&request(&res, &spans[..n])),
                "{n} spans"
            );
        }
        // One encoder reused over batches whose lengths take one to three
        // varint bytes, growing and shrinking, with two resources.
        let mut encoder = RequestEncoder::default();
        let many: Vec<IoamSpan> = spans.iter().cycle().take(600).cloned().collect();
        let small = Resource::new("s");
        for (n, r) in [
            (600, &res),
            (0, &small),
            (1, &res),
            (3, &small),
            (200, &res),
            (2, &res),
        ] {
            assert_eq!(
                encoder.encode(r, &many[..n]),
                to_protobuf(&request(r, &many[..n])),
                "reused encoder, {n} spans"
            );
        }
    }
}
