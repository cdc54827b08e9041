//! Against the running kernel on loopback: what a socket with a context
//! attached sends is what the receiver's kernel hands back (IPV6_RECVHOPOPTS)
//! and what a capture sees, decoded by the core crates. Needs CAP_NET_RAW
//! (CI runs as root); without it the tests fail and say so.

use std::io::{Read, Write};
use std::net::{SocketAddrV6, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use clt_context::{find_context, traceparent, ContextLookup, SpanContext, CLT_SCHEMA_ID};
use clt_socket::{
    clear, enable_recv_hop_by_hop, recv_hop_by_hop, InjectConfig, Injector, Room, SocketError,
};
use ioam_trace::{IoamPacket, Mode, OptionBody, TraceType};

fn ctx(span: &str) -> SpanContext {
    traceparent::parse(&format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{span}-01"))
        .unwrap()
        .ctx
}

fn cannot_run(why: &str) -> ! {
    panic!("this test cannot run: {why}. CI runs it as root.");
}

fn or_explain<T>(r: Result<T, SocketError>) -> T {
    match r {
        Ok(v) => v,
        Err(e @ SocketError::PermissionDenied { .. }) => cannot_run(&e.to_string()),
        Err(e) => panic!("{e}"),
    }
}

/// The CLT context and free space of a Hop-by-Hop header as the receiver got
/// it, read through a synthetic IPv6 header and the core walk.
fn context_of(hbh: &[u8]) -> (SpanContext, usize, u16) {
    let mut pkt = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
    pkt[4..6].copy_from_slice(&(hbh.len() as u16).to_be_bytes());
    pkt.extend_from_slice(&[0; 32]);
    pkt.extend_from_slice(hbh);
    pkt[40] = 59; // No Next Header: the payload is not part of this test
    let mut items = IoamPacket::new(&pkt, Mode::Strict).unwrap();
    let item = items.next().expect("an IOAM option").unwrap();
    let Ok(OptionBody::PreallocatedTrace(t)) = item.body() else {
        panic!("not a pre-allocated trace")
    };
    let ContextLookup::Found(found) = find_context(&t, CLT_SCHEMA_ID) else {
        panic!("no CLT context")
    };
    (found.ctx, t.free_space(), t.namespace_id())
}

fn receiver() -> (UdpSocket, SocketAddrV6) {
    let rx = UdpSocket::bind("[::1]:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    or_explain(enable_recv_hop_by_hop(&rx));
    let std::net::SocketAddr::V6(a) = rx.local_addr().unwrap() else {
        unreachable!()
    };
    (rx, a)
}

#[test]
fn sticky_context_on_a_connected_udp_socket() {
    let (rx, addr) = receiver();
    let tx = UdpSocket::bind("[::1]:0").unwrap();
    tx.connect(addr).unwrap();
    let cfg = InjectConfig {
        namespace: 123,
        ..InjectConfig::default()
    };
    let inj = or_explain(Injector::new(cfg));
    let a = or_explain(inj.attach(&tx, &ctx("00f067aa0ba90201")));
    // 0xf00002: 16-byte records + 4-byte opaque state word per router, 8 routers.
    assert_eq!(a.free_bytes, 8 * 20);
    tx.send(b"one").unwrap();
    let mut buf = [0u8; 64];
    let (n, hbh) = recv_hop_by_hop(&rx, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"one");
    let hbh = hbh.expect("the datagram carried a Hop-by-Hop header");
    assert_eq!(hbh.len(), a.header_len);
    let (got, free, ns) = context_of(&hbh);
    assert_eq!((got, free, ns), (ctx("00f067aa0ba90201"), 160, 123));

    // A new span: attach again, the next datagram carries it.
    or_explain(inj.attach(&tx, &ctx("00f067aa0ba90202")));
    tx.send(b"two").unwrap();
    let (_, hbh) = recv_hop_by_hop(&rx, &mut buf).unwrap();
    assert_eq!(context_of(&hbh.unwrap()).0, ctx("00f067aa0ba90202"));

    // Cleared: no header any more.
    or_explain(clear(&tx));
    tx.send(b"three").unwrap();
    let (n, hbh) = recv_hop_by_hop(&rx, &mut buf).unwrap();
    assert_eq!((&buf[..n], hbh), (&b"three"[..], None));
}

#[test]
fn per_datagram_contexts_on_one_unconnected_socket_do_not_mix() {
    let (rx, addr) = receiver();
    let tx = UdpSocket::bind("[::1]:0").unwrap();
    let inj = or_explain(Injector::new(InjectConfig::default()));
    let spans = ["00f067aa0ba90211", "00f067aa0ba90212", "00f067aa0ba90213"];
    for s in spans {
        or_explain(inj.send_to(&tx, s.as_bytes(), Some(&addr), &ctx(s)));
    }
    let mut buf = [0u8; 64];
    for s in spans {
        let (n, hbh) = recv_hop_by_hop(&rx, &mut buf).unwrap();
        assert_eq!(&buf[..n], s.as_bytes());
        assert_eq!(context_of(&hbh.expect("header")).0, ctx(s), "datagram {s}");
    }
}

#[test]
fn room_in_bytes_as_iproute2_size() {
    let (rx, addr) = receiver();
    let tx = UdpSocket::bind("[::1]:0").unwrap();
    tx.connect(addr).unwrap();
    let inj = or_explain(Injector::new(InjectConfig {
        trace_type: TraceType::from_bits(0xff_f002).unwrap(),
        room: Room::Bytes(240),
        ..InjectConfig::default()
    }));
    let a = or_explain(inj.attach(&tx, &ctx("00f067aa0ba90221")));
    // Sender record: 60 bytes of fields + 32 of CLT opaque state.
    assert_eq!(a.free_bytes, 240 - 92);
    tx.send(b"x").unwrap();
    let mut buf = [0u8; 8];
    let (_, hbh) = recv_hop_by_hop(&rx, &mut buf).unwrap();
    assert_eq!(context_of(&hbh.unwrap()).1, 148);
}

#[test]
fn tcp_stream_packets_carry_the_context() {
    // Captured on loopback (libpcap, filter ip6[6] == 0): the segments the
    // client sends after `attach` carry the context; the server's do not.
    let mut cap = match ioam_capture::live::LiveCapture::open(
        "lo",
        &ioam_capture::live::LiveConfig::default(),
    ) {
        Ok(c) => c,
        Err(e) => cannot_run(&e.to_string()),
    };
    let l = TcpListener::bind("[::1]:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut b = [0u8; 5];
        s.read_exact(&mut b).unwrap();
        s.write_all(b"world").unwrap();
        b
    });
    let mut stream = TcpStream::connect(addr).unwrap();
    let client_port = stream.local_addr().unwrap().port();
    let inj = or_explain(Injector::new(InjectConfig::default()));
    let a = or_explain(inj.attach(&stream, &ctx("00f067aa0ba90231")));
    stream.write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    stream.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"world");
    assert_eq!(&server.join().unwrap(), b"hello");
    drop(stream);

    let mut tagged = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        let Some(p) = cap.next_packet().unwrap() else {
            continue;
        };
        let Ok(ioam_capture::link::Payload::Ipv6 { packet, .. }) =
            ioam_capture::link::ipv6_payload(p.linktype, p.data)
        else {
            continue;
        };
        // Other tests of this binary send on loopback too: only this
        // connection's TCP segments count.
        let hbh_len = (usize::from(packet[41]) + 1) * 8;
        if packet[40] != 6 || packet.len() < 44 + hbh_len {
            continue;
        }
        let sport = u16::from_be_bytes([packet[40 + hbh_len], packet[41 + hbh_len]]);
        let dport = u16::from_be_bytes([packet[42 + hbh_len], packet[43 + hbh_len]]);
        assert!(
            !(sport == addr.port() && dport == client_port),
            "a segment of the server carries a Hop-by-Hop header"
        );
        if (sport, dport) != (client_port, addr.port()) {
            continue;
        }
        assert_eq!(hbh_len, a.header_len);
        assert_eq!(context_of_packet(packet), ctx("00f067aa0ba90231"));
        tagged += 1;
        if tagged >= 2 {
            break;
        }
    }
    assert!(
        tagged >= 2,
        "the data segment and the FIN carry the context ({tagged} seen)"
    );
}

/// The CLT context of a captured IPv6 packet.
fn context_of_packet(pkt: &[u8]) -> SpanContext {
    let mut items = IoamPacket::new(pkt, Mode::Strict).unwrap();
    let item = items.next().expect("an IOAM option").unwrap();
    let Ok(OptionBody::PreallocatedTrace(t)) = item.body() else {
        panic!("not a pre-allocated trace")
    };
    let ContextLookup::Found(found) = find_context(&t, CLT_SCHEMA_ID) else {
        panic!("no CLT context")
    };
    found.ctx
}

#[test]
fn ipv4_sockets_and_oversized_traces_are_refused_with_the_reason() {
    let inj = or_explain(Injector::new(InjectConfig::default()));
    let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
    assert!(matches!(
        inj.attach(&v4, &ctx("00f067aa0ba90241")),
        Err(SocketError::NotIpv6)
    ));
    let e = Injector::new(InjectConfig {
        room: Room::Hops(30),
        ..InjectConfig::default()
    })
    .unwrap_err();
    let SocketError::DoesNotFit { asked, max, .. } = e else {
        panic!("{e}")
    };
    assert_eq!(max, 244);
    assert!(asked > max);
    let msg = e.to_string();
    // 0xf00002: a 48-byte sender record, 20 bytes per router.
    assert!(msg.contains("at most 9 routers of 20 bytes"), "{msg}");
    let e = Injector::new(InjectConfig {
        trace_type: TraceType::from_bits(0xf0_0000).unwrap(),
        ..InjectConfig::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("bit 22"), "{e}");
}
