//! Cross-Layer Telemetry (CLT): trace and span identifiers carried in IPv6 IOAM.
//!
//! CLT (Iurman, Brockners, Donnet, ANRW'21) correlates application traces
//! (OpenTelemetry, W3C Trace Context) with what the network did to the
//! packets of each span, by carrying the trace id and span id of the sending
//! span in an IOAM Pre-allocated Trace (RFC 9197, RFC 9486). A CLT user
//! depends on this crate alone: it re-exports what it needs of `ioam-trace`
//! and `ioam-wire` ([`IoamPacket`], [`OptionBody`], [`Trace`], [`NodeData`],
//! [`TraceType`], [`Mode`], [`Diagnostic`], ...).
//!
//! # The map, in data-flow order
//!
//! | job | use |
//! |---|---|
//! | a span context | [`SpanContext`] ([`TraceId`], [`SpanId`], [`TraceFlags`]); from and to W3C `traceparent`: [`traceparent::parse`], [`traceparent::format`], `Display` / `FromStr` |
//! | a sender's Hop-by-Hop header (`setsockopt(IPV6_HOPOPTS)`) | [`injector::HopByHopInjector`] (a config struct with `Default`) → [`injector::HopByHopBytes`]; per packet [`injector::HopByHopBytes::set_context`] |
//! | the context in an opaque state snapshot | [`oss::encode`] / [`oss::decode`] (the data), [`CltSnapshot`] (the whole snapshot) |
//! | a collector: packet bytes to IOAM options | [`IoamPacket::new`] → [`IoamItem::body`] → [`OptionBody::PreallocatedTrace`] |
//! | the context and the hops of a trace | [`CltView::new`] → [`CltView::context`] ([`ContextLookup`]), [`CltView::hops`] ([`Hop`], path order); the context alone: [`find_context`] |
//! | the collector's attribute strings | [`CltView::write_attributes`], [`Hop::attribute_key`], [`Hop::attribute_value`] |
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
//! # Example
//!
//! A sender tags its packets with the span context of an incoming request;
//! a Linux router adds its record; the collector gets the context back and
//! one attribute per hop.
//!
//! ```
//! use clt_context::injector::{HopByHopInjector, BODY_OFFSET};
//! use clt_context::{traceparent, CltView, CLT_SCHEMA_ID};
//! use ioam_trace::writer::{write_transit, TransitConfig};
//! use ioam_trace::{NodeData, Trace, TraceType, Mode};
//!
//! // The span context of an incoming HTTP request.
//! let tp = traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
//!
//! // The sender's Hop-by-Hop header: namespace 123, hop limit + node id +
//! // opaque state (0x800002), room for 2 routers, its own record first.
//! let t = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE;
//! let me = NodeData { hop_limit: 64, node_id: 1, ..NodeData::unavailable() };
//! let injector = HopByHopInjector { namespace_id: 123, trace_type: t, extra_hops: 2, sender: me, ctx: tp.ctx, ..Default::default() };
//! let hbh = injector.build()?;
//! // (`&hbh[..]` is what goes to setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS).)
//!
//! // What a Linux router with IOAM enabled does to it in transit.
//! let body_end = BODY_OFFSET + injector.layout()?.body_len;
//! let router = NodeData { hop_limit: 63, node_id: 2, ..NodeData::unavailable() };
//! let mut rx = [0u8; 80];
//! rx[..hbh.len()].copy_from_slice(&hbh);
//! write_transit(&mut rx[BODY_OFFSET..body_end], 123, &router, &TransitConfig::default())?;
//!
//! // The collector's view.
//! let trace = Trace::parse_preallocated(&rx[BODY_OFFSET..body_end], Mode::Strict)?;
//! let view = CltView::new(trace, CLT_SCHEMA_ID);
//! assert_eq!(view.context().context(), Some(tp.ctx));
//! let mut attrs = heapless::String::<512>::new();
//! view.write_attributes(&mut attrs)?;
//! assert_eq!(
//!     attrs.as_str(),
//!     "ioam_namespace123_node1=HopLimit=64; Id=1; OpaqueStateSchemaId=4410452; \
//!      OpaqueStateData=0x4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b701000000; \n\
//!      ioam_namespace123_node2=HopLimit=63; Id=2; OpaqueStateSchemaId=16777215; OpaqueStateData=0x; \n"
//! );
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
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
#[cfg(any(feature = "std", feature = "arbitrary", test))]
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
