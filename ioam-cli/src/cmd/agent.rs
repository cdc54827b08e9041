//! `ioam agent`: the arguments, the environment, signals, and the log.

use core::sync::atomic::AtomicBool;
use core::time::Duration;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::Args;

use clt_otlp::export::{parse_key_values, traces_url, ExportConfig, Exporter, Protocol};
use clt_otlp::pipeline::{FileFormat, PipelineConfig, Sinks};
use clt_otlp::proto::Resource;
use clt_otlp::span::SpanConfig;
use ioam_agent::{self as agent, AgentConfig, Limits, Logger, Sources};
use ioam_capture::live::LiveConfig;
use ioam_cli::args::{parse_schema_id, parse_u16};
use ioam_trace::timestamp::TimestampFormat;
use ioam_wire::Mode;

fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v.is_finite() && (0.0..1e9).contains(&v)) {
        return Err(format!("{s:?}: expected 0 to 1e9 seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

fn format_name(s: &str) -> Result<FileFormat, String> {
    FileFormat::from_name(s).ok_or_else(|| "expected jsonl or otlp-json".to_string())
}

fn protocol_name(s: &str) -> Result<Protocol, String> {
    Protocol::from_name(s).map_err(|e| e.0)
}

#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    /// Capture live on IFACE (repeatable; `any` for all). Needs CAP_NET_RAW.
    #[arg(long, short = 'i', value_name = "IFACE")]
    interface: Vec<String>,
    /// Subscribe to the kernel's IOAM6 trace events (Linux >= 6.9, CAP_NET_ADMIN):
    /// the trace with this host's own record.
    #[arg(long)]
    kernel_events: bool,
    /// Read a pcap/pcapng file through the same pipeline (repeatable).
    #[arg(long, short = 'r', value_name = "FILE")]
    read: Vec<PathBuf>,
    /// Put the interfaces in promiscuous mode.
    #[arg(long)]
    promiscuous: bool,
    /// OTLP/HTTP endpoint (spans go to URL/v1/traces). Default: the
    /// OTEL_EXPORTER_OTLP_* variables, else http://localhost:4318.
    #[arg(long, value_name = "URL")]
    otlp_endpoint: Option<String>,
    /// OTLP body encoding: http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf).
    #[arg(long, value_name = "PROTOCOL", value_parser = protocol_name)]
    otlp_protocol: Option<Protocol>,
    /// Check an https endpoint against the certificate authorities of this
    /// PEM file instead of Mozilla's root store (default:
    /// OTEL_EXPORTER_OTLP_CERTIFICATE).
    #[arg(long, value_name = "FILE")]
    otlp_ca: Option<std::path::PathBuf>,
    /// Do not export over OTLP (only --output).
    #[arg(long, conflicts_with_all = ["otlp_endpoint", "otlp_protocol", "otlp_ca"])]
    no_otlp: bool,
    /// Also write the spans to FILE (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Format of --output.
    #[arg(long, value_name = "FORMAT", default_value = "jsonl", value_parser = format_name)]
    format: FileFormat,
    /// Spans held between decode and export; beyond it new spans are dropped and counted.
    #[arg(long, value_name = "N", default_value_t = 8192)]
    queue_size: usize,
    /// Largest batch per OTLP request.
    #[arg(long, value_name = "N", default_value_t = 512)]
    batch_size: usize,
    /// Send a partial batch after SECS.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = seconds)]
    batch_timeout: Duration,
    /// On stop, wait at most SECS for the queue to drain.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    flush_timeout: Duration,
    /// Give up on a batch after retrying for SECS.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    retry_for: Duration,
    /// Stop after SECS.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    duration: Option<Duration>,
    /// Stop after N packets and events read.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Print the counters on standard error every SECS (0: only at exit).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    stats_interval: Duration,
    /// Once the capture and netlink sockets and the output file are open,
    /// become USER (a name or a uid; needs root): no packet is parsed with
    /// privileges, and every capability is gone.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only traces of namespace NS (repeatable, or comma-separated).
    #[arg(long, value_name = "NS", value_delimiter = ',', value_parser = parse_u16)]
    namespace: Vec<u16>,
    /// Schema ID of the CLT opaque state snapshot.
    #[arg(long, value_name = "ID", default_value = "0x434c54", value_parser = parse_schema_id)]
    clt_schema_id: u32,
    /// Namespace N uses the legacy CLT header (repeatable, or comma-separated).
    #[arg(long, value_name = "N", value_delimiter = ',', value_parser = parse_u16)]
    legacy_clt_ns: Vec<u16>,
    /// Export spans of unsampled contexts too.
    #[arg(long)]
    export_unsampled: bool,
    /// Strict parsing (Linux rules) instead of lenient (RFC 9197).
    #[arg(long)]
    strict: bool,
    /// Timestamp format of the namespaces.
    #[arg(long, default_value = "posix", value_parser = crate::timestamp_format)]
    timestamp_format: TimestampFormat,
    /// service.name of the spans (default: OTEL_SERVICE_NAME, else ioam-agent).
    #[arg(long, value_name = "NAME")]
    service_name: Option<String>,
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

fn export_config(a: &AgentArgs) -> Result<ExportConfig> {
    let mut cfg = ExportConfig::from_env(var)?;
    if let Some(url) = &a.otlp_endpoint {
        cfg.traces_url = traces_url(url);
    }
    if let Some(p) = a.otlp_protocol {
        cfg.protocol = p;
    }
    if let Some(path) = &a.otlp_ca {
        cfg.ca_certificates = clt_otlp::export::load_ca_file(path)?;
    }
    cfg.retry.max_elapsed = a.retry_for;
    cfg.check()?;
    Ok(cfg)
}

fn resource(a: &AgentArgs) -> Result<Resource> {
    let mut attributes = match var("OTEL_RESOURCE_ATTRIBUTES") {
        Some(s) => parse_key_values(&s, "OTEL_RESOURCE_ATTRIBUTES")?,
        None => Vec::new(),
    };
    let from_attrs = attributes
        .iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.clone());
    attributes.retain(|(k, _)| k != "service.name");
    let service_name = a
        .service_name
        .clone()
        .or_else(|| var("OTEL_SERVICE_NAME"))
        .or(from_attrs)
        .unwrap_or_else(|| "ioam-agent".to_string());
    Ok(Resource {
        service_name,
        attributes,
    })
}

pub(crate) fn run(a: &AgentArgs) -> Result<()> {
    if a.interface.is_empty() && !a.kernel_events && a.read.is_empty() {
        bail!("no source: give --interface IFACE, --kernel-events or --read FILE");
    }
    let otlp = if a.no_otlp {
        if a.output.is_none() {
            bail!("--no-otlp without --output would export nothing");
        }
        None
    } else {
        let cfg = export_config(a)?;
        Some(Exporter::new(cfg))
    };
    let file: Option<(Box<dyn Write + Send>, _)> = match &a.output {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some((Box::new(io::stdout()), a.format)),
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", p.display()))?;
            Some((Box::new(io::BufWriter::new(f)), a.format))
        }
    };
    let log: Logger = Arc::new(|msg: &str| {
        let _ = writeln!(io::stderr().lock(), "ioam agent: {msg}");
    });
    if let Some(e) = &otlp {
        // The endpoint, never the headers (they hold credentials).
        log(&format!(
            "exporting to {} ({}, {} header(s))",
            e.config().traces_url,
            e.config().protocol.name(),
            e.config().headers.len()
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let cfg = AgentConfig {
        sources: Sources {
            interfaces: a.interface.clone(),
            kernel_events: a.kernel_events,
            files: a.read.clone(),
            live: LiveConfig {
                promiscuous: a.promiscuous,
                ..LiveConfig::default()
            },
        },
        spans: SpanConfig {
            schema_id: a.clt_schema_id,
            legacy_namespaces: a.legacy_clt_ns.clone(),
            namespaces: a.namespace.clone(),
            export_unsampled: a.export_unsampled,
            mode: if a.strict {
                Mode::Strict
            } else {
                Mode::Lenient
            },
            timestamp_format: a.timestamp_format,
        },
        pipeline: PipelineConfig {
            queue_size: a.queue_size,
            batch_size: a.batch_size,
            batch_timeout: a.batch_timeout,
            flush_timeout: a.flush_timeout,
        },
        resource: resource(a)?,
        sinks: Sinks { otlp, file },
        limits: Limits {
            duration: a.duration,
            count: a.count,
        },
        stats_interval: (!a.stats_interval.is_zero()).then_some(a.stats_interval),
        run_as: a.user.clone(),
    };
    let stats = agent::run(cfg, stop, Arc::clone(&log))?;
    if let Some(e) = &stats.first_malformed {
        log(&format!("first malformed: {e}"));
    }
    if let Some(e) = &stats.pipeline.last_error {
        log(&format!("last export error: {e}"));
    }
    log(&format!("final: {}", stats.line()));
    Ok(())
}
