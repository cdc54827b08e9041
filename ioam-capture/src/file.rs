//! Reading packet captures: classic pcap (both byte orders, micro- and
//! nanosecond timestamps, the "modified" Kuznetzov format) and pcapng
//! (several sections, several interfaces, Enhanced and Simple Packet Blocks).
//!
//! The whole capture sits in memory; [`Frames`] walks it and yields one
//! [`Frame`] per captured packet, with its link type and capture time. Block
//! parsing is done by `pcap-parser`; this module adds the bookkeeping (frame
//! numbers, link types per interface, timestamps with checked arithmetic) and
//! errors that say at which byte of the file the capture stops making sense.

use core::fmt;

use pcap_parser::pcapng::{Block, SectionHeaderBlock};
use pcap_parser::PcapError;

/// Link-layer header types (the `LINKTYPE_*` values of tcpdump.org) that
/// [`crate::link`] understands.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in the byte order of the
    /// capturing host.
    pub const NULL: u32 = 0;
    /// Ethernet II, with optional 802.1Q / 802.1ad VLAN tags.
    pub const ETHERNET: u32 = 1;
    /// Raw IP (the version nibble tells IPv4 from IPv6).
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv6 only.
    pub const IPV6: u32 = 229;
    /// Linux "cooked" capture, version 2 (20-byte header).
    pub const LINUX_SLL2: u32 = 276;
}

/// A capture timestamp: seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (may be negative).
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// Nanoseconds since the Unix epoch, saturating at the `i128` range
    /// (which no real capture reaches).
    pub fn as_unix_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// The timestamp in seconds, as a float (for rates).
    pub fn as_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }
}

/// One captured packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based frame number in the capture (the number Wireshark shows).
    pub number: u64,
    /// Capture time, when the format carries one.
    pub time: Option<Timestamp>,
    /// Link-layer header type of the interface the frame was captured on.
    pub linktype: u32,
    /// The captured bytes (possibly shorter than `orig_len`).
    pub data: &'a [u8],
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap (libpcap).
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Why a capture cannot be read (further). Offsets are from the start of the
/// capture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The input does not start with a pcap or pcapng magic number.
    NotACapture {
        /// The first (up to) 4 bytes of the input.
        magic: Vec<u8>,
    },
    /// The capture ends inside a header or record.
    Truncated {
        /// Offset of the incomplete header or record.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes that were still available from `offset`.
        available: usize,
    },
    /// The input could not be read.
    Read {
        /// Capture offset where reading failed.
        offset: usize,
        /// The operating system's reason.
        message: String,
    },
    /// A block or header is malformed.
    Malformed {
        /// Offset of the block or header.
        offset: usize,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotACapture { magic } if magic.is_empty() => {
                write!(f, "not a pcap or pcapng capture: the input is empty")
            }
            CaptureError::NotACapture { magic } => {
                write!(f, "not a pcap or pcapng capture: starts with 0x")?;
                for b in magic {
                    write!(f, "{b:02x}")?;
                }
                write!(
                    f,
                    ", expected a pcap magic (a1b2c3d4, a1b23c4d or swapped) or pcapng 0a0d0d0a"
                )
            }
            CaptureError::Truncated {
                offset,
                what,
                available,
            } => write!(
                f,
                "capture truncated: {what} at byte {offset} is incomplete ({available} bytes left)"
            ),
            CaptureError::Malformed { offset, message } => {
                write!(f, "malformed capture at byte {offset}: {message}")
            }
            CaptureError::Read { offset, message } => {
                write!(f, "read error at byte {offset}: {message}")
            }
        }
    }
}

impl core::error::Error for CaptureError {}

const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Recognise the capture format from its first bytes.
pub fn detect(bytes: &[u8]) -> Result<Format, CaptureError> {
    let magic = bytes.get(..4).unwrap_or(bytes);
    match magic {
        [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0xc3, 0xd4]
        | [0x4d, 0x3c, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x34, 0xcd, 0xb2, 0xa1] => Ok(Format::Pcap),
        m if m == PCAPNG_SHB => Ok(Format::PcapNg),
        m => Err(CaptureError::NotACapture { magic: m.to_vec() }),
    }
}

/// Per-interface state of a pcapng section.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp.
    offset_secs: i64,
}

#[derive(Debug)]
enum State {
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
        linktype: u32,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Largest record or block accepted (a guard against a corrupted length
/// making a streaming reader buffer the rest of the input).
pub const MAX_RECORD_LEN: usize = 256 << 20;

/// Interface Description Blocks kept per pcapng section: memory stays
/// bounded by this, not by the input (a file of nothing but IDBs is
/// refused once it passes it).
pub const MAX_INTERFACES: usize = 1 << 16;

/// A frame located in the input of [`parse_one`].
#[derive(Debug, Clone, Copy)]
struct Located {
    time: Option<Timestamp>,
    linktype: u32,
    /// Where the captured bytes are in the input.
    data_at: usize,
    data_len: usize,
    orig_len: u32,
}

/// What [`parse_one`] found at the start of its input.
#[derive(Debug)]
enum Step {
    /// A frame; `consumed` bytes of input used.
    Frame { consumed: usize, frame: Located },
    /// A block that is not a packet (interface description, statistics...).
    Skip { consumed: usize },
    /// The input ends inside a record or block.
    NeedMore,
    /// The record or block is malformed.
    Error(CaptureError),
}

/// Read the classic pcap file header: (state, header length).
fn parse_pcap_header(bytes: &[u8]) -> Result<(State, usize), CaptureError> {
    match pcap_parser::pcap::parse_pcap_header(bytes) {
        Ok((rest, hdr)) => Ok((
            State::Pcap {
                big_endian: hdr.is_bigendian(),
                nanos: hdr.is_nanosecond_precision(),
                modified: hdr.is_modified_format(),
                linktype: u32::from_ne_bytes(hdr.network.0.to_ne_bytes()),
            },
            bytes.len() - rest.len(),
        )),
        Err(_) => Err(CaptureError::Truncated {
            offset: 0,
            what: "pcap file header (24 bytes)",
            available: bytes.len(),
        }),
    }
}

fn new_state(format: Format, bytes: &[u8]) -> Result<(State, usize), CaptureError> {
    match format {
        Format::Pcap => parse_pcap_header(bytes),
        Format::PcapNg => Ok((
            State::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            },
            0,
        )),
    }
}

fn u32_at(input: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = input.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// Parse the record or block at the start of `input`; `offset` is where
/// `input` starts in the capture (for errors).
fn parse_one(state: &mut State, input: &[u8], offset: usize) -> Step {
    match state {
        State::Pcap {
            big_endian,
            nanos,
            modified,
            linktype,
        } => {
            let header_len = if *modified { 24 } else { 16 };
            if input.len() < header_len {
                return Step::NeedMore;
            }
            match u32_at(input, 8, *big_endian) {
                Some(caplen) if caplen as usize > MAX_RECORD_LEN => {
                    return Step::Error(CaptureError::Malformed {
                        offset,
                        message: format!(
                            "pcap record of {caplen} bytes exceeds the {MAX_RECORD_LEN}-byte limit"
                        ),
                    })
                }
                _ => {}
            }
            let parsed = if *modified {
                pcap_parser::pcap::parse_pcap_frame_modified(input)
            } else if *big_endian {
                pcap_parser::pcap::parse_pcap_frame_be(input)
            } else {
                pcap_parser::pcap::parse_pcap_frame(input)
            };
            match parsed {
                Ok((rest, block)) => {
                    let frac = if *nanos {
                        block.ts_usec
                    } else {
                        block.ts_usec.saturating_mul(1000)
                    };
                    // An out-of-range fraction is reported as a missing time
                    // rather than silently wrapped.
                    let time = (frac < 1_000_000_000).then_some(Timestamp {
                        secs: i64::from(block.ts_sec),
                        nanos: frac,
                    });
                    let consumed = input.len() - rest.len();
                    Step::Frame {
                        consumed,
                        frame: Located {
                            time,
                            linktype: *linktype,
                            data_at: consumed - block.data.len(),
                            data_len: block.data.len(),
                            orig_len: block.origlen,
                        },
                    }
                }
                Err(pcap_parser::nom::Err::Incomplete(_)) => Step::NeedMore,
                Err(_) => Step::Error(CaptureError::Malformed {
                    offset,
                    message: "pcap record does not parse".into(),
                }),
            }
        }
        State::PcapNg {
            big_endian,
            interfaces,
        } => {
            if input.len() < 12 {
                return Step::NeedMore;
            }
            let is_shb = input.get(..4) == Some(&PCAPNG_SHB[..]);
            if offset == 0 && !is_shb {
                return Step::Error(CaptureError::Malformed {
                    offset,
                    message: "pcapng file does not start with a Section Header Block".into(),
                });
            }
            // Every block length is checked before a byte of the block is
            // buffered: a Section Header Block's byte order comes from its
            // own byte-order magic (pcapng §4.1), the others' from their
            // section.
            let order = if is_shb {
                match input.get(8..12) {
                    Some([0x1a, 0x2b, 0x3c, 0x4d]) => true,
                    Some([0x4d, 0x3c, 0x2b, 0x1a]) => false,
                    _ => {
                        return Step::Error(CaptureError::Malformed {
                            offset,
                            message: "Section Header Block with an unknown byte-order magic".into(),
                        })
                    }
                }
            } else {
                *big_endian
            };
            match u32_at(input, 4, order) {
                Some(len) if len as usize > MAX_RECORD_LEN => {
                    return Step::Error(CaptureError::Malformed {
                        offset,
                        message: format!(
                            "pcapng block of {len} bytes exceeds the {MAX_RECORD_LEN}-byte limit"
                        ),
                    })
                }
                Some(len) if len < 12 || len % 4 != 0 => {
                    return Step::Error(CaptureError::Malformed {
                        offset,
                        message: format!(
                            "pcapng block length {len} is not a multiple of 4 of at least 12 bytes (pcapng §3.1)"
                        ),
                    })
                }
                _ => {}
            }
            // A Section Header Block resets the byte order and the interfaces.
            let parsed = if is_shb {
                pcap_parser::pcapng::parse_sectionheaderblock(input).map(|(r, shb)| {
                    let be = SectionHeaderBlock::big_endian(&shb);
                    (r, Block::SectionHeader(shb), Some(be))
                })
            } else if *big_endian {
                pcap_parser::pcapng::parse_block_be(input).map(|(r, b)| (r, b, None))
            } else {
                pcap_parser::pcapng::parse_block_le(input).map(|(r, b)| (r, b, None))
            };
            let (rest, block, new_order) = match parsed {
                Ok(v) => v,
                Err(pcap_parser::nom::Err::Incomplete(_)) => return Step::NeedMore,
                Err(pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e)) => {
                    return Step::Error(CaptureError::Malformed {
                        offset,
                        message: describe_pcap_error(&e),
                    })
                }
            };
            let consumed = input.len() - rest.len();
            if consumed == 0 {
                // pcap-parser always consumes a block; guard against a loop anyway.
                return Step::Error(CaptureError::Malformed {
                    offset,
                    message: "block of length zero".into(),
                });
            }
            if let Some(be) = new_order {
                *big_endian = be;
                interfaces.clear();
            }
            // pcap-parser returns the packet data as a sub-slice of `input`:
            // its position, checked to lie inside `input`.
            let located = |data: &[u8]| -> Option<usize> {
                (data.as_ptr() as usize)
                    .checked_sub(input.as_ptr() as usize)
                    .filter(|at| at + data.len() <= input.len())
            };
            let misplaced = || {
                Step::Error(CaptureError::Malformed {
                    offset,
                    message: "packet data outside its block".into(),
                })
            };
            match block {
                Block::InterfaceDescription(idb) => {
                    let Some(resolution) = idb.ts_resolution() else {
                        return Step::Error(CaptureError::Malformed {
                            offset,
                            message: format!(
                                "interface description has an unusable if_tsresol {:#04x}",
                                idb.if_tsresol
                            ),
                        });
                    };
                    if interfaces.len() >= MAX_INTERFACES {
                        return Step::Error(CaptureError::Malformed {
                            offset,
                            message: format!(
                                "more than {MAX_INTERFACES} interface description blocks in one section"
                            ),
                        });
                    }
                    interfaces.push(Interface {
                        linktype: u32::from_ne_bytes(idb.linktype.0.to_ne_bytes()) & 0xffff,
                        resolution,
                        offset_secs: idb.if_tsoffset,
                    });
                    Step::Skip { consumed }
                }
                Block::EnhancedPacket(epb) => {
                    let known = interfaces.len();
                    let Some(iface) = interfaces.get(epb.if_id as usize).copied() else {
                        return Step::Error(CaptureError::Malformed {
                            offset,
                            message: format!(
                                "enhanced packet block names interface {} but only {known} are described",
                                epb.if_id
                            ),
                        });
                    };
                    let ticks = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    let caplen = (epb.caplen as usize).min(epb.data.len());
                    let Some(data_at) = located(epb.data) else {
                        return misplaced();
                    };
                    Step::Frame {
                        consumed,
                        frame: Located {
                            time: ticks_to_time(ticks, iface.resolution, iface.offset_secs),
                            linktype: iface.linktype,
                            data_at,
                            data_len: caplen,
                            orig_len: epb.origlen,
                        },
                    }
                }
                Block::SimplePacket(spb) => {
                    let Some(iface) = interfaces.first().copied() else {
                        return Step::Error(CaptureError::Malformed {
                            offset,
                            message: "simple packet block before any interface description".into(),
                        });
                    };
                    let caplen = (spb.origlen as usize).min(spb.data.len());
                    let Some(data_at) = located(spb.data) else {
                        return misplaced();
                    };
                    Step::Frame {
                        consumed,
                        frame: Located {
                            time: None,
                            linktype: iface.linktype,
                            data_at,
                            data_len: caplen,
                            orig_len: spb.origlen,
                        },
                    }
                }
                // Name resolution, statistics, custom blocks...: not packets.
                _ => Step::Skip { consumed },
            }
        }
    }
}

fn truncated(state: &State, offset: usize, available: usize) -> CaptureError {
    CaptureError::Truncated {
        offset,
        what: match state {
            State::Pcap { .. } => "pcap record",
            State::PcapNg { .. } => "pcapng block",
        },
        available,
    }
}

/// Iterator over the frames of an in-memory capture. Fused: after an error or
/// the end of the capture it yields `None`.
#[derive(Debug)]
pub struct Frames<'a> {
    bytes: &'a [u8],
    pos: usize,
    state: State,
    next_number: u64,
    done: bool,
}

impl<'a> Frames<'a> {
    /// Start reading `bytes` as a pcap or pcapng capture. Fails if the format
    /// is not recognised or the file header is malformed.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CaptureError> {
        let (state, pos) = new_state(detect(bytes)?, bytes)?;
        Ok(Frames {
            bytes,
            pos,
            state,
            next_number: 1,
            done: false,
        })
    }

    /// The link type of a classic pcap (one for the whole file); `None` for
    /// pcapng, where each interface has its own.
    pub fn pcap_linktype(&self) -> Option<u32> {
        match self.state {
            State::Pcap { linktype, .. } => Some(linktype),
            State::PcapNg { .. } => None,
        }
    }

    /// Bytes of the capture consumed so far (for progress reporting).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Total size of the capture in bytes.
    pub fn total_len(&self) -> usize {
        self.bytes.len()
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let input = self.bytes.get(self.pos..).unwrap_or_default();
            if input.is_empty() {
                self.done = true;
                return None;
            }
            match parse_one(&mut self.state, input, self.pos) {
                Step::Frame { consumed, frame } => {
                    self.pos += consumed;
                    let number = self.next_number;
                    self.next_number += 1;
                    let data = input.get(frame.data_at..frame.data_at + frame.data_len)?;
                    return Some(Ok(Frame {
                        number,
                        time: frame.time,
                        linktype: frame.linktype,
                        data,
                        orig_len: frame.orig_len,
                    }));
                }
                Step::Skip { consumed } => self.pos += consumed,
                Step::NeedMore => {
                    self.done = true;
                    return Some(Err(truncated(&self.state, self.pos, input.len())));
                }
                Step::Error(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl core::iter::FusedIterator for Frames<'_> {}

/// Reads a capture from any [`Read`](std::io::Read) (a file, standard input,
/// a pipe from `tcpdump -w -`) in bounded memory, yielding each frame as
/// soon as its record is complete.
///
/// `next_frame` lends the frame until the next call (the bytes live in the
/// reader's buffer), so this is not an `Iterator`.
#[derive(Debug)]
pub struct CaptureReader<R> {
    inner: R,
    /// The bytes read and not yet dropped are `buf[..end]`; the rest of
    /// `buf` is room that `inner` reads into directly (zeroed once, when
    /// the buffer grows, and reused).
    buf: Vec<u8>,
    /// End of the bytes read in `buf`.
    end: usize,
    /// Start of the unparsed bytes in `buf`.
    start: usize,
    /// Capture offset of `buf[0]`.
    base: usize,
    eof: bool,
    state: State,
    next_number: u64,
    done: bool,
}

/// Bytes asked of the underlying reader at a time.
const READ_CHUNK: usize = 256 << 10;

impl<R: std::io::Read> CaptureReader<R> {
    /// Read the file header of a pcap or pcapng capture.
    pub fn new(inner: R) -> Result<Self, CaptureError> {
        let mut r = CaptureReader {
            inner,
            buf: Vec::new(),
            end: 0,
            start: 0,
            base: 0,
            eof: false,
            state: State::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            },
            next_number: 1,
            done: false,
        };
        while r.end < 24 && !r.eof {
            r.fill()?;
        }
        let head = &r.buf[..r.end];
        let (state, pos) = new_state(detect(head)?, head)?;
        r.state = state;
        r.start = pos;
        Ok(r)
    }

    /// Append what the reader has (at least one byte unless at the end),
    /// read straight into the buffer's room: each byte is copied once, by
    /// the reader.
    fn fill(&mut self) -> Result<(), CaptureError> {
        // Drop consumed bytes first so the buffer holds one record or so.
        if self.start > 0 && self.start >= self.end / 2 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.base += self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK {
            self.buf.resize(self.end + READ_CHUNK, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    if n == 0 {
                        self.eof = true;
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CaptureError::Read {
                        offset: self.base + self.end,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// The link type of a classic pcap; `None` for pcapng.
    pub fn pcap_linktype(&self) -> Option<u32> {
        match self.state {
            State::Pcap { linktype, .. } => Some(linktype),
            State::PcapNg { .. } => None,
        }
    }

    /// Bytes of the capture consumed so far.
    pub fn position(&self) -> usize {
        self.base + self.start
    }

    /// The next frame, `None` at the end of the capture or after an error.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, CaptureError>> {
        loop {
            if self.done {
                return None;
            }
            let input = self.buf.get(self.start..self.end).unwrap_or_default();
            if input.is_empty() && self.eof {
                self.done = true;
                return None;
            }
            let offset = self.base + self.start;
            let step = if input.is_empty() {
                Step::NeedMore
            } else {
                parse_one(&mut self.state, input, offset)
            };
            match step {
                Step::Frame { consumed, frame } => {
                    let at = self.start;
                    self.start += consumed;
                    let number = self.next_number;
                    self.next_number += 1;
                    let data = self
                        .buf
                        .get(at + frame.data_at..at + frame.data_at + frame.data_len)?;
                    return Some(Ok(Frame {
                        number,
                        time: frame.time,
                        linktype: frame.linktype,
                        data,
                        orig_len: frame.orig_len,
                    }));
                }
                Step::Skip { consumed } => self.start += consumed,
                Step::NeedMore if self.eof => {
                    self.done = true;
                    let available = self.end - self.start;
                    return Some(Err(truncated(&self.state, offset, available)));
                }
                Step::NeedMore => {
                    if let Err(e) = self.fill() {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                Step::Error(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn describe_pcap_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::HeaderNotRecognized => "block header not recognised".into(),
        PcapError::NomError(_, kind) => format!("block does not parse ({kind:?})"),
        PcapError::OwnedNomError(_, kind) => format!("block does not parse ({kind:?})"),
        other => format!("{other:?}"),
    }
}

/// Convert a pcapng timestamp (ticks at `resolution` per second, plus an
/// offset in seconds) to a [`Timestamp`], or `None` if it does not fit.
fn ticks_to_time(ticks: u64, resolution: u64, offset_secs: i64) -> Option<Timestamp> {
    if resolution == 0 {
        return None;
    }
    let secs = i64::try_from(ticks / resolution)
        .ok()?
        .checked_add(offset_secs)?;
    let frac = u128::from(ticks % resolution) * 1_000_000_000 / u128::from(resolution);
    Some(Timestamp {
        secs,
        nanos: frac as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::PcapWriter;

    #[test]
    fn not_a_capture() {
        assert_eq!(
            Frames::new(b"hello world").unwrap_err(),
            CaptureError::NotACapture {
                magic: b"hell".to_vec()
            }
        );
        assert!(matches!(
            Frames::new(b"").unwrap_err(),
            CaptureError::NotACapture { .. }
        ));
    }

    #[test]
    fn pcap_roundtrip_and_every_truncation() {
        let mut w = PcapWriter::new(Vec::new(), linktype::RAW).unwrap();
        w.write(
            Timestamp {
                secs: 10,
                nanos: 5000,
            },
            &[0x60, 0, 0, 0],
        )
        .unwrap();
        w.write(Timestamp { secs: 11, nanos: 0 }, &[0x60, 1])
            .unwrap();
        let bytes = w.into_inner().unwrap();
        let frames: Vec<_> = Frames::new(&bytes).unwrap().collect();
        assert_eq!(frames.len(), 2);
        let f = frames[0].clone().unwrap();
        assert_eq!(f.number, 1);
        assert_eq!(f.linktype, linktype::RAW);
        assert_eq!(f.data, &[0x60, 0, 0, 0]);
        assert_eq!(
            f.time,
            Some(Timestamp {
                secs: 10,
                nanos: 5000
            })
        );
        for cut in 0..bytes.len() {
            let r: Result<Vec<_>, _> = match Frames::new(&bytes[..cut]) {
                Ok(fr) => fr.collect(),
                Err(e) => Err(e),
            };
            if cut == 24 + 16 + 4 {
                assert_eq!(r.unwrap().len(), 1, "cut {cut}");
            } else if cut == 24 {
                assert!(r.unwrap().is_empty());
            } else {
                assert!(r.is_err(), "cut {cut}");
            }
        }
    }

    /// Every truncation and many single-byte changes of pcap and pcapng
    /// files end in frames or an error, never a panic or an endless loop.
    #[test]
    fn damaged_captures_never_panic() {
        use crate::write::PcapNgWriter;
        let t = Timestamp {
            secs: 1_700_000_000,
            nanos: 1,
        };
        let mut ng = PcapNgWriter::new(Vec::new(), linktype::ETHERNET).unwrap();
        ng.write(t, &[0xab; 61]).unwrap();
        ng.write(t, &[0xcd; 3]).unwrap();
        let ng = ng.into_inner().unwrap();
        let mut pc = PcapWriter::new(Vec::new(), linktype::RAW).unwrap();
        pc.write(t, &[0x60; 41]).unwrap();
        pc.write(t, &[0x60; 7]).unwrap();
        let pc = pc.into_inner().unwrap();
        for file in [&ng, &pc] {
            let walk = |b: &[u8]| -> usize {
                match Frames::new(b) {
                    Ok(f) => f.take(1000).count(),
                    Err(_) => 0,
                }
            };
            for cut in 0..file.len() {
                assert!(walk(&file[..cut]) <= 3);
            }
            let mut b = file.clone();
            for i in 0..b.len() {
                for v in [0x00, 0xff, 0x7f, 0x80, b[i] ^ 0x01] {
                    let old = b[i];
                    b[i] = v;
                    assert!(walk(&b) < 1000);
                    b[i] = old;
                }
            }
        }
    }

    /// A classic pcap header and records, in either byte order, micro- or
    /// nanosecond magic.
    fn classic(big_endian: bool, nanos: bool, lt: u32, recs: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w32 = |v: u32| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut b = Vec::new();
        b.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
        b.extend_from_slice(&w16(2));
        b.extend_from_slice(&w16(4));
        b.extend_from_slice(&w32(0));
        b.extend_from_slice(&w32(0));
        b.extend_from_slice(&w32(65535));
        b.extend_from_slice(&w32(lt));
        for (sec, frac, data) in recs {
            b.extend_from_slice(&w32(*sec));
            b.extend_from_slice(&w32(*frac));
            b.extend_from_slice(&w32(data.len() as u32));
            b.extend_from_slice(&w32(data.len() as u32 + 10));
            b.extend_from_slice(data);
        }
        b
    }

    #[test]
    fn classic_pcap_byte_orders_and_resolutions() {
        for big_endian in [false, true] {
            for nanos in [false, true] {
                let b = classic(big_endian, nanos, 113, &[(7, 999, &[1, 2, 3])]);
                let f: Vec<_> = Frames::new(&b).unwrap().collect::<Result<_, _>>().unwrap();
                assert_eq!(f.len(), 1);
                assert_eq!(f[0].linktype, 113);
                assert_eq!(f[0].data, &[1, 2, 3]);
                assert_eq!(f[0].orig_len, 13);
                let ns = if nanos { 999 } else { 999_000 };
                assert_eq!(f[0].time, Some(Timestamp { secs: 7, nanos: ns }));
            }
        }
        // A fraction out of range gives no time rather than a wrong one.
        let b = classic(false, false, 1, &[(7, 1_000_000, &[0])]);
        let f: Vec<_> = Frames::new(&b).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(f[0].time, None);
    }

    /// A pcapng block in the given byte order.
    fn ng_block(be: bool, t: u32, body: &[u8]) -> Vec<u8> {
        let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut b = Vec::new();
        b.extend_from_slice(&w(t));
        b.extend_from_slice(&w(12 + body.len() as u32));
        b.extend_from_slice(body);
        b.extend_from_slice(&w(12 + body.len() as u32));
        b
    }

    fn ng_section(be: bool, lt: u16, tsresol: Option<u8>, frames: &[&[u8]]) -> Vec<u8> {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut shb = Vec::new();
        shb.extend_from_slice(&w32(0x1a2b_3c4d));
        shb.extend_from_slice(&w16(1));
        shb.extend_from_slice(&w16(0));
        shb.extend_from_slice(&[0xff; 8]);
        let mut out = ng_block(be, 0x0a0d_0d0a, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&w16(lt));
        idb.extend_from_slice(&w16(0));
        idb.extend_from_slice(&w32(0));
        if let Some(r) = tsresol {
            idb.extend_from_slice(&w16(9));
            idb.extend_from_slice(&w16(1));
            idb.extend_from_slice(&[r, 0, 0, 0]);
            idb.extend_from_slice(&[0; 4]);
        }
        out.extend(ng_block(be, 1, &idb));
        for (i, f) in frames.iter().enumerate() {
            let mut epb = Vec::new();
            epb.extend_from_slice(&w32(0));
            epb.extend_from_slice(&w32(0));
            epb.extend_from_slice(&w32(1_500_000 + i as u32));
            epb.extend_from_slice(&w32(f.len() as u32));
            epb.extend_from_slice(&w32(f.len() as u32));
            epb.extend_from_slice(f);
            while epb.len() % 4 != 0 {
                epb.push(0);
            }
            out.extend(ng_block(be, 6, &epb));
            // A Simple Packet Block as well: no time, interface 0.
            let mut spb = Vec::new();
            spb.extend_from_slice(&w32(f.len() as u32));
            spb.extend_from_slice(f);
            while spb.len() % 4 != 0 {
                spb.push(0);
            }
            out.extend(ng_block(be, 3, &spb));
        }
        out
    }

    #[test]
    fn pcapng_sections_byte_orders_and_block_kinds() {
        // Section 1: little-endian, Ethernet, default microseconds.
        // Section 2: big-endian, SLL2, nanoseconds.
        let mut b = ng_section(false, 1, None, &[&[0xaa; 5]]);
        b.extend(ng_section(true, 276, Some(9), &[&[0xbb; 6], &[0xcc; 1]]));
        let f: Vec<_> = Frames::new(&b).unwrap().collect::<Result<_, _>>().unwrap();
        let summary: Vec<(u64, u32, usize, Option<Timestamp>)> = f
            .iter()
            .map(|f| (f.number, f.linktype, f.data.len(), f.time))
            .collect();
        let t = |secs, nanos| Some(Timestamp { secs, nanos });
        assert_eq!(
            summary,
            [
                (1, 1, 5, t(1, 500_000_000)),
                (2, 1, 5, None),
                (3, 276, 6, t(0, 1_500_000)),
                (4, 276, 6, None),
                (5, 276, 1, t(0, 1_500_001)),
                (6, 276, 1, None),
            ]
        );
        // A packet block before any interface description is an error.
        let mut no_idb = ng_section(false, 1, None, &[]);
        no_idb.truncate(28);
        no_idb.extend(ng_block(false, 3, &[1, 0, 0, 0, 9, 0, 0, 0]));
        let r: Vec<_> = Frames::new(&no_idb).unwrap().collect();
        assert!(
            matches!(r.last(), Some(Err(CaptureError::Malformed { .. }))),
            "{r:?}"
        );
    }

    /// A reader that hands out one byte per call, like a slow pipe.
    struct Trickle<'a>(&'a [u8]);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(out)) => {
                    *out = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// (number, time, link type, data, orig len) of every frame, and the
    /// final error, read with `Frames` or with `CaptureReader`.
    type Summary = (
        Vec<(u64, Option<Timestamp>, u32, Vec<u8>, u32)>,
        Option<CaptureError>,
    );

    fn with_frames(b: &[u8]) -> Summary {
        let mut out = Vec::new();
        let mut err = None;
        match Frames::new(b) {
            Ok(frames) => {
                for f in frames {
                    match f {
                        Ok(f) => {
                            out.push((f.number, f.time, f.linktype, f.data.to_vec(), f.orig_len))
                        }
                        Err(e) => err = Some(e),
                    }
                }
            }
            Err(e) => err = Some(e),
        }
        (out, err)
    }

    fn with_reader(b: &[u8], trickle: bool) -> Summary {
        let mut out = Vec::new();
        let mut err = None;
        let r = if trickle {
            CaptureReader::new(Box::new(Trickle(b)) as Box<dyn std::io::Read>)
        } else {
            CaptureReader::new(Box::new(b) as Box<dyn std::io::Read>)
        };
        match r {
            Ok(mut r) => {
                while let Some(f) = r.next_frame() {
                    match f {
                        Ok(f) => {
                            out.push((f.number, f.time, f.linktype, f.data.to_vec(), f.orig_len))
                        }
                        Err(e) => err = Some(e),
                    }
                }
            }
            Err(e) => err = Some(e),
        }
        (out, err)
    }

    #[test]
    fn streaming_reader_matches_the_in_memory_reader() {
        let mut ng = ng_section(false, 1, None, &[&[0xaa; 5], &[0x11; 300]]);
        ng.extend(ng_section(true, 276, Some(9), &[&[0xbb; 6]]));
        let pc = classic(true, true, 1, &[(1, 2, &[9; 70]), (3, 4, &[8; 1])]);
        for file in [&ng, &pc] {
            for cut in (0..=file.len()).rev() {
                let want = with_frames(&file[..cut]);
                assert_eq!(with_reader(&file[..cut], false), want, "cut {cut}");
                if cut == file.len() || cut % 7 == 0 {
                    assert_eq!(with_reader(&file[..cut], true), want, "trickle cut {cut}");
                }
            }
        }
    }

    #[test]
    fn oversized_records_are_rejected_without_reading_them() {
        let mut b = classic(false, false, 1, &[]);
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&(MAX_RECORD_LEN as u32 + 1).to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        let (_, err) = with_reader(&b, false);
        assert!(
            matches!(err, Some(CaptureError::Malformed { offset: 24, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn pcapng_block_lengths_are_checked_before_buffering() {
        // A Section Header Block claiming 0xfffffff0 bytes, then nothing:
        // refused at once (it used to be buffered until the end of input).
        for (magic, len) in [
            ([0x4d, 0x3c, 0x2b, 0x1a], 0xffff_fff0u32.to_le_bytes()),
            ([0x1a, 0x2b, 0x3c, 0x4d], 0xffff_fff0u32.to_be_bytes()),
        ] {
            let mut b = PCAPNG_SHB.to_vec();
            b.extend_from_slice(&len);
            b.extend_from_slice(&magic);
            b.extend_from_slice(&[0; 16]);
            let (frames, err) = with_reader(&b, false);
            assert!(frames.is_empty());
            assert!(
                matches!(&err, Some(CaptureError::Malformed { offset: 0, message }) if message.contains("exceeds")),
                "{err:?}"
            );
        }
        // A length that is not a multiple of 4.
        let mut b = PCAPNG_SHB.to_vec();
        b.extend_from_slice(&30u32.to_le_bytes());
        b.extend_from_slice(&[0x4d, 0x3c, 0x2b, 0x1a]);
        b.extend_from_slice(&[0; 24]);
        let (_, err) = with_reader(&b, false);
        assert!(
            matches!(&err, Some(CaptureError::Malformed { offset: 0, message }) if message.contains("multiple of 4")),
            "{err:?}"
        );
    }

    #[test]
    fn ticks() {
        assert_eq!(
            ticks_to_time(1_500_000, 1_000_000, 0),
            Some(Timestamp {
                secs: 1,
                nanos: 500_000_000
            })
        );
        assert_eq!(ticks_to_time(u64::MAX, 1, i64::MAX), None);
    }
}
