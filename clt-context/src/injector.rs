//! The bytes a CLT sender hands to the kernel: a complete Hop-by-Hop
//! extension header for `setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS, ..)` or an
//! `IPV6_HOPOPTS` ancillary message (RFC 3542; Linux needs CAP_NET_RAW for it).
//!
//! The header holds one IOAM Pre-allocated Trace option (RFC 9486 §4,
//! RFC 9197 §4.4) in the layout the Linux encapsulator uses:
//!
//! ```text
//! NH HEL | 01 00 | 31 LEN 00 00 | trace header (8) | free space | sender's record | [01 02 00 00]
//! ```
//!
//! The free space is sized for `extra_hops` more nodes; the sender's own
//! record is already written at the end of the data area (as the first node
//! of the path), with the values it knows and "unavailable" (all ones) for
//! the others, and its opaque state snapshot carries the span context
//! ([`crate::oss`], schema v1). Linux transit nodes with IOAM enabled for the
//! namespace then add their records in front of it.
//!
//! The [`Encoding::Legacy`] variant writes the 32-byte trace header of the
//! original CLT kernel patch ([`crate::legacy`]) instead; the sender's record
//! then carries no CLT snapshot.
//!
//! The trace is built by `ioam_trace::encap::PreallocatedTraceBuilder` (the
//! sender's record written by the transit writer, the framing by
//! `ioam_wire::build::ioam_header`), so the result is exactly what those
//! layers produce and parse.

use core::fmt;

use ioam_trace::encap::PreallocatedTraceBuilder;
use ioam_trace::writer::check_encap_trace_type;
use ioam_trace::{NodeData, TraceType, TRACE_DATA_MAX, TRACE_HEADER_LEN};
use ioam_wire::build::{ioam_header, ioam_header_len, IOAM_HEADER_BODY_OFFSET};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::WireError;

use crate::error::CltError;
use crate::id::SpanContext;
use crate::legacy::{to_legacy_body, LegacyIds, LEGACY_DATA_MAX, LEGACY_IDS_LEN};
use crate::oss::{encode, CLT_SCHEMA_ID, OSS_DATA_LEN, SCHEMA_ID_MAX};

/// The largest Hop-by-Hop header the injector builds: 252-byte option body
/// (RFC 9486: Opt Data Len at most 254 with 4n alignment), 8 bytes of
/// framing, padded to 8n.
pub const HBH_MAX_LEN: usize = 264;

/// Next Header value written by default. The kernel overwrites the Next
/// Header byte of an `IPV6_HOPOPTS` header, so the value does not matter;
/// 59 (No Next Header) is what a stand-alone header would carry.
pub const DEFAULT_NEXT_HEADER: u8 = ioam_wire::proto::NO_NEXT;

/// Where the span context goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Encoding {
    /// In the opaque state snapshot of the sender's record (the crate README's schema v1):
    /// standard RFC 9197, needs trace-type bit 22.
    #[default]
    Oss,
    /// In the 32-byte legacy CLT trace header ([`crate::legacy`]). Only receivers
    /// told to expect it can read the trace.
    Legacy,
}

/// Builds the Hop-by-Hop header of a CLT sender. See the module docs.
///
/// ```
/// use clt_context::injector::HopByHopInjector;
/// use clt_context::{find_context, SpanContext, CLT_SCHEMA_ID};
/// use ioam_trace::{NodeData, Trace, TraceType, Mode};
///
/// let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// let trace_type = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE; // 0x800002
/// let sender = NodeData { hop_limit: 64, node_id: 1, ..NodeData::unavailable() };
/// let inj = HopByHopInjector { namespace_id: 123, trace_type, extra_hops: 3, sender, ctx, ..Default::default() };
///
/// let hbh = inj.build()?;
/// // 8 framing bytes + 8 header bytes + 3 hops * 8 + sender 36 = 76, padded to 80.
/// assert_eq!(hbh.len(), 80);
/// assert_eq!(&hbh[..8], &[59, 9, 0x01, 0x00, 0x31, 70, 0x00, 0x00]);
///
/// // The trace body decodes back to the same context, in hop 1.
/// let trace = Trace::parse_preallocated(&hbh[8..76], Mode::Strict)?;
/// assert_eq!(find_context(&trace, CLT_SCHEMA_ID).context(), Some(ctx));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HopByHopInjector<'a> {
    /// The IOAM namespace.
    pub namespace_id: u16,
    /// The trace type (no undefined bit 12-21, no bit 23; bit 22 for
    /// [`Encoding::Oss`]).
    pub trace_type: TraceType,
    /// Free space to reserve: room for this many more nodes (see also
    /// `free_bytes`).
    pub extra_hops: usize,
    /// Free space to reserve in bytes (a multiple of 4), instead of
    /// `extra_hops` nodes: for paths whose nodes write records of different
    /// sizes (opaque state of their own schema), as iproute2's `size` does.
    pub free_bytes: Option<usize>,
    /// Words of opaque state each further node adds under bit 22 (1 for a
    /// Linux node without a schema: the word 0x00ffffff). Ignored without
    /// bit 22.
    pub hop_oss_words: usize,
    /// The sender's own values. Its `oss` is replaced by the CLT snapshot
    /// ([`Encoding::Oss`]) or kept as given ([`Encoding::Legacy`]).
    pub sender: NodeData<'a>,
    /// The span context to carry.
    pub ctx: SpanContext,
    /// The CLT schema ID of the namespace ([`Encoding::Oss`]).
    pub schema_id: u32,
    /// Where the context goes.
    pub encoding: Encoding,
    /// The Next Header byte (the kernel overwrites it).
    pub next_header: u8,
}

/// A built Hop-by-Hop header, inline (no allocation). Derefs to its bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HopByHopBytes {
    buf: [u8; HBH_MAX_LEN],
    len: usize,
    slot: ContextSlot,
}

impl HopByHopBytes {
    /// The header bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Replaces the span context: afterwards the bytes are exactly what the
    /// injector that built them gives with `ctx` (the per-packet fast path:
    /// 25 bytes written, nothing checked again). See
    /// [`HopByHopInjector::build`].
    #[inline]
    pub fn set_context(&mut self, ctx: &SpanContext) {
        self.slot.patch(&mut self.buf, ctx);
    }

    /// Where the span context sits in these bytes.
    pub const fn context_slot(&self) -> ContextSlot {
        self.slot
    }
}

impl core::ops::Deref for HopByHopBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for HopByHopBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for HopByHopBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HopByHopBytes")
            .field(&self.as_bytes())
            .finish()
    }
}

/// The sizes of an injector's trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Bytes of the sender's record.
    pub sender_record: usize,
    /// Bytes each further hop adds.
    pub per_hop: usize,
    /// Node-data area: free space plus the sender's record.
    pub data_len: usize,
    /// Free space in bytes (RemainingLen × 4 after the sender's write).
    pub free: usize,
    /// The IOAM option body (trace header, ids for legacy, data).
    pub body_len: usize,
    /// The whole Hop-by-Hop header.
    pub header_len: usize,
}

/// The trace type of [`HopByHopInjector::default`]: hop limit and node id,
/// interface ids, timestamp seconds and fraction, and the opaque state
/// (bits 0-3 and 22, 0xf00002), so a trace shows where the time went.
pub const DEFAULT_TRACE_TYPE: TraceType = TraceType::from_bits_truncate(0xf0_0002);

/// Room for further nodes in [`HopByHopInjector::default`].
pub const DEFAULT_EXTRA_HOPS: usize = 8;

impl Default for HopByHopInjector<'_> {
    /// Namespace 0, [`DEFAULT_TRACE_TYPE`], room for [`DEFAULT_EXTRA_HOPS`]
    /// nodes with one opaque state word each (a Linux node without a
    /// schema), a sender whose values are all "unavailable", the all-zero
    /// (invalid) span context, [`CLT_SCHEMA_ID`], [`Encoding::Oss`], Next
    /// Header 59. Set the fields that matter and keep the rest:
    /// `HopByHopInjector { namespace_id, ctx, ..Default::default() }`.
    fn default() -> Self {
        Self {
            namespace_id: 0,
            trace_type: DEFAULT_TRACE_TYPE,
            extra_hops: DEFAULT_EXTRA_HOPS,
            free_bytes: None,
            hop_oss_words: 1,
            sender: NodeData::unavailable(),
            ctx: SpanContext::new(
                crate::TraceId([0; 16]),
                crate::SpanId([0; 8]),
                crate::TraceFlags(0),
            ),
            schema_id: CLT_SCHEMA_ID,
            encoding: Encoding::Oss,
            next_header: DEFAULT_NEXT_HEADER,
        }
    }
}

impl<'a> HopByHopInjector<'a> {
    fn data_max(&self) -> usize {
        match self.encoding {
            Encoding::Oss => TRACE_DATA_MAX,
            Encoding::Legacy => LEGACY_DATA_MAX,
        }
    }

    fn per_hop(&self) -> usize {
        let oss = if self.trace_type.has_oss() {
            self.hop_oss_words.saturating_mul(4)
        } else {
            0
        };
        (usize::from(self.trace_type.node_len()) * 4).saturating_add(oss)
    }

    /// Checks the parameters; returns the sender's values with the CLT
    /// snapshot in place (for [`Encoding::Oss`]).
    fn sender_node<'d>(&self, data: &'d [u8; OSS_DATA_LEN]) -> Result<NodeData<'d>, CltError>
    where
        'a: 'd,
    {
        check_encap_trace_type(self.trace_type)?;
        let mut node = self.sender;
        if self.encoding == Encoding::Oss {
            if !self.trace_type.has_oss() {
                return Err(CltError::NoOssBit {
                    trace_type: self.trace_type,
                });
            }
            if self.schema_id > SCHEMA_ID_MAX {
                return Err(CltError::SchemaIdOutOfRange {
                    schema_id: self.schema_id,
                });
            }
            node.oss = Some((self.schema_id, &data[..]));
        }
        node.check(self.trace_type)?;
        Ok(node)
    }

    /// Checks the parameters and computes the sizes once: the layout and the
    /// sender's values (with the CLT snapshot `data` in place for
    /// [`Encoding::Oss`]).
    fn prepare<'d>(&self, data: &'d [u8; OSS_DATA_LEN]) -> Result<(Layout, NodeData<'d>), CltError>
    where
        'a: 'd,
    {
        let node = self.sender_node(data)?;
        let sender_record = node.record_len(self.trace_type);
        let per_hop = self.per_hop();
        let free = match self.free_bytes {
            Some(b) if b % 4 != 0 => return Err(CltError::FreeSpaceNotWords { free: b }),
            Some(b) => b,
            None => self.extra_hops.saturating_mul(per_hop),
        };
        let data_len = free.saturating_add(sender_record);
        let max = self.data_max();
        if data_len > max {
            return Err(CltError::TooLarge {
                required: data_len,
                max,
                sender_record,
                per_hop,
            });
        }
        let body_len = TRACE_HEADER_LEN
            + data_len
            + match self.encoding {
                Encoding::Oss => 0,
                Encoding::Legacy => LEGACY_IDS_LEN,
            };
        let layout = Layout {
            sender_record,
            per_hop,
            data_len,
            free,
            body_len,
            header_len: ioam_header_len(body_len)?,
        };
        Ok((layout, node))
    }

    /// Computes the sizes, checking that everything fits.
    pub fn layout(&self) -> Result<Layout, CltError> {
        let data = encode(&self.ctx);
        self.prepare(&data).map(|(layout, _)| layout)
    }

    /// Where the span context sits in the header this injector builds, for
    /// patching it per packet ([`ContextSlot::apply`],
    /// [`HopByHopBytes::set_context`]). Fails exactly when
    /// [`build`](Self::build) fails for want of a valid configuration.
    pub fn context_slot(&self) -> Result<ContextSlot, CltError> {
        self.layout().map(|l| self.slot(&l))
    }

    /// The context slot for a checked layout.
    fn slot(&self, layout: &Layout) -> ContextSlot {
        let header_len = layout.header_len;
        match self.encoding {
            // The sender's record ends the data area; its snapshot follows
            // the NodeLen fixed words, and the data its 4-byte header.
            Encoding::Oss => ContextSlot {
                at: BODY_OFFSET
                    + TRACE_HEADER_LEN
                    + layout.free
                    + usize::from(self.trace_type.node_len()) * 4
                    + 4,
                header_len,
                encoding: Encoding::Oss,
            },
            Encoding::Legacy => ContextSlot {
                at: BODY_OFFSET + TRACE_HEADER_LEN,
                header_len,
                encoding: Encoding::Legacy,
            },
        }
    }

    /// The most further hops that fit with the sender's record.
    pub fn max_extra_hops(&self) -> Result<usize, CltError> {
        let probe = Self {
            extra_hops: 0,
            free_bytes: None,
            ..*self
        };
        let l = probe.layout()?;
        let room = self.data_max() - l.sender_record;
        Ok(room.checked_div(l.per_hop).unwrap_or(0))
    }

    /// Bytes of the Hop-by-Hop header.
    pub fn buffer_len(&self) -> Result<usize, CltError> {
        self.layout().map(|l| l.header_len)
    }

    /// Writes the Hop-by-Hop header at the start of `buf`; returns its
    /// length. Bytes of `buf` after it are not touched.
    ///
    /// For a stream of packets that differ only in their span context, build
    /// once and patch per packet with [`HopByHopBytes::set_context`] or
    /// [`ContextSlot::apply`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, CltError> {
        let data = encode(&self.ctx);
        let (layout, node) = self.prepare(&data)?;
        self.emit_prepared(&layout, &node, buf)
    }

    /// [`emit`](Self::emit) with the layout and sender's values computed.
    fn emit_prepared(
        &self,
        layout: &Layout,
        node: &NodeData<'_>,
        buf: &mut [u8],
    ) -> Result<usize, CltError> {
        let builder =
            PreallocatedTraceBuilder::new(self.namespace_id, self.trace_type, layout.data_len)
                .with_originator(node)
                .with_next_header(self.next_header);
        match self.encoding {
            Encoding::Oss => Ok(builder.emit(buf)?),
            Encoding::Legacy => {
                let mut standard = [0u8; TRACE_HEADER_LEN + TRACE_DATA_MAX];
                let std_len = builder.emit_body(&mut standard)?;
                let ids = LegacyIds::from(self.ctx);
                let (len, res) = ioam_header(
                    buf,
                    self.next_header,
                    OPT_IOAM,
                    IoamType::PreallocatedTrace,
                    layout.body_len,
                    |body| to_legacy_body(&standard[..std_len], &ids, body),
                )?;
                res?;
                Ok(len)
            }
        }
    }

    /// Builds the Hop-by-Hop header into an inline buffer.
    ///
    /// The result remembers where the span context sits, so the header of
    /// a later packet is [`HopByHopBytes::set_context`] away:
    ///
    /// ```
    /// use clt_context::injector::HopByHopInjector;
    /// use clt_context::SpanContext;
    /// use ioam_trace::{NodeData, TraceType};
    ///
    /// let first: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
    /// let next: SpanContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00".parse()?;
    /// let t = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE;
    /// let sender = NodeData { hop_limit: 64, node_id: 1, ..NodeData::unavailable() };
    /// let mut inj = HopByHopInjector { namespace_id: 123, trace_type: t, extra_hops: 3, sender, ctx: first, ..Default::default() };
    ///
    /// let mut hbh = inj.build()?; // once per socket
    /// hbh.set_context(&next); // per packet: 25 bytes patched
    ///
    /// inj.ctx = next;
    /// assert_eq!(hbh, inj.build()?);
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    pub fn build(&self) -> Result<HopByHopBytes, CltError> {
        let data = encode(&self.ctx);
        let (layout, node) = self.prepare(&data)?;
        let mut buf = [0u8; HBH_MAX_LEN];
        let len = self.emit_prepared(&layout, &node, &mut buf)?;
        Ok(HopByHopBytes {
            buf,
            len,
            slot: self.slot(&layout),
        })
    }
}

/// Where a built header carries the span context, from
/// [`HopByHopInjector::context_slot`]: a header of the same injector with
/// another context differs only there.
///
/// With [`Encoding::Oss`] the slot is the snapshot data of the sender's
/// record (trace id, span id, flags: schema v1); with [`Encoding::Legacy`]
/// the 24 id bytes of the legacy trace header (trace id, span id: [`crate::legacy`];
/// that header has no flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContextSlot {
    /// Offset of the trace id from the start of the Hop-by-Hop header.
    at: usize,
    /// Length of the whole header.
    header_len: usize,
    /// Which layout the slot has.
    encoding: Encoding,
}

impl ContextSlot {
    /// Offset of the trace id from the start of the Hop-by-Hop header; the
    /// span id follows it (16 bytes on), then, for [`Encoding::Oss`], the
    /// flags byte (24 bytes on).
    pub const fn offset(&self) -> usize {
        self.at
    }

    /// Length of the Hop-by-Hop header the slot belongs to.
    pub const fn header_len(&self) -> usize {
        self.header_len
    }

    /// Where the context goes.
    pub const fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Writes `ctx` into `header`, a Hop-by-Hop header built by the
    /// injector this slot came from (its first [`header_len`](Self::header_len)
    /// bytes): afterwards it is byte for byte what that injector builds
    /// with `ctx`. Only the context bytes are written.
    pub fn apply(&self, header: &mut [u8], ctx: &SpanContext) -> Result<(), CltError> {
        let actual = header.len();
        let header =
            header
                .get_mut(..self.header_len)
                .ok_or(CltError::Wire(WireError::BufferTooSmall {
                    required: self.header_len,
                    actual,
                }))?;
        self.patch(header, ctx);
        Ok(())
    }

    /// Patches a header known to be at least `header_len` bytes long. The
    /// slot lies inside the header by construction; `get_mut` keeps a
    /// mismatched header from panicking (nothing is written then).
    #[inline]
    fn patch(&self, header: &mut [u8], ctx: &SpanContext) {
        match self.encoding {
            Encoding::Oss => {
                if let Some(d) = header
                    .get_mut(self.at..self.at + 25)
                    .and_then(|d| <&mut [u8; 25]>::try_from(d).ok())
                {
                    d[..16].copy_from_slice(&ctx.trace_id.0);
                    d[16..24].copy_from_slice(&ctx.span_id.0);
                    d[24] = ctx.flags.0;
                }
            }
            Encoding::Legacy => {
                if let Some(d) = header
                    .get_mut(self.at..self.at + LEGACY_IDS_LEN)
                    .and_then(|d| <&mut [u8; LEGACY_IDS_LEN]>::try_from(d).ok())
                {
                    d[..16].copy_from_slice(&ctx.trace_id.0);
                    d[16..].copy_from_slice(&ctx.span_id.0);
                }
            }
        }
    }
}

/// Offset of the IOAM option body (the trace's Namespace-ID) in a header
/// built by [`HopByHopInjector`].
pub const BODY_OFFSET: usize = IOAM_HEADER_BODY_OFFSET;

#[cfg(test)]
#[path = "injector_tests.rs"]
mod tests;
