//! A CLT sender: a span context in, the Hop-by-Hop header for
//! `setsockopt(IPPROTO_IPV6, IPV6_HOPOPTS, ..)` out (hex), then the same
//! header for the next span, patched in place.
//!
//! ```text
//! cargo run -p clt-context --example injector
//! cargo run -p clt-context --example injector -- 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//! ```

use clt_context::injector::HopByHopInjector;
use clt_context::{NodeData, SpanContext, SpanId};

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let traceparent = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
    let ctx: SpanContext = traceparent.parse()?;

    // Namespace 123, the default trace type (0xf00002: hop limit and node
    // id, interface ids, timestamps, opaque state) and room for 8 routers;
    // this host writes the first record: node 1, hop limit 64.
    let injector = HopByHopInjector {
        namespace_id: 123,
        ctx,
        sender: NodeData {
            hop_limit: 64,
            node_id: 1,
            ..NodeData::unavailable()
        },
        ..Default::default()
    };
    let mut hbh = injector.build()?;
    println!("{}", hex(&hbh));

    // A new span on the same socket: only the 25 context bytes change.
    let next = SpanContext {
        span_id: SpanId::from_u64(0x00f0_67aa_0ba9_02b8),
        ..ctx
    };
    hbh.set_context(&next);
    println!("{}", hex(&hbh));
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
