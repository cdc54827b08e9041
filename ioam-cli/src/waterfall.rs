//! `ioam trace`: the spans of OTLP JSON files as a waterfall, one trace at a
//! time: the span tree with start offsets and durations, and under each
//! `ioam-span` its hops — the text form of a tracing backend's trace view.
//!
//! Input: OTLP JSON `ExportTraceServiceRequest`s, one per line (what
//! `ioam agent --format otlp-json`, the OpenTelemetry Collector's file
//! exporter and `interop/otlp_receiver.py --otlp-json` write).

use core::fmt::Write as _;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// One span, as read from OTLP JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id.
    pub span_id: String,
    /// Hex parent span id (empty for a root).
    pub parent_span_id: String,
    /// Span name.
    pub name: String,
    /// `service.name` of its resource.
    pub service: String,
    /// Start, ns since the Unix epoch.
    pub start: u64,
    /// End, ns since the Unix epoch.
    pub end: u64,
    /// Attributes, values as text, in order.
    pub attributes: Vec<(String, String)>,
}

fn nanos(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(0),
        Value::Number(n) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn value_text(v: &Value) -> String {
    for k in ["stringValue", "intValue", "boolValue", "doubleValue"] {
        if let Some(x) = v.get(k) {
            return match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    v.to_string()
}

/// The spans of one OTLP JSON request. `line` numbers errors.
pub fn parse_request(text: &str, line: usize) -> Result<Vec<SpanRow>, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("line {line}: not JSON: {e}"))?;
    let rs = doc
        .get("resourceSpans")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            format!("line {line}: no resourceSpans: not an OTLP JSON ExportTraceServiceRequest")
        })?;
    let mut out = Vec::new();
    for r in rs {
        let service = r["resource"]["attributes"]
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv["key"] == "service.name"))
            .map(|kv| value_text(&kv["value"]))
            .unwrap_or_default();
        for ss in r["scopeSpans"].as_array().into_iter().flatten() {
            for s in ss["spans"].as_array().into_iter().flatten() {
                let text = |k: &str| {
                    s.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                out.push(SpanRow {
                    trace_id: text("traceId"),
                    span_id: text("spanId"),
                    parent_span_id: text("parentSpanId"),
                    name: text("name"),
                    service: service.clone(),
                    start: nanos(&s["startTimeUnixNano"]),
                    end: nanos(&s["endTimeUnixNano"]),
                    attributes: s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|kv| {
                            (
                                kv["key"].as_str().unwrap_or_default().to_string(),
                                value_text(&kv["value"]),
                            )
                        })
                        .collect(),
                });
            }
        }
    }
    Ok(out)
}

const BAR: usize = 32;

fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The waterfall of every trace in `spans` (traces in order of first start).
pub fn render(spans: &[SpanRow]) -> String {
    let mut traces: BTreeMap<u64, Vec<&SpanRow>> = BTreeMap::new();
    let mut by_trace: HashMap<&str, Vec<&SpanRow>> = HashMap::new();
    for s in spans {
        by_trace.entry(s.trace_id.as_str()).or_default().push(s);
    }
    for (_, v) in by_trace {
        let first = v.iter().map(|s| s.start).min().unwrap_or(0);
        let mut key = first;
        while traces.contains_key(&key) {
            key += 1;
        }
        traces.insert(key, v);
    }
    let mut out = String::new();
    for spans in traces.values() {
        let t0 = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let t1 = spans.iter().map(|s| s.end).max().unwrap_or(t0).max(t0 + 1);
        let _ = writeln!(
            out,
            "trace {}  ({} spans, {})",
            spans[0].trace_id,
            spans.len(),
            ms(t1 - t0)
        );
        let ids: std::collections::HashSet<&str> =
            spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut children: HashMap<&str, Vec<&SpanRow>> = HashMap::new();
        let mut roots = Vec::new();
        for s in spans {
            if s.parent_span_id.is_empty() || !ids.contains(s.parent_span_id.as_str()) {
                roots.push(*s);
            } else {
                children
                    .entry(s.parent_span_id.as_str())
                    .or_default()
                    .push(*s);
            }
        }
        roots.sort_by_key(|s| (s.start, s.span_id.clone()));
        for v in children.values_mut() {
            v.sort_by_key(|s| (s.start, s.span_id.clone()));
        }
        for r in roots {
            row(&mut out, r, &children, 0, t0, t1);
        }
        out.push('\n');
    }
    out
}

fn row(
    out: &mut String,
    s: &SpanRow,
    children: &HashMap<&str, Vec<&SpanRow>>,
    depth: usize,
    t0: u64,
    t1: u64,
) {
    let span = (t1 - t0) as f64;
    let a = (((s.start.saturating_sub(t0)) as f64 / span) * BAR as f64) as usize;
    let b =
        ((((s.end.max(s.start)).saturating_sub(t0)) as f64 / span) * BAR as f64).ceil() as usize;
    let a = a.min(BAR - 1);
    let b = b.clamp(a + 1, BAR);
    let bar: String = (0..BAR)
        .map(|i| if i >= a && i < b { '█' } else { '·' })
        .collect();
    let label = format!("{}{} [{}]", "  ".repeat(depth), s.name, s.service);
    let _ = writeln!(
        out,
        "  {label:<40} {bar}  +{:<12} {:<12} span {}",
        ms(s.start.saturating_sub(t0)),
        ms(s.end.saturating_sub(s.start)),
        s.span_id
    );
    let pad = "  ".repeat(depth + 2);
    for (k, v) in &s.attributes {
        if k.starts_with("ioam_namespace") {
            let _ = writeln!(out, "  {pad}{k}: {}", v.trim_end());
        }
    }
    if let Some(kids) = children.get(s.span_id.as_str()) {
        for k in kids {
            row(out, k, children, depth + 1, t0, t1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_offsets_and_hops() {
        let req = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"app"}}]},"scopeSpans":[{"spans":[
            {"traceId":"aa","spanId":"01","name":"login","startTimeUnixNano":"1000000","endTimeUnixNano":"5000000","attributes":[]},
            {"traceId":"aa","spanId":"02","parentSpanId":"01","name":"ioam-span","startTimeUnixNano":"2000000","endTimeUnixNano":"3000000",
             "attributes":[{"key":"ioam_namespace123_node1","value":{"stringValue":"HopLimit=64; Id=1; "}},{"key":"ioam.hop_count","value":{"intValue":"1"}}]}]}]}]}"#;
        let spans = parse_request(req, 1).unwrap();
        assert_eq!(spans.len(), 2);
        let text = render(&spans);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("trace aa  (2 spans, 4.000 ms)"),
            "{text}"
        );
        assert!(
            lines[1].contains("login [app]") && lines[1].contains("+0.000 ms"),
            "{text}"
        );
        assert!(
            lines[2].contains("  ioam-span [app]") && lines[2].contains("+1.000 ms"),
            "{text}"
        );
        assert!(
            lines[3].trim() == "ioam_namespace123_node1: HopLimit=64; Id=1;",
            "{text}"
        );
        assert!(parse_request("{}", 3).unwrap_err().contains("line 3"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any times (ends before starts, equal, far apart) render without panicking.
        #[test]
        fn any_times_render(times in proptest::collection::vec((any::<u64>(), any::<u64>(), 0usize..4), 1..12)) {
            let spans: Vec<SpanRow> = times.iter().enumerate().map(|(i, (a, b, p))| SpanRow {
                trace_id: "aa".into(),
                span_id: format!("{i:02x}"),
                parent_span_id: if *p == 0 || i == 0 { String::new() } else { format!("{:02x}", i - 1) },
                name: "s".into(),
                service: "x".into(),
                start: *a,
                end: *b,
                attributes: vec![],
            }).collect();
            let text = render(&spans);
            prop_assert_eq!(text.lines().filter(|l| l.contains("span ")).count(), spans.len());
        }
    }
}
