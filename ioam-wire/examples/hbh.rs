//! Builds an IPv6/UDP packet, inserts a Hop-by-Hop header carrying a
//! pre-allocated IOAM trace option in the Linux layout (RFC 9486 §4), then
//! walks the packet and prints every header and option it finds.
//!
//! Run with `cargo run -p ioam-wire --example hbh`.

use ioam_wire::build::{insert_ext_header, ioam_header, remove_ext_header};
use ioam_wire::ext::{ExtHeaders, ExtKind};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::ipv6::{Ipv6Header, Ipv6HeaderRepr, IPV6_HEADER_LEN};
use ioam_wire::opt::Opt;
use ioam_wire::packet::IoamOptions;
use ioam_wire::Mode;
use ioam_wire::{proto, WireError};

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(4)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> Result<(), WireError> {
    // An IPv6 packet carrying an 8-byte UDP header and 4 bytes of data,
    // in a buffer with room for extension headers.
    let udp = [
        0x30, 0x39, 0x27, 0x0f, 0x00, 0x0c, 0x00, 0x00, b'i', b'o', b'a', b'm',
    ];
    let mut buf = [0u8; 512];
    let mut src = [0u8; 16];
    src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    let mut dst = src;
    src[15] = 1;
    dst[15] = 2;
    Ipv6HeaderRepr {
        traffic_class: 0,
        flow_label: 0x12345,
        payload_len: udp.len() as u16,
        next_header: proto::UDP,
        hop_limit: 64,
        src_addr: src,
        dst_addr: dst,
    }
    .emit(&mut buf)?;
    buf[IPV6_HEADER_LEN..IPV6_HEADER_LEN + udp.len()].copy_from_slice(&udp);
    let mut len = IPV6_HEADER_LEN + udp.len();
    let original = buf[..len].to_vec();

    // A pre-allocated trace: namespace 123, trace type 0x800000 (hop limit
    // and node id, NodeLen 1), room for 3 nodes (RemainingLen 3).
    let trace_header = [0x00, 0x7b, 0x08, 0x03, 0x80, 0x00, 0x00, 0x00];
    let body_len = trace_header.len() + 3 * 4;
    let mut hbh = [0u8; 64];
    let (hbh_len, ()) = ioam_header(
        &mut hbh,
        0, // replaced on insertion
        OPT_IOAM,
        IoamType::PreallocatedTrace,
        body_len,
        |body| body[..8].copy_from_slice(&trace_header),
    )?;
    println!(
        "Hop-by-Hop header ({hbh_len} bytes): {}",
        hex(&hbh[..hbh_len])
    );

    let ins = insert_ext_header(&mut buf, len, ExtKind::HopByHop, &hbh[..hbh_len])?;
    len = ins.packet_len;
    let ip = Ipv6Header::new_checked(&buf[..len])?;
    println!(
        "packet: {len} bytes, IPv6 next header {}, payload length {}",
        ip.next_header(),
        ip.payload_len()
    );

    let mut walk = ExtHeaders::new(&buf[..len])?;
    for h in &mut walk {
        let h = h?;
        println!(
            "  {} header at {} ({} bytes), next header {}",
            h.kind,
            h.offset,
            h.len(),
            h.next_header
        );
        if let Some(opts) = h.options(Mode::Strict) {
            for o in opts {
                match o? {
                    Opt::Ioam(io) => println!(
                        "    IOAM option 0x{:02x} at {}: {}, body {} bytes: {}",
                        io.option_type,
                        h.offset + io.offset,
                        io.ioam_type,
                        io.body.len(),
                        hex(io.body)
                    ),
                    other => println!("    {other}"),
                }
            }
        }
    }
    if let Some(end) = walk.end() {
        println!("  upper layer: protocol {} at {}", end.protocol, end.offset);
    }

    for found in IoamOptions::new(&buf[..len], Mode::Strict)? {
        let found = found?;
        println!(
            "IOAM {} in the {} header, body at packet offset {}: {}",
            found.option.ioam_type,
            found.header,
            found.absolute_body_offset(),
            found.placement()
        );
    }

    let removed = remove_ext_header(&mut buf, len, ExtKind::HopByHop)?;
    assert_eq!(buf[..removed.packet_len], original[..]);
    println!(
        "removed {} bytes again: packet restored ({} bytes)",
        removed.len, removed.packet_len
    );
    Ok(())
}
