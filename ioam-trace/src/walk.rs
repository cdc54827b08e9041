//! The front door from packet bytes: every IOAM option of an IPv6 packet,
//! each with its body decoded into one typed enum.
//!
//! [`IoamPacket`] walks the extension-header chain and the options of every
//! Hop-by-Hop and Destination Options header (through
//! `ioam_wire::packet::IoamOptions`); each item is an [`IoamItem`] whose
//! [`body`](IoamItem::body) is an [`OptionBody`]: a [`Trace`] for the two
//! trace types, the `ioam_wire` value for POT, E2E, DEX and the
//! integrity-protected options, the raw bytes for anything else.
//!
//! **Offsets.** Every offset an item, a body error or a record error of
//! its trace reports counts from the first byte of the IPv6 header; the
//! walk shifts them once. ([`NodeRecord`](crate::NodeRecord) offsets stay
//! relative to the trace body, [`Trace::body`].)
//!
//! **Errors.** An error of the chain or of an options area ends the walk
//! (it is the last item); an error in one option's body is returned by that
//! item's [`body`](IoamItem::body) and the walk goes on to the next option.
//! Both are [`TraceError`]s, which answer the questions of
//! [`Diagnostic`].
//!
//! ```
//! use ioam_trace::{IoamPacket, Mode, OptionBody};
//!
//! // IPv6 | Hop-by-Hop: PadN(0), IOAM pre-allocated trace (namespace 123,
//! // type 0x800000, one record written by node 1 with hop limit 63) | UDP.
//! let mut packet = vec![0x60, 0, 0, 0, 0, 32, 0, 64];
//! packet.extend_from_slice(&[0; 32]); // addresses
//! packet.extend_from_slice(&[17, 2, 1, 0, 0x31, 14, 0, 0]);
//! packet.extend_from_slice(&[0x00, 0x7b, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00]);
//! packet.extend_from_slice(&[63, 0, 0, 1]);
//! packet.extend_from_slice(&[0, 0, 0, 0]); // end of the Hop-by-Hop header
//! packet.extend_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, 8, 0, 0]);
//!
//! for item in IoamPacket::new(&packet, Mode::Strict)? {
//!     let item = item?;
//!     assert_eq!(item.body_offset(), 48);
//!     let OptionBody::PreallocatedTrace(trace) = item.body()? else { panic!() };
//!     assert_eq!(trace.namespace_id(), 123);
//!     let hops: Vec<_> = trace.records_path_order().map(|r| r.unwrap().node_id()).collect();
//!     assert_eq!(hops, [Some(1)]);
//! }
//! # Ok::<(), ioam_trace::TraceError>(())
//! ```

use core::iter::FusedIterator;

use ioam_wire::body::IoamBody;
use ioam_wire::dex::{DexLayout, DexRepr};
use ioam_wire::e2e::E2eRepr;
use ioam_wire::error::Diagnostic;
use ioam_wire::ext::{ChainEnd, ExtKind};
use ioam_wire::integrity::{IntegrityRepr, ProtectedOption};
use ioam_wire::ioam::{IoamOption, IoamType, Placement};
use ioam_wire::packet::IoamOptions;
use ioam_wire::pot::PotRepr;
use ioam_wire::{Mode, WireError};

use crate::error::TraceError;
use crate::header::{TRACE_DATA_MAX, TRACE_HEADER_LEN};
use crate::trace::{Trace, TraceKind};

/// The body of an IOAM option, decoded by its IOAM Option-Type
/// (RFC 9197 §4, RFC 9326, draft-ietf-ippm-ioam-data-integrity).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionBody<'a> {
    /// IOAM-Type 0.
    PreallocatedTrace(Trace<'a>),
    /// IOAM-Type 1.
    IncrementalTrace(Trace<'a>),
    /// IOAM-Type 2.
    Pot(PotRepr<'a>),
    /// IOAM-Type 3.
    E2e(E2eRepr<'a>),
    /// IOAM-Type 4, Extension-Flags in the order of
    /// [`WalkConfig::dex_layout`].
    Dex(DexRepr),
    /// IOAM-Types 64-67; [`IntegrityRepr::protected`] decodes the
    /// protected option.
    Integrity(IntegrityRepr<'a>),
    /// Any other IOAM-Type: the body bytes, kept as they are.
    Unknown {
        /// The IOAM Option-Type.
        ioam_type: IoamType,
        /// The body (after Reserved and IOAM Option-Type).
        data: &'a [u8],
    },
}

/// How a walk decodes what it finds. `Mode::Strict.into()` is the usual
/// value; the default is strict with the RFC 9326 DEX layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WalkConfig {
    /// Strict (Linux) or lenient (RFC) checks, for the options areas and
    /// the traces.
    pub mode: Mode,
    /// The Extension-Flags order of DEX bodies (RFC 9326 unless a capture
    /// is known to use the pre-RFC order).
    pub dex_layout: DexLayout,
}

impl From<Mode> for WalkConfig {
    fn from(mode: Mode) -> Self {
        WalkConfig {
            mode,
            ..WalkConfig::default()
        }
    }
}

impl<'a> OptionBody<'a> {
    /// Decodes the body of `option` by its IOAM Option-Type. Error offsets
    /// count from wherever `option`'s offsets count from (the header the
    /// option is in, or the packet after `IoamOption::with_base`); a trace's
    /// record errors too ([`Trace::with_base`]).
    ///
    /// Adding an IOAM Option-Type is one module in `ioam_wire` with its
    /// value type, one variant here and one arm in this match.
    ///
    /// # Errors
    /// The error of the body's parser, wrapped in a [`TraceError`].
    #[inline]
    pub fn decode(option: &IoamOption<'a>, cfg: &WalkConfig) -> Result<Self, TraceError> {
        let mode = cfg.mode;
        let base = option.body_offset;
        let body = option.body;
        let at = |e: TraceError| e.with_base(base);
        let wire = |e: WireError| TraceError::Wire(e.with_base(base));
        Ok(match option.ioam_type {
            IoamType::PreallocatedTrace => OptionBody::PreallocatedTrace(
                Trace::parse(body, mode, TraceKind::Preallocated)
                    .map_err(at)?
                    .with_base(base),
            ),
            IoamType::IncrementalTrace => OptionBody::IncrementalTrace(
                Trace::parse(body, mode, TraceKind::Incremental)
                    .map_err(at)?
                    .with_base(base),
            ),
            t @ IoamType::ProofOfTransit => {
                OptionBody::Pot(PotRepr::decode(t, body).map_err(wire)?)
            }
            t @ IoamType::EdgeToEdge => OptionBody::E2e(E2eRepr::decode(t, body).map_err(wire)?),
            IoamType::DirectExport => {
                OptionBody::Dex(DexRepr::parse_bytes_with(body, cfg.dex_layout).map_err(wire)?)
            }
            t @ (IoamType::IntegrityPreallocatedTrace
            | IoamType::IntegrityIncrementalTrace
            | IoamType::IntegrityProofOfTransit
            | IoamType::IntegrityEdgeToEdge) => {
                OptionBody::Integrity(IntegrityRepr::decode(t, body).map_err(wire)?)
            }
            ioam_type => OptionBody::Unknown {
                ioam_type,
                data: body,
            },
        })
    }

    /// The trace, for the two trace types.
    #[must_use]
    pub const fn trace(&self) -> Option<&Trace<'a>> {
        match self {
            OptionBody::PreallocatedTrace(t) | OptionBody::IncrementalTrace(t) => Some(t),
            _ => None,
        }
    }
}

/// One IOAM option of a packet, found by [`IoamPacket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoamItem<'a> {
    /// The kind of header the option is in.
    pub header: ExtKind,
    /// Offset of that header from the packet start.
    pub header_offset: usize,
    /// The option, with offsets from the packet start.
    pub option: IoamOption<'a>,
    cfg: WalkConfig,
}

impl<'a> IoamItem<'a> {
    /// The IOAM Option-Type.
    #[must_use]
    pub const fn ioam_type(&self) -> IoamType {
        self.option.ioam_type
    }

    /// Offset of the option's type byte from the packet start.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.option.offset
    }

    /// Offset of the option body (its Namespace-ID) from the packet start.
    #[must_use]
    pub const fn body_offset(&self) -> usize {
        self.option.body_offset
    }

    /// Whether the option code and header suit the IOAM type (RFC 9486
    /// §4): a finding to report, not an error.
    #[must_use]
    pub const fn placement(&self) -> Placement {
        self.option.placement(self.header)
    }

    /// The body, decoded with the walk's [`WalkConfig`]; error offsets
    /// count from the packet start.
    ///
    /// # Errors
    /// As [`OptionBody::decode`].
    #[inline]
    pub fn body(&self) -> Result<OptionBody<'a>, TraceError> {
        OptionBody::decode(&self.option, &self.cfg)
    }

    /// The configuration of the walk that found the option.
    #[must_use]
    pub const fn config(&self) -> &WalkConfig {
        &self.cfg
    }
}

/// Every IOAM option of an IPv6 packet, in packet order, across its
/// Hop-by-Hop and Destination Options headers. See the [module
/// docs](self).
#[derive(Debug, Clone)]
pub struct IoamPacket<'a> {
    inner: IoamOptions<'a>,
    cfg: WalkConfig,
}

impl<'a> IoamPacket<'a> {
    /// Starts the walk of `packet`, which begins with its IPv6 header.
    ///
    /// # Errors
    /// [`TraceError::Wire`] when the IPv6 header is truncated or not
    /// version 6.
    pub fn new(packet: &'a [u8], mode: Mode) -> Result<Self, TraceError> {
        Self::with_config(packet, mode.into())
    }

    /// [`IoamPacket::new`] with every setting of a [`WalkConfig`].
    ///
    /// # Errors
    /// As [`IoamPacket::new`].
    pub fn with_config(packet: &'a [u8], cfg: WalkConfig) -> Result<Self, TraceError> {
        Ok(IoamPacket {
            inner: IoamOptions::new(packet, cfg.mode)?,
            cfg,
        })
    }

    /// Where the extension-header chain ended (upper-layer protocol and
    /// its offset), once the walk has returned `None` without an error.
    #[must_use]
    pub const fn end(&self) -> Option<ChainEnd> {
        self.inner.end()
    }
}

impl<'a> Iterator for IoamPacket<'a> {
    type Item = Result<IoamItem<'a>, TraceError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.inner.next()? {
            Ok(found) => Ok(IoamItem {
                header: found.header,
                header_offset: found.header_offset,
                option: found.absolute(),
                cfg: self.cfg,
            }),
            Err(e) => Err(TraceError::Wire(e)),
        })
    }
}

impl FusedIterator for IoamPacket<'_> {}

/// The trace inside an integrity-protected trace option (IOAM types 64 and
/// 65): the 8-byte trace header and the node data, which the integrity
/// header, nonce and ICV separate, copied into one standard trace body (at
/// most 252 bytes, inline) so that [`Trace`] can read it.
///
/// Offsets reported by [`ProtectedTrace::trace`] (parse and record errors)
/// are the offsets of the bytes in the original option body, counted from
/// where the option's offsets count from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ProtectedTrace {
    buf: [u8; TRACE_HEADER_LEN + TRACE_DATA_MAX],
    len: usize,
    kind: TraceKind,
    /// Offset of the body (and of the trace header) in the outer buffer.
    base: usize,
    /// Offset of the node data in the outer buffer.
    data_base: usize,
}

impl ProtectedTrace {
    /// The protected trace of `opt`, the decoded body of `item` (as
    /// [`IoamItem::body`] gave it), when it is an integrity-protected trace
    /// whose parts the method locates: `None` for a protected POT or E2E
    /// and for an unknown method.
    ///
    /// # Errors
    /// [`TraceError::DataTooLong`] for node data longer than a trace holds.
    pub fn of(item: &IoamItem<'_>, opt: &IntegrityRepr<'_>) -> Option<Result<Self, TraceError>> {
        let (kind, parts) = match opt.protected()?.ok()? {
            ProtectedOption::PreallocatedTrace(p) => (TraceKind::Preallocated, p),
            ProtectedOption::IncrementalTrace(p) => (TraceKind::Incremental, p),
            _ => return None,
        };
        let base = item.body_offset();
        let data_base = base + opt.data_offset()?;
        let mut buf = [0u8; TRACE_HEADER_LEN + TRACE_DATA_MAX];
        let Some(data_out) = buf.get_mut(TRACE_HEADER_LEN..TRACE_HEADER_LEN + parts.data.len())
        else {
            return Some(Err(TraceError::DataTooLong {
                offset: data_base,
                len: parts.data.len(),
                max: TRACE_DATA_MAX,
            }));
        };
        data_out.copy_from_slice(parts.data);
        buf[..TRACE_HEADER_LEN].copy_from_slice(parts.header.get(..TRACE_HEADER_LEN)?);
        Some(Ok(ProtectedTrace {
            buf,
            len: TRACE_HEADER_LEN + parts.data.len(),
            kind,
            base,
            data_base,
        }))
    }

    /// The standard trace body: the trace header, then the node data.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The trace, parsed in `mode`, with offsets mapped back to the option.
    ///
    /// # Errors
    /// The errors of [`Trace::parse`].
    pub fn trace(&self, mode: Mode) -> Result<Trace<'_>, TraceError> {
        let data_shift = self.data_base - TRACE_HEADER_LEN;
        Trace::parse(&self.buf[..self.len], mode, self.kind)
            .map(|t| t.with_base(data_shift))
            .map_err(|e| match Diagnostic::offset(&e) {
                Some(o) if o >= TRACE_HEADER_LEN => e.with_base(data_shift),
                _ => e.with_base(self.base),
            })
    }
}

impl core::fmt::Debug for ProtectedTrace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProtectedTrace")
            .field("kind", &self.kind)
            .field("body", &&self.buf[..self.len])
            .field("base", &self.base)
            .field("data_base", &self.data_base)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioam_wire::error::Diagnostic;

    /// IPv6 | HbH (trace 0x800000, 2 records, the second cut) | DO (E2E) | UDP.
    fn packet() -> alloc::vec::Vec<u8> {
        let mut p = alloc::vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        p.extend_from_slice(&[0; 32]);
        // HbH at 40: NH 60, HEL 2 (24 bytes): PadN(0) | 0x31 len 18 | body 16.
        p.extend_from_slice(&[60, 2, 1, 0, 0x31, 18, 0, 0]);
        // Trace: ns 7, NodeLen 2 (but type 0x800000 needs 1: lenient only).
        p.extend_from_slice(&[0, 7, 0x10, 0, 0x80, 0, 0, 0]);
        p.extend_from_slice(&[63, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]);
        // DO at 64: NH 17, HEL 1: PadN(0) | 0x11 len 10 | E2E ns 7 type 0x4000 seq 9.
        p.extend_from_slice(&[17, 1, 1, 0, 0x11, 10, 0, 3, 0, 7, 0x40, 0, 0, 0, 0, 9]);
        p.extend_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, 8, 0, 0]);
        let plen = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&plen.to_be_bytes());
        p
    }

    #[test]
    fn walks_every_option_with_packet_offsets() {
        let p = packet();
        let items: alloc::vec::Vec<_> = IoamPacket::new(&p, Mode::Lenient)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].header, ExtKind::HopByHop);
        assert_eq!((items[0].offset(), items[0].body_offset()), (44, 48));
        let OptionBody::PreallocatedTrace(t) = items[0].body().unwrap() else {
            panic!("not a trace")
        };
        assert_eq!(t.base(), 48);
        let hops: alloc::vec::Vec<_> = t.records().map(|r| r.unwrap().node_id()).collect();
        assert_eq!(hops, [Some(1)]);
        let OptionBody::E2e(e2e) = items[1].body().unwrap() else {
            panic!("not E2E")
        };
        assert_eq!(e2e.namespace_id, 7);
        assert_eq!(items[1].body_offset(), 72);
    }

    #[test]
    fn body_errors_count_from_the_packet_start() {
        let p = packet();
        // Strict: NodeLen 2 for type 0x800000 is refused at the NodeLen byte.
        let item = IoamPacket::new(&p, Mode::Strict)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let e = item.body().unwrap_err();
        assert_eq!(e.offset(), Some(48 + 2));
        assert_eq!(e.layer(), "trace option header");
        // NodeLen counts words: 1 required, 2 found.
        assert_eq!(e.lengths().map(|l| (l.required, l.actual)), Some((1, 2)));

        // A record cut short: its error names the record and the packet offset.
        let mut q = p.clone();
        q[48 + 2] = 0x18; // NodeLen 3: 12 bytes per record, 8 present
        let item = IoamPacket::new(&q, Mode::Lenient)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let trace = *item.body().unwrap().trace().unwrap();
        let e = trace.records().last().unwrap().unwrap_err();
        assert_eq!(e.offset(), Some(56));
        assert_eq!(e.hop(), Some(0));
        assert_eq!(e.lengths().map(|l| (l.required, l.actual)), Some((12, 8)));
        let e2 = trace.records_path_order().next().unwrap().unwrap_err();
        assert_eq!(e2, e);

        // A malformed E2E body: the walk goes on past it.
        let mut r = p.clone();
        r[74] = 0xc0; // bits 0 and 1: both sequence numbers
        let mut it = IoamPacket::new(&r, Mode::Lenient).unwrap();
        let _ = it.next();
        let e = it.next().unwrap().unwrap().body().unwrap_err();
        assert_eq!(e.offset(), Some(74));
        assert!(matches!(e, TraceError::Wire(_)));
        assert!(it.next().is_none());
        assert_eq!(it.end().map(|e| (e.protocol, e.offset)), Some((17, 80)));
    }

    #[test]
    fn chain_errors_end_the_walk() {
        let p = packet();
        let cut = &p[..60];
        let mut it = IoamPacket::new(cut, Mode::Lenient).unwrap();
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.offset(), Some(40));
        assert_eq!(e.layer(), "Hop-by-Hop Options header");
        assert!(it.next().is_none());
        assert!(IoamPacket::new(&p[..39], Mode::Strict).is_err());
    }
}
