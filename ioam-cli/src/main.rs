//! The `ioam` command-line tool: decode captures into CLT traces, export
//! spans, craft IOAM packets, send CLT-tagged traffic.

use core::time::Duration;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use ioam_capture::file::CaptureReader;
use ioam_cli::args::{parse_schema_id, parse_u16};
use ioam_cli::decode::{self, DecodeOptions, Decoder};
use ioam_trace::timestamp::TimestampFormat;
use ioam_wire::dex::DexLayout;
use ioam_wire::Mode;

/// The `--timestamp-format` names of RFC 9197 §5, as the library spells them.
pub(crate) fn timestamp_format(s: &str) -> Result<TimestampFormat, String> {
    TimestampFormat::from_name(s).ok_or_else(|| {
        let names: Vec<_> = TimestampFormat::ALL.iter().map(|f| f.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}
use ioam_cli::output::{self, Counts, FormatSink, RunConfig};

mod cmd;
use cmd::{agent, send};
use ioam_cli::craft_args as craft;

#[derive(Debug, Parser)]
#[command(
    name = "ioam",
    version,
    about = "IPv6 In-situ OAM and Cross-Layer Telemetry: decode captures, export spans, craft and send packets"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Decode the IOAM options of the IPv6 packets in pcap/pcapng captures.
    Decode(DecodeArgs),
    /// Write a pcap of IOAM packets (a CLT-tagged trace, or a random corpus).
    Craft(craft::CraftArgs),
    /// Send CLT-tagged UDP or TCP traffic carrying an IOAM Hop-by-Hop header (Linux).
    Send(send::SendArgs),
    /// Live CLT collector: capture packets and kernel IOAM6 events, export `ioam-span`s over OTLP.
    Agent(agent::AgentArgs),
    /// Show the traces of OTLP JSON files as a waterfall (span tree, offsets, durations, IOAM hops).
    Trace(TraceArgs),
}

#[derive(Debug, Args)]
struct TraceArgs {
    /// OTLP JSON files, one ExportTraceServiceRequest per line (`-` for standard input).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Only this trace (32 hex digits).
    #[arg(long, value_name = "ID")]
    trace_id: Option<String>,
}

fn run_trace(a: &TraceArgs) -> Result<ExitCode> {
    let mut spans = Vec::new();
    for f in &a.files {
        let text = if f.as_os_str() == "-" {
            let mut s = String::new();
            io::stdin().read_to_string(&mut s)?;
            s
        } else {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        };
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let rows = ioam_cli::waterfall::parse_request(line, i + 1)
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
            spans.extend(rows);
        }
    }
    if let Some(id) = &a.trace_id {
        spans.retain(|s| s.trace_id.eq_ignore_ascii_case(id));
    }
    if spans.is_empty() {
        bail!("no span found");
    }
    io::stdout().write_all(ioam_cli::waterfall::render(&spans).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Per packet: addresses, IOAM option headers, CLT context, hop table.
    Text,
    /// JSON Lines, one object per packet with IOAM (or malformed).
    Json,
    /// One OTLP/HTTP JSON ExportTraceServiceRequest with an `ioam-span` per CLT-tagged trace.
    OtlpJson,
}

#[derive(Debug, Args)]
struct DecodeArgs {
    /// Capture files (pcap or pcapng); `-` reads standard input. Without any,
    /// decodes the capture from real Linux IOAM routers shipped with the tool
    /// (or the file named by IOAM_SAMPLE_CAPTURE).
    #[arg(value_name = "FILE", conflicts_with = "hex")]
    files: Vec<PathBuf>,
    /// Decode one IPv6 packet given in hex (spaces and colons allowed).
    #[arg(long, value_name = "HEX")]
    hex: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Decode namespace N with the legacy CLT header (IDs inside an enlarged
    /// trace header); repeat or separate with commas.
    #[arg(long, value_name = "N", value_delimiter = ',', value_parser = parse_u16)]
    legacy_clt_ns: Vec<u16>,
    /// Strict mode, as the Linux kernel: NodeLen must match the trace type (default).
    #[arg(long, conflicts_with = "lenient")]
    strict: bool,
    /// Lenient mode, as RFC 9197: trust NodeLen.
    #[arg(long)]
    lenient: bool,
    /// Schema ID of the CLT opaque state snapshot.
    #[arg(long, value_name = "ID", default_value = "0x434c54", value_parser = parse_schema_id)]
    clt_schema_id: u32,
    /// Timestamp format of the namespaces (for span start/end times).
    #[arg(long, default_value = "posix", value_parser = timestamp_format)]
    timestamp_format: TimestampFormat,
    /// Read DEX Extension-Flags in the pre-RFC 9326 bit order (flow id
    /// 0x01, sequence number 0x02) used by some older captures.
    #[arg(long)]
    legacy_dex: bool,
    /// Decoding threads (default: the available cores). The output is in
    /// capture order whatever the number; standard input is decoded on one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// No summary on standard error.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Exit 0 even when some packets are malformed (by default such a run
    /// exits with status 3, after decoding everything).
    #[arg(long)]
    malformed_ok: bool,
}

/// Exit status of a `decode` run whose inputs were all read but in which
/// some packet was malformed (documented in ioam-cli/README.md).
const EXIT_MALFORMED: u8 = 3;

/// One input of `ioam decode`: its name, a reader, its size when known,
/// and whether it is a live stream (standard input: flush each packet).
struct Input {
    name: String,
    reader: Box<dyn Read + Send>,
    len: Option<usize>,
    live: bool,
}

fn open_file(path: &std::path::Path) -> Result<Input> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata().ok().map(|m| m.len() as usize);
    Ok(Input {
        name: path.display().to_string(),
        reader: Box::new(f),
        len,
        live: false,
    })
}

/// The bundled sample capture (or the file named by IOAM_SAMPLE_CAPTURE).
fn sample_capture() -> Result<Input> {
    if let Some(p) = std::env::var_os("IOAM_SAMPLE_CAPTURE") {
        let path = PathBuf::from(p);
        return open_file(&path).with_context(|| format!("{}", path.display()));
    }
    Ok(Input {
        name: "data/sample-linux.pcap".to_string(),
        reader: Box::new(decode::SAMPLE_CAPTURE),
        len: Some(decode::SAMPLE_CAPTURE.len()),
        live: false,
    })
}

/// Parse `--hex`: hex digits, ignoring whitespace, `:` and `-`, and an
/// optional `0x` prefix.
fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':' && *b != b'-')
        .collect();
    if !digits.len().is_multiple_of(2) {
        bail!("--hex: odd number of hex digits ({})", digits.len());
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let txt = core::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(txt, 16)
                .map_err(|_| anyhow::anyhow!("--hex: `{txt}` at byte {i} is not hex"))
        })
        .collect()
}

/// A progress bar on standard error, only when it is a terminal.
struct Progress {
    enabled: bool,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            enabled: io::stderr().is_terminal() && total > (4 << 20),
            last: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, name: &str, pos: usize, total: usize) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let pct = (pos * 100).checked_div(total).unwrap_or(100).min(100);
        let filled = pct * 30 / 100;
        eprint!(
            "\r{name} [{}{}] {pct:3}%",
            "#".repeat(filled),
            " ".repeat(30 - filled)
        );
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

impl OutputFormat {
    fn library(self) -> output::Format {
        match self {
            OutputFormat::Text => output::Format::Text,
            OutputFormat::Json => output::Format::Json,
            OutputFormat::OtlpJson => output::Format::OtlpJson,
        }
    }
}

fn decode_input(
    input: Input,
    decoder: &mut Decoder,
    sink: &mut FormatSink,
    threads: usize,
    out: &mut impl Write,
    summary: &mut Counts,
) -> Result<()> {
    let mut reader = CaptureReader::new(input.reader)?;
    if let Some(lt) = reader.pcap_linktype() {
        if !ioam_capture::link::is_supported(lt) {
            bail!("{}", ioam_capture::link::LinkError::UnsupportedLinkType(lt));
        }
    }
    let mut progress = Progress::new(input.len.unwrap_or(0));
    let total = input.len.unwrap_or(0);
    // A live stream shows each packet as it comes (the OTLP request is
    // one line, written at the end).
    let run = RunConfig {
        threads: if input.live { 1 } else { threads },
        flush_each: input.live && sink.format() != output::Format::OtlpJson,
        ..RunConfig::default()
    };
    let (counts, r) = output::decode_capture(
        &mut reader,
        decoder,
        sink,
        run,
        &mut |bytes| {
            out.write_all(bytes)?;
            if run.flush_each {
                out.flush()?;
            }
            Ok(())
        },
        &mut |pos| progress.update(&input.name, pos, total),
    );
    progress.finish();
    *summary = counts;
    match r {
        Ok(()) => Ok(()),
        Err(output::StreamError::Write(e)) => Err(e.into()),
        Err(output::StreamError::Capture(e)) => Err(e.into()),
    }
}

fn run_decode(args: DecodeArgs) -> Result<ExitCode> {
    let opts = DecodeOptions {
        mode: if args.lenient {
            Mode::Lenient
        } else {
            Mode::Strict
        },
        legacy_clt_ns: args.legacy_clt_ns.clone(),
        clt_schema_id: args.clt_schema_id,
        timestamp_format: args.timestamp_format,
        dex_layout: if args.legacy_dex {
            DexLayout::Legacy
        } else {
            DexLayout::Rfc9326
        },
        collector_attributes: args.format == OutputFormat::OtlpJson,
    };
    let threads = args.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    let mut decoder = Decoder::new(opts);
    let mut sink = FormatSink::new(args.format.library());
    // Our own buffer straight over file descriptor 1: `Stdout` is
    // line-buffered and scans every block written for its last newline.
    let stdout = std::fs::File::from(
        std::os::fd::AsFd::as_fd(&io::stdout())
            .try_clone_to_owned()
            .context("duplicating standard output")?,
    );
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout);
    let mut failed = false;
    let mut total = Counts::default();
    let started = Instant::now();

    if let Some(h) = &args.hex {
        let packet = parse_hex(h)?;
        total.packets = 1;
        let outcome = decoder.ipv6(1, None, &packet, &mut sink);
        total.add(outcome);
        total.packets = 1;
        if outcome.is_none() && args.format == OutputFormat::Text {
            writeln!(out, "frame 1: no IOAM option\n")?;
        }
    } else {
        let paths: Vec<Option<&PathBuf>> = if args.files.is_empty() {
            vec![None]
        } else {
            args.files.iter().map(Some).collect()
        };
        for (i, path) in paths.into_iter().enumerate() {
            let mut s = Counts::default();
            let t0 = Instant::now();
            let opened = match path {
                None => sample_capture(),
                Some(p) if p.as_os_str() == "-" => Ok(Input {
                    name: "<stdin>".to_string(),
                    reader: Box::new(io::stdin()),
                    len: None,
                    live: true,
                }),
                Some(p) => open_file(p).with_context(|| format!("{}", p.display())),
            };
            let name = match (&opened, path) {
                (Ok(input), _) => input.name.clone(),
                (Err(_), Some(p)) => p.display().to_string(),
                (Err(_), None) => "sample capture".to_string(),
            };
            sink.set_input(i, (args.files.len() > 1).then_some(name.as_str()));
            let r = opened.and_then(|input| {
                decode_input(input, &mut decoder, &mut sink, threads, &mut out, &mut s)
            });
            if let Err(e) = r {
                // An I/O error on stdout (closed pipe) ends the run quietly.
                if let Some(ioe) = e.downcast_ref::<io::Error>() {
                    if ioe.kind() == io::ErrorKind::BrokenPipe {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                out.flush().ok();
                // The error chain on one line, without repeating the name.
                let msg = e
                    .chain()
                    .map(ToString::to_string)
                    .filter(|m| *m != name)
                    .collect::<Vec<_>>()
                    .join(": ");
                eprintln!("ioam: {name}: {msg}");
                failed = true;
            }
            if !args.quiet && args.files.len() > 1 {
                print_summary(&name, s, t0.elapsed());
            }
            total.merge(s);
        }
    }
    match sink.finish(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        r => r?,
    }
    // A run where no input could be read says only why.
    let nothing_read = failed && total.packets == 0;
    if !(args.quiet || nothing_read) {
        let name = if args.files.len() > 1 { "total" } else { "" };
        print_summary(name, total, started.elapsed());
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else if total.malformed > 0 && !args.malformed_ok {
        ExitCode::from(EXIT_MALFORMED)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(name: &str, s: Counts, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let pps = if secs > 0.0 {
        s.packets as f64 / secs
    } else {
        0.0
    };
    let prefix = if name.is_empty() {
        String::new()
    } else {
        format!("{name}: ")
    };
    eprintln!(
        "ioam: {prefix}{} packets read, {} with IOAM, {} malformed ({:.0} packets/s)",
        s.packets, s.with_ioam, s.malformed, pps
    );
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Decode(a) => run_decode(a),
        Cmd::Craft(a) => craft::run(&a).map(|()| ExitCode::SUCCESS),
        Cmd::Send(a) => send::run(&a).map(|()| ExitCode::SUCCESS),
        Cmd::Agent(a) => agent::run(&a).map(|()| ExitCode::SUCCESS),
        Cmd::Trace(a) => run_trace(&a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            if let Some(ioe) = e.downcast_ref::<io::Error>() {
                if ioe.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            // One line: the error and its causes.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("ioam: {msg}");
            ExitCode::FAILURE
        }
    }
}
