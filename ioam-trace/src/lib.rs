#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # The map, in data-flow order
//!
//! | job | use |
//! |---|---|
//! | every IOAM option of a packet, typed | [`IoamPacket`] → [`IoamItem`] → [`IoamItem::body`] → [`OptionBody`] (traces, POT, E2E, DEX, integrity, unknown); settings in [`WalkConfig`] |
//! | a trace body | [`Trace::parse`] (or from the walk): [`Trace::header`] ([`TraceHeaderRepr`], [`HeaderFlags`]), [`Trace::records`] (wire order), [`Trace::records_path_order`] |
//! | one record | [`NodeRecord`]: an accessor per field, every field at once with [`NodeRecord::fields`] → [`NodeFields`], or only the values the trace type carries, each with its name, with [`NodeRecord::values`] → ([`DataField`], `u64`) (the cheapest walk for the usual sparse types); the snapshot [`OpaqueState`]; timestamps in [`timestamp::TimestampFormat`] |
//! | the bits of a trace type | [`TraceType`], [`RecordLayout`] |
//! | a transit node | on a body [`write_transit`]; on a whole packet [`write_transit_hbh`]; serialized once per node [`PreparedRecord`] with [`write_transit_prepared`] / [`write_transit_hbh_prepared`]; settings [`TransitConfig`], values [`NodeData`], result [`TransitOutcome`] |
//! | an encapsulator | [`encap::PreallocatedTraceBuilder`] |
//! | an Incremental Trace node | [`incremental::insert_incremental`] |
//! | an integrity-protected trace | [`ProtectedTrace`] |
//! | what went wrong | [`TraceError`], through `ioam_wire::error::Diagnostic` (record errors carry their hop) |
//!
//! Everything on a trace works on the trace *body*: the bytes of an IOAM
//! option after its Reserved and IOAM-Type bytes, starting at the
//! Namespace-ID. Error offsets count from the body, or from the packet for
//! a trace found by [`IoamPacket`] ([`Trace::with_base`] is set once, by
//! the walk). No allocation, `#![forbid(unsafe_code)]`, no panics on any
//! input; [`Mode`] is `ioam_wire`'s, re-exported.
//!
//! Decoding a trace that two Linux routers filled:
//!
//! ```
//! use ioam_trace::{Mode, Trace, TraceType};
//!
//! // Namespace 123, trace type 0x840000 (bits 0 and 5), NodeLen 2,
//! // space for 3 nodes (24 bytes), 2 records written: RemainingLen 2.
//! let body = [
//!     0x00, 0x7b, 0x10, 0x02, 0x84, 0x00, 0x00, 0x00,
//!     0, 0, 0, 0, 0, 0, 0, 0, // free
//!     0x3e, 0x00, 0x00, 0x02, 0xde, 0xad, 0xbe, 0xef, // router 2, hop limit 62
//!     0x3f, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, // router 1, hop limit 63
//! ];
//! let trace = Trace::parse_preallocated(&body, Mode::Strict)?;
//! assert_eq!(trace.trace_type(), TraceType::HOP_LIM_NODE_ID | TraceType::NAMESPACE_DATA);
//! assert_eq!(trace.free_space(), 8);
//! let mut hops = trace.records_path_order();
//! let first = hops.next().unwrap()?;
//! assert_eq!((first.hop_limit(), first.node_id()), (Some(63), Some(1)));
//! assert_eq!(first.namespace_data(), Some(0xffff_ffff));
//! assert_eq!(first.queue_depth(), None); // bit 6 not set: absent, not zero
//! let second = hops.next().unwrap()?;
//! assert_eq!(second.namespace_data(), Some(0xdead_beef));
//! assert!(hops.next().is_none());
//! # Ok::<(), ioam_trace::TraceError>(())
//! ```
//!
//! Reading a field costs one table load and one bounds-checked read: the
//! record iterators compute the [`RecordLayout`] of the trace type (the byte
//! offset of every field) once, and every [`NodeRecord`] carries it. The
//! 8-byte header is read and written in place through the zerocopy struct
//! [`RawTraceHeader`].
//!
//! A transit write is shown in [`writer`], its serialize-once form in
//! [`prepared`], the encapsulator in [`encap`],
//! the Incremental Trace insert in [`incremental`], a Linux-like transit
//! pass over a whole packet in [`packet`].
//!
//! The example `transit` (`cargo run -p ioam-trace --example transit --
//! --ns 123 --node-id 1 < packet.hex`) applies the transit writer to a
//! whole IPv6 packet given as hex, like a Linux router with IOAM enabled,
//! for differential tests against the kernel; its flags are documented in
//! `examples/transit.rs`.
//!
//! # Linux behaviour reproduced (net/ipv6/ioam6.c, exthdrs.c, 6.18)
//!
//! - NodeLen must equal the value computed from the trace type (bits 0-7,
//!   11 and 12-21 one word, bits 8-10 two words); otherwise the packet is
//!   dropped ([`Mode::Strict`], and always in the writer).
//! - RemainingLen beyond the data area: dropped.
//! - Overflow already set: the node adds nothing. RemainingLen 0, or smaller
//!   than NodeLen plus the opaque state words: Overflow set, nothing written.
//! - A trace type with no bit set passes the transit path and gets nothing
//!   written (Overflow if RemainingLen is 0); only the Linux encapsulator
//!   refuses it. [`Mode::Strict`] rejects it, [`Mode::Lenient`]
//!   follows the transit path.
//! - Loopback, Active and the unassigned flag are neither checked nor
//!   changed by a transit node (the RFC 9322 rule is checked on request:
//!   [`Trace::check_loopback`], and by the encapsulator).
//! - Undefined bits 12-21 are filled with 0xffffffff words; bit 22 without a
//!   schema gives the single word 0x00ffffff; a schema's data is zero-padded
//!   to 4n.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate alloc;

// The `arbitrary` derives refer to `::std`; fuzz targets always have it.
#[cfg(feature = "arbitrary")]
extern crate std;

pub mod encap;
pub mod error;
pub mod header;
pub mod incremental;
pub mod layout;
pub mod packet;
pub mod prepared;
pub mod record;
pub mod timestamp;
pub mod trace;
pub mod trace_type;
pub mod walk;
pub mod writer;

pub use error::TraceError;
pub use header::{
    HeaderFlags, RawTraceHeader, TraceHeader, TraceHeaderRepr, NODE_LEN_MAX, REMAINING_LEN_MAX,
    TRACE_DATA_MAX, TRACE_HEADER_LEN,
};
pub use ioam_wire::Mode;
pub use layout::RecordLayout;
pub use packet::{write_transit_hbh, write_transit_hbh_prepared};
pub use prepared::{write_transit_prepared, PreparedRecord};
pub use record::{unavailable, DataField, FieldValues, NodeFields, NodeRecord, OpaqueState};
pub use trace::{PathOrder, Records, Trace, TraceKind, MAX_RECORDS};
pub use trace_type::TraceType;
pub use walk::{IoamItem, IoamPacket, OptionBody, ProtectedTrace, WalkConfig};
pub use writer::{
    emit_record, write_transit, NodeData, SkipReason, TransitConfig, TransitOutcome, UndefinedFill,
};
