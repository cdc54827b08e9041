//! Hop-by-Hop headers built by the injector, sent through Linux routers and
//! captured at the receiver.
//!
//! Captured on Linux 6.18 in network namespaces: sender -> r1 -> r2 ->
//! receiver, the sender handing the injector's bytes to
//! `setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS)` on a UDP socket. Both routers:
//! `ip ioam namespace add 123 data 0xdead000<i> wide 0xcafe00000000000<i>`,
//! `ioam6_id` 10 / 20, `ioam6_id_wide` 1000 / 2000, ingress interface ids
//! 11 / 21 (wide 101 / 201), egress 12 / 22 (wide 102 / 202), IOAM enabled
//! on the ingress interface, no schema bound unless a test says otherwise.
//! The capture (tcpdump on the receiver's interface) shows the header as the
//! receiver got it; the kernel rewrote its Next Header byte to 17 (UDP).

use clt_context::injector::{HopByHopInjector, BODY_OFFSET};
use clt_context::{find_context, CltView, ContextLookup, SpanContext, CLT_SCHEMA_ID};
use ioam_trace::{NodeData, Trace, TraceType};
use ioam_wire::Mode;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn sender(node_id: u32) -> NodeData<'static> {
    NodeData {
        hop_limit: 64,
        node_id,
        ..NodeData::unavailable()
    }
}

fn attributes(view: &CltView<'_>) -> String {
    let mut s = String::new();
    view.write_attributes(&mut s).unwrap();
    s
}

/// Type 0xfff002, room for 2 more hops: both routers wrote their records.
const SENT_FULL: &str = "3b1d010031e60000007b7820fff00200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000007ffffffffffffffffffffffffffffffffffffffffffffffffffffffff40ffffffffffffffffffffffffffffffffffffffffffffffffffffff07434c544bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b70100000001020000";
const RECEIVED_FULL: &str = "111d010031e60000007b7800fff002003e000014001500166b07bd00000a1b55ffffffffdead000200000000ffffffff3e000000000007d0000000c9000000cacafe000000000002ffffffff00ffffff3f00000a000b000c6b07bd00000a1b3cffffffffdead000100000000ffffffff3f000000000003e80000006500000066cafe000000000001ffffffff00ffffff40000007ffffffffffffffffffffffffffffffffffffffffffffffffffffffff40ffffffffffffffffffffffffffffffffffffffffffffffffffffff07434c544bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b70100000001020000";

#[test]
fn full_trace_type_through_two_linux_routers() {
    let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .parse()
        .unwrap();
    let t = TraceType::from_bits(0xff_f002).unwrap();
    let built = HopByHopInjector {
        namespace_id: 123,
        trace_type: t,
        extra_hops: 2,
        sender: sender(7),
        ctx,
        ..Default::default()
    }
    .build()
    .unwrap();
    assert_eq!(built.as_bytes(), &unhex(SENT_FULL)[..]);

    let rx = unhex(RECEIVED_FULL);
    assert_eq!(rx.len(), built.len());
    // Only the Next Header byte, RemainingLen and the free space changed;
    // the sender's record (from offset 8 + 8 + 128) is intact.
    assert_eq!(rx[0], 17);
    assert_eq!(&rx[1..11], &built[1..11]);
    assert_eq!(rx[11], 0); // RemainingLen 32 -> 0
    assert_eq!(built[11], 32);
    assert_eq!(&rx[144..], &built[144..]);

    let body = &rx[BODY_OFFSET..rx.len() - 4];
    let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
    assert_eq!(trace.free_space(), 0);
    assert!(!trace.header().flags.overflow);
    let view = CltView::new(trace, CLT_SCHEMA_ID);
    assert_eq!(view.context().context(), Some(ctx));
    assert_eq!(
        attributes(&view),
        "ioam_namespace123_node1=HopLimit=64; Id=7; IngressId=65535; EgressId=65535; \
TimestampSecs=4294967295; TimestampFrac=4294967295; TransitDelay=4294967295; \
NamespaceData=0xffffffff; QueueDepth=4294967295; CsumComp=4294967295; HopLimit=64; \
IdWide=72057594037927935; IngressIdWide=4294967295; EgressIdWide=4294967295; \
NamespaceDataWide=0xffffffffffffffff; BufferOccupancy=4294967295; OpaqueStateSchemaId=4410452; \
OpaqueStateData=0x4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b701000000; \n\
ioam_namespace123_node2=HopLimit=63; Id=10; IngressId=11; EgressId=12; TimestampSecs=1795669248; \
TimestampFrac=662332; TransitDelay=4294967295; NamespaceData=0xdead0001; QueueDepth=0; \
CsumComp=4294967295; HopLimit=63; IdWide=1000; IngressIdWide=101; EgressIdWide=102; \
NamespaceDataWide=0xcafe000000000001; BufferOccupancy=4294967295; OpaqueStateSchemaId=16777215; \
OpaqueStateData=0x; \n\
ioam_namespace123_node3=HopLimit=62; Id=20; IngressId=21; EgressId=22; TimestampSecs=1795669248; \
TimestampFrac=662357; TransitDelay=4294967295; NamespaceData=0xdead0002; QueueDepth=0; \
CsumComp=4294967295; HopLimit=62; IdWide=2000; IngressIdWide=201; EgressIdWide=202; \
NamespaceDataWide=0xcafe000000000002; BufferOccupancy=4294967295; OpaqueStateSchemaId=16777215; \
OpaqueStateData=0x; \n"
    );
}

/// Type 0x800002, room for 1 more hop: r1 wrote its record, r2 set Overflow.
const SENT_SHORT: &str = "3b07010031360000007b08028000020000000000000000004000000707434c540af7651916cd43dd8448eb211c80319cb7ad6b71692033310300000001020000";
const RECEIVED_SHORT: &str = "1107010031360000007b0c00800002003f00000a00ffffff4000000707434c540af7651916cd43dd8448eb211c80319cb7ad6b71692033310300000001020000";

#[test]
fn overflow_after_the_reserved_room() {
    let ctx: SpanContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"
        .parse()
        .unwrap();
    let t = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE;
    let built = HopByHopInjector {
        namespace_id: 123,
        trace_type: t,
        extra_hops: 1,
        sender: sender(7),
        ctx,
        ..Default::default()
    }
    .build()
    .unwrap();
    assert_eq!(built.as_bytes(), &unhex(SENT_SHORT)[..]);

    let rx = unhex(RECEIVED_SHORT);
    let body = &rx[BODY_OFFSET..rx.len() - 4];
    let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
    assert!(trace.header().flags.overflow);
    let lookup = find_context(&trace, CLT_SCHEMA_ID);
    assert!(matches!(lookup, ContextLookup::Found(f) if f.ctx == ctx && f.hop == 1));
    assert!(lookup.context().unwrap().flags.is_random());
    assert_eq!(
        attributes(&CltView::new(trace, CLT_SCHEMA_ID)),
        "ioam_namespace123_node1=HopLimit=64; Id=7; OpaqueStateSchemaId=4410452; \
OpaqueStateData=0x0af7651916cd43dd8448eb211c80319cb7ad6b716920333103000000; \n\
ioam_namespace123_node2=HopLimit=63; Id=10; OpaqueStateSchemaId=16777215; OpaqueStateData=0x; \n"
    );
}

/// Type 0xc00002, room for 3 more hops of 3 words; r2 has schema 777 bound
/// (`ip ioam schema add 777 "clt!x"`, data zero-padded by the kernel to 8
/// bytes), so its snapshot takes 3 words and its record 5.
const SENT_SCHEMA: &str = "3b0b010031560000007b1009c000020000000000000000000000000000000000000000000000000000000000000000000000000040000007ffffffff07434c540af7651916cd43dd8448eb211c80319cb7ad6b71692033310100000001020000";
const RECEIVED_SCHEMA: &str = "110b010031560000007b1001c0000200000000003e0000140015001602000309636c7421780000003f00000a000b000c00ffffff40000007ffffffff07434c540af7651916cd43dd8448eb211c80319cb7ad6b71692033310100000001020000";

#[test]
fn router_with_a_bound_schema() {
    let ctx: SpanContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        .parse()
        .unwrap();
    let t = TraceType::HOP_LIM_NODE_ID | TraceType::INTERFACE_IDS | TraceType::OPAQUE_STATE;
    let built = HopByHopInjector {
        namespace_id: 123,
        trace_type: t,
        extra_hops: 3,
        sender: sender(7),
        ctx,
        ..Default::default()
    }
    .build()
    .unwrap();
    assert_eq!(built.as_bytes(), &unhex(SENT_SCHEMA)[..]);

    let rx = unhex(RECEIVED_SCHEMA);
    let body = &rx[BODY_OFFSET..rx.len() - 4];
    let view = Trace::parse_preallocated(body, Mode::Strict)
        .map(|t| CltView::new(t, CLT_SCHEMA_ID))
        .unwrap();
    assert_eq!(view.trace().free_space(), 4);
    assert_eq!(view.context().context(), Some(ctx));
    assert_eq!(
        attributes(&view),
        "ioam_namespace123_node1=HopLimit=64; Id=7; IngressId=65535; EgressId=65535; \
OpaqueStateSchemaId=4410452; \
OpaqueStateData=0x0af7651916cd43dd8448eb211c80319cb7ad6b716920333101000000; \n\
ioam_namespace123_node2=HopLimit=63; Id=10; IngressId=11; EgressId=12; \
OpaqueStateSchemaId=16777215; OpaqueStateData=0x; \n\
ioam_namespace123_node3=HopLimit=62; Id=20; IngressId=21; EgressId=22; \
OpaqueStateSchemaId=777; OpaqueStateData=0x636c742178000000; \n"
    );
    // Under schema 777 the lookup finds r2's snapshot, not a CLT one.
    assert!(matches!(
        find_context(view.trace(), 777),
        ContextLookup::BadOss { hop: 3, .. }
    ));
}
