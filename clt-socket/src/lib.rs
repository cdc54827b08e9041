#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

use core::fmt;
use std::io;
use std::net::SocketAddrV6;
use std::os::fd::AsFd;
use std::time::{SystemTime, UNIX_EPOCH};

use clt_context::injector::{Encoding, HopByHopInjector};
use clt_context::{CltError, SpanContext, CLT_SCHEMA_ID};
use ioam_trace::{NodeData, TraceType};

#[cfg(target_os = "linux")]
mod sys;

/// The default trace type: hop limit and node id, ingress and egress
/// interface ids, timestamp seconds and fraction (bits 0-3) and the opaque
/// state (bit 22): enough to see where the time went.
pub const DEFAULT_TRACE_TYPE: u32 = 0xf0_0002;

/// The default room: 8 routers after the sender.
pub const DEFAULT_HOPS: usize = 8;

/// How much room to leave for the routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Room for this many routers, each writing a record of the trace type
    /// (with one word of opaque state under bit 22, what a Linux router
    /// without a schema writes).
    Hops(usize),
    /// This many bytes of node data in all, the sender's record included
    /// (iproute2's `size`): for paths whose routers add opaque state of
    /// their own schema. A multiple of 4, at most 244.
    Bytes(usize),
}

/// Where the sender's own record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Originator {
    /// This host's IOAM settings: `net.ipv6.ioam6_id` and
    /// `net.ipv6.ioam6_id_wide` for the node ids, and the egress
    /// interface's `net.ipv6.conf.<if>.ioam6_id(_wide)` when `interface` is
    /// given (else the "unavailable" values). Timestamps are taken when the
    /// header is built.
    Host {
        /// The egress interface, for the egress interface ids.
        interface: Option<String>,
    },
    /// The values given (their `oss` is replaced by the CLT snapshot;
    /// timestamps are taken when the header is built).
    Given(NodeData<'static>),
}

/// What to put in the packets. `Default` is what a user does not have to
/// think about: namespace 0 (RFC 9197's default namespace), trace type
/// [`DEFAULT_TRACE_TYPE`], room for [`DEFAULT_HOPS`] routers, this host's
/// node ids, the CLT schema id, hop limit 64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectConfig {
    /// The IOAM namespace (the routers must know it).
    pub namespace: u16,
    /// The IOAM trace type; needs bit 22 (0x000002) for the CLT context.
    pub trace_type: TraceType,
    /// Room for the routers.
    pub room: Room,
    /// The sender's record.
    pub originator: Originator,
    /// The CLT schema id of the namespace.
    pub schema_id: u32,
    /// The hop limit written in the sender's record (the socket's own hop
    /// limit is not changed).
    pub hop_limit: u8,
    /// Carry the context in the opaque state (default) or in the legacy CLT
    /// header.
    pub encoding: Encoding,
}

impl Default for InjectConfig {
    fn default() -> Self {
        InjectConfig {
            namespace: 0,
            trace_type: TraceType::from_bits(DEFAULT_TRACE_TYPE).unwrap_or(TraceType::OPAQUE_STATE),
            room: Room::Hops(DEFAULT_HOPS),
            originator: Originator::Host { interface: None },
            schema_id: CLT_SCHEMA_ID,
            hop_limit: 64,
            encoding: Encoding::Oss,
        }
    }
}

/// Why a context could not be attached or sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketError {
    /// IPv6 options need CAP_NET_RAW.
    PermissionDenied {
        /// The call refused.
        call: &'static str,
    },
    /// The socket is not an IPv6 socket (an IPv4 one, or a mapped address).
    NotIpv6,
    /// The trace asked for does not fit an IPv6 option.
    DoesNotFit {
        /// Node-data bytes asked (sender's record + room).
        asked: usize,
        /// The most an option holds (244, or 220 after a legacy header).
        max: usize,
        /// Bytes of the sender's record.
        sender_record: usize,
        /// Bytes each router adds (for [`Room::Hops`]).
        per_hop: usize,
    },
    /// The header cannot be built for another reason (no bit 22, a value
    /// too wide, a size that is not a multiple of 4).
    Header(CltError),
    /// The datagram plus the header exceed the path MTU (EMSGSIZE).
    TooBigForPath {
        /// Bytes of the Hop-by-Hop header.
        header_len: usize,
        /// Bytes of the payload.
        payload_len: usize,
    },
    /// The kernel did not keep the header (read back differs).
    NotAttached,
    /// Not available on this platform (Linux only).
    Unsupported,
    /// Any other system error.
    Io {
        /// The call.
        call: &'static str,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::PermissionDenied { call } => write!(
                f,
                "{call}: permission denied: attaching IOAM options to IPv6 packets needs CAP_NET_RAW \
                 (run as root, or grant it with `setcap cap_net_raw+ep` on the program)"
            ),
            SocketError::NotIpv6 => f.write_str(
                "not an IPv6 socket: IOAM travels in the IPv6 Hop-by-Hop header (an IPv4 or IPv4-mapped \
                 destination carries none)",
            ),
            SocketError::DoesNotFit {
                asked,
                max,
                sender_record,
                per_hop,
            } => {
                let fits = max.saturating_sub(*sender_record).checked_div(*per_hop).unwrap_or(0);
                write!(
                    f,
                    "the trace does not fit an IPv6 option: it asks for {asked} bytes of node data (sender record \
                     {sender_record} bytes + room) but an option holds {max}: at most {fits} routers of {per_hop} \
                     bytes fit"
                )
            }
            SocketError::Header(e) => write!(f, "the IOAM Hop-by-Hop header cannot be built: {e}"),
            SocketError::TooBigForPath {
                header_len,
                payload_len,
            } => write!(
                f,
                "{payload_len} payload bytes plus the {header_len}-byte Hop-by-Hop header exceed the path MTU: \
                 send less, or leave less room for routers"
            ),
            SocketError::NotAttached => f.write_str("the kernel did not keep the Hop-by-Hop header"),
            SocketError::Unsupported => f.write_str("attaching IOAM to sockets is supported on Linux only"),
            SocketError::Io { call, source } => write!(f, "{call}: {source}"),
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SocketError::Header(e) => Some(e),
            SocketError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn os_error(
    call: &'static str,
    e: io::Error,
    header_len: usize,
    payload_len: usize,
) -> SocketError {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => SocketError::PermissionDenied { call },
        Some(libc::EMSGSIZE) => SocketError::TooBigForPath {
            header_len,
            payload_len,
        },
        _ => SocketError::Io { call, source: e },
    }
}

/// What was attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attached {
    /// Bytes of the Hop-by-Hop header (every packet grows by this much).
    pub header_len: usize,
    /// Bytes of node data left for the routers.
    pub free_bytes: usize,
}

fn read_sysctl(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The sender's record values of this host (see [`Originator::Host`]).
pub fn host_node(interface: Option<&str>) -> NodeData<'static> {
    let mut n = NodeData::unavailable();
    if let Some(id) = read_sysctl("/proc/sys/net/ipv6/ioam6_id") {
        n.node_id = (id as u32) & 0x00ff_ffff;
    }
    if let Some(id) = read_sysctl("/proc/sys/net/ipv6/ioam6_id_wide") {
        n.node_id_wide = id & 0x00ff_ffff_ffff_ffff;
    }
    if let Some(ifname) = interface.filter(|i| !i.contains('/') && !i.is_empty()) {
        if let Some(id) = read_sysctl(&format!("/proc/sys/net/ipv6/conf/{ifname}/ioam6_id")) {
            n.egress_if_id = id as u16;
        }
        if let Some(id) = read_sysctl(&format!("/proc/sys/net/ipv6/conf/{ifname}/ioam6_id_wide")) {
            n.egress_if_id_wide = id as u32;
        }
    }
    n
}

/// Builds the Hop-by-Hop header for a span context and attaches it; one per
/// configuration, cheap to share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injector {
    cfg: InjectConfig,
    node: NodeData<'static>,
}

impl Injector {
    /// Check `cfg` (that the trace fits) and read the host's node ids once.
    pub fn new(cfg: InjectConfig) -> Result<Self, SocketError> {
        let node = match &cfg.originator {
            Originator::Host { interface } => host_node(interface.as_deref()),
            Originator::Given(n) => *n,
        };
        let inj = Injector { cfg, node };
        inj.header(&SpanContext::default())?;
        Ok(inj)
    }

    /// The configuration.
    pub fn config(&self) -> &InjectConfig {
        &self.cfg
    }

    fn injector(&self, ctx: &SpanContext) -> Result<HopByHopInjector<'static>, SocketError> {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let sender = NodeData {
            hop_limit: self.cfg.hop_limit,
            timestamp_secs: t.as_secs() as u32,
            timestamp_frac: t.subsec_micros(),
            ..self.node
        };
        let mut inj = HopByHopInjector {
            namespace_id: self.cfg.namespace,
            trace_type: self.cfg.trace_type,
            sender,
            ctx: *ctx,
            schema_id: self.cfg.schema_id,
            encoding: self.cfg.encoding,
            ..HopByHopInjector::default()
        };
        match self.cfg.room {
            Room::Hops(n) => inj.extra_hops = n,
            Room::Bytes(total) => {
                let probe = HopByHopInjector {
                    free_bytes: Some(0),
                    ..inj
                };
                let sender_record = probe.layout().map_err(fit_error)?.sender_record;
                if total < sender_record {
                    return Err(SocketError::Header(CltError::BufferTooSmall {
                        required: sender_record,
                        actual: total,
                    }));
                }
                inj.free_bytes = Some(total - sender_record);
            }
        }
        Ok(inj)
    }

    /// The Hop-by-Hop header bytes for `ctx` (timestamps of now).
    pub fn header(&self, ctx: &SpanContext) -> Result<Vec<u8>, SocketError> {
        let inj = self.injector(ctx)?;
        inj.build()
            .map(|b| b.as_bytes().to_vec())
            .map_err(fit_error)
    }

    fn layout_free(&self, ctx: &SpanContext) -> usize {
        self.injector(ctx)
            .ok()
            .and_then(|i| i.layout().ok())
            .map_or(0, |l| l.free)
    }

    /// Attach `ctx` to every packet `socket` sends from now on (sticky
    /// `IPV6_HOPOPTS`), replacing what was attached; reads the option back
    /// to make sure the kernel kept it.
    pub fn attach(&self, socket: &impl AsFd, ctx: &SpanContext) -> Result<Attached, SocketError> {
        let hbh = self.header(ctx)?;
        attach_bytes(socket, &hbh)?;
        Ok(Attached {
            header_len: hbh.len(),
            free_bytes: self.layout_free(ctx),
        })
    }

    /// Send one datagram carrying `ctx` (ancillary `IPV6_HOPOPTS`), to
    /// `dest` or, when `None`, to the connected peer. The socket's sticky
    /// header, if any, is not used for this datagram.
    pub fn send_to(
        &self,
        socket: &impl AsFd,
        payload: &[u8],
        dest: Option<&SocketAddrV6>,
        ctx: &SpanContext,
    ) -> Result<usize, SocketError> {
        let hbh = self.header(ctx)?;
        send_bytes(socket, payload, &hbh, dest)
    }

    /// Attach the span context of the current OpenTelemetry context
    /// (`opentelemetry::Context::current()`); see [`attach`](Self::attach).
    #[cfg(feature = "opentelemetry")]
    pub fn attach_current(&self, socket: &impl AsFd) -> Result<Attached, SocketError> {
        use opentelemetry::trace::TraceContextExt;
        let cx = opentelemetry::Context::current();
        let sc = cx.span().span_context().clone();
        self.attach(socket, &SpanContext::from(&sc))
    }

    /// Attach the context of an OpenTelemetry span; see
    /// [`attach`](Self::attach).
    #[cfg(feature = "opentelemetry")]
    pub fn attach_span(
        &self,
        socket: &impl AsFd,
        span: &opentelemetry::trace::SpanContext,
    ) -> Result<Attached, SocketError> {
        self.attach(socket, &SpanContext::from(span))
    }
}

fn fit_error(e: CltError) -> SocketError {
    match e {
        CltError::TooLarge {
            required,
            max,
            sender_record,
            per_hop,
        } => SocketError::DoesNotFit {
            asked: required,
            max,
            sender_record,
            per_hop,
        },
        e => SocketError::Header(e),
    }
}

#[cfg(target_os = "linux")]
fn check_ipv6(socket: &impl AsFd) -> Result<(), SocketError> {
    let s = socket2::SockRef::from(socket);
    match s.domain() {
        Ok(d) if d == socket2::Domain::IPV6 => {}
        Ok(_) => return Err(SocketError::NotIpv6),
        Err(e) => {
            return Err(SocketError::Io {
                call: "getsockopt(SO_DOMAIN)",
                source: e,
            })
        }
    }
    // A dual-stack socket connected to an IPv4-mapped peer sends IPv4.
    if let Ok(Some(peer)) = s.peer_addr().map(|a| a.as_socket_ipv6()) {
        if peer.ip().to_ipv4_mapped().is_some() {
            return Err(SocketError::NotIpv6);
        }
    }
    Ok(())
}

/// Attach prebuilt Hop-by-Hop bytes (sticky), checked by reading them back.
#[cfg(target_os = "linux")]
pub fn attach_bytes(socket: &impl AsFd, hbh: &[u8]) -> Result<(), SocketError> {
    check_ipv6(socket)?;
    let fd = socket.as_fd();
    sys::set_hopopts(fd, hbh).map_err(|e| os_error("setsockopt(IPV6_HOPOPTS)", e, hbh.len(), 0))?;
    let back =
        sys::get_hopopts(fd).map_err(|e| os_error("getsockopt(IPV6_HOPOPTS)", e, hbh.len(), 0))?;
    // The kernel keeps the bytes as given, except the Next Header byte it
    // fills in per packet.
    if back.len() != hbh.len() || back.get(1..) != hbh.get(1..) {
        return Err(SocketError::NotAttached);
    }
    Ok(())
}

/// Remove the sticky Hop-by-Hop header: packets leave without IOAM again.
#[cfg(target_os = "linux")]
pub fn clear(socket: &impl AsFd) -> Result<(), SocketError> {
    check_ipv6(socket)?;
    sys::set_hopopts(socket.as_fd(), &[]).map_err(|e| os_error("setsockopt(IPV6_HOPOPTS)", e, 0, 0))
}

/// Send one datagram with prebuilt Hop-by-Hop bytes as ancillary data.
#[cfg(target_os = "linux")]
pub fn send_bytes(
    socket: &impl AsFd,
    payload: &[u8],
    hbh: &[u8],
    dest: Option<&SocketAddrV6>,
) -> Result<usize, SocketError> {
    check_ipv6(socket)?;
    if dest.is_some_and(|d| d.ip().to_ipv4_mapped().is_some()) {
        return Err(SocketError::NotIpv6);
    }
    sys::send_with_hopopts(socket.as_fd(), payload, hbh, dest)
        .map_err(|e| os_error("sendmsg(IPV6_HOPOPTS)", e, hbh.len(), payload.len()))
}

/// Ask for the Hop-by-Hop header of datagrams received on `socket` (for a
/// receiver that reads the context itself; see [`recv_hop_by_hop`]).
#[cfg(target_os = "linux")]
pub fn enable_recv_hop_by_hop(socket: &impl AsFd) -> Result<(), SocketError> {
    sys::enable_recv_hopopts(socket.as_fd())
        .map_err(|e| os_error("setsockopt(IPV6_RECVHOPOPTS)", e, 0, 0))
}

/// Receive one datagram and, if it had one, its Hop-by-Hop header.
#[cfg(target_os = "linux")]
pub fn recv_hop_by_hop(
    socket: &impl AsFd,
    buf: &mut [u8],
) -> Result<(usize, Option<Vec<u8>>), SocketError> {
    sys::recv_with_hopopts(socket.as_fd(), buf).map_err(|e| os_error("recvmsg", e, 0, 0))
}

/// See the Linux version.
#[cfg(not(target_os = "linux"))]
pub fn attach_bytes(_socket: &impl AsFd, _hbh: &[u8]) -> Result<(), SocketError> {
    Err(SocketError::Unsupported)
}

/// See the Linux version.
#[cfg(not(target_os = "linux"))]
pub fn clear(_socket: &impl AsFd) -> Result<(), SocketError> {
    Err(SocketError::Unsupported)
}

/// See the Linux version.
#[cfg(not(target_os = "linux"))]
pub fn send_bytes(
    _socket: &impl AsFd,
    _payload: &[u8],
    _hbh: &[u8],
    _dest: Option<&SocketAddrV6>,
) -> Result<usize, SocketError> {
    Err(SocketError::Unsupported)
}

/// See the Linux version.
#[cfg(not(target_os = "linux"))]
pub fn enable_recv_hop_by_hop(_socket: &impl AsFd) -> Result<(), SocketError> {
    Err(SocketError::Unsupported)
}

/// See the Linux version.
#[cfg(not(target_os = "linux"))]
pub fn recv_hop_by_hop(
    _socket: &impl AsFd,
    _buf: &mut [u8],
) -> Result<(usize, Option<Vec<u8>>), SocketError> {
    Err(SocketError::Unsupported)
}
