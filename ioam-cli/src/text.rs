//! The human-readable rendering of a [`PacketReport`]: addresses, each IOAM
//! option's header, the CLT context, and a table of hops in path order.

use core::fmt::Write;

use crate::model::{ErrorReport, NodeReport, OptionReport, PacketReport};

fn opt<T: ToString>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

/// The columns of the hop table: a header and how to read the cell.
type Column = (&'static str, fn(&NodeReport) -> Option<String>);

const COLUMNS: &[Column] = &[
    ("hop_limit", |n| opt(&n.hop_limit)),
    ("node_id", |n| opt(&n.node_id)),
    ("ingress", |n| opt(&n.ingress_if_id)),
    ("egress", |n| opt(&n.egress_if_id)),
    ("ts_secs", |n| {
        n.unix_nanos
            .is_none()
            .then(|| opt(&n.timestamp_secs))
            .flatten()
    }),
    ("ts_frac", |n| {
        n.unix_nanos
            .is_none()
            .then(|| opt(&n.timestamp_frac))
            .flatten()
    }),
    ("transit_delay", |n| opt(&n.transit_delay)),
    ("ns_data", |n| n.namespace_data.clone()),
    ("queue_depth", |n| opt(&n.queue_depth)),
    ("csum_comp", |n| opt(&n.checksum_complement)),
    ("hop_limit_wide", |n| opt(&n.hop_limit_wide)),
    ("node_id_wide", |n| opt(&n.node_id_wide)),
    ("ingress_wide", |n| opt(&n.ingress_if_id_wide)),
    ("egress_wide", |n| opt(&n.egress_if_id_wide)),
    ("ns_data_wide", |n| n.namespace_data_wide.clone()),
    ("buffer_occ", |n| opt(&n.buffer_occupancy)),
    ("undefined", |n| {
        n.undefined.as_ref().map(|u| {
            u.iter()
                .map(|v| format!("{v:#x}"))
                .collect::<Vec<_>>()
                .join(",")
        })
    }),
    ("oss", |n| {
        n.oss.as_ref().map(|o| {
            if o.data.is_empty() {
                format!("schema {:#08x}", o.schema_id)
            } else {
                format!("schema {:#08x} data {}", o.schema_id, o.data)
            }
        })
    }),
];

/// Time of day (UTC) with microseconds, from Unix nanoseconds.
fn time_of_day(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let sod = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        (ns % 1_000_000_000) / 1000
    )
}

/// Signed offset in seconds with microseconds: `+0.000125`.
fn offset(ns: u64, from: u64) -> String {
    let (sign, d) = if ns >= from {
        ('+', ns - from)
    } else {
        ('-', from - ns)
    };
    format!(
        "{sign}{}.{:06}",
        d / 1_000_000_000,
        (d % 1_000_000_000) / 1000
    )
}

fn render_table(out: &mut String, nodes: &[NodeReport]) {
    let cols: Vec<&Column> = COLUMNS
        .iter()
        .filter(|(_, get)| nodes.iter().any(|n| get(n).is_some()))
        .collect();
    // Like the timeline of a tracing UI: when the records carry timestamps,
    // the time of each hop and its offset from the first timestamped hop.
    let t0 = nodes.iter().find_map(|n| n.unix_nanos);
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(nodes.len() + 1);
    let mut header = vec!["hop".to_string()];
    if t0.is_some() {
        header.push("time (UTC)".into());
        header.push("offset (s)".into());
    }
    header.extend(cols.iter().map(|(h, _)| (*h).to_string()));
    rows.push(header);
    for n in nodes {
        let mut row = vec![n.hop.to_string()];
        if let Some(t0) = t0 {
            row.push(n.unix_nanos.map_or_else(|| "-".into(), time_of_day));
            row.push(n.unix_nanos.map_or_else(|| "-".into(), |t| offset(t, t0)));
        }
        row.extend(
            cols.iter()
                .map(|(_, get)| get(n).unwrap_or_else(|| "-".into())),
        );
        rows.push(row);
    }
    let ncols = rows[0].len();
    let widths: Vec<usize> = (0..ncols)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    // Numbers right-aligned; the free-text columns left-aligned.
    let left: Vec<bool> = rows[0]
        .iter()
        .map(|h| h == "oss" || h == "undefined")
        .collect();
    for row in rows {
        let mut line = String::from("    ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str("  ");
            if left[c] {
                let _ = write!(line, "{cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(line, "{cell:>w$}", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn render_errors(out: &mut String, indent: &str, errors: &[ErrorReport]) {
    for e in errors {
        let _ = writeln!(out, "{indent}error at byte {}: {}", e.offset, e.message);
    }
}

fn render_option(out: &mut String, o: &OptionReport) {
    let _ = write!(
        out,
        "  {} option {:#04x}: IOAM {} ({})",
        o.header, o.option_type, o.ioam_type, o.ioam_type_value
    );
    if let Some(ns) = o.namespace_id {
        let _ = write!(out, ", namespace {ns}");
    }
    out.push('\n');
    let mut fields = Vec::new();
    if let Some(v) = &o.trace_type {
        fields.push(format!("trace type {v}"));
    }
    if let Some(v) = o.node_len {
        fields.push(format!("node len {v}"));
    }
    if let Some(v) = o.remaining_len {
        fields.push(format!("remaining len {v}"));
    }
    if let Some(f) = o.flags {
        let mut names = Vec::new();
        if f.overflow {
            names.push("overflow");
        }
        if f.loopback {
            names.push("loopback");
        }
        if f.active {
            names.push("active");
        }
        fields.push(format!(
            "flags {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(",")
            }
        ));
    }
    let num = |name: &str, v: Option<u64>| v.map(|v| format!("{name} {v}"));
    fields.extend(num("pot type", o.pot_type.map(u64::from)));
    fields.extend(num("pot flags", o.pot_flags.map(u64::from)));
    fields.extend(num("pkt id", o.pkt_id));
    fields.extend(num("cumulative", o.cumulative));
    if let Some(v) = &o.e2e_type {
        fields.push(format!("e2e type {v}"));
    }
    fields.extend(num("dex flags", o.dex_flags.map(u64::from)));
    fields.extend(num("extension flags", o.extension_flags.map(u64::from)));
    fields.extend(num("flow id", o.flow_id.map(u64::from)));
    fields.extend(num("seq num", o.seq_num));
    fields.extend(num("timestamp secs", o.timestamp_secs.map(u64::from)));
    fields.extend(num("timestamp frac", o.timestamp_frac.map(u64::from)));
    if let Some(i) = &o.integrity {
        fields.push(format!("integrity method {}", i.method));
        if let Some(n) = &i.nonce {
            fields.push(format!("nonce {n}"));
        }
        if let Some(icv) = &i.icv {
            fields.push(format!("icv {icv}"));
        }
    }
    if let Some(d) = &o.data {
        fields.push(format!("data {d}"));
    }
    if !fields.is_empty() {
        let _ = writeln!(out, "    {}", fields.join(", "));
    }
    if let Some(c) = &o.clt {
        let _ = writeln!(
            out,
            "    CLT ({}): trace id {}, span id {}, flags {:02x}",
            c.encoding, c.trace_id, c.span_id, c.trace_flags
        );
        if let Some(tp) = &c.traceparent {
            let _ = writeln!(out, "    traceparent {tp}");
        }
    }
    if let Some(nodes) = &o.nodes {
        if nodes.is_empty() {
            let _ = writeln!(out, "    no node data yet");
        } else {
            let _ = writeln!(out, "    hops (path order):");
            render_table(out, nodes);
        }
    }
    render_errors(out, "    ", &o.errors);
    for f in &o.findings {
        let _ = writeln!(out, "    finding at byte {}: {}", f.offset, f.message);
    }
}

/// Render one packet as text (ends with a blank line).
pub fn render(p: &PacketReport) -> String {
    let mut out = String::new();
    let _ = write!(out, "frame {}", p.frame);
    if let Some(t) = &p.time {
        let _ = write!(out, "  {t}");
    }
    if let (Some(s), Some(d)) = (&p.src, &p.dst) {
        let _ = write!(out, "  {s} -> {d}");
    }
    out.push('\n');
    for o in &p.ioam {
        render_option(&mut out, o);
    }
    render_errors(&mut out, "  ", &p.errors);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_a_timeline() {
        let t = 1_700_000_000_000_000_000u64;
        let nodes = vec![
            NodeReport {
                hop: 1,
                timestamp_secs: Some(1_700_000_000),
                timestamp_frac: Some(0),
                unix_nanos: Some(t),
                ..Default::default()
            },
            NodeReport {
                hop: 2,
                timestamp_secs: Some(1_700_000_000),
                timestamp_frac: Some(125),
                unix_nanos: Some(t + 125_000),
                ..Default::default()
            },
        ];
        let mut s = String::new();
        render_table(&mut s, &nodes);
        let want = [
            "      hop       time (UTC)  offset (s)",
            "        1  22:13:20.000000   +0.000000",
            "        2  22:13:20.000125   +0.000125",
        ];
        assert_eq!(s, want.join("\n") + "\n");
    }

    #[test]
    fn table_has_only_present_columns() {
        let nodes = vec![
            NodeReport {
                hop: 1,
                hop_limit: Some(64),
                node_id: Some(1),
                ..Default::default()
            },
            NodeReport {
                hop: 2,
                hop_limit: Some(63),
                node_id: Some(22),
                ..Default::default()
            },
        ];
        let mut s = String::new();
        render_table(&mut s, &nodes);
        assert_eq!(
            s,
            "      hop  hop_limit  node_id\n        1         64        1\n        2         63       22\n"
        );
    }
}
