//! Cross-Layer Telemetry spans from IOAM traces, and their export.
//!
//! CLT puts the sender's trace id and span id into the IOAM trace of its
//! packets; the routers on the path append their node data. This crate turns
//! such a trace into the collector's span, `ioam-span`, a child of the
//! sender's span in the same trace, with one attribute per hop, and sends it
//! to any OpenTelemetry backend:
//!
//! - [`span`]: packet (or kernel event) → [`span::IoamSpan`], with the
//!   filters a collector needs (namespaces, sampled flag, CLT schema id,
//!   legacy CLT header namespaces);
//! - [`proto`]: `IoamSpan` → OTLP messages of the official protobuf
//!   definitions, as protobuf or OTLP JSON;
//! - [`export`]: OTLP/HTTP with retries, configured like every OpenTelemetry
//!   exporter (`OTEL_EXPORTER_OTLP_*`);
//! - [`pipeline`]: the bounded queue, batching, local JSON Lines sink and
//!   counters between the packet sources and the exporter.
//!
//! Data flows one way: bytes (from `ioam-capture` or anything else) → span →
//! sinks. The decoding is `ioam-trace` and `clt-context`'s.
//!
//! ```
//! use clt_otlp::pipeline::{FileFormat, Pipeline, PipelineConfig, Sinks};
//! use clt_otlp::proto::Resource;
//! use clt_otlp::span::{SpanBuilder, SpanConfig};
//!
//! let builder = SpanBuilder::new(SpanConfig::default());
//! let sinks = Sinks { otlp: None, file: Some((Box::new(std::io::sink()), FileFormat::Jsonl)) };
//! let pipeline = Pipeline::start(PipelineConfig::default(), Resource::new("ioam-agent"), sinks);
//! let mut spans = Vec::new();
//! let packet: &[u8] = &[]; // an IPv6 packet from a capture
//! builder.packet(packet, 0, &mut spans);
//! for s in spans.drain(..) {
//!     pipeline.submit(s);
//! }
//! let stats = pipeline.shutdown();
//! assert_eq!(stats.submitted, stats.file_written);
//! ```

#![warn(missing_docs)]

pub mod export;
pub mod pipeline;
pub mod proto;
pub mod span;

pub use span::{IoamSpan, SpanBuilder, SpanConfig};
