//! A client instrumented with OpenTelemetry whose packets carry its span.
//!
//! It starts a span `login`, attaches the span's context to its TCP
//! connection (every packet it sends carries an IOAM trace whose first
//! record holds the context), sends one request, reads the answer, ends the
//! span, flushes the exporter and prints the traceparent. The span goes to
//! the OTLP/HTTP endpoint of the standard variables
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, default `http://localhost:4318`;
//! `OTEL_SERVICE_NAME`).
//!
//! ```sh
//! sudo -E cargo run -p clt-socket --features opentelemetry --example traced_client -- \
//!     --connect '[2001:db8::2]:8080' --namespace 123 [--trace-type 0xf00002] [--size BYTES | --hops N]
//! ```
//! Needs CAP_NET_RAW (IPv6 options), as root or with `setcap cap_net_raw+ep`.

use std::io::{Read, Write};
use std::net::TcpStream;

use clt_socket::{InjectConfig, Injector, Room};
use ioam_trace::TraceType;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::{global, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;

fn usage() -> ! {
    eprintln!("usage: traced_client --connect [ADDR]:PORT [--namespace NS] [--trace-type T] [--size BYTES | --hops N]");
    std::process::exit(2)
}

fn num(s: &str) -> u64 {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.unwrap_or_else(|_| usage())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut connect = None;
    let mut cfg = InjectConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--connect" => connect = Some(val()),
            "--namespace" => cfg.namespace = num(&val()) as u16,
            "--trace-type" => {
                cfg.trace_type = TraceType::from_bits(num(&val()) as u32).unwrap_or_else(|| usage())
            }
            "--size" => cfg.room = Room::Bytes(num(&val()) as usize),
            "--hops" => cfg.room = Room::Hops(num(&val()) as usize),
            _ => usage(),
        }
    }
    let connect = connect.unwrap_or_else(|| usage());

    // The OpenTelemetry SDK with its OTLP/HTTP exporter, configured by the
    // OTEL_* variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    global::set_tracer_provider(provider.clone());
    let tracer = global::tracer("traced_client");

    // The ten lines an application adds: an injector, and one call per
    // connection (or per span change).
    let injector = Injector::new(cfg)?;
    let (answer, ctx) = tracer.in_span("login", |cx| -> Result<_, Box<dyn std::error::Error>> {
        let mut stream = TcpStream::connect(&connect)?;
        let attached = injector.attach_current(&stream)?;
        cx.span().set_attribute(KeyValue::new(
            "ioam.header_bytes",
            attached.header_len as i64,
        ));
        stream.write_all(b"LOGIN alice\n")?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let ctx = clt_context::SpanContext::from(cx.span().span_context());
        Ok((answer, ctx))
    })?;
    // The span ended with `in_span`; the simple exporter has sent it.
    provider.shutdown()?;
    println!("answer {}", answer.trim_end());
    println!(
        "traceparent {}",
        clt_context::traceparent::format(&ctx).as_str()
    );
    Ok(())
}
