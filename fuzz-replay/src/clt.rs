//! Checks for `clt-context`: context extraction, the legacy header,
//! `traceparent` and the Hop-by-Hop injector.

use arbitrary::{Arbitrary, Unstructured};
use clt_context::injector::{Encoding, HopByHopInjector, BODY_OFFSET};
use clt_context::legacy::{
    encode_ids, to_legacy_body, LegacyIds, LegacyTrace, LEGACY_DATA_MAX, LEGACY_HEADER_LEN,
};
use clt_context::oss::{CltSnapshot, OSS_SNAPSHOT_LEN};
use clt_context::{
    find_context, traceparent, CltView, ContextLookup, SpanContext, SpanId, TraceFlags, TraceId,
    TraceparentError, CLT_SCHEMA_ID,
};
use ioam_trace::encap::PreallocatedTraceBuilder;
use ioam_trace::writer::emit_record;
use ioam_trace::{HeaderFlags as IoamFlags, NodeData, Trace, TraceKind, TraceType};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::Mode;

use crate::util::inside_err;
use ioam_wire::error::Diagnostic;

const VALIDATIONS: [Mode; 2] = [Mode::Strict, Mode::Lenient];

/// Checks a lookup result against the trace it came from.
fn check_lookup(t: &Trace<'_>, body: &[u8], schema: u32, l: &ContextLookup) {
    let len = body.len();
    let records = t.records_path_order().filter(Result::is_ok).count();
    match l {
        ContextLookup::Found(f) | ContextLookup::ZeroIds(f) => {
            assert_eq!(l.context().is_some(), matches!(l, ContextLookup::Found(_)));
            assert_eq!(f.ctx.is_valid(), matches!(l, ContextLookup::Found(_)));
            assert!(f.hop >= 1 && f.hop <= records, "hop {} of {records}", f.hop);
            assert!(f.offset + OSS_SNAPSHOT_LEN <= len);
            let (ctx, n) = CltSnapshot::parse(schema, &body[f.offset..])
                .map(|(s, n)| (s.ctx, n))
                .expect("snapshot");
            assert_eq!((ctx, n), (f.ctx, OSS_SNAPSHOT_LEN));
        }
        ContextLookup::BadOss { hop, offset, error } => {
            assert!(*hop >= 1 && *hop <= records);
            assert!(*offset + 4 <= len);
            // The error counts from the trace body too, at the snapshot or
            // inside it.
            inside_err(error, len);
            assert!(
                Diagnostic::offset(error).is_some_and(|o| o >= *offset),
                "{error:?}"
            );
        }
        ContextLookup::Malformed(e) => inside_err(e, len),
        ContextLookup::NoOss => assert!(!t.trace_type().has_oss()),
        ContextLookup::NoRecords => assert!(t.records().all(|r| r.is_ok())),
        ContextLookup::OtherSchema { schema_id } => assert_ne!(*schema_id, schema),
    }
    let _ = (l.name(), l.found(), l.to_string());
}

/// CLT context extraction from a trace body: lookup results point inside
/// the body and agree with a direct decode; the collector attributes list
/// every hop; the opaque state round trip.
pub fn check_clt_context(data: &[u8]) {
    for v in VALIDATIONS {
        let Ok(t) = Trace::parse_preallocated(data, v) else {
            continue;
        };
        let mut schemas = vec![CLT_SCHEMA_ID];
        if let Some(Ok(r)) = t.records_path_order().next() {
            if let Some(o) = r.oss() {
                schemas.push(o.schema_id());
            }
        }
        for schema in schemas {
            let l = find_context(&t, schema);
            check_lookup(&t, data, schema, &l);
            let view = CltView::new(t, schema);
            assert_eq!(*view.context(), l);
            assert_eq!(view.namespace_id(), t.namespace_id());
            let mut s = String::new();
            let hops = view.hops().count();
            match view.write_attributes(&mut s) {
                Ok(n) => {
                    assert_eq!(n, hops);
                    assert_eq!(s.lines().count(), n);
                }
                Err(e) => {
                    let _ = e.to_string();
                    assert!(view.hops().any(|h| h.is_err()));
                }
            }
        }
    }
    if let Ok((ctx, n)) = CltSnapshot::parse(CLT_SCHEMA_ID, data).map(|(s, n)| (s.ctx, n)) {
        assert_eq!(n, OSS_SNAPSHOT_LEN);
        let mut out = [0u8; OSS_SNAPSHOT_LEN];
        CltSnapshot {
            ctx,
            schema_id: CLT_SCHEMA_ID,
        }
        .emit(&mut out)
        .map(|_| ())
        .expect("CLT schema fits");
        assert_eq!(
            &out[..29],
            &data[..29],
            "length, schema, ids and flags re-encode"
        );
        assert_eq!(
            CltSnapshot::parse(CLT_SCHEMA_ID, &out).map(|(s, n)| (s.ctx, n)),
            Ok((ctx, n))
        );
    } else if let Err(e) = CltSnapshot::parse(CLT_SCHEMA_ID, data).map(|(s, n)| (s.ctx, n)) {
        inside_err(&e, data.len());
    }
    let mut u = Unstructured::new(data);
    if let (Ok(ctx), Ok(schema)) = (SpanContext::arbitrary(&mut u), u32::arbitrary(&mut u)) {
        let mut out = [0u8; OSS_SNAPSHOT_LEN];
        match (CltSnapshot {
            ctx,
            schema_id: schema,
        })
        .emit(&mut out)
        .map(|_| ())
        {
            Ok(()) => assert_eq!(
                CltSnapshot::parse(schema, &out).map(|(s, n)| (s.ctx, n)),
                Ok((ctx, OSS_SNAPSHOT_LEN))
            ),
            Err(_) => assert!(schema > 0x00ff_ffff),
        }
    }
}

/// The legacy CLT header (32-byte trace header with the ids):
/// `to_legacy_body(from_body(b)) == b`, ids round trip, a standard body
/// turned legacy and back is unchanged.
pub fn check_clt_legacy(data: &[u8]) {
    let len = data.len();
    match LegacyTrace::from_body(data) {
        Ok(lt) => {
            let std_body = lt.standard_body();
            assert_eq!(std_body.len() + LEGACY_HEADER_LEN - 8, len);
            let mut out = vec![0u8; len];
            // `from_body` accepts exactly what `to_legacy_body` can write.
            assert!(len - LEGACY_HEADER_LEN <= LEGACY_DATA_MAX);
            assert_eq!(to_legacy_body(std_body, &lt.ids(), &mut out), Ok(len));
            assert_eq!(out, data, "legacy body re-assembled");
            for v in VALIDATIONS {
                if let Ok(view) = lt.view(TraceKind::Preallocated, v, TraceFlags::SAMPLED) {
                    assert_eq!(
                        Ok(view.trace().header()),
                        Trace::parse_preallocated(std_body, v)
                            .as_ref()
                            .map(|t| t.header())
                    );
                    assert_eq!(
                        view.context().found().map(|f| f.ctx),
                        Some(lt.ids().to_span_context(TraceFlags::SAMPLED))
                    );
                    let mut s = String::new();
                    let _ = view.write_attributes(&mut s);
                }
            }
        }
        Err(e) => inside_err(&e, len),
    }
    let mut u = Unstructured::new(data);
    let Ok(ids) = LegacyIds::arbitrary(&mut u) else {
        return;
    };
    let mut body = data.to_vec();
    match encode_ids(&ids, &mut body) {
        Ok(()) => {
            assert_eq!(&body[8..32], &ids.to_bytes()[..]);
            if let Ok(l) = LegacyTrace::from_body(&body) {
                assert_eq!(l.ids(), ids);
            }
            assert_eq!(&body[..8], &data[..8]);
            assert_eq!(&body[32..], &data[32..]);
        }
        Err(e) => {
            assert!(len < LEGACY_HEADER_LEN);
            inside_err(&e, len);
        }
    }
    let mut out = vec![0u8; len + 24];
    match to_legacy_body(data, &ids, &mut out) {
        Ok(n) => {
            assert_eq!(n, len + 24);
            let lt = LegacyTrace::from_body(&out).expect("legacy body parses");
            assert_eq!(lt.ids(), ids);
            assert_eq!(lt.standard_body(), data, "standard body survives");
        }
        Err(e) => inside_err(&e, len),
    }
}

/// `traceparent` parsing: errors inside the input, version 00 re-formats
/// to the same text, `parse(format(ctx)) == ctx`; the id types' `FromStr`.
pub fn check_traceparent(data: &[u8]) {
    if let Ok(s) = core::str::from_utf8(data) {
        match traceparent::parse(s) {
            Ok(tp) => {
                assert!(tp.ctx.is_valid());
                assert_ne!(tp.version, 0xff);
                let text = tp.format();
                if tp.version == 0 {
                    assert_eq!(text.as_str(), s, "format(parse(s)) == s");
                } else {
                    // Only the flags known to version 00 are kept.
                    assert_eq!(&text.as_bytes()[2..53], &data[2..53]);
                    assert_eq!(tp.ctx.flags.unknown_bits(), 0);
                }
                let back = traceparent::parse(&text).expect("formatted text parses");
                assert_eq!(back.ctx, tp.ctx);
                assert_eq!(s.parse::<SpanContext>(), Ok(tp.ctx));
            }
            Err(e) => {
                inside_err(&e, data.len());
                let _ = e.to_string();
            }
        }
        id_from_str::<TraceId>(s, 32);
        id_from_str::<SpanId>(s, 16);
        id_from_str::<TraceFlags>(s, 2);
    }
    let mut u = Unstructured::new(data);
    if let Ok(ctx) = SpanContext::arbitrary(&mut u) {
        let text = traceparent::format(&ctx);
        assert_eq!(ctx.to_string(), text.as_str());
        match traceparent::parse(&text) {
            Ok(tp) => {
                assert!(ctx.is_valid());
                assert_eq!((tp.version, tp.ctx), (0, ctx), "parse(format(ctx)) == ctx");
            }
            Err(e) => assert!(!ctx.is_valid(), "valid context rejected: {e}"),
        }
        assert_eq!(
            ctx.trace_id.to_string().parse::<TraceId>(),
            Ok(ctx.trace_id)
        );
        assert_eq!(ctx.span_id.to_string().parse::<SpanId>(), Ok(ctx.span_id));
        assert_eq!(ctx.flags.to_string().parse::<TraceFlags>(), Ok(ctx.flags));
    }
}

fn id_from_str<T>(s: &str, hex_len: usize)
where
    T: core::str::FromStr<Err = TraceparentError> + core::fmt::Display,
{
    match s.parse::<T>() {
        Ok(id) => {
            assert_eq!(s.len(), hex_len);
            assert_eq!(id.to_string(), s, "lowercase hex round trip");
        }
        Err(TraceparentError::Digit { offset, .. }) => assert!(offset < s.len()),
        Err(TraceparentError::IdLength { actual, .. }) => assert_eq!(actual, s.len()),
        Err(e) => panic!("not an identifier error: {e:?}"),
    }
}

/// Finds the single IOAM option of a Hop-by-Hop header, checking the rest
/// is padding and the header parses strictly.
fn single_option(hdr: &[u8]) -> (usize, &[u8], u8, IoamType) {
    let mut found = None;
    for o in Options::new(hdr, Mode::Strict) {
        match o.unwrap_or_else(|e| panic!("strict parser rejects built header: {e}")) {
            Opt::Ioam(io) => {
                assert!(found.is_none());
                found = Some((io.body_offset, io.body, io.option_type, io.ioam_type));
            }
            o => assert!(o.is_padding()),
        }
    }
    found.expect("one IOAM option")
}

/// The CLT Hop-by-Hop injector and the pre-allocated trace encapsulator:
/// what they build parses back (strictly) to what they were given.
pub fn check_injector(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = injector(&mut u);
    let _ = encapsulator(&mut u);
}

fn injector(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let mut trace_type = TraceType::arbitrary(u)?;
    if bool::arbitrary(u)? {
        trace_type = trace_type.difference(TraceType::UNDEFINED.union(TraceType::RESERVED_23))
            | TraceType::OPAQUE_STATE;
    }
    let inj = HopByHopInjector {
        namespace_id: u16::arbitrary(u)?,
        trace_type,
        extra_hops: usize::from(u8::arbitrary(u)? % 64),
        free_bytes: if bool::arbitrary(u)? {
            Some(usize::from(u8::arbitrary(u)?))
        } else {
            None
        },
        hop_oss_words: usize::from(u8::arbitrary(u)? % 16),
        sender: NodeData::arbitrary(u)?,
        ctx: SpanContext::arbitrary(u)?,
        schema_id: if bool::arbitrary(u)? {
            CLT_SCHEMA_ID
        } else {
            u32::arbitrary(u)?
        },
        encoding: Encoding::arbitrary(u)?,
        next_header: u8::arbitrary(u)?,
    };
    let built = inj.build();
    let layout = inj.layout();
    let bytes = match built {
        Err(e) => {
            assert!(
                layout.is_err() || inj.buffer_len().is_err(),
                "build failed: {e}"
            );
            return Ok(());
        }
        Ok(b) => b,
    };
    let hdr = bytes.as_bytes();
    let layout = layout.expect("layout of a built header");
    assert_eq!(inj.buffer_len(), Ok(hdr.len()));
    assert_eq!(layout.header_len, hdr.len());
    let _ = inj.max_extra_hops();
    assert_eq!(hdr[0], inj.next_header);
    let (body_offset, body, code, ty) = single_option(hdr);
    assert_eq!(body_offset, BODY_OFFSET);
    assert_eq!((code, ty), (OPT_IOAM, IoamType::PreallocatedTrace));
    assert_eq!(body.len(), layout.body_len);
    if let Some(free) = inj.free_bytes {
        assert_eq!(layout.free, free, "free space as asked in bytes");
    }
    let standard;
    let (trace_body, expect) = match inj.encoding {
        Encoding::Oss => (body, true),
        Encoding::Legacy => {
            let lt = LegacyTrace::from_body(body).expect("legacy body");
            assert_eq!(lt.ids(), LegacyIds::from(inj.ctx));
            standard = lt.standard_body().to_vec();
            (&standard[..], false)
        }
    };
    let t = Trace::parse_preallocated(trace_body, Mode::Strict)
        .unwrap_or_else(|e| panic!("strict parser rejects injected trace: {e}"));
    assert_eq!(t.namespace_id(), inj.namespace_id);
    assert_eq!(t.trace_type(), inj.trace_type);
    assert_eq!(t.free_space(), layout.free);
    let recs: Vec<_> = t.records().collect();
    assert_eq!(recs.len(), 1, "exactly the sender's record");
    let rec = recs[0].expect("record parses");
    assert_eq!(rec.len(), layout.sender_record);
    if expect {
        match find_context(&t, inj.schema_id) {
            ContextLookup::Found(f) => assert_eq!(f.ctx, inj.ctx),
            ContextLookup::ZeroIds(f) => {
                assert_eq!(f.ctx, inj.ctx);
                assert!(!inj.ctx.is_valid());
            }
            other => panic!("context not found in injected header: {other}"),
        }
    }
    Ok(())
}

fn encapsulator(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let node = NodeData::arbitrary(u)?;
    let mut trace_type = TraceType::arbitrary(u)?;
    if bool::arbitrary(u)? {
        trace_type = trace_type.difference(TraceType::UNDEFINED.union(TraceType::RESERVED_23));
    }
    let space = if bool::arbitrary(u)? {
        usize::from(u8::arbitrary(u)?)
    } else {
        usize::from(u8::arbitrary(u)? % 62) * 4
    };
    let mut b = PreallocatedTraceBuilder::new(u16::arbitrary(u)?, trace_type, space)
        .with_flags(IoamFlags::arbitrary(u)?)
        .with_next_header(u8::arbitrary(u)?);
    if bool::arbitrary(u)? {
        b = b.with_originator(&node);
    }
    let Ok(len) = b.buffer_len() else {
        assert!(b.emit(&mut [0u8; 300]).is_err());
        return Ok(());
    };
    let mut buf = vec![0xa5u8; len + 8];
    assert_eq!(b.emit(&mut buf), Ok(len), "buffer_len accepted {b:?}");
    assert!(
        buf[len..].iter().all(|&x| x == 0xa5),
        "wrote past its length"
    );
    let (_, body, code, ty) = single_option(&buf[..len]);
    assert_eq!((code, ty), (OPT_IOAM, IoamType::PreallocatedTrace));
    assert_eq!(body.len(), b.body_len());
    let t = Trace::parse_preallocated(body, Mode::Strict)
        .unwrap_or_else(|e| panic!("strict parser rejects encapsulated trace: {e}"));
    let h = t.header();
    assert_eq!((h.namespace_id, h.trace_type), (b.namespace_id, trace_type));
    assert_eq!(h.node_len, trace_type.node_len());
    assert!(!h.flags.unassigned);
    assert_eq!(
        (h.flags.overflow, h.flags.loopback, h.flags.active),
        (b.flags.overflow, b.flags.loopback, b.flags.active)
    );
    let recs: Vec<_> = t.records().map(|r| r.expect("record")).collect();
    match b.originator {
        None => {
            assert!(recs.is_empty());
            assert_eq!(t.free_space(), space);
        }
        Some(n) => {
            assert_eq!(recs.len(), 1);
            let mut rec = vec![0u8; n.record_len(trace_type)];
            assert_eq!(emit_record(trace_type, n, &mut rec), Ok(rec.len()));
            assert_eq!(recs[0].as_bytes(), &rec[..]);
            assert_eq!(t.free_space() + rec.len(), space);
        }
    }
    Ok(())
}
