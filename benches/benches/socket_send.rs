//! The per-send cost of carrying a span context, side by side on loopback
//! UDP (one 64-byte datagram per iteration, a thread draining the receiver):
//! no IOAM (the floor), the sticky header set once (`Injector::attach`, then
//! plain sends), the prebuilt header as per-datagram ancillary data
//! (`send_bytes`), and `Injector::send_to` (the header built for each
//! datagram, then sent as ancillary data). Needs CAP_NET_RAW (run as root).

use core::net::{SocketAddr, SocketAddrV6};
use std::net::UdpSocket;

use clt_context::traceparent;
use clt_socket::{send_bytes, InjectConfig, Injector};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn pair() -> (UdpSocket, SocketAddrV6) {
    let rx = UdpSocket::bind("[::1]:0").expect("bind [::1]");
    let SocketAddr::V6(addr) = rx.local_addr().unwrap() else {
        unreachable!()
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while rx.recv(&mut buf).is_ok() {}
    });
    (UdpSocket::bind("[::1]:0").unwrap(), addr)
}

fn socket_send(c: &mut Criterion) {
    let ctx = traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .unwrap()
        .ctx;
    let inj = Injector::new(InjectConfig::default()).unwrap();
    let payload = [0x5au8; 64];
    let mut g = c.benchmark_group("udp_send_64B_loopback");
    g.throughput(Throughput::Elements(1));

    let (tx, addr) = pair();
    tx.connect(addr).unwrap();
    g.bench_function("no_ioam (floor)", |b| b.iter(|| tx.send(&payload).unwrap()));

    let (tx, addr) = pair();
    tx.connect(addr).unwrap();
    if let Err(e) = inj.attach(&tx, &ctx) {
        panic!("socket_send cannot run: {e}");
    }
    g.bench_function("sticky_header (attach once)", |b| {
        b.iter(|| tx.send(&payload).unwrap())
    });

    let (tx, addr) = pair();
    let hbh = inj.header(&ctx).unwrap();
    g.bench_function("cmsg_prebuilt_header", |b| {
        b.iter(|| send_bytes(&tx, &payload, &hbh, Some(&addr)).unwrap())
    });
    g.bench_function("cmsg_header_built_per_send", |b| {
        b.iter(|| inj.send_to(&tx, &payload, Some(&addr), &ctx).unwrap())
    });
    g.finish();
}

criterion_group!(benches, socket_send);
criterion_main!(benches);
