//! The library behind the `ioam` tool: capture reading and writing, the
//! per-packet decoder that turns IPv6 packets into a JSON-ready model, OTLP
//! export, packet crafting and (on Linux) sending CLT-tagged traffic.
//!
//! The decoding itself is done by the core crates (`ioam-wire`,
//! `ioam-trace`, `clt-context`); this crate only walks captures, calls them and
//! shapes their results for output.
//!
//! ```
//! use ioam_capture::file::{linktype, Frames, Timestamp};
//! use ioam_capture::write::PcapWriter;
//!
//! // A one-packet raw-IPv6 capture (an IPv6 header with No Next Header).
//! let mut pkt = vec![0x60, 0, 0, 0, 0, 0, 59, 64];
//! pkt.extend_from_slice(&[0; 32]);
//! let mut w = PcapWriter::new(Vec::new(), linktype::RAW).unwrap();
//! w.write(Timestamp { secs: 0, nanos: 0 }, &pkt).unwrap();
//! let bytes = w.into_inner().unwrap();
//!
//! let frames: Vec<_> = Frames::new(&bytes).unwrap().collect::<Result<_, _>>().unwrap();
//! assert_eq!(frames.len(), 1);
//! assert_eq!(frames[0].data, &pkt[..]);
//! ```

/// The Rust examples of the top-level README, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct TopLevelReadme;

pub mod args;
pub mod craft;
pub mod craft_args;
pub mod decode;
pub mod fmtbuf;
pub mod jsonline;
pub mod model;
pub mod otlp;
pub mod output;
pub mod text;
pub mod waterfall;
