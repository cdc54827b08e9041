//! The std edge: the kernel IOAM6 event parser and the span builder with its
//! OTLP encodings.

use clt_otlp::proto::{encode_request, request, to_json, to_protobuf, Resource};
use clt_otlp::span::{Origin, SpanBuilder, SpanConfig};
use ioam_capture::events::parse_messages;
use ioam_trace::{Mode, Trace};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

/// Every span's OTLP protobuf decodes back to the same request, and its OTLP
/// JSON is valid JSON with one span per span.
fn check_encodings(spans: &[clt_otlp::IoamSpan]) {
    for s in spans {
        assert_eq!(
            s.hops.len(),
            s.hop_attributes.len(),
            "one attribute per hop"
        );
        assert!(s.start_unix_nanos <= s.end_unix_nanos, "start after end");
        assert_ne!(s.span_id, [0; 8], "zero span id");
    }
    let req = request(&Resource::new("fuzz"), spans);
    let back =
        ExportTraceServiceRequest::decode(&to_protobuf(&req)[..]).expect("our protobuf decodes");
    assert_eq!(back, req, "protobuf round trip");
    let mut direct = Vec::new();
    encode_request(&Resource::new("fuzz"), spans, &mut direct);
    assert_eq!(direct, to_protobuf(&req), "direct encoding = prost's bytes");
    let v: serde_json::Value = serde_json::from_str(&to_json(&req)).expect("our OTLP JSON parses");
    let n = v["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(n, spans.len(), "one JSON span per span");
    for s in spans {
        let mut line = Vec::new();
        clt_otlp::pipeline::write_jsonl(&mut line, s);
        let mut want = serde_json::to_vec(&clt_otlp::pipeline::JsonSpan::of(s)).expect("serde");
        want.push(b'\n');
        assert_eq!(line, want, "the jsonl writer = serde_json's bytes");
    }
}

/// A span's hop attributes (written for the whole span at once) are each
/// hop's own key and value text, for the hops read before any malformed
/// record.
fn check_hop_texts(span: &clt_otlp::IoamSpan, trace: Trace<'_>) {
    let view = clt_context::CltView::new(trace, clt_context::CLT_SCHEMA_ID);
    let mut n = 0;
    for (hop, (k, v)) in view
        .hops()
        .map_while(Result::ok)
        .zip(span.hop_attributes.iter())
    {
        assert_eq!(
            k,
            hop.attribute_key().to_string(),
            "hop {} key",
            hop.index()
        );
        assert_eq!(
            v,
            hop.attribute_value().to_string(),
            "hop {} value",
            hop.index()
        );
        n += 1;
    }
    assert_eq!(
        n,
        span.hop_attributes.len(),
        "one attribute per readable hop"
    );
}

/// `kernel_events`: the first two bytes are the family id, the rest one
/// netlink receive. No panic; every event's trace body is the 8-byte header
/// and the data; its span (if any) encodes.
pub fn check_kernel_events(data: &[u8]) {
    let Some((fam, bytes)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Ok(batch) = parse_messages(bytes, u16::from_ne_bytes(*fam)) else {
        return;
    };
    let builder = SpanBuilder::new(SpanConfig {
        export_unsampled: true,
        ..SpanConfig::default()
    });
    let mut body = Vec::new();
    let mut spans = Vec::new();
    for ev in &batch.events {
        ev.write_trace_body(&mut body);
        assert_eq!(body.len(), 8 + ev.data.len(), "trace body length");
        for mode in [Mode::Strict, Mode::Lenient] {
            if let Ok(t) = Trace::parse_preallocated(&body, mode) {
                let o = builder.trace(t, Origin::KernelEvent, 1, &mut spans);
                assert!(o.spans <= 1, "one trace, at most one span");
                if o.spans == 1 {
                    check_hop_texts(&spans[spans.len() - 1], t);
                }
            }
        }
    }
    check_encodings(&spans);
}

/// `span_builder`: an IPv6 packet into the span builder (strict and
/// lenient, legacy namespace 123 or not). No panic; spans never outnumber
/// traces; every span encodes.
pub fn check_span_builder(data: &[u8]) {
    for (mode, legacy) in [
        (Mode::Strict, false),
        (Mode::Lenient, false),
        (Mode::Lenient, true),
    ] {
        let builder = SpanBuilder::new(SpanConfig {
            mode,
            export_unsampled: true,
            legacy_namespaces: if legacy { vec![123] } else { vec![] },
            ..SpanConfig::default()
        });
        let mut spans = Vec::new();
        let o = builder.packet(data, 7, &mut spans);
        assert_eq!(o.spans, spans.len(), "spans counted");
        assert!(
            o.spans + o.no_context + o.unsampled + o.filtered <= o.traces,
            "more outcomes than traces: {o:?}"
        );
        check_encodings(&spans);
    }
}
