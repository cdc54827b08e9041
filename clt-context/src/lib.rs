//! Cross-Layer Telemetry (CLT): trace and span identifiers carried in IPv6 IOAM.
//!
//! CLT correlates application traces (OpenTelemetry, W3C Trace Context) with
//! what the network did to the packets of each span, by carrying the trace
//! id and span id of the sending span in an IOAM pre-allocated trace
//! (RFC 9197, RFC 9486). This crate holds:
//!
//! - [`TraceId`], [`SpanId`], [`TraceFlags`], [`SpanContext`]: lowercase-hex
//!   `Display`/`FromStr`, no allocation;
//! - [`traceparent`]: the W3C `traceparent` header, every rule of the
//!   recommendation, errors that name the rule and the offset;
//! - [`oss`]: the CLT opaque state, schema v1 (a span context in the Opaque
//!   State Snapshot of the originator's node record, RFC 9197 §4.4.2.13);
//! - [`legacy`]: the 32-byte trace header of the original CLT kernel patch,
//!   an explicit decoding mode that is never guessed;
//! - with the `opentelemetry` feature (std): `From` conversions to and from
//!   the `opentelemetry` crate's `TraceId`, `SpanId`, `TraceFlags` and
//!   `SpanContext`.
//!
//! `#![no_std]`, no allocator, no `unsafe`.
//!
//! # Example
//!
//! ```
//! use clt_context::{oss, traceparent, SpanContext};
//!
//! // A span context from an incoming HTTP request...
//! let tp = traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
//! assert!(tp.ctx.flags.is_sampled());
//!
//! // ...travels in the opaque state of the sender's IOAM node record...
//! let mut snapshot = [0u8; oss::OSS_SNAPSHOT_LEN];
//! oss::encode_snapshot(&tp.ctx, oss::CLT_SCHEMA_ID, &mut snapshot)?;
//! assert_eq!(&snapshot[..4], &[7, 0x43, 0x4c, 0x54]); // Length 7, schema "CLT"
//!
//! // ...and comes back out at the collector.
//! let (ctx, _len) = oss::decode_snapshot(oss::CLT_SCHEMA_ID, &snapshot)?;
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

mod id;
pub mod injector;
pub mod legacy;
pub mod oss;
#[cfg(feature = "opentelemetry")]
mod otel;
pub mod traceparent;
pub mod view;

pub use id::{HexDigitError, IdParseError, SpanContext, SpanId, TraceFlags, TraceId};
pub use oss::{OssError, CLT_SCHEMA_ID};
pub use traceparent::{Traceparent, TraceparentError};
pub use view::{find_context, CltView, ContextLookup, FoundContext, Hop};
