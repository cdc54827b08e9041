//! The JSON Lines writer of `ioam decode --format json`: each reported
//! packet becomes one compact JSON object, written straight from the
//! decoder's views into a reused byte buffer (no per-packet allocation in
//! steady state).
//!
//! The bytes are exactly those `serde_json::to_writer` gives for the serde
//! model in [`crate::model`] (same key order, optional keys left out, the
//! same string escapes and number forms); the tests compare the two on
//! every packet of the random craft corpus and of the Linux sample capture.

use core::fmt::Write as _;

use crate::decode::{
    has_traceparent, header_name, ioam_type_name, ErrorText, OptionView, PacketHead, PacketSink,
    Problem, TraceView,
};
use crate::fmtbuf::{push_json_str, push_u64, AddrCache, ByteWriter, Gather, GatherBuf, TimeCache};

/// `,"name":` for a key after the first.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// The JSON Lines sink: one line (ending in `\n`) per packet, appended to
/// its buffer ([`Self::buffer`], [`Self::take`]).
#[derive(Debug, Default)]
pub struct JsonSink {
    out: Vec<u8>,
    /// The `file` key: the input's name, when a run reads several.
    file: Option<String>,
    addrs: AddrCache,
    times: TimeCache,
    scratch: Vec<u8>,
    gather: GatherBuf,
}

impl JsonSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Name the input in a `file` key of every packet from now on (or not).
    pub fn set_file(&mut self, file: Option<&str>) {
        if self.file.as_deref() != file {
            self.file = file.map(str::to_string);
        }
    }

    /// The `file` key's value.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The lines written so far.
    pub fn buffer(&self) -> &[u8] {
        &self.out
    }

    /// Forget the lines written so far (keeping the buffer's capacity).
    pub fn clear(&mut self) {
        self.out.clear();
    }

    /// The lines written so far, leaving the sink empty.
    pub fn take(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Exchange the buffer with `other`: the text written so far leaves
    /// without a copy, and the sink goes on in `other`'s (recycled) buffer.
    pub fn swap_buffer(&mut self, other: &mut Vec<u8>) {
        core::mem::swap(&mut self.out, other);
    }

    /// A JSON string of free text written by `f` (an error message), escaped.
    fn text(&mut self, f: impl FnOnce(&mut ByteWriter<'_>)) {
        self.scratch.clear();
        f(&mut ByteWriter(&mut self.scratch));
        push_json_str(&mut self.out, &self.scratch);
    }

    fn errors<'p>(
        &mut self,
        head: &PacketHead,
        errors: impl Iterator<Item = &'p Problem>,
        note: bool,
    ) {
        self.out.push(b'[');
        for (i, p) in errors.enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(b"{\"offset\":");
            push_u64(&mut self.out, p.offset as u64);
            self.out.extend_from_slice(key!("message").as_bytes());
            self.text(|w| {
                let _ = if note {
                    write!(w, "{}", ErrorText { problem: p, head })
                } else {
                    write!(w, "{p}")
                };
            });
            self.out.push(b'}');
        }
        self.out.push(b']');
    }
}

#[inline(always)]
fn key(out: &mut Gather<'_>, k: &str) {
    out.put(k.as_bytes());
}

#[inline(always)]
fn num(out: &mut Gather<'_>, k: &str, v: Option<u64>) {
    if let Some(v) = v {
        key(out, k);
        out.dec(v);
    }
}

#[inline(always)]
fn bool(out: &mut Gather<'_>, k: &str, v: bool) {
    key(out, k);
    out.put(if v { &b"true"[..] } else { &b"false"[..] });
}

/// A string the decoder makes itself (names): nothing to escape.
#[inline(always)]
fn plain(out: &mut Gather<'_>, k: &str, v: &[u8]) {
    key(out, k);
    out.byte(b'"');
    out.put(v);
    out.byte(b'"');
}

#[inline(always)]
fn hex_str(out: &mut Gather<'_>, k: &str, bytes: &[u8]) {
    key(out, k);
    out.byte(b'"');
    out.hex(bytes);
    out.byte(b'"');
}

#[inline(always)]
fn hex_num(out: &mut Gather<'_>, k: &str, v: Option<u64>, digits: usize) {
    if let Some(v) = v {
        key(out, k);
        out.byte(b'"');
        out.hex_prefixed(v, digits);
        out.byte(b'"');
    }
}

impl PacketSink for JsonSink {
    fn begin(&mut self, head: &PacketHead) {
        let mut g = self.gather.to(&mut self.out);
        let out = &mut g;
        out.put(b"{\"frame\":");
        out.dec(head.frame);
        if let Some(f) = &self.file {
            key(out, key!("file"));
            push_json_str(out.vec(), f.as_bytes());
        }
        if let Some(t) = head.time {
            key(out, key!("time"));
            out.byte(b'"');
            self.times.put(out, t);
            out.byte(b'"');
        }
        for (k, addr) in [(key!("src"), head.src), (key!("dst"), head.dst)] {
            if let Some(a) = addr {
                key(out, k);
                out.byte(b'"');
                let (text, len) = self.addrs.text(a);
                out.put_prefix(text, len);
                out.byte(b'"');
            }
        }
        key(out, key!("ioam"));
        out.byte(b'[');
    }

    fn option(&mut self, head: &PacketHead, o: &OptionView<'_>, trace: Option<&TraceView<'_>>) {
        let mut g = self.gather.to(&mut self.out);
        let out = &mut g;
        if o.index > 0 {
            out.byte(b',');
        }
        out.put(b"{\"header\":\"");
        out.put(header_name(o.header).as_bytes());
        out.byte(b'"');
        num(out, key!("option_type"), Some(o.option_type.into()));
        plain(
            out,
            key!("ioam_type"),
            ioam_type_name(o.ioam_type).as_bytes(),
        );
        num(
            out,
            key!("ioam_type_value"),
            Some(u8::from(o.ioam_type).into()),
        );
        num(out, key!("namespace_id"), o.namespace_id.map(u64::from));
        num(out, key!("node_len"), o.node_len.map(u64::from));
        if let Some(f) = &o.flags {
            key(out, key!("flags"));
            out.put(b"{\"overflow\":");
            out.put(if f.overflow {
                &b"true"[..]
            } else {
                &b"false"[..]
            });
            bool(out, key!("loopback"), f.loopback);
            bool(out, key!("active"), f.active);
            out.byte(b'}');
        }
        num(out, key!("remaining_len"), o.remaining_len.map(u64::from));
        hex_num(out, key!("trace_type"), o.trace_type.map(u64::from), 6);
        if let Some(t) = trace {
            key(out, key!("nodes"));
            write_nodes(out, t);
            if let Some(ctx) = t.context() {
                key(out, key!("clt"));
                hex_str(out, "{\"trace_id\":", &ctx.trace_id.0);
                hex_str(out, key!("span_id"), &ctx.span_id.0);
                num(out, key!("trace_flags"), Some(ctx.flags.0.into()));
                plain(out, key!("encoding"), t.encoding.as_bytes());
                if has_traceparent(&ctx) {
                    key(out, key!("traceparent"));
                    out.byte(b'"');
                    out.fill(|to| clt_context::traceparent::format_into(&ctx, to));
                    out.byte(b'"');
                }
                out.byte(b'}');
            }
        }
        num(out, key!("pot_type"), o.pot_type.map(u64::from));
        num(out, key!("pot_flags"), o.pot_flags.map(u64::from));
        num(out, key!("pkt_id"), o.pkt_id);
        num(out, key!("cumulative"), o.cumulative);
        hex_num(out, key!("e2e_type"), o.e2e_type.map(u64::from), 4);
        num(out, key!("seq_num"), o.seq_num);
        num(out, key!("timestamp_secs"), o.timestamp_secs.map(u64::from));
        num(out, key!("timestamp_frac"), o.timestamp_frac.map(u64::from));
        num(out, key!("dex_flags"), o.dex_flags.map(u64::from));
        num(
            out,
            key!("extension_flags"),
            o.extension_flags.map(u64::from),
        );
        num(out, key!("flow_id"), o.flow_id.map(u64::from));
        if let Some(i) = &o.integrity {
            key(out, key!("integrity"));
            out.put(b"{\"method\":");
            out.dec(i.method.into());
            if let Some(n) = i.nonce {
                hex_str(out, key!("nonce"), n);
            }
            if let Some(icv) = i.icv {
                hex_str(out, key!("icv"), icv);
            }
            out.byte(b'}');
        }
        if let Some(d) = &o.data {
            hex_str(out, key!("data"), d.as_bytes());
        }
        key(out, key!("errors"));
        drop(g);
        self.errors(head, o.errors.iter(), true);
        if o.finding.is_some() {
            self.out.extend_from_slice(key!("findings").as_bytes());
            self.errors(head, o.finding.iter(), false);
        }
        self.out.push(b'}');
    }

    fn end(&mut self, head: &PacketHead, errors: &[Problem]) {
        self.out.push(b']');
        self.out.extend_from_slice(key!("errors").as_bytes());
        self.errors(head, errors.iter(), true);
        self.out.extend_from_slice(b"}\n");
    }
}

fn write_nodes(out: &mut Gather<'_>, t: &TraceView<'_>) {
    out.byte(b'[');
    for (hop, rec) in t.path_order() {
        if hop > 1 {
            out.byte(b',');
        }
        let f = rec.fields();
        out.put(b"{\"hop\":");
        out.dec(hop as u64);
        num(out, key!("hop_limit"), f.hop_limit.map(u64::from));
        num(out, key!("node_id"), f.node_id.map(u64::from));
        num(out, key!("ingress_if_id"), f.ingress_if_id.map(u64::from));
        num(out, key!("egress_if_id"), f.egress_if_id.map(u64::from));
        num(out, key!("timestamp_secs"), f.timestamp_secs.map(u64::from));
        num(out, key!("timestamp_frac"), f.timestamp_frac.map(u64::from));
        num(out, key!("transit_delay"), f.transit_delay.map(u64::from));
        hex_num(
            out,
            key!("namespace_data"),
            f.namespace_data.map(u64::from),
            8,
        );
        num(out, key!("queue_depth"), f.queue_depth.map(u64::from));
        num(
            out,
            key!("checksum_complement"),
            f.checksum_complement.map(u64::from),
        );
        num(out, key!("hop_limit_wide"), f.hop_limit_wide.map(u64::from));
        num(out, key!("node_id_wide"), f.node_id_wide);
        num(
            out,
            key!("ingress_if_id_wide"),
            f.ingress_if_id_wide.map(u64::from),
        );
        num(
            out,
            key!("egress_if_id_wide"),
            f.egress_if_id_wide.map(u64::from),
        );
        hex_num(out, key!("namespace_data_wide"), f.namespace_data_wide, 16);
        num(
            out,
            key!("buffer_occupancy"),
            f.buffer_occupancy.map(u64::from),
        );
        let mut undefined = rec.undefined_words().peekable();
        if undefined.peek().is_some() {
            key(out, key!("undefined"));
            out.byte(b'[');
            for (i, v) in undefined.enumerate() {
                if i > 0 {
                    out.byte(b',');
                }
                out.dec(v.into());
            }
            out.byte(b']');
        }
        if let Some(oss) = f.oss {
            key(out, key!("oss"));
            out.put(b"{\"schema_id\":");
            out.dec(oss.schema_id().into());
            hex_str(out, key!("data"), oss.data());
            out.byte(b'}');
        }
        out.byte(b'}');
    }
    out.byte(b']');
}
