//! Live capture on a network interface, through libpcap.
//!
//! The capture filter runs in the kernel (classic BPF compiled by libpcap):
//! by default `ip6[6] == 0`, IPv6 packets whose first extension header is a
//! Hop-by-Hop Options header, which is where IOAM trace options live
//! (RFC 9486 §3). Other traffic costs nothing in user space.
//!
//! ```no_run
//! use ioam_capture::live::{LiveCapture, LiveConfig};
//!
//! let mut cap = LiveCapture::open("eth0", &LiveConfig::default())?;
//! while let Some(pkt) = cap.next_packet()? {
//!     println!("{} bytes at {:?}", pkt.data.len(), pkt.time);
//! }
//! # Ok::<(), ioam_capture::live::LiveError>(())
//! ```

use core::fmt;
use std::time::Duration;

use crate::file::Timestamp;

/// The default kernel filter: IPv6 with a Hop-by-Hop header first.
pub const DEFAULT_FILTER: &str = "ip6[6] == 0";

/// How to open a live capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConfig {
    /// Put the interface in promiscuous mode (off by default: a collector
    /// wants the packets addressed to its host).
    pub promiscuous: bool,
    /// Bytes kept of each packet. The default, 4096, holds the link layer,
    /// the IPv6 header and the largest Hop-by-Hop header (2048 bytes), which
    /// is all a collector reads; it also sets the size of each slot of the
    /// kernel ring, so a larger value means fewer packets buffered.
    pub snaplen: u32,
    /// Kernel buffer size in bytes (what absorbs a burst while user space is
    /// busy; drops beyond it are counted in [`LiveStats`]).
    pub buffer_size: u32,
    /// How long [`LiveCapture::next_packet`] waits before returning `None`
    /// (libpcap's read timeout; an idle reader in immediate mode may wait
    /// longer, which [`LiveStopper`] ends).
    pub poll_interval: Duration,
    /// The classic-BPF filter, in pcap-filter syntax.
    pub filter: String,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            promiscuous: false,
            snaplen: 4096,
            buffer_size: 16 << 20,
            poll_interval: Duration::from_millis(200),
            filter: DEFAULT_FILTER.to_string(),
        }
    }
}

/// One captured packet, borrowed until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivePacket<'a> {
    /// Capture time (nanosecond precision when the kernel gives it).
    pub time: Timestamp,
    /// The `LINKTYPE_*` of the interface (see [`crate::file::linktype`]).
    pub linktype: u32,
    /// The captured bytes, from the link-layer header on.
    pub data: &'a [u8],
    /// Length of the packet on the wire (more than `data.len()` when cut by
    /// the snap length).
    pub orig_len: u32,
}

/// Kernel-side counters of a live capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets that passed the filter.
    pub received: u64,
    /// Packets dropped because the buffer was full (user space too slow).
    pub dropped: u64,
    /// Packets dropped by the interface or its driver.
    pub if_dropped: u64,
}

/// Why a live capture could not be opened or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveError {
    /// The process may not capture: it needs CAP_NET_RAW.
    PermissionDenied {
        /// The interface.
        interface: String,
        /// What libpcap said.
        detail: String,
    },
    /// The interface does not exist or cannot be captured on.
    NoSuchInterface {
        /// The interface.
        interface: String,
        /// What libpcap said.
        detail: String,
    },
    /// The filter does not compile.
    BadFilter {
        /// The filter text.
        filter: String,
        /// What libpcap said.
        detail: String,
    },
    /// Any other libpcap failure.
    Pcap {
        /// The interface.
        interface: String,
        /// What libpcap said.
        detail: String,
    },
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::PermissionDenied { interface, detail } => write!(
                f,
                "capture on {interface}: permission denied ({detail}); capturing needs CAP_NET_RAW: \
                 run as root or grant it with `setcap cap_net_raw+ep $(command -v ioam)`"
            ),
            LiveError::NoSuchInterface { interface, detail } => {
                write!(f, "capture on {interface}: no such interface ({detail}); `ip link` lists them")
            }
            LiveError::BadFilter { filter, detail } => write!(f, "capture filter {filter:?}: {detail}"),
            LiveError::Pcap { interface, detail } => write!(f, "capture on {interface}: {detail}"),
        }
    }
}

impl std::error::Error for LiveError {}

/// A live capture on one interface.
pub struct LiveCapture {
    interface: String,
    cap: pcap::Capture<pcap::Active>,
    linktype: u32,
}

/// Wakes a [`LiveCapture`] blocked in [`LiveCapture::next_packet`] from
/// another thread (which then returns `Ok(None)`); for a clean shutdown.
pub struct LiveStopper(pcap::BreakLoop);

impl fmt::Debug for LiveStopper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LiveStopper")
    }
}

impl LiveStopper {
    /// Make the current (or next) read return `Ok(None)`.
    pub fn stop(&self) {
        self.0.breakloop();
    }
}

impl fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("linktype", &self.linktype)
            .finish_non_exhaustive()
    }
}

fn classify(interface: &str, e: pcap::Error) -> LiveError {
    let detail = e.to_string();
    let lower = detail.to_ascii_lowercase();
    let interface = interface.to_string();
    if lower.contains("not permitted") || lower.contains("permission") {
        LiveError::PermissionDenied { interface, detail }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface { interface, detail }
    } else {
        LiveError::Pcap { interface, detail }
    }
}

fn clamp_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl LiveCapture {
    /// Open `interface` (a name such as `eth0`, or `any` for all interfaces
    /// in Linux cooked mode) and install the filter.
    pub fn open(interface: &str, cfg: &LiveConfig) -> Result<Self, LiveError> {
        let inactive = pcap::Capture::from_device(interface).map_err(|e| classify(interface, e))?;
        let cap = inactive
            .promisc(cfg.promiscuous)
            .snaplen(clamp_i32(cfg.snaplen.into()))
            .buffer_size(clamp_i32(cfg.buffer_size.into()))
            .timeout(clamp_i32(cfg.poll_interval.as_millis().max(1) as u64))
            .immediate_mode(true)
            .precision(pcap::Precision::Nano)
            .open()
            .map_err(|e| classify(interface, e))?;
        // In immediate mode libpcap may block an idle reader past its
        // timeout; `LiveStopper` (pcap_breakloop, which wakes the wait on
        // Linux) ends such a read for shutdown.
        let mut cap = cap;
        cap.filter(&cfg.filter, true)
            .map_err(|e| LiveError::BadFilter {
                filter: cfg.filter.clone(),
                detail: e.to_string(),
            })?;
        let linktype = cap.get_datalink().0 as u32;
        Ok(LiveCapture {
            interface: interface.to_string(),
            cap,
            linktype,
        })
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The `LINKTYPE_*` of the interface.
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The next packet, or `None` when the poll interval passed without one.
    pub fn next_packet(&mut self) -> Result<Option<LivePacket<'_>>, LiveError> {
        match self.cap.next_packet() {
            Ok(p) => {
                let ts = p.header.ts;
                // With nanosecond precision the second field holds
                // nanoseconds; clamp anything out of range.
                let nanos = u32::try_from(ts.tv_usec).unwrap_or(0).min(999_999_999);
                Ok(Some(LivePacket {
                    time: Timestamp {
                        secs: ts.tv_sec,
                        nanos,
                    },
                    linktype: self.linktype,
                    data: p.data,
                    orig_len: p.header.len,
                }))
            }
            // The timeout, or a `LiveStopper`.
            Err(pcap::Error::TimeoutExpired | pcap::Error::NoMorePackets) => Ok(None),
            Err(e) => Err(classify(&self.interface, e)),
        }
    }

    /// A handle that wakes this capture from another thread.
    pub fn stopper(&mut self) -> LiveStopper {
        LiveStopper(self.cap.breakloop_handle())
    }

    /// The kernel's counters for this capture.
    pub fn stats(&mut self) -> Result<LiveStats, LiveError> {
        let s = self.cap.stats().map_err(|e| classify(&self.interface, e))?;
        Ok(LiveStats {
            received: s.received.into(),
            dropped: s.dropped.into(),
            if_dropped: s.if_dropped.into(),
        })
    }
}
