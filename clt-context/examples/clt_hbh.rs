//! Builds the Hop-by-Hop header of a CLT sender, or decodes one.
//!
//! ```text
//! cargo run -p clt-context --example clt_hbh -- build <ns> <trace-type hex> <extra hops> <traceparent> [node id] [hop limit]
//! cargo run -p clt-context --example clt_hbh -- decode <hex of a Hop-by-Hop header>
//! ```
//!
//! `build` prints the header as hex, ready for `setsockopt(IPV6_HOPOPTS)`;
//! `decode` prints the CLT context and the collector attributes of each
//! pre-allocated trace in the header.

use ioam_wire::Mode;
use std::process::ExitCode;

use clt_context::injector::HopByHopInjector;
use clt_context::{CltView, SpanContext, CLT_SCHEMA_ID};
use ioam_trace::{NodeData, Trace, TraceType};
use ioam_wire::ioam::IoamType;
use ioam_wire::opt::{Opt, Options};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn build(args: &[String]) -> Result<(), String> {
    let [ns, ty, hops, tp, rest @ ..] = args else {
        return Err(
            "build <ns> <trace-type hex> <extra hops> <traceparent> [node id] [hop limit]".into(),
        );
    };
    let ns: u16 = ns.parse().map_err(|e| format!("namespace: {e}"))?;
    let ty = u32::from_str_radix(ty.trim_start_matches("0x"), 16)
        .map_err(|e| format!("trace type: {e}"))?;
    let ty = TraceType::from_bits(ty).ok_or("trace type wider than 24 bits")?;
    let hops: usize = hops.parse().map_err(|e| format!("hops: {e}"))?;
    let ctx: SpanContext = tp.parse().map_err(|e| format!("{e}"))?;
    let node_id = rest
        .first()
        .map_or(Ok(1), |s| s.parse())
        .map_err(|e| format!("node id: {e}"))?;
    let hop_limit = rest
        .get(1)
        .map_or(Ok(64), |s| s.parse())
        .map_err(|e| format!("hop limit: {e}"))?;
    let sender = NodeData {
        hop_limit,
        node_id,
        ..NodeData::unavailable()
    };
    let hbh = HopByHopInjector {
        namespace_id: ns,
        trace_type: ty,
        extra_hops: hops,
        sender,
        ctx,
        ..Default::default()
    }
    .build()
    .map_err(|e| e.to_string())?;
    println!("{}", hex(&hbh));
    Ok(())
}

fn decode(args: &[String]) -> Result<(), String> {
    let [h] = args else {
        return Err("decode <hex>".into());
    };
    let bytes = unhex(h).ok_or("not hex")?;
    for opt in Options::new(&bytes, Mode::Lenient) {
        let Opt::Ioam(o) = opt.map_err(|e| e.to_string())? else {
            continue;
        };
        if o.ioam_type != IoamType::PreallocatedTrace {
            continue;
        }
        let trace = Trace::parse_preallocated(o.body, Mode::Lenient).map_err(|e| e.to_string())?;
        let view = CltView::new(trace, CLT_SCHEMA_ID);
        println!("context: {}", view.context());
        let mut out = String::new();
        view.write_attributes(&mut out).map_err(|e| e.to_string())?;
        print!("{out}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("build") => build(&args[1..]),
        Some("decode") => decode(&args[1..]),
        _ => Err("usage: clt_hbh build ... | decode <hex>".into()),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
