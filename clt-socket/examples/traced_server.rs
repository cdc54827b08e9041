//! A small TCP request/response server instrumented with OpenTelemetry: one
//! span `serve` per connection, exported over OTLP/HTTP (the standard
//! `OTEL_*` variables). The routers' view of the client's packets comes from
//! `ioam agent` on this host, as `ioam-span`s in the client's trace.
//!
//! ```sh
//! cargo run -p clt-socket --features opentelemetry --example traced_server -- --listen '[::]:8080'
//! ```
//! Serves until killed; `--once` ends after the first connection.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use opentelemetry::trace::{Span, Tracer};
use opentelemetry::{global, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen = "[::]:8080".to_string();
    let mut once = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs [ADDR]:PORT")?,
            "--once" => once = true,
            _ => {
                return Err(format!(
                    "usage: traced_server [--listen [ADDR]:PORT] [--once] (got {a:?})"
                )
                .into())
            }
        }
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    global::set_tracer_provider(provider.clone());
    let tracer = global::tracer("traced_server");
    let listener = TcpListener::bind(&listen)?;
    println!("listening on {}", listener.local_addr()?);
    for conn in listener.incoming() {
        let mut stream = conn?;
        let mut span = tracer.start("serve");
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        span.set_attribute(KeyValue::new("request", line.trim_end().to_string()));
        stream.write_all(format!("OK {}\n", line.trim_end()).as_bytes())?;
        span.end();
        if once {
            break;
        }
    }
    provider.shutdown()?;
    Ok(())
}
