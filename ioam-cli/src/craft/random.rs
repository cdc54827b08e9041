//! The reproducible random corpus of `ioam craft --random`: valid packets of
//! every IOAM option type (pre-allocated and incremental traces, POT, E2E,
//! DEX, integrity-protected, unknown types, several options in one header)
//! alternating with malformed or unusual variants (truncations, bad
//! lengths, misalignment, reserved bits, overflow, ...).
//!
//! The generator is a self-contained splitmix64, so a seed gives the same
//! bytes on every platform and version of the dependencies.

use core::net::Ipv6Addr;
use ioam_wire::prelude::*;
use ioam_wire::Mode;

use clt_context::{SpanContext, SpanId, TraceFlags, TraceId};
use ioam_trace::{
    emit_record, NodeData, Trace, TraceHeader, TraceHeaderRepr, TraceKind, TraceType,
};
use ioam_wire::build::{Body, OptionSpec};
use ioam_wire::dex::DexRepr;
use ioam_wire::e2e::{E2eRepr, SequenceNumber};
use ioam_wire::ext::ExtHeaders;
use ioam_wire::integrity::IntegrityRepr;
use ioam_wire::ioam::{IoamType, OPT_IOAM, OPT_IOAM_NOCHANGE};
use ioam_wire::packet::IoamOptions;
use ioam_wire::pot::{PotData, PotRepr};
use ioam_wire::proto;

use super::{ipv6_udp_packet, options_header, trace_packet, TraceSpec};

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    fn ctx(&mut self) -> SpanContext {
        let mut t = [0u8; 16];
        t.copy_from_slice(&self.bytes(16));
        t[0] |= 1;
        let mut s = [0u8; 8];
        s.copy_from_slice(&self.bytes(8));
        s[0] |= 1;
        SpanContext::new(TraceId(t), SpanId(s), TraceFlags(1))
    }
}

const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

fn udp_packet(ext: &[(u8, Vec<u8>)], payload: &[u8]) -> Vec<u8> {
    ipv6_udp_packet(SRC.octets(), DST.octets(), 64, ext, payload)
}

fn hbh_packet(specs: &[OptionSpec<'_>]) -> Option<Vec<u8>> {
    let h = options_header(specs).ok()?;
    Some(udp_packet(&[(proto::HOP_BY_HOP, h)], b"corpus"))
}

fn random_trace_type(rng: &mut Rng, allow_oss: bool) -> TraceType {
    let mut bits = 0u32;
    for k in 0..12u32 {
        if rng.chance(2, 5) {
            bits |= 1 << (23 - k);
        }
    }
    if allow_oss && rng.chance(1, 2) {
        bits |= TraceType::OPAQUE_STATE.bits();
    }
    if bits == 0 {
        bits = TraceType::HOP_LIM_NODE_ID.bits();
    }
    TraceType::from_bits_truncate(bits)
}

fn ns(rng: &mut Rng) -> u16 {
    [0u16, 1, 123, 0x7fff, 0x8000, 0xffff][rng.below(6) as usize]
}

fn preallocated(rng: &mut Rng) -> Option<Vec<u8>> {
    let tt = random_trace_type(rng, true);
    let ctx = (tt.has_oss() && rng.chance(3, 4)).then(|| rng.ctx());
    let hops: Vec<u32> = (0..rng.below(5))
        .map(|_| rng.below(0x100_0000) as u32)
        .collect();
    let mut spec = TraceSpec {
        ns: ns(rng),
        trace_type: tt,
        space: None,
        ctx,
        schema_id: clt_context::CLT_SCHEMA_ID,
        legacy: false,
        originator: rng.chance(4, 5).then(|| rng.below(0x100_0000) as u32),
        hops,
        src: SRC,
        dst: DST,
        hop_limit: rng.range(1, 255) as u8,
        time: 1_700_000_000,
    };
    if rng.chance(1, 4) {
        // Less room than needed: later hops overflow.
        let words = rng.below(ioam_trace::TRACE_DATA_MAX as u64 / 4 + 1) as usize;
        spec.space = Some(words * 4);
    }
    trace_packet(&spec, rng.below(1000) as usize).ok()
}

fn incremental(rng: &mut Rng) -> Option<Vec<u8>> {
    let tt = random_trace_type(rng, false);
    let n = TraceType::node_len(tt) as usize * 4;
    let records = rng.below(4) as usize;
    let budget = rng.below(30) as u8;
    let mut body = vec![0u8; ioam_trace::TRACE_HEADER_LEN + records * n];
    if body.len() > ioam_wire::ioam::IOAM_BODY_MAX {
        body.truncate(ioam_trace::TRACE_HEADER_LEN);
    }
    let ns = ns(rng);
    TraceHeaderRepr::new(ns, tt, budget).emit(&mut TraceHeader::new_unchecked(&mut body[..]));
    let mut at = ioam_trace::TRACE_HEADER_LEN;
    while at + n <= body.len() && n > 0 {
        let node = NodeData {
            hop_limit: rng.below(256) as u8,
            node_id: rng.below(0x100_0000) as u32,
            ..NodeData::unavailable()
        };
        at += emit_record(tt, &node, &mut body[at..]).ok()?;
    }
    hbh_packet(&[OptionSpec::Ioam {
        option_type: OPT_IOAM,
        ioam_type: IoamType::IncrementalTrace,
        body: Body::Bytes(&body),
    }])
}

fn pot_body(rng: &mut Rng, unknown: bool) -> Option<Vec<u8>> {
    let n = 4 * rng.range(1, 6) as usize;
    let data = rng.bytes(n);
    let repr = if unknown {
        PotRepr {
            namespace_id: ns(rng),
            flags: 0,
            data: PotData::Unknown {
                pot_type: rng.range(1, 255) as u8,
                data: &data,
            },
        }
    } else {
        PotRepr::new_type0(ns(rng), rng.next_u64(), rng.next_u64())
    };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut out).ok()?;
    Some(out)
}

fn pot(rng: &mut Rng, unknown: bool) -> Option<Vec<u8>> {
    let body = pot_body(rng, unknown)?;
    hbh_packet(&[OptionSpec::Ioam {
        option_type: OPT_IOAM,
        ioam_type: IoamType::ProofOfTransit,
        body: Body::Bytes(&body),
    }])
}

fn e2e_body(rng: &mut Rng) -> Option<Vec<u8>> {
    let repr = E2eRepr {
        namespace_id: ns(rng),
        sequence_number: match rng.below(3) {
            0 => None,
            1 => Some(SequenceNumber::Bits64(rng.next_u64())),
            _ => Some(SequenceNumber::Bits32(rng.next_u64() as u32)),
        },
        timestamp_secs: rng.chance(1, 2).then(|| rng.next_u64() as u32),
        timestamp_frac: rng.chance(1, 2).then(|| rng.below(1_000_000) as u32),
        undefined_bits: 0,
        opaque: &[],
    };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut out).ok()?;
    Some(out)
}

fn e2e(rng: &mut Rng) -> Option<Vec<u8>> {
    let body = e2e_body(rng)?;
    let d = options_header(&[OptionSpec::Ioam {
        option_type: OPT_IOAM_NOCHANGE,
        ioam_type: IoamType::EdgeToEdge,
        body: Body::Bytes(&body),
    }])
    .ok()?;
    Some(udp_packet(&[(proto::DEST_OPTS, d)], b"corpus"))
}

fn dex(rng: &mut Rng) -> Option<Vec<u8>> {
    let tt = random_trace_type(rng, true);
    let repr = DexRepr::new(
        ns(rng),
        tt.bits(),
        rng.chance(1, 2).then(|| rng.next_u64() as u32),
        rng.chance(1, 2).then(|| rng.next_u64() as u32),
    );
    let mut body = vec![0u8; repr.buffer_len()];
    repr.emit(&mut body).ok()?;
    hbh_packet(&[OptionSpec::Ioam {
        option_type: OPT_IOAM_NOCHANGE,
        ioam_type: IoamType::DirectExport,
        body: Body::Bytes(&body),
    }])
}

fn integrity(rng: &mut Rng) -> Option<Vec<u8>> {
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&rng.bytes(12));
    let mut icv = [0u8; 16];
    icv.copy_from_slice(&rng.bytes(16));
    let (ty, header, data, option_type) = match rng.below(3) {
        0 => {
            let b = pot_body(rng, false)?;
            (66u8, b[..4].to_vec(), b[4..].to_vec(), OPT_IOAM)
        }
        1 => {
            let b = e2e_body(rng)?;
            (67u8, b[..4].to_vec(), b[4..].to_vec(), OPT_IOAM_NOCHANGE)
        }
        _ => {
            let tt = TraceType::HOP_LIM_NODE_ID;
            let mut h = vec![0u8; 8];
            TraceHeaderRepr::new(ns(rng), tt, 1).emit(&mut TraceHeader::new_unchecked(&mut h[..]));
            let mut data = vec![0u8; 8];
            let node = NodeData {
                hop_limit: 64,
                node_id: rng.below(0x100_0000) as u32,
                ..NodeData::unavailable()
            };
            emit_record(tt, &node, &mut data[4..]).ok()?;
            (64u8, h, data, OPT_IOAM)
        }
    };
    let opt = IntegrityRepr::new_aes_gmac(IoamType::from(ty), &header, &nonce, &icv, &data);
    let mut body = vec![0u8; opt.buffer_len()];
    opt.emit(&mut body).ok()?;
    hbh_packet(&[OptionSpec::Ioam {
        option_type,
        ioam_type: IoamType::from(ty),
        body: Body::Bytes(&body),
    }])
}

fn unknown_type(rng: &mut Rng) -> Option<Vec<u8>> {
    let ty = if rng.chance(1, 2) {
        rng.range(5, 63)
    } else {
        rng.range(68, 255)
    } as u8;
    let n = 4 * rng.range(1, 8) as usize;
    let body = rng.bytes(n);
    hbh_packet(&[OptionSpec::Ioam {
        option_type: OPT_IOAM,
        ioam_type: IoamType::from(ty),
        body: Body::Bytes(&body),
    }])
}

fn multi(rng: &mut Rng) -> Option<Vec<u8>> {
    let mut a = vec![0u8; 8 + 8];
    TraceHeaderRepr::new(1, TraceType::HOP_LIM_NODE_ID, 2)
        .emit(&mut TraceHeader::new_unchecked(&mut a[..]));
    let mut b = vec![0u8; 8 + 16];
    TraceHeaderRepr::new(2, TraceType::from_bits_truncate(0xc0_0000), 4)
        .emit(&mut TraceHeader::new_unchecked(&mut b[..]));
    let p = pot_body(rng, false)?;
    let e = e2e_body(rng)?;
    let h = options_header(&[
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::PreallocatedTrace,
            body: Body::Bytes(&a),
        },
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::PreallocatedTrace,
            body: Body::Bytes(&b),
        },
        OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::ProofOfTransit,
            body: Body::Bytes(&p),
        },
    ])
    .ok()?;
    let d = options_header(&[OptionSpec::Ioam {
        option_type: OPT_IOAM_NOCHANGE,
        ioam_type: IoamType::EdgeToEdge,
        body: Body::Bytes(&e),
    }])
    .ok()?;
    Some(udp_packet(
        &[(proto::HOP_BY_HOP, h), (proto::DEST_OPTS, d)],
        b"corpus",
    ))
}

/// The valid generators, with their labels.
/// A packet generator.
type Generator = fn(&mut Rng) -> Option<Vec<u8>>;

const VALID: &[(&str, Generator)] = &[
    ("valid:preallocated-trace", preallocated),
    ("valid:incremental-trace", incremental),
    ("valid:pot", |r| pot(r, false)),
    ("valid:pot-unknown-type", |r| pot(r, true)),
    ("valid:e2e", e2e),
    ("valid:dex", dex),
    ("valid:integrity", integrity),
    ("valid:unknown-ioam-type", unknown_type),
    ("valid:several-options", multi),
];

/// Absolute offsets of the first IOAM option of `pkt`: (option, body).
fn first_option(pkt: &[u8]) -> Option<(usize, usize, IoamType)> {
    let o = IoamOptions::new(pkt, Mode::Lenient).ok()?.next()?.ok()?;
    Some((
        o.absolute_offset(),
        o.absolute_body_offset(),
        o.option.ioam_type,
    ))
}

fn set_payload_len(pkt: &mut [u8]) {
    let n = (pkt.len() - 40).min(0xffff) as u16;
    pkt[4..6].copy_from_slice(&n.to_be_bytes());
}

/// The Hop-by-Hop header of `pkt` rebuilt with the first IOAM option moved
/// to offset 3 (misaligned, RFC 9486 §4).
fn misalign(pkt: &[u8]) -> Option<Vec<u8>> {
    let (o, _, _) = first_option(pkt)?;
    let hlen = (usize::from(*pkt.get(41)?) + 1) * 8;
    let olen = usize::from(*pkt.get(o + 1)?) + 2;
    let opt = pkt.get(o..o + olen)?;
    let mut h = vec![pkt[40], 0, 0x00];
    h.extend_from_slice(opt);
    match (8 - h.len() % 8) % 8 {
        0 => {}
        1 => h.push(0),
        r => {
            h.push(1);
            h.push((r - 2) as u8);
            h.extend(core::iter::repeat_n(0, r - 2));
        }
    }
    h[1] = (h.len() / 8 - 1) as u8;
    let mut out = pkt[..40].to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(pkt.get(40 + hlen..)?);
    set_payload_len(&mut out);
    Some(out)
}

/// Apply malformation `kind` to a fresh valid packet.
fn malformed(rng: &mut Rng, kind: usize) -> Option<(Vec<u8>, &'static str)> {
    let base = |rng: &mut Rng| preallocated(rng);
    Some(match kind {
        0 => {
            let mut p = VALID[rng.below(VALID.len() as u64) as usize].1(rng)?;
            let end = ExtHeaders::chain_end(&p).ok()?.offset;
            p.truncate(rng.below(end as u64) as usize);
            (p, "malformed:truncated")
        }
        1 => {
            let mut p = base(rng)?;
            p[41] = p[41].saturating_add(rng.range(1, 40) as u8);
            (p, "malformed:header-length-overrun")
        }
        2 => {
            let mut p = VALID[rng.below(VALID.len() as u64) as usize].1(rng)?;
            let (o, _, _) = first_option(&p)?;
            let cur = p[o + 1];
            p[o + 1] = [0, 1, cur.wrapping_add(1), cur.wrapping_add(4), 255][rng.below(5) as usize];
            (p, "malformed:option-length")
        }
        3 => (misalign(&base(rng)?)?, "malformed:misaligned"),
        4 => {
            let mut p = base(rng)?;
            let (o, b, _) = first_option(&p)?;
            p[o + 2] = rng.range(1, 255) as u8; // IOAM Reserved
            p[b + 3] |= 0x80; // unassigned trace flag
            p[b + 7] = rng.range(1, 255) as u8; // trace Reserved
            (p, "unusual:reserved-bits")
        }
        5 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 2] |= 0x04;
            (p, "unusual:overflow-set")
        }
        6 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 3] |= 0x7f;
            (p, "malformed:remaining-len-beyond-space")
        }
        7 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 2] ^= 0x08;
            (p, "malformed:node-len-mismatch")
        }
        8 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            // Bit k of the 24-bit trace type is bit (k % 8) of byte k / 8.
            let k = rng.range(12, 21) as usize;
            p[b + 4 + k / 8] |= 0x80 >> (k % 8);
            (p, "malformed:undefined-bits")
        }
        9 => {
            // Opaque state length overrunning the record area.
            let mut p = (0..16).find_map(|_| {
                let p = base(rng)?;
                let (o, b, _) = first_option(&p)?;
                let end = o + 2 + usize::from(p[o + 1]);
                let t = Trace::parse(p.get(b..end)?, Mode::Strict, TraceKind::Preallocated).ok()?;
                let off = t.records().last()?.ok()?.oss()?.offset();
                let mut p = p.clone();
                p[b + off] = 0xff;
                Some(p)
            })?;
            set_payload_len(&mut p);
            (p, "malformed:oss-length-overrun")
        }
        10 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 2] |= 0x02;
            p[b + 4] |= 0x40; // make sure the type is not 0x800000 alone
            (p, "malformed:loopback-trace-type")
        }
        11 => {
            let mut p = e2e(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 2] |= 0xc0;
            (p, "malformed:e2e-both-sequence-numbers")
        }
        12 => {
            let mut p = dex(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 3] ^= 0x80;
            (p, "malformed:dex-length")
        }
        13 => {
            // POT with the "no change" code, E2E in a Hop-by-Hop header.
            let body = pot_body(rng, false)?;
            let e = e2e_body(rng)?;
            let p = hbh_packet(&[
                OptionSpec::Ioam {
                    option_type: OPT_IOAM_NOCHANGE,
                    ioam_type: IoamType::ProofOfTransit,
                    body: Body::Bytes(&body),
                },
                OptionSpec::Ioam {
                    option_type: OPT_IOAM_NOCHANGE,
                    ioam_type: IoamType::EdgeToEdge,
                    body: Body::Bytes(&e),
                },
            ])?;
            (p, "unusual:placement")
        }
        14 => {
            let p = base(rng)?;
            let hlen = (usize::from(p[41]) + 1) * 8;
            let hbh = p[40..40 + hlen].to_vec();
            let d = vec![0, 0, 1, 4, 0, 0, 0, 0];
            let q = udp_packet(
                &[(proto::DEST_OPTS, d), (proto::HOP_BY_HOP, hbh)],
                b"corpus",
            );
            (q, "malformed:hop-by-hop-not-first")
        }
        15 => {
            // An 8-byte PadN with non-zero padding before the option.
            let p = base(rng)?;
            let (o, _, _) = first_option(&p)?;
            let olen = usize::from(p[o + 1]) + 2;
            let hlen = (usize::from(p[41]) + 1) * 8;
            let mut h = vec![0, 0, 1, 6, 0xaa, 0, 0, 0, 0, 0, 0, 0];
            h.extend_from_slice(&p[o..o + olen]);
            while h.len() % 8 != 0 {
                h.push(0);
            }
            h[1] = (h.len() / 8 - 1) as u8;
            let mut q = p[..40].to_vec();
            q.extend_from_slice(&h);
            q.extend_from_slice(&p[40 + hlen..]);
            set_payload_len(&mut q);
            (q, "malformed:padding")
        }
        16 => {
            let mut p = base(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 4] = 0;
            p[b + 5] = 0;
            p[b + 6] = 0;
            if rng.chance(1, 2) {
                p[b + 2] &= 0x07; // NodeLen 0 too: records cannot be walked
            }
            (p, "malformed:empty-trace-type")
        }
        _ => {
            let mut p = incremental(rng)?;
            let (_, b, _) = first_option(&p)?;
            p[b + 2] = p[b + 2].wrapping_add(0x08);
            (p, "malformed:incremental-node-len")
        }
    })
}

const MALFORMED_KINDS: usize = 18;

/// `count` packets (IPv6, from the fixed header on) with their labels:
/// even positions are valid packets cycling through every option type,
/// odd positions cycle through the malformed and unusual variants.
pub fn corpus(seed: u64, count: usize) -> Vec<(Vec<u8>, &'static str)> {
    corpus_iter(seed, count).collect()
}

/// [`corpus`] one packet at a time (the same packets in the same order),
/// for writers that stream: memory does not grow with `count`.
pub fn corpus_iter(seed: u64, count: usize) -> impl Iterator<Item = (Vec<u8>, &'static str)> {
    let mut rng = Rng::new(seed);
    let mut made = 0usize;
    let mut i = 0usize;
    let mut attempts = 0usize;
    let limit = count.saturating_mul(20).saturating_add(100);
    core::iter::from_fn(move || {
        while made < count && attempts < limit {
            attempts += 1;
            let item = if i.is_multiple_of(2) {
                let (label, gen) = VALID[(i / 2) % VALID.len()];
                gen(&mut rng).map(|p| (p, label))
            } else {
                malformed(&mut rng, (i / 2) % MALFORMED_KINDS)
            };
            // A generator can decline (e.g. no record to damage); move on.
            i += 1;
            if item.is_some() {
                made += 1;
                return item;
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs of splitmix64 seeded with 0 (reference implementation).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn corpus_is_reproducible_and_covers_every_kind() {
        let a = corpus(7, 200);
        let b = corpus(7, 200);
        assert_eq!(a, b);
        assert_ne!(a, corpus(8, 200));
        assert_eq!(a.len(), 200);
        let labels: std::collections::BTreeSet<_> = a.iter().map(|(_, l)| *l).collect();
        for (l, _) in VALID {
            assert!(labels.contains(l), "{l} missing");
        }
        assert!(
            labels
                .iter()
                .filter(|l| l.starts_with("malformed:"))
                .count()
                >= 14,
            "{labels:?}"
        );
    }
}
