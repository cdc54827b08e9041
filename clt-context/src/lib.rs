//! Cross-Layer Telemetry (CLT): trace and span identifiers carried in IPv6 IOAM.
//!
//! CLT (Iurman, Brockners, Donnet, ANRW'21) correlates application traces
//! (OpenTelemetry, W3C Trace Context) with what the network did to the
//! packets of each span, by carrying the trace id and span id of the sending
//! span in an IOAM Pre-allocated Trace (RFC 9197, RFC 9486). This crate holds:
//!
//! - [`TraceId`], [`SpanId`], [`TraceFlags`], [`SpanContext`]: lowercase-hex
//!   `Display`/`FromStr`, no allocation;
//! - [`traceparent`]: the W3C `traceparent` header (Trace Context §3.2), every
//!   rule of the recommendation, errors that name the rule and the offset;
//! - [`oss`]: the CLT opaque state, schema v1: a span context in the Opaque
//!   State Snapshot (RFC 9197 §4.4.2, bit 22) of the originator's record;
//! - [`legacy`]: the 32-byte trace header of the original CLT kernel patch,
//!   an explicit decoding mode that is never guessed;
//! - [`view`]: finding the context in a decoded trace ([`find_context`], with
//!   a distinct outcome for each way of not finding one), the hops in path
//!   order and the attribute strings of the CLT collector ([`CltView`]),
//!   written through `core::fmt::Write`;
//! - [`injector`]: the complete Hop-by-Hop header a sender hands to
//!   `setsockopt(IPV6_HOPOPTS)`, its own record already written;
//! - with the `opentelemetry` feature (std): `From` conversions to and from
//!   the `opentelemetry` crate's `TraceId`, `SpanId`, `TraceFlags` and
//!   `SpanContext`.
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
