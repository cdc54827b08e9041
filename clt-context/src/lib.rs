#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # The map, in data-flow order
//!
//! | job | use |
//! |---|---|
//! | a span context | [`SpanContext`] ([`TraceId`], [`SpanId`], [`TraceFlags`]); from and to W3C `traceparent`: [`traceparent::parse`], [`traceparent::format`], `Display` / `FromStr` |
//! | a sender's Hop-by-Hop header (`setsockopt(IPV6_HOPOPTS)`) | [`injector::HopByHopInjector`] (a config struct with `Default`) → [`injector::HopByHopBytes`]; per packet [`injector::HopByHopBytes::set_context`] |
//! | the context in an opaque state snapshot | [`oss::encode`] / [`oss::decode`] (the data), [`CltSnapshot`] (the whole snapshot) |
//! | a collector: packet bytes to IOAM options | [`IoamPacket::new`] → [`IoamItem::body`] → [`OptionBody::PreallocatedTrace`] |
//! | the context and the hops of a trace | [`CltView::new`] → [`CltView::context`] ([`ContextLookup`]), [`CltView::hops`] ([`Hop`], path order), [`CltView::readable_records`] (the records up to a malformed one); the records are walked once, by `new`; the context alone: [`find_context`] |
//! | the collector's attribute strings | [`CltView::write_attributes`], [`Hop::attribute_key`], [`Hop::attribute_value`]; many hops into one string: [`view::AttributeWriter::new`]; into a byte buffer, without a UTF-8 check: [`view::AttributeWriter::with_sink`] and a [`view::AsciiSink`] |
//! | the legacy CLT header (explicit mode) | [`legacy::LegacyTrace::from_option`] → [`legacy::LegacyTrace::view`]; writing: [`legacy::to_legacy_body`] |
//! | what went wrong | [`TraceparentError`] (text), [`CltError`] (bytes), and the errors of the lower crates, all through [`Diagnostic`] |
//! | OpenTelemetry types | `From` conversions, feature `opentelemetry` |
//!
//! A collector, in full (one IPv6 packet in, traceparent and hops out):
//!
//! ```
//! use clt_context::{CltView, IoamPacket, Mode, OptionBody, CLT_SCHEMA_ID};
//! # fn collect(packet: &[u8]) -> Result<(), Box<dyn core::error::Error>> {
//! for item in IoamPacket::new(packet, Mode::Strict)? {
//!     if let OptionBody::PreallocatedTrace(trace) = item?.body()? {
//!         let clt = CltView::new(trace, CLT_SCHEMA_ID);
//!         if let Some(ctx) = clt.context().context() {
//!             println!("traceparent {ctx}");
//!         }
//!         for hop in clt.hops() {
//!             let hop = hop?;
//!             println!("hop {} node {:?}", hop.index(), hop.record().node_id());
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `#![no_std]`, no allocator, `#![forbid(unsafe_code)]`.
//!
//! # The opaque state alone
//!
//! ```
//! use clt_context::{oss, traceparent};
//!
//! // A span context from an incoming HTTP request...
//! let tp = traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
//! assert!(tp.ctx.flags.is_sampled());
//!
//! // ...travels in the opaque state of the sender's IOAM node record...
//! let mut snapshot = [0u8; oss::OSS_SNAPSHOT_LEN];
//! oss::CltSnapshot { ctx: tp.ctx, schema_id: oss::CLT_SCHEMA_ID }.emit(&mut snapshot).map(|_| ())?;
//! assert_eq!(&snapshot[..4], &[7, 0x43, 0x4c, 0x54]); // Length 7, schema "CLT"
//!
//! // ...and comes back out at the collector.
//! let (ctx, _len) = oss::CltSnapshot::parse(oss::CLT_SCHEMA_ID, &snapshot).map(|(s, n)| (s.ctx, n))?;
//! assert_eq!(ctx, tp.ctx);
//! assert_eq!(traceparent::format(&ctx).as_str(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// `arbitrary` (fuzzing only) needs std: its derive names `std::` paths.
#[cfg(any(feature = "arbitrary", test))]
extern crate std;

pub mod error;
mod id;
pub mod injector;
pub mod legacy;
pub mod oss;
#[cfg(feature = "opentelemetry")]
mod otel;
pub mod traceparent;
pub mod view;

pub use error::{CltError, TraceparentError};

// What a CLT user needs from the lower crates, so that clt-context is the
// one dependency of a collector or a sender.
pub use ioam_trace::{
    IoamItem, IoamPacket, NodeData, NodeFields, NodeRecord, OptionBody, Trace, TraceError,
    TraceKind, TraceType, WalkConfig,
};
pub use ioam_wire::error::Diagnostic;
pub use ioam_wire::{Mode, WireError};
/// The lower crates, for what the re-exports above do not cover.
pub use {ioam_trace, ioam_wire};

/// The traits whose methods the types of this crate and of the lower
/// crates are used through: `use clt_context::prelude::*;`.
pub mod prelude {
    pub use ioam_wire::prelude::*;
}
pub use id::{SpanContext, SpanId, TraceFlags, TraceId};
pub use oss::{CltSnapshot, CLT_SCHEMA_ID};
pub use traceparent::Traceparent;
pub use view::{find_context, CltView, ContextLookup, FoundContext, Hop};
