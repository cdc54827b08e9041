//! The capture edge: pcap / pcapng readers, the link layers, and every
//! output writer of `ioam decode` on what they produce.

use std::io::Cursor;

use ioam_capture::file::{CaptureReader, Frame, Frames};
use ioam_capture::link::{ipv6_payload, Payload};
use ioam_cli::decode::{decode_frame, DecodeOptions, Decoder};
use ioam_cli::jsonline::JsonSink;
use ioam_cli::otlp::OtlpSink;
use ioam_cli::text::TextSink;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// Frames read per input, at most (a fuzz input is small anyway).
const MAX_FRAMES: usize = 4096;

/// `capture_file`: the input is a capture file. The in-memory reader
/// (`Frames`) and the streaming one (`CaptureReader` over the same bytes)
/// agree frame by frame: same frames, and an error at the same frame. Each
/// frame's link layer yields an IPv6 packet inside the frame or nothing;
/// its report renders as text, its JSON line parses with serde_json (to the
/// same value as serde_json's own serialisation of the report, plus the
/// `file` key), and the OTLP JSON of all frames parses, with serde_json and
/// with the official OTLP definitions, with one span per CLT-tagged option.
pub fn check_capture_file(data: &[u8]) {
    let mem = Frames::new(data);
    let stream = CaptureReader::new(Cursor::new(data));
    let (mut mem, mut stream) = match (mem, stream) {
        (Ok(m), Ok(s)) => (m, s),
        (Err(_), Err(_)) => return,
        (m, s) => panic!(
            "the readers disagree on the file header: in memory {:?}, streaming {:?}",
            m.err().map(|e| e.to_string()),
            s.err().map(|e| e.to_string())
        ),
    };
    let opts = DecodeOptions::default();
    let mut decoder = Decoder::new(opts.clone());
    let mut otlp = OtlpSink::new();
    let mut tagged = 0;
    for n in 0..MAX_FRAMES {
        let a = mem.next();
        let b = stream.next_frame();
        match (a, b) {
            (None, None) => break,
            (Some(Ok(fa)), Some(Ok(fb))) => {
                assert_eq!(
                    (fa.number, fa.time, fa.linktype, fa.data, fa.orig_len),
                    (fb.number, fb.time, fb.linktype, fb.data, fb.orig_len),
                    "frame {n}: the readers disagree"
                );
                tagged += check_frame(&fa, &opts, &mut decoder, &mut otlp);
            }
            (Some(Err(_)), Some(Err(_))) => break,
            (a, b) => panic!(
                "frame {n}: in memory {:?}, streaming {:?}",
                a.map(|r| r.map(|f| f.number).map_err(|e| e.to_string())),
                b.map(|r| r.map(|f| f.number).map_err(|e| e.to_string()))
            ),
        }
    }
    let mut otlp_out = Vec::new();
    otlp.finish(&mut otlp_out).expect("writing to a Vec");
    let v: serde_json::Value = serde_json::from_slice(&otlp_out).expect("OTLP JSON parses");
    let official: ExportTraceServiceRequest = serde_json::from_slice(&otlp_out)
        .expect("the OTLP JSON loads with the official definitions (opentelemetry-proto)");
    let official_spans: usize = official
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(
        official_spans, tagged,
        "the official definitions see every span"
    );
    let spans = v["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(spans, tagged, "one OTLP span per CLT-tagged option");
}

/// The checks of one frame; returns its number of CLT-tagged options.
fn check_frame(
    frame: &Frame<'_>,
    opts: &DecodeOptions,
    decoder: &mut Decoder,
    otlp: &mut OtlpSink,
) -> usize {
    if let Ok(Payload::Ipv6 { packet, .. }) = ipv6_payload(frame.linktype, frame.data) {
        let inside = frame.data.as_ptr_range();
        assert!(
            packet.is_empty()
                || (inside.contains(&packet.as_ptr()) && packet.len() <= frame.data.len()),
            "the IPv6 packet lies inside its frame"
        );
    }
    let report = decode_frame(frame, opts);
    let spans_before = otlp.len();
    let reported = decoder.frame(frame, otlp).is_some();
    assert_eq!(
        reported,
        report.is_some(),
        "the decoders agree on reporting"
    );
    let Some(report) = report else {
        return 0;
    };
    let mut text = TextSink::new();
    decoder.frame(frame, &mut text);
    assert!(!text.buffer().is_empty(), "text output");
    let mut json = JsonSink::new();
    json.set_file(Some("in.pcap"));
    decoder.frame(frame, &mut json);
    let line = json.take();
    assert_eq!(
        line.iter().filter(|&&b| b == b'\n').count(),
        1,
        "one JSON object on one line"
    );
    let ours: serde_json::Value = serde_json::from_slice(&line).expect("the JSON line parses");
    let mut theirs = serde_json::to_value(&report).expect("the report serialises");
    theirs["file"] = "in.pcap".into();
    assert_eq!(ours, theirs, "our JSON writer and serde_json agree");
    let tagged = report.ioam.iter().filter(|o| o.span.is_some()).count();
    assert_eq!(
        otlp.len() - spans_before,
        tagged,
        "one span per CLT-tagged option"
    );
    tagged
}
