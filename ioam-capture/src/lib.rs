//! Packet sources for IOAM collectors: everything between "bytes somewhere"
//! and "an IPv6 packet (or a kernel trace event) to decode".
//!
//! - [`file`](mod@file): pcap and pcapng captures, in memory ([`file::Frames`]) or
//!   streamed from any reader ([`file::CaptureReader`]) with memory bounded
//!   by the largest record, not by the input.
//! - [`link`]: the link layers those captures use (Ethernet with VLAN tags,
//!   Linux cooked v1/v2, raw IP, BSD/OpenBSD loopback), down to the IPv6
//!   header.
//! - [`write`](mod@write): pcap and pcapng writers (for `ioam craft` and tests).
//! - [`live`] (feature `live`): capture on a network interface through
//!   libpcap, with the kernel-side filter `ip6[6] == 0` (Hop-by-Hop header
//!   first), so that other traffic never reaches user space.
//! - [`events`] (feature `kernel-events`, Linux): the kernel's IOAM6
//!   generic-netlink trace events, which carry the receiving node's own record
//!   (the one record no capture can see).
//!
//! The crate does no decoding of its own beyond framing: the IOAM bytes go to
//! `ioam-trace` and `clt-context`, and data flows one way (source, then
//! decode, then spans, then sinks).
//!
//! ```
//! use ioam_capture::file::{linktype, Frames, Timestamp};
//! use ioam_capture::link::{ipv6_payload, Payload};
//! use ioam_capture::write::PcapWriter;
//!
//! // A one-packet raw-IPv6 capture (an IPv6 header with No Next Header).
//! let mut pkt = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
//! pkt.extend_from_slice(&[0; 32]);
//! let mut w = PcapWriter::new(Vec::new(), linktype::RAW).unwrap();
//! w.write(Timestamp { secs: 0, nanos: 0 }, &pkt).unwrap();
//! let bytes = w.into_inner().unwrap();
//!
//! for frame in Frames::new(&bytes).unwrap() {
//!     let frame = frame.unwrap();
//!     match ipv6_payload(frame.linktype, frame.data).unwrap() {
//!         Payload::Ipv6 { packet, .. } => assert_eq!(packet, &pkt[..]),
//!         Payload::Other => unreachable!("the frame is IPv6"),
//!     }
//! }
//! ```

#![warn(missing_docs)]

pub mod file;
pub mod link;
pub mod write;

#[cfg(feature = "live")]
pub mod live;

#[cfg(feature = "kernel-events")]
pub mod events;
