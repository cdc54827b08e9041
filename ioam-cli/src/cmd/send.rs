//! `ioam send`: CLT-tagged traffic from a stock Linux host (IPV6_HOPOPTS, through clt-socket).
//!
//! Built on the `clt-socket` crate (the socket calls, the errors) and on
//! clt-context's `clt_context::injector::HopByHopInjector` (through
//! `clt_socket::Injector`): one IOAM
//! pre-allocated trace whose first record is the sender's, its opaque state
//! snapshot carrying the span context, with free space for the routers on
//! the path. The kernel attaches it to the sender's packets, either to every
//! packet of the socket (`setsockopt(IPV6_HOPOPTS)`) or to one datagram
//! (`sendmsg` with an `IPV6_HOPOPTS` control message). Linux routers with
//! IOAM enabled for the namespace then fill their records. With `--no-clt`
//! the trace is built by `ioam_trace::encap::PreallocatedTraceBuilder`
//! instead: the sender's record, no context (for trace types without bit 22).
//!
//! Each datagram (or TCP write) is logged on standard output as one JSON
//! object: sequence number, traceparent, span id, payload and header sizes.

use core::net::SocketAddr;
use std::io::{self, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};

use clt_context::injector::Encoding;
use clt_context::{SpanContext, SpanId};
use clt_socket::{attach_bytes, send_bytes, InjectConfig, Injector, Originator, Room, SocketError};
use ioam_trace::encap::PreallocatedTraceBuilder;
use ioam_trace::{NodeData, TraceType};

use ioam_cli::args::{parse_num, parse_schema_id, parse_u16, parse_u32};

fn parse_ctx(s: &str) -> Result<SpanContext, String> {
    clt_context::traceparent::parse(s)
        .map(|t| t.ctx)
        .map_err(|e| e.to_string())
}

/// Arguments of `ioam send`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SendArgs {
    /// Destination, `[IPv6 address]:port`.
    #[arg(long, value_name = "[ADDR]:PORT")]
    pub(crate) to: SocketAddr,
    /// W3C traceparent of the span that sends the traffic.
    #[arg(long, value_name = "TRACEPARENT", value_parser = parse_ctx)]
    pub(crate) traceparent: SpanContext,
    /// IOAM namespace.
    #[arg(long, default_value = "123", value_parser = parse_u16)]
    pub(crate) ns: u16,
    /// IOAM trace type (bit 22, 0x000002, carries the CLT context).
    #[arg(long, default_value = "0x800002", value_parser = parse_u32)]
    pub(crate) trace_type: u32,
    /// Room for this many routers after the sender.
    #[arg(long, default_value_t = 3, conflicts_with = "size")]
    pub(crate) hops: usize,
    /// Node data of BYTES in all, the sender's record included (as
    /// iproute2's `size`), instead of --hops: for paths whose routers add
    /// opaque state of their own schema. A multiple of 4, at most 244.
    #[arg(long, value_name = "BYTES")]
    pub(crate) size: Option<usize>,
    /// The sender's node id (bit 0, 24 bits).
    #[arg(long, default_value = "0xffffff", value_parser = parse_u32)]
    pub(crate) node_id: u32,
    /// The sender's wide node id (bit 8, 56 bits).
    #[arg(long, default_value = "0xffffffffffffff", value_parser = parse_num)]
    pub(crate) node_id_wide: u64,
    /// The sender's egress interface id (bit 1).
    #[arg(long, default_value = "0xffff", value_parser = parse_u16)]
    pub(crate) egress_id: u16,
    /// The sender's wide egress interface id (bit 9).
    #[arg(long, default_value = "0xffffffff", value_parser = parse_u32)]
    pub(crate) egress_id_wide: u32,
    /// Namespace data the sender writes (bit 5).
    #[arg(long, default_value = "0xffffffff", value_parser = parse_u32)]
    pub(crate) ns_data: u32,
    /// Wide namespace data the sender writes (bit 10).
    #[arg(long, default_value = "0xffffffffffffffff", value_parser = parse_num)]
    pub(crate) ns_data_wide: u64,
    /// Hop limit of the packets, also written in the sender's record.
    #[arg(long, default_value_t = 64)]
    pub(crate) hop_limit: u8,
    /// Schema ID of the CLT opaque state.
    #[arg(long, default_value = "0x434c54", value_parser = parse_schema_id)]
    pub(crate) clt_schema_id: u32,
    /// Carry the ids in the legacy CLT header instead of the opaque state.
    #[arg(long, conflicts_with = "no_clt")]
    pub(crate) legacy_clt: bool,
    /// Send the trace with the sender's record but without the CLT context
    /// (the only way for trace types without bit 22, e.g. 0x800000, whose
    /// opaque state would carry it; the traceparent is then only logged).
    #[arg(long)]
    pub(crate) no_clt: bool,
    /// Number of datagrams (or TCP writes).
    #[arg(long, default_value_t = 1)]
    pub(crate) count: u64,
    /// Pause between datagrams, in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub(crate) interval_ms: u64,
    /// Payload of each datagram (default `ioam send <n>`).
    #[arg(long)]
    pub(crate) payload: Option<String>,
    /// Attach the header to each datagram (sendmsg ancillary data) instead
    /// of the socket.
    #[arg(long, conflicts_with = "tcp")]
    pub(crate) per_packet: bool,
    /// A new span id for every datagram (child spans of the traceparent's
    /// trace); implies --per-packet for UDP.
    #[arg(long)]
    pub(crate) span_per_packet: bool,
    /// Connect over TCP and set the header on the connected socket.
    #[arg(long)]
    pub(crate) tcp: bool,
}

/// The sender's record values for the current time.
fn sender_node(args: &SendArgs, now: SystemTime) -> NodeData<'static> {
    let t = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    NodeData {
        hop_limit: args.hop_limit,
        node_id: args.node_id,
        ingress_if_id: 0xffff,
        egress_if_id: args.egress_id,
        timestamp_secs: t.as_secs() as u32,
        timestamp_frac: t.subsec_micros(),
        namespace_data: args.ns_data,
        node_id_wide: args.node_id_wide,
        egress_if_id_wide: args.egress_id_wide,
        namespace_data_wide: args.ns_data_wide,
        queue_depth: 0,
        ..NodeData::unavailable()
    }
}

/// The injector of `--ns`, `--trace-type`, `--hops`/`--size` and the
/// sender's values.
fn injector(args: &SendArgs, tt: TraceType) -> Result<Injector> {
    let cfg = InjectConfig {
        namespace: args.ns,
        trace_type: tt,
        room: match args.size {
            Some(b) => Room::Bytes(b),
            None => Room::Hops(args.hops),
        },
        originator: Originator::Given(sender_node(args, SystemTime::now())),
        schema_id: args.clt_schema_id,
        hop_limit: args.hop_limit,
        encoding: if args.legacy_clt {
            Encoding::Legacy
        } else {
            Encoding::Oss
        },
    };
    Injector::new(cfg).map_err(|e| match e {
        SocketError::Header(clt_context::CltError::NoOssBit { .. }) => {
            anyhow!("{e}; use --no-clt to send this trace type without the context")
        }
        e => anyhow!("{e}"),
    })
}

/// The Hop-by-Hop header for `ctx` (timestamps of now).
pub(crate) fn build_header(
    args: &SendArgs,
    inj: Option<&Injector>,
    ctx: SpanContext,
) -> Result<Vec<u8>> {
    let tt = trace_type(args)?;
    match inj {
        Some(inj) => inj.header(&ctx).map_err(|e| anyhow!("{e}")),
        None => plain_header(args, tt, SystemTime::now()),
    }
}

fn trace_type(args: &SendArgs) -> Result<TraceType> {
    TraceType::from_bits(args.trace_type).ok_or_else(|| {
        anyhow!(
            "--trace-type 0x{:x} does not fit in 24 bits",
            args.trace_type
        )
    })
}

/// `--no-clt`: the pre-allocated trace with the sender's record and room
/// for `--hops` more records, no CLT context (a sender's opaque state, under
/// bit 22, is the "nothing to report" word, as Linux writes without a
/// schema, and so is each further hop's).
fn plain_header(args: &SendArgs, tt: TraceType, now: SystemTime) -> Result<Vec<u8>> {
    let node = sender_node(args, now);
    let space = args.size.unwrap_or_else(|| {
        node.record_len(tt)
            .saturating_mul(args.hops.saturating_add(1))
    });
    let builder = PreallocatedTraceBuilder::new(args.ns, tt, space).with_originator(&node);
    let cannot = |e| anyhow!("the IOAM Hop-by-Hop header cannot be built: {e}");
    let mut hbh = vec![0; builder.buffer_len().map_err(cannot)?];
    let len = builder.emit(&mut hbh).map_err(cannot)?;
    hbh.truncate(len);
    Ok(hbh)
}

fn log_line(
    out: &mut impl Write,
    seq: u64,
    ctx: &SpanContext,
    payload_len: usize,
    hbh_len: usize,
    mode: &str,
) -> io::Result<()> {
    let tp = clt_context::traceparent::format(ctx);
    let line = serde_json::json!({
        "seq": seq,
        "traceparent": tp.as_str(),
        "trace_id": ctx.trace_id.to_string(),
        "span_id": ctx.span_id.to_string(),
        "payload_bytes": payload_len,
        "hbh_bytes": hbh_len,
        "mode": mode,
    });
    writeln!(out, "{line}")?;
    out.flush()
}

/// Run `ioam send`.
pub(crate) fn run(args: &SendArgs) -> Result<()> {
    // An IPv4-mapped address (::ffff:a.b.c.d) leaves as IPv4, where no
    // Hop-by-Hop header exists: refused like an IPv4 destination.
    let mapped = match args.to {
        core::net::SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
        core::net::SocketAddr::V4(_) => false,
    };
    if !args.to.is_ipv6() || mapped {
        bail!(
            "--to {}: IOAM needs an IPv6 destination{}",
            args.to,
            if mapped {
                " (an IPv4-mapped address is sent as IPv4, without IOAM)"
            } else {
                ""
            }
        );
    }
    if args.count == 0 {
        return Ok(());
    }
    let base = args.traceparent;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let payload_of = |seq: u64| -> Vec<u8> {
        args.payload
            .clone()
            .unwrap_or_else(|| format!("ioam send {seq}"))
            .into_bytes()
    };
    // `--span-per-packet`: a fresh random span id (the agent's generator).
    let ctx_of = || -> SpanContext {
        if args.span_per_packet {
            SpanContext::new(
                base.trace_id,
                SpanId(clt_otlp::span::random_span_id()),
                base.flags,
            )
        } else {
            base
        }
    };
    let pause = || std::thread::sleep(core::time::Duration::from_millis(args.interval_ms));
    let tt = trace_type(args)?;
    let inj = if args.no_clt {
        None
    } else {
        Some(injector(args, tt)?)
    };
    let inj = inj.as_ref();

    if args.tcp {
        let stream = TcpStream::connect(args.to).with_context(|| format!("connect {}", args.to))?;
        socket2::SockRef::from(&stream)
            .set_unicast_hops_v6(u32::from(args.hop_limit))
            .context("setsockopt(IPV6_UNICAST_HOPS)")?;
        let mut stream = stream;
        for seq in 1..=args.count {
            let ctx = ctx_of();
            let hbh = build_header(args, inj, ctx)?;
            if seq == 1 || args.span_per_packet {
                attach_bytes(&stream, &hbh).map_err(|e| anyhow!("{e}"))?;
            }
            let payload = payload_of(seq);
            stream.write_all(&payload).context("write")?;
            stream.flush()?;
            log_line(&mut out, seq, &ctx, payload.len(), hbh.len(), "tcp-socket")?;
            if seq < args.count {
                pause();
            }
        }
        return Ok(());
    }

    let bind: SocketAddr = "[::]:0".parse().map_err(|e| anyhow!("{e}"))?;
    let socket = UdpSocket::bind(bind).context("bind an IPv6 UDP socket")?;
    socket
        .connect(args.to)
        .with_context(|| format!("connect {}", args.to))?;
    socket2::SockRef::from(&socket)
        .set_unicast_hops_v6(u32::from(args.hop_limit))
        .context("setsockopt(IPV6_UNICAST_HOPS)")?;
    let per_packet = args.per_packet || args.span_per_packet;
    for seq in 1..=args.count {
        let ctx = ctx_of();
        let hbh = build_header(args, inj, ctx)?;
        let payload = payload_of(seq);
        if !per_packet {
            // The header is set again for each datagram so that its
            // timestamps are those of the send.
            attach_bytes(&socket, &hbh).map_err(|e| anyhow!("{e}"))?;
        }
        let send_once = || -> Result<usize, SocketError> {
            if per_packet {
                send_bytes(&socket, &payload, &hbh, None)
            } else {
                socket.send(&payload).map_err(|e| SocketError::Io {
                    call: "send",
                    source: e,
                })
            }
        };
        // A connected UDP socket reports an ICMP "port unreachable" for an
        // earlier datagram on the next send, which then sends nothing:
        // that error concerns the past, so send again.
        let refused = |e: &SocketError| matches!(e, SocketError::Io { source, .. } if source.kind() == io::ErrorKind::ConnectionRefused);
        let sent = match send_once() {
            Err(e) if refused(&e) => send_once(),
            r => r,
        };
        sent.map_err(|e| anyhow!("{e}"))?;
        let mode = if per_packet {
            "udp-datagram"
        } else {
            "udp-socket"
        };
        log_line(&mut out, seq, &ctx, payload.len(), hbh.len(), mode)?;
        if seq < args.count {
            pause();
        }
    }
    Ok(())
}
