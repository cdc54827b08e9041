//! The JSON Lines writer of `ioam decode --format json`: writes a
//! [`PacketReport`] as one compact JSON object into a reused byte buffer,
//! without going through a generic serialiser.
//!
//! The bytes are exactly those `serde_json::to_writer` gives for the serde
//! model in [`crate::model`] (same key order, optional keys left out, the
//! same string escapes and number forms); the tests compare the two on
//! every packet of the random craft corpus and of the Linux sample capture.

use crate::model::{
    CltReport, ErrorReport, FlagsReport, IntegrityReport, NodeReport, OptionReport, OssReport,
    PacketReport,
};

/// `,"name":` for a key after the first.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// Append `r` as one JSON object (no trailing newline) to `out`; `file`
/// names the input when a run reads several.
pub fn write_packet(out: &mut Vec<u8>, r: &PacketReport, file: Option<&str>) {
    let mut w = Obj::open(out, "frame");
    push_u64(w.out, r.frame);
    w.opt_str(key!("file"), file);
    w.opt_str(key!("time"), r.time.as_deref());
    w.opt_str(key!("src"), r.src.as_deref());
    w.opt_str(key!("dst"), r.dst.as_deref());
    w.key(key!("ioam"));
    w.out.push(b'[');
    for (i, o) in r.ioam.iter().enumerate() {
        if i > 0 {
            w.out.push(b',');
        }
        write_option(w.out, o);
    }
    w.out.push(b']');
    w.key(key!("errors"));
    write_errors(w.out, &r.errors);
    w.close();
}

fn write_errors(out: &mut Vec<u8>, errors: &[ErrorReport]) {
    out.push(b'[');
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut w = Obj::open(out, "offset");
        push_u64(w.out, e.offset as u64);
        w.text(key!("message"), &e.message);
        w.close();
    }
    out.push(b']');
}

fn write_option(out: &mut Vec<u8>, o: &OptionReport) {
    let mut w = Obj::open(out, "header");
    push_plain(w.out, o.header);
    w.u64(key!("option_type"), o.option_type.into());
    w.str(key!("ioam_type"), o.ioam_type);
    w.u64(key!("ioam_type_value"), o.ioam_type_value.into());
    w.opt_u64(key!("namespace_id"), o.namespace_id.map(u64::from));
    w.opt_u64(key!("node_len"), o.node_len.map(u64::from));
    if let Some(f) = &o.flags {
        w.key(key!("flags"));
        write_flags(w.out, f);
    }
    w.opt_u64(key!("remaining_len"), o.remaining_len.map(u64::from));
    w.opt_str(key!("trace_type"), o.trace_type.as_deref());
    if let Some(nodes) = &o.nodes {
        w.key(key!("nodes"));
        w.out.push(b'[');
        for (i, n) in nodes.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            write_node(w.out, n);
        }
        w.out.push(b']');
    }
    if let Some(c) = &o.clt {
        w.key(key!("clt"));
        write_clt(w.out, c);
    }
    w.opt_u64(key!("pot_type"), o.pot_type.map(u64::from));
    w.opt_u64(key!("pot_flags"), o.pot_flags.map(u64::from));
    w.opt_u64(key!("pkt_id"), o.pkt_id);
    w.opt_u64(key!("cumulative"), o.cumulative);
    w.opt_str(key!("e2e_type"), o.e2e_type.as_deref());
    w.opt_u64(key!("seq_num"), o.seq_num);
    w.opt_u64(key!("timestamp_secs"), o.timestamp_secs.map(u64::from));
    w.opt_u64(key!("timestamp_frac"), o.timestamp_frac.map(u64::from));
    w.opt_u64(key!("dex_flags"), o.dex_flags.map(u64::from));
    w.opt_u64(key!("extension_flags"), o.extension_flags.map(u64::from));
    w.opt_u64(key!("flow_id"), o.flow_id.map(u64::from));
    if let Some(i) = &o.integrity {
        w.key(key!("integrity"));
        write_integrity(w.out, i);
    }
    w.opt_str(key!("data"), o.data.as_deref());
    w.key(key!("errors"));
    write_errors(w.out, &o.errors);
    if !o.findings.is_empty() {
        w.key(key!("findings"));
        write_errors(w.out, &o.findings);
    }
    w.close();
}

fn write_flags(out: &mut Vec<u8>, f: &FlagsReport) {
    let mut w = Obj::open(out, "overflow");
    push_bool(w.out, f.overflow);
    w.bool(key!("loopback"), f.loopback);
    w.bool(key!("active"), f.active);
    w.close();
}

fn write_node(out: &mut Vec<u8>, n: &NodeReport) {
    let mut w = Obj::open(out, "hop");
    push_u64(w.out, n.hop as u64);
    w.opt_u64(key!("hop_limit"), n.hop_limit.map(u64::from));
    w.opt_u64(key!("node_id"), n.node_id.map(u64::from));
    w.opt_u64(key!("ingress_if_id"), n.ingress_if_id.map(u64::from));
    w.opt_u64(key!("egress_if_id"), n.egress_if_id.map(u64::from));
    w.opt_u64(key!("timestamp_secs"), n.timestamp_secs.map(u64::from));
    w.opt_u64(key!("timestamp_frac"), n.timestamp_frac.map(u64::from));
    w.opt_u64(key!("transit_delay"), n.transit_delay.map(u64::from));
    w.opt_str(key!("namespace_data"), n.namespace_data.as_deref());
    w.opt_u64(key!("queue_depth"), n.queue_depth.map(u64::from));
    w.opt_u64(
        key!("checksum_complement"),
        n.checksum_complement.map(u64::from),
    );
    w.opt_u64(key!("hop_limit_wide"), n.hop_limit_wide.map(u64::from));
    w.opt_u64(key!("node_id_wide"), n.node_id_wide);
    w.opt_u64(
        key!("ingress_if_id_wide"),
        n.ingress_if_id_wide.map(u64::from),
    );
    w.opt_u64(
        key!("egress_if_id_wide"),
        n.egress_if_id_wide.map(u64::from),
    );
    w.opt_str(
        key!("namespace_data_wide"),
        n.namespace_data_wide.as_deref(),
    );
    w.opt_u64(key!("buffer_occupancy"), n.buffer_occupancy.map(u64::from));
    if let Some(u) = &n.undefined {
        w.key(key!("undefined"));
        w.out.push(b'[');
        for (i, v) in u.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            push_u64(w.out, u64::from(*v));
        }
        w.out.push(b']');
    }
    if let Some(oss) = &n.oss {
        w.key(key!("oss"));
        write_oss(w.out, oss);
    }
    w.close();
}

fn write_oss(out: &mut Vec<u8>, o: &OssReport) {
    let mut w = Obj::open(out, "schema_id");
    push_u64(w.out, o.schema_id.into());
    w.str(key!("data"), &o.data);
    w.close();
}

fn write_clt(out: &mut Vec<u8>, c: &CltReport) {
    let mut w = Obj::open(out, "trace_id");
    push_plain(w.out, &c.trace_id);
    w.str(key!("span_id"), &c.span_id);
    w.u64(key!("trace_flags"), c.trace_flags.into());
    w.str(key!("encoding"), c.encoding);
    w.opt_str(key!("traceparent"), c.traceparent.as_deref());
    w.close();
}

fn write_integrity(out: &mut Vec<u8>, i: &IntegrityReport) {
    let mut w = Obj::open(out, "method");
    push_u64(w.out, i.method.into());
    w.opt_str(key!("nonce"), i.nonce.as_deref());
    w.opt_str(key!("icv"), i.icv.as_deref());
    w.close();
}

/// One JSON object being written. Its first key is always present, so it
/// is written with the opening brace ([`Obj::open`]); every later key
/// carries its leading comma (keys are plain ASCII: no escaping).
struct Obj<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Obj<'a> {
    /// `{"first":`
    fn open(out: &'a mut Vec<u8>, first: &str) -> Self {
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(first.as_bytes());
        out.extend_from_slice(b"\":");
        Obj { out }
    }

    fn close(self) {
        self.out.push(b'}');
    }

    fn key(&mut self, key: &str) {
        self.out.extend_from_slice(key.as_bytes());
    }

    fn u64(&mut self, key: &str, v: u64) {
        self.key(key);
        push_u64(self.out, v);
    }

    fn opt_u64(&mut self, key: &str, v: Option<u64>) {
        if let Some(v) = v {
            self.u64(key, v);
        }
    }

    fn bool(&mut self, key: &str, v: bool) {
        self.key(key);
        push_bool(self.out, v);
    }

    /// A string the decoder made itself (hex digits, numbers, names,
    /// addresses, times): nothing to escape.
    fn str(&mut self, key: &str, v: &str) {
        self.key(key);
        push_plain(self.out, v);
    }

    /// Free text (error messages): escaped.
    fn text(&mut self, key: &str, v: &str) {
        self.key(key);
        push_str(self.out, v);
    }

    fn opt_str(&mut self, key: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(key, v);
        }
    }
}

fn push_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { &b"true"[..] } else { &b"false"[..] });
}

/// A JSON string whose text needs no escape: the strings the decoder makes
/// itself (hex digits, numbers, names, addresses, times), never bytes from
/// a packet or free text.
fn push_plain(out: &mut Vec<u8>, s: &str) {
    debug_assert!(
        s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
        "{s:?}"
    );
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// A JSON string with serde_json's escapes: `\"`, `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t`, other control characters as `\u00xx` (lowercase hex);
/// everything else, non-ASCII included, as is.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
                start = i + 1;
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Decimal digits of `v`.
fn push_u64(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    if v < 100 {
        out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(s: &str) {
        let mut mine = Vec::new();
        push_str(&mut mine, s);
        assert_eq!(
            String::from_utf8(mine).unwrap(),
            serde_json::to_string(s).unwrap(),
            "{s:?}"
        );
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "\n\r\t\u{8}\u{c}",
            "é ∑ 😀",
            "\u{7f}",
        ] {
            same(s);
        }
        let all: String = (0u8..0x80).map(char::from).collect();
        same(&all);
    }

    #[test]
    fn numbers_like_serde_json() {
        for v in [
            0,
            1,
            9,
            10,
            42,
            99,
            100,
            999,
            1000,
            12345,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut mine = Vec::new();
            push_u64(&mut mine, v);
            assert_eq!(mine, serde_json::to_vec(&v).unwrap());
        }
    }
}
