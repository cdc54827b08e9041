//! The Linux kernel's IOAM6 trace events (generic netlink, Linux ≥ 6.9).
//!
//! When a Linux node with IOAM enabled on its ingress interface is the
//! destination of a packet carrying a Pre-allocated Trace Option, it writes
//! its own record and then multicasts the trace to the `ioam6_events` group
//! of the generic-netlink family `IOAM6` (command `IOAM6_EVENT_TRACE`). The
//! event holds the namespace id, NodeLen, the trace type (the upper 24 bits
//! of a 32-bit word) and the filled node data, the receiver's own record
//! first. A capture on the same host never sees that record: the packet is
//! captured before the kernel writes it.
//!
//! Subscribing needs CAP_NET_ADMIN (the group is marked admin-only).
//!
//! ```no_run
//! use ioam_capture::events::KernelEvents;
//! use ioam_trace::{Mode, Trace};
//!
//! let mut events = KernelEvents::subscribe()?;
//! let mut body = Vec::new();
//! while let Some(batch) = events.next_batch()? {
//!     for ev in batch.events {
//!         ev.write_trace_body(&mut body);
//!         let trace = Trace::parse_preallocated(&body, Mode::Lenient);
//!         println!("namespace {}: {:?}", ev.namespace, trace.map(|t| t.records().count()));
//!     }
//! }
//! # Ok::<(), ioam_capture::events::EventError>(())
//! ```

// The one `unsafe` block of the crate borrows the netlink socket's file
// descriptor for socket options; see `borrow_fd`.
#![allow(unsafe_code)]

use core::fmt;
use std::io::{self, Cursor};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use neli::consts::socket::NlFamily;
use neli::genl::Genlmsghdr;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::router::synchronous::NlRouter;
use neli::socket::NlSocket;
use neli::utils::Groups;
use neli::FromBytes;

/// Name of the kernel's IOAM generic-netlink family.
pub const FAMILY_NAME: &str = "IOAM6";
/// Name of its multicast group of trace events.
pub const GROUP_NAME: &str = "ioam6_events";
/// `IOAM6_EVENT_TRACE`, the command of a trace event.
pub const EVENT_TRACE: u8 = 1;

/// Attribute types of a trace event (`include/uapi/linux/ioam6_genl.h`).
pub mod attr {
    /// Namespace id, u16.
    pub const NAMESPACE: u16 = 1;
    /// NodeLen in 4-octet units, u8.
    pub const NODELEN: u16 = 2;
    /// Trace type: u32 whose upper 24 bits are the IOAM-Trace-Type.
    pub const TYPE: u16 = 3;
    /// The filled node data, newest record first.
    pub const DATA: u16 = 4;
}

/// Size of a netlink receive buffer; an event is at most a few hundred bytes.
const RECV_BUFFER: usize = 64 * 1024;

/// One `IOAM6_EVENT_TRACE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// The IOAM namespace of the trace.
    pub namespace: u16,
    /// NodeLen, in 4-octet units.
    pub node_len: u8,
    /// The 24-bit IOAM-Trace-Type (already shifted down from the event's
    /// 32-bit word).
    pub trace_type: u32,
    /// The filled node data, the receiving node's record first.
    pub data: Vec<u8>,
}

impl TraceEvent {
    /// Write a Pre-allocated Trace Option body (the 8-byte trace header and
    /// the node data) into `out`, replacing its contents, so that
    /// `ioam_trace::Trace::parse_preallocated` reads the event like a
    /// captured trace. The event carries no flags and no free space: Flags
    /// and RemainingLen are written as 0.
    pub fn write_trace_body(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.namespace.to_be_bytes());
        // NodeLen (5 bits), Flags (4 bits), RemainingLen (7 bits).
        let word = u16::from(self.node_len & 0x1f) << 11;
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&((self.trace_type & 0x00ff_ffff) << 8).to_be_bytes());
        out.extend_from_slice(&self.data);
    }
}

/// What one receive returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventBatch {
    /// The trace events.
    pub events: Vec<TraceEvent>,
    /// Messages of the family that were not trace events (other commands).
    pub other: u64,
}

/// Why the kernel events cannot be subscribed to or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The kernel has no `IOAM6` generic-netlink family.
    NoFamily {
        /// The running kernel's release.
        kernel: String,
        /// What the kernel answered.
        detail: String,
    },
    /// The family has no `ioam6_events` group: the kernel is older than 6.9.
    NoGroup {
        /// The running kernel's release.
        kernel: String,
    },
    /// Joining the group was refused: it needs CAP_NET_ADMIN.
    PermissionDenied {
        /// The system error.
        detail: String,
    },
    /// The kernel dropped events because the socket buffer was full
    /// (ENOBUFS); the subscription goes on.
    Overrun,
    /// A message that does not parse as a generic-netlink trace event.
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// Any other socket failure.
    Io {
        /// What was being done.
        what: &'static str,
        /// The system error.
        detail: String,
    },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::NoFamily { kernel, detail } => write!(
                f,
                "kernel {kernel} has no {FAMILY_NAME} generic-netlink family ({detail}); \
                 IOAM needs a kernel built with CONFIG_IPV6_IOAM6_LWTUNNEL or IPv6 IOAM support"
            ),
            EventError::NoGroup { kernel } => write!(
                f,
                "kernel {kernel} has no {GROUP_NAME} multicast group in the {FAMILY_NAME} family; \
                 IOAM trace events need Linux 6.9 or later"
            ),
            EventError::PermissionDenied { detail } => write!(
                f,
                "joining {FAMILY_NAME}/{GROUP_NAME} was refused ({detail}); the group needs \
                 CAP_NET_ADMIN: run as root or grant it with `setcap cap_net_admin+ep $(command -v ioam)`"
            ),
            EventError::Overrun => write!(
                f,
                "the kernel dropped IOAM6 events: the netlink socket buffer overflowed (ENOBUFS)"
            ),
            EventError::Malformed { detail } => write!(f, "malformed IOAM6 netlink message: {detail}"),
            EventError::Io { what, detail } => write!(f, "IOAM6 events: {what}: {detail}"),
        }
    }
}

impl std::error::Error for EventError {}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(unknown release)".to_string())
}

fn io_err(what: &'static str, e: &io::Error) -> EventError {
    EventError::Io {
        what,
        detail: e.to_string(),
    }
}

/// Resolve the family id and the group id through the generic-netlink
/// controller.
fn resolve() -> Result<(u16, u32), EventError> {
    let (router, _multicast) = NlRouter::connect(NlFamily::Generic, None, Groups::empty())
        .map_err(|e| EventError::Io {
            what: "opening a generic-netlink socket",
            detail: e.to_string(),
        })?;
    let family = router
        .resolve_genl_family(FAMILY_NAME)
        .map_err(|e| EventError::NoFamily {
            kernel: kernel_release(),
            detail: e.to_string(),
        })?;
    let group = router
        .resolve_nl_mcast_group(FAMILY_NAME, GROUP_NAME)
        .map_err(|_| EventError::NoGroup {
            kernel: kernel_release(),
        })?;
    Ok((family, group))
}

/// A subscription to the kernel's IOAM6 trace events.
pub struct KernelEvents {
    socket: NlSocket,
    family: u16,
    buf: Vec<u8>,
}

impl fmt::Debug for KernelEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelEvents")
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

/// Borrow the descriptor of `socket` for as long as `socket` is borrowed.
fn borrow_fd(socket: &NlSocket) -> BorrowedFd<'_> {
    // SAFETY: `NlSocket` owns its descriptor and closes it only when dropped;
    // the returned `BorrowedFd` borrows `socket`, so the descriptor stays open
    // for the borrow's whole lifetime.
    unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) }
}

impl KernelEvents {
    /// Subscribe with a 200 ms poll interval (see
    /// [`subscribe_with`](Self::subscribe_with)).
    pub fn subscribe() -> Result<Self, EventError> {
        Self::subscribe_with(Duration::from_millis(200), 4 << 20)
    }

    /// Subscribe; [`next_batch`](Self::next_batch) returns `None` after
    /// `poll_interval` without events; `recv_buffer` is the socket's receive
    /// buffer in bytes (what absorbs a burst; the kernel caps it at
    /// `net.core.rmem_max` for unprivileged processes).
    pub fn subscribe_with(poll_interval: Duration, recv_buffer: usize) -> Result<Self, EventError> {
        let (family, group) = resolve()?;
        let socket = NlSocket::connect(NlFamily::Generic, None, Groups::empty())
            .map_err(|e| io_err("opening a generic-netlink socket", &e))?;
        socket
            .add_mcast_membership(Groups::new_groups(&[group]))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    EventError::PermissionDenied {
                        detail: e.to_string(),
                    }
                } else {
                    io_err("joining the multicast group", &e)
                }
            })?;
        {
            let fd = borrow_fd(&socket);
            let sock = socket2::SockRef::from(&fd);
            sock.set_read_timeout(Some(poll_interval.max(Duration::from_millis(1))))
                .map_err(|e| io_err("setting the receive timeout", &e))?;
            // Best effort: a smaller buffer only means earlier ENOBUFS, which
            // is reported.
            let _ = sock.set_recv_buffer_size(recv_buffer);
        }
        Ok(KernelEvents {
            socket,
            family,
            buf: vec![0; RECV_BUFFER],
        })
    }

    /// The resolved generic-netlink family id.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// The events of the next receive, or `None` when the poll interval
    /// passed without any. [`EventError::Overrun`] reports lost events; the
    /// subscription stays usable after it and after `Malformed`.
    pub fn next_batch(&mut self) -> Result<Option<EventBatch>, EventError> {
        let n = match self
            .socket
            .recv(&mut self.buf[..], neli::consts::socket::Msg::empty())
        {
            Ok((n, _)) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) if e.raw_os_error() == Some(105 /* ENOBUFS */) => {
                return Err(EventError::Overrun)
            }
            Err(e) => return Err(io_err("receiving", &e)),
        };
        parse_messages(&self.buf[..n], self.family).map(Some)
    }
}

/// Parse the netlink messages of one receive: the trace events of family
/// `family`, and a count of the family's other messages. Messages of other
/// families (none are expected on this socket) are ignored.
pub fn parse_messages(bytes: &[u8], family: u16) -> Result<EventBatch, EventError> {
    let mut batch = EventBatch::default();
    if bytes.is_empty() {
        return Ok(batch);
    }
    if family < GENL_MIN_ID {
        return Err(EventError::Malformed {
            detail: format!("family id {family} is a netlink control message type, not a generic-netlink family"),
        });
    }
    // Only the family's own messages reach neli, one at a time, after their
    // lengths were checked (control messages, such as NLMSG_ERROR, are
    // skipped: this socket sends no request, so none is expected).
    let mut msgs = Vec::new();
    for (at, len) in check_framing(bytes)? {
        if half_at(bytes, at + 4) != Some(family) {
            continue;
        }
        let one = &bytes[at..at + len];
        let msg = Nlmsghdr::<u16, Genlmsghdr<u8, u16>>::from_bytes(&mut Cursor::new(one)).map_err(
            |e| EventError::Malformed {
                detail: format!("at byte {at}: {e}"),
            },
        )?;
        msgs.push((at, msg));
    }
    for (at, msg) in &msgs {
        let NlPayload::Payload(genl) = msg.nl_payload() else {
            continue;
        };
        if *genl.cmd() != EVENT_TRACE {
            batch.other += 1;
            continue;
        }
        let attrs = genl.attrs().get_attr_handle();
        let get = |t: u16| attrs.get_attribute(t).map(|a| a.nla_payload().as_ref());
        let missing = |name: &str| EventError::Malformed {
            detail: format!("trace event at byte {at}: no {name} attribute"),
        };
        let short = |name: &str, want: usize, got: usize| EventError::Malformed {
            detail: format!(
                "trace event at byte {at}: attribute {name} has {got} bytes, needs {want}"
            ),
        };
        let ns = get(attr::NAMESPACE).ok_or_else(|| missing("NAMESPACE"))?;
        let nl = get(attr::NODELEN).ok_or_else(|| missing("NODELEN"))?;
        let ty = get(attr::TYPE).ok_or_else(|| missing("TYPE"))?;
        let data = get(attr::DATA).unwrap_or(&[]);
        let ns: [u8; 2] = ns
            .get(..2)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| short("NAMESPACE", 2, ns.len()))?;
        let nl = *nl.first().ok_or_else(|| short("NODELEN", 1, 0))?;
        let ty: [u8; 4] = ty
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| short("TYPE", 4, ty.len()))?;
        batch.events.push(TraceEvent {
            // Netlink attributes are in host byte order.
            namespace: u16::from_ne_bytes(ns),
            node_len: nl,
            trace_type: u32::from_ne_bytes(ty) >> 8,
            data: data.to_vec(),
        });
    }
    Ok(batch)
}

/// The lowest generic-netlink family id (below are netlink control types).
const GENL_MIN_ID: u16 = 0x10;

/// Netlink header (16) + generic-netlink header (4).
const GENL_MSG_MIN: usize = 20;

fn word_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
}

fn half_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|w| u16::from_ne_bytes([w[0], w[1]]))
}

/// Check every length field before neli reads the bytes: a message shorter
/// than its headers or longer than the receive, or an attribute that
/// overruns its message, is an error here (neli 0.7 panics on some of them;
/// found by the `kernel_events` fuzz target).
fn check_framing(bytes: &[u8]) -> Result<Vec<(usize, usize)>, EventError> {
    let bad = |at: usize, what: String| EventError::Malformed {
        detail: format!("at byte {at}: {what}"),
    };
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len =
            word_at(bytes, at).ok_or_else(|| bad(at, "truncated netlink header".into()))? as usize;
        let rest = bytes.len() - at;
        if len < GENL_MSG_MIN || len > rest {
            return Err(bad(
                at,
                format!("netlink message length {len} (needs {GENL_MSG_MIN} to {rest})"),
            ));
        }
        let mut a = at + GENL_MSG_MIN;
        let end = at + len;
        while a + 4 <= end {
            let alen = usize::from(half_at(bytes, a).unwrap_or(0));
            if alen < 4 || alen > end - a {
                return Err(bad(
                    a,
                    format!("attribute length {alen} (needs 4 to {})", end - a),
                ));
            }
            a += (alen + 3) & !3;
        }
        out.push((at, len));
        at += (len + 3) & !3;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(t: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&t.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn message(family: u16, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        let len = 16 + 4 + attrs.len();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.extend_from_slice(&family.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes()); // flags
        v.extend_from_slice(&0u32.to_ne_bytes()); // seq
        v.extend_from_slice(&0u32.to_ne_bytes()); // port id
        v.extend_from_slice(&[cmd, 1, 0, 0]);
        v.extend_from_slice(attrs);
        v
    }

    #[test]
    fn trace_event_fields_and_body() {
        let data = [0x40, 0, 0, 9, 0xaa, 0xbb, 0xcc, 0xdd];
        let mut attrs = nla(attr::NAMESPACE, &123u16.to_ne_bytes());
        attrs.extend(nla(attr::NODELEN, &[2]));
        attrs.extend(nla(attr::TYPE, &(0x00c0_0000u32 << 8).to_ne_bytes()));
        attrs.extend(nla(attr::DATA, &data));
        let mut bytes = message(30, EVENT_TRACE, &attrs);
        bytes.extend(message(30, 7, &[]));
        bytes.extend(message(31, EVENT_TRACE, &attrs));
        let batch = parse_messages(&bytes, 30).unwrap();
        assert_eq!(batch.other, 1);
        assert_eq!(
            batch.events,
            vec![TraceEvent {
                namespace: 123,
                node_len: 2,
                trace_type: 0xc0_0000,
                data: data.to_vec()
            }]
        );
        let mut body = Vec::new();
        batch.events[0].write_trace_body(&mut body);
        assert_eq!(&body[..8], &[0, 123, 0x10, 0, 0xc0, 0, 0, 0]);
        let trace = ioam_trace::Trace::parse_preallocated(&body, ioam_trace::Mode::Strict).unwrap();
        let rec = trace.records().next().unwrap().unwrap();
        assert_eq!(rec.fields().hop_limit, Some(0x40));
        assert_eq!(rec.fields().node_id, Some(9));
    }

    #[test]
    fn missing_attribute_is_an_error() {
        let attrs = nla(attr::NAMESPACE, &123u16.to_ne_bytes());
        let e = parse_messages(&message(30, EVENT_TRACE, &attrs), 30).unwrap_err();
        assert!(
            e.to_string().contains("at byte 0: no NODELEN attribute"),
            "{e}"
        );
    }

    #[test]
    fn lengths_that_lie_are_errors() {
        // The input that made neli panic (a message length shorter than
        // the headers), and an attribute running past its message.
        let crash = [
            0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x40, 0x14, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x00,
        ];
        assert!(parse_messages(&crash, 0x141e).is_err());
        let mut attrs = nla(attr::NAMESPACE, &123u16.to_ne_bytes());
        attrs[0] = 40;
        let e = parse_messages(&message(30, EVENT_TRACE, &attrs), 30).unwrap_err();
        assert!(e.to_string().contains("attribute length 40"), "{e}");
    }

    #[test]
    fn truncated_message_is_an_error_not_a_panic() {
        let attrs = nla(attr::NAMESPACE, &123u16.to_ne_bytes());
        let bytes = message(30, EVENT_TRACE, &attrs);
        for cut in 1..bytes.len() {
            let _ = parse_messages(&bytes[..cut], 30);
        }
        assert!(parse_messages(&bytes[..10], 30).is_err());
    }
}
