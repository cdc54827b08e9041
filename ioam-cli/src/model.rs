//! The decoded view of one packet, shaped for output: serialised as one JSON
//! Lines object by `ioam decode --format json`, rendered as text, and turned
//! into OTLP spans. Key names are part of the tool's interface (see
//! `README-json.md`); an optional key is absent, never `null`.

use serde::Serialize;

/// One finding: what is wrong and where. `offset` is absolute, in bytes from
/// the start of the IPv6 header of the packet (from the start of the frame
/// for link-layer errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// Byte offset of the problem.
    pub offset: usize,
    /// Which rule is broken, with required and actual values.
    pub message: String,
}

/// One packet that carries IOAM, or that is malformed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacketReport {
    /// 1-based frame number in the capture.
    pub frame: u64,
    /// Capture time, RFC 3339 UTC (absent when the input has no time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// IPv6 source address (absent when the IPv6 header is unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// IPv6 destination address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// Every IOAM option, in packet order.
    pub ioam: Vec<OptionReport>,
    /// Packet-level errors (link layer, IPv6 header, extension-header chain,
    /// option framing).
    pub errors: Vec<ErrorReport>,
}

impl PacketReport {
    /// True if the packet or any of its options has an error.
    pub fn is_malformed(&self) -> bool {
        !self.errors.is_empty() || self.ioam.iter().any(|o| !o.errors.is_empty())
    }
}

/// Trace flags (RFC 9197 §4.4.1, RFC 9322).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FlagsReport {
    /// Overflow: a node could not write its record.
    pub overflow: bool,
    /// Loopback (RFC 9322).
    pub loopback: bool,
    /// Active measurement packet (RFC 9322).
    pub active: bool,
}

/// Opaque state snapshot of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OssReport {
    /// 24-bit schema id.
    pub schema_id: u32,
    /// The snapshot data, lowercase hex.
    pub data: String,
}

/// One node-data record. A field is present only when the trace type has
/// its bit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    /// 1-based position in path order (1 = first node that wrote).
    pub hop: usize,
    /// Bit 0: hop limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop_limit: Option<u8>,
    /// Bit 0: 24-bit node id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u32>,
    /// Bit 1: ingress interface id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_if_id: Option<u16>,
    /// Bit 1: egress interface id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_if_id: Option<u16>,
    /// Bit 2: timestamp seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_secs: Option<u32>,
    /// Bit 3: timestamp fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_frac: Option<u32>,
    /// Bit 4: transit delay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transit_delay: Option<u32>,
    /// Bit 5: namespace data, `0x` + 8 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_data: Option<String>,
    /// Bit 6: queue depth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<u32>,
    /// Bit 7: checksum complement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_complement: Option<u32>,
    /// Bit 8: hop limit of the wide id field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop_limit_wide: Option<u8>,
    /// Bit 8: 56-bit node id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id_wide: Option<u64>,
    /// Bit 9: wide ingress interface id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_if_id_wide: Option<u32>,
    /// Bit 9: wide egress interface id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress_if_id_wide: Option<u32>,
    /// Bit 10: wide namespace data, `0x` + 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_data_wide: Option<String>,
    /// Bit 11: buffer occupancy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffer_occupancy: Option<u32>,
    /// Bits 12-21: the 4-byte values of the undefined bits that are set, in
    /// bit order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undefined: Option<Vec<u32>>,
    /// Bit 22: opaque state snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss: Option<OssReport>,
    /// Bits 2 and 3 read in the namespace's timestamp format, as
    /// nanoseconds since the Unix epoch (for the text view; not serialised).
    #[serde(skip)]
    pub unix_nanos: Option<u64>,
}

/// CLT context found in a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CltReport {
    /// Trace id, 32 lowercase hex digits.
    pub trace_id: String,
    /// Span id of the span that emitted the packet, 16 lowercase hex digits.
    pub span_id: String,
    /// W3C trace flags.
    pub trace_flags: u8,
    /// `"opaque-state"` (CLT schema in the originator's OSS) or
    /// `"legacy-header"` (the enlarged trace header of the CLT kernel patch).
    pub encoding: &'static str,
    /// The W3C `traceparent` (absent when an id is all zero, which W3C forbids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Integrity-protection header of the integrity-protected option types
/// (draft-ietf-ippm-ioam-data-integrity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrityReport {
    /// Integrity method (0 = AES-GMAC).
    pub method: u8,
    /// Nonce, lowercase hex (absent when the method or nonce length is
    /// unknown: the bytes are then kept opaque in the option's `data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Integrity check value, lowercase hex (absent when the method is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icv: Option<String>,
}

/// One IOAM option (RFC 9486 §4). Which of the type-specific keys appear
/// depends on `ioam_type`; see `README-json.md`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OptionReport {
    /// `"hop-by-hop"` or `"destination"`.
    pub header: &'static str,
    /// The IPv6 option code (0x31 or 0x11 for IOAM).
    pub option_type: u8,
    /// The IOAM option type, by name.
    pub ioam_type: &'static str,
    /// The IOAM option type, as a number.
    pub ioam_type_value: u8,
    /// Namespace-ID (every known IOAM type has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_id: Option<u16>,

    /// Trace: NodeLen in 4-byte words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_len: Option<u8>,
    /// Trace: flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<FlagsReport>,
    /// Trace: RemainingLen in 4-byte words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_len: Option<u8>,
    /// Trace and DEX: the 24-bit trace type, `0x` + 6 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_type: Option<String>,
    /// Trace: node records in path order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeReport>>,
    /// Trace: the CLT context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clt: Option<CltReport>,

    /// POT: POT type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pot_type: Option<u8>,
    /// POT: POT flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pot_flags: Option<u8>,
    /// POT type 0: packet id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pkt_id: Option<u64>,
    /// POT type 0: cumulative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cumulative: Option<u64>,

    /// E2E: the 16-bit E2E type bitmap, `0x` + 4 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e2e_type: Option<String>,
    /// E2E (bit 0 or bit 1) and DEX (extension flag bit 1): sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_num: Option<u64>,
    /// E2E bit 2: timestamp seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_secs: Option<u32>,
    /// E2E bit 3: timestamp fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_frac: Option<u32>,

    /// DEX: flags byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dex_flags: Option<u8>,
    /// DEX: extension flags byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_flags: Option<u8>,
    /// DEX extension flag bit 0: flow id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u32>,

    /// Integrity-protected types: the integrity header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<IntegrityReport>,
    /// Bytes the decoder keeps opaque (unknown IOAM type, unknown POT type,
    /// E2E data after an undefined bit, unknown DEX extension fields), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,

    /// Errors inside this option. Offsets are absolute in the packet.
    pub errors: Vec<ErrorReport>,
    /// Findings that are not errors: an IOAM option in a header or with an
    /// option code RFC 9486 does not specify for its type (the option is
    /// decoded all the same, and the packet is not malformed). Only present
    /// when there is one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<ErrorReport>,

    /// What the OTLP exporter needs (not serialised).
    #[serde(skip)]
    pub span: Option<SpanInfo>,
}

/// Data for one `ioam-span` (OTLP export), kept beside the JSON view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanInfo {
    /// Trace id bytes.
    pub trace_id: [u8; 16],
    /// Parent span id bytes (the span that emitted the packet).
    pub parent_span_id: [u8; 8],
    /// W3C trace flags.
    pub trace_flags: u8,
    /// The collector attributes `ioam_namespace<ns>_node<i>` (the CLT reference collector).
    pub attributes: Vec<(String, String)>,
    /// Earliest and latest node timestamps, ns since the Unix epoch, when
    /// the records carry timestamps.
    pub time_range: Option<(u64, u64)>,
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    text_of(|out| crate::fmtbuf::push_hex(out, bytes))
}

/// An IPv6 address in the text form of `core::net::Ipv6Addr`'s `Display`
/// (RFC 5952; see [`crate::fmtbuf::push_ipv6`]).
pub fn ipv6_text(bytes: [u8; 16]) -> String {
    text_of(|out| crate::fmtbuf::push_ipv6(out, bytes))
}

/// `0x` followed by the hex digits of `v` (lowercase), zero-padded to at
/// least `digits`: what `format!("0x{v:0digits$x}")` gives.
pub fn hex_prefixed(v: u64, digits: usize) -> String {
    text_of(|out| crate::fmtbuf::push_hex_prefixed(out, v, digits))
}

/// The text one of the `fmtbuf` writers (ASCII only) appends.
fn text_of(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    write(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_every_length() {
        let bytes: Vec<u8> = (0..=255).collect();
        for n in [0, 1, 2, 63, 64, 65, 128, 200, 256] {
            let want: String = bytes[..n].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex(&bytes[..n]), want);
        }
    }

    #[test]
    fn hex_prefixed_like_format() {
        for v in [0u64, 1, 0xabc, 0xffffff, 0x1000000, u64::MAX] {
            for d in [2, 4, 6, 8, 16] {
                assert_eq!(hex_prefixed(v, d), format!("0x{v:0d$x}"));
            }
        }
    }

    #[test]
    fn ipv6_text_like_display() {
        let check = |b: [u8; 16]| {
            assert_eq!(
                ipv6_text(b),
                core::net::Ipv6Addr::from(b).to_string(),
                "{b:?}"
            );
        };
        // Every pattern of zero / non-zero groups, with several values.
        for mask in 0u32..256 {
            for v in [1u16, 0x0a, 0x100, 0xabcd, 0xffff] {
                let mut b = [0u8; 16];
                for g in 0..8 {
                    if mask & (1 << g) != 0 {
                        let x = v.wrapping_add(g as u16 * 0x1111);
                        let x = if x == 0 { 1 } else { x };
                        b[2 * g..2 * g + 2].copy_from_slice(&x.to_be_bytes());
                    }
                }
                check(b);
            }
        }
        // IPv4-mapped and -compatible addresses.
        for v4 in [
            [0, 0, 0, 0],
            [1, 2, 3, 4],
            [192, 168, 100, 255],
            [10, 0, 0, 1],
        ] {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&v4);
            check(b);
            b[10] = 0xff;
            b[11] = 0xff;
            check(b);
        }
    }
}
