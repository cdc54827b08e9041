//! Checks for `ioam-wire`: extension-header walk, options, option bodies,
//! header insertion and removal.

use arbitrary::{Arbitrary, Unstructured};
use ioam_wire::build::{
    insert_ext_header, ioam_header, remove_ext_header, Align, Body, OptionSpec, OptionsBuilder,
};
use ioam_wire::dex::{Dex, DexLayout, DexRepr};
use ioam_wire::e2e::{E2e, E2eRepr};
use ioam_wire::error::Rule;
use ioam_wire::ext::{ExtHeaders, ExtKind};
use ioam_wire::integrity::{IntegrityRepr, ProtectedOption, Protection};
use ioam_wire::ioam::{is_ioam_option_type, IoamOption, IoamType, OPT_IOAM, OPT_IOAM_NOCHANGE};
use ioam_wire::ipv6::{Ipv6Header, Ipv6HeaderRepr, IPV6_HEADER_LEN};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::packet::{first_hbh_ioam, IoamOptions, PacketIoam};
use ioam_wire::pot::{Pot, PotRepr};
use ioam_wire::prelude::*;
use ioam_wire::Mode;
use ioam_wire::WireError;

use crate::util::{blob, inside_err};

const MODES: [Mode; 2] = [Mode::Strict, Mode::Lenient];

/// Checks one IOAM option found in `header` (offsets relative to it).
fn check_ioam_in(header: &[u8], io: &IoamOption<'_>) {
    assert_eq!(io.body_offset, io.offset + 4);
    assert_eq!(header[io.offset], io.option_type);
    assert!(is_ioam_option_type(io.option_type));
    assert_eq!(usize::from(header[io.offset + 1]), io.body.len() + 2);
    assert_eq!(header[io.offset + 2], io.reserved);
    assert_eq!(IoamType::from(header[io.offset + 3]), io.ioam_type);
    assert_eq!(
        &header[io.body_offset..io.body_offset + io.body.len()],
        io.body
    );
}

fn check_packet_ioam(packet: &[u8], p: &PacketIoam<'_>) {
    let abs = p.absolute();
    assert_eq!(abs.offset, p.absolute_offset());
    assert_eq!(abs.body_offset, p.absolute_body_offset());
    assert!(abs.body_offset + abs.body.len() <= packet.len());
    check_ioam_in(packet, &abs);
}

/// Extension-header walk, the packet-wide IOAM scan and its Hop-by-Hop
/// fast path, and the IPv6 header repr round trip.
pub fn check_ext_headers(data: &[u8]) {
    let len = data.len();
    if let Ok(h) = Ipv6Header::new_checked(data) {
        if let Ok(repr) = Ipv6HeaderRepr::parse(&h) {
            let mut out = [0u8; IPV6_HEADER_LEN];
            repr.emit(&mut out).expect("40-byte buffer");
            assert_eq!(
                Ipv6HeaderRepr::parse(&Ipv6Header::new_unchecked(&out)),
                Ok(repr)
            );
            assert_eq!(&out[..], &data[..IPV6_HEADER_LEN], "IPv6 header re-emitted");
        }
    }
    match ExtHeaders::new(data) {
        Err(e) => inside_err(&e, len),
        Ok(mut walk) => {
            let mut expect = IPV6_HEADER_LEN;
            let mut failed = false;
            let mut n = 0usize;
            for item in walk.by_ref() {
                n += 1;
                assert!(n <= len / 8 + 1, "walk does not terminate");
                match item {
                    Ok(h) => {
                        assert!(!failed, "item after an error");
                        assert_eq!(h.offset, expect, "headers are contiguous");
                        assert!(h.len() >= 8 && h.end() <= len);
                        assert_eq!(h.bytes, &data[h.offset..h.end()]);
                        assert_eq!(h.next_header, h.bytes[0]);
                        assert_eq!(ExtKind::from_protocol(h.kind.protocol()), Some(h.kind));
                        expect = h.end();
                        for mode in MODES {
                            if let Some(opts) = h.options(mode) {
                                for o in opts {
                                    match o {
                                        Ok(Opt::Ioam(io)) => check_ioam_in(h.bytes, &io),
                                        Ok(o) => assert!(o.offset() + o.len() <= h.len()),
                                        Err(e) => inside_err(&e, h.len()),
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        inside_err(&e, len);
                        failed = true;
                    }
                }
            }
            assert!(walk.next().is_none(), "walk is fused");
            match walk.end() {
                Some(end) => {
                    assert!(!failed);
                    assert_eq!(end.offset, expect);
                    assert!(end.offset <= len);
                    assert_eq!(data[end.next_header_field], end.protocol);
                }
                None => assert!(failed, "walk ended without an end or an error"),
            }
        }
    }

    for mode in MODES {
        let mut first = None;
        if let Ok(it) = IoamOptions::new(data, mode) {
            let mut n = 0usize;
            for item in it {
                n += 1;
                assert!(n <= len, "IOAM scan does not terminate");
                match item {
                    Ok(p) => {
                        check_packet_ioam(data, &p);
                        if n == 1 {
                            first = Some(p);
                        }
                    }
                    Err(e) => inside_err(&e, len),
                }
            }
        }
        let fast = first_hbh_ioam(data, mode);
        match &fast {
            Ok(Some(p)) => {
                assert_eq!(p.header, ExtKind::HopByHop);
                check_packet_ioam(data, p);
            }
            Ok(None) => {}
            Err(e) => inside_err(e, len),
        }
        // On a well-formed IPv6 header whose Payload Length covers exactly
        // the packet, the fast path and the full walk agree on the first
        // Hop-by-Hop IOAM option.
        let exact = Ipv6Header::new_checked(data)
            .ok()
            .filter(|h| h.check().is_ok())
            .is_some_and(|h| usize::from(h.payload_len()) + IPV6_HEADER_LEN == len);
        if exact {
            if let Some(p) = first.filter(|p| p.header == ExtKind::HopByHop) {
                assert_eq!(fast, Ok(Some(p)), "fast path disagrees with the walk");
            }
            if let Ok(Some(p)) = fast {
                assert_eq!(first, Some(p), "walk disagrees with the fast path");
            }
        }
    }
}

fn check_option_list(data: &[u8], list: &[Result<Opt<'_>, WireError>], mode: Mode) {
    let len = data.len();
    assert!(
        list.len() <= len + 1,
        "options iteration does not terminate"
    );
    let mut pos = 2usize;
    let mut pad_run = 0usize;
    for (i, item) in list.iter().enumerate() {
        match item {
            Ok(o) => {
                assert_eq!(o.offset(), pos, "options are contiguous");
                assert!(o.len() >= 1);
                pos += o.len();
                assert!(pos <= len);
                assert_eq!(data[o.offset()], o.option_type());
                match o {
                    Opt::Pad1 { .. } => {
                        assert_eq!(o.len(), 1);
                        pad_run += 1;
                    }
                    Opt::PadN { offset, len } => {
                        assert_eq!(usize::from(data[offset + 1]) + 2, *len);
                        pad_run += len;
                    }
                    Opt::Ioam(io) => {
                        pad_run = 0;
                        check_ioam_in(data, io);
                        if mode == Mode::Strict {
                            assert!(io.is_aligned(), "strict accepted a misaligned IOAM option");
                        }
                    }
                    Opt::Unknown(u) => {
                        pad_run = 0;
                        assert!(!is_ioam_option_type(u.option_type));
                        assert!(u.option_type > 1);
                        assert_eq!(&data[u.offset + 2..u.offset + u.len()], u.data);
                    }
                }
                if mode == Mode::Strict {
                    assert!(pad_run <= 7, "strict accepted a padding run of {pad_run}");
                    if let Opt::PadN { offset, len } = o {
                        assert!(data[offset + 2..offset + len].iter().all(|&b| b == 0));
                    }
                }
            }
            Err(e) => {
                assert_eq!(i + 1, list.len(), "error is the last item");
                inside_err(e, len);
            }
        }
    }
    let failed = matches!(list.last(), Some(Err(_)));
    if !failed && len >= 2 {
        assert_eq!(pos, len, "options cover the header");
    }
}

/// The options iterator in strict and lenient mode, and the options builder
/// (`parse(emit(options)) == options`).
pub fn check_options(data: &[u8]) {
    let strict: Vec<_> = Options::new(data, Mode::Strict).collect();
    let lenient: Vec<_> = Options::new(data, Mode::Lenient).collect();
    check_option_list(data, &strict, Mode::Strict);
    check_option_list(data, &lenient, Mode::Lenient);
    // Lenient accepts everything strict accepts, with the same result.
    for (i, s) in strict.iter().enumerate() {
        if let Ok(s) = s {
            assert_eq!(lenient.get(i), Some(&Ok(*s)), "lenient differs at item {i}");
        }
    }
    let _ = build_options(&mut Unstructured::new(data));
}

struct Spec {
    ioam: bool,
    option_type: u8,
    ioam_type: u8,
    align: Align,
    body: Vec<u8>,
}

fn build_options(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let next_header = u8::arbitrary(u)?;
    let n = u.int_in_range(0..=6)?;
    let mut specs = Vec::new();
    for _ in 0..n {
        let ioam = bool::arbitrary(u)?;
        let spec = if ioam {
            let words = u.int_in_range(0..=12)?;
            Spec {
                ioam,
                option_type: if bool::arbitrary(u)? {
                    OPT_IOAM
                } else {
                    OPT_IOAM_NOCHANGE
                },
                ioam_type: u8::arbitrary(u)?,
                align: Align::IOAM,
                body: u.bytes(words * 4)?.to_vec(),
            }
        } else {
            let mut t = u8::arbitrary(u)?;
            if t < 2 || is_ioam_option_type(t) {
                t = 0x3e;
            }
            let x = *u.choose(&[1u8, 2, 4, 8])?;
            let y = u.int_in_range(0..=x - 1)?;
            let dl = u.int_in_range(0..=40)?;
            Spec {
                ioam,
                option_type: t,
                ioam_type: 0,
                align: Align { x, y },
                body: u.bytes(dl)?.to_vec(),
            }
        };
        specs.push(spec);
    }
    let list: Vec<OptionSpec<'_>> = specs
        .iter()
        .map(|s| {
            if s.ioam {
                OptionSpec::Ioam {
                    option_type: s.option_type,
                    ioam_type: IoamType::from(s.ioam_type),
                    body: Body::Bytes(&s.body),
                }
            } else {
                OptionSpec::Raw {
                    option_type: s.option_type,
                    align: s.align,
                    data: Body::Bytes(&s.body),
                }
            }
        })
        .collect();
    let b = OptionsBuilder::new(next_header, &list);
    let Ok(total) = b.buffer_len() else {
        return Ok(());
    };
    let mut out = vec![0xeeu8; total + 3];
    assert_eq!(b.emit(&mut out), Ok(total));
    assert!(
        out[total..].iter().all(|&x| x == 0xee),
        "builder wrote past its length"
    );
    let hdr = &out[..total];
    assert!(total >= 8 && total.is_multiple_of(8));
    assert_eq!(hdr[0], next_header);
    assert_eq!(usize::from(hdr[1]), total / 8 - 1);
    let mut i = 0;
    for o in Options::new(hdr, Mode::Strict) {
        let o = o.unwrap_or_else(|e| panic!("strict parser rejects builder output: {e}"));
        if o.is_padding() {
            continue;
        }
        let s = &specs[i];
        assert_eq!(b.option_offset(i), Some(o.offset()));
        assert_eq!(o.offset() % usize::from(s.align.x), usize::from(s.align.y));
        match o {
            Opt::Ioam(io) => {
                assert!(s.ioam);
                assert_eq!(io.option_type, s.option_type);
                assert_eq!(io.ioam_type, IoamType::from(s.ioam_type));
                assert_eq!(io.reserved, 0);
                assert_eq!(io.body, &s.body[..]);
            }
            Opt::Unknown(x) => {
                assert!(!s.ioam);
                assert_eq!(x.option_type, s.option_type);
                assert_eq!(x.data, &s.body[..]);
            }
            _ => unreachable!(),
        }
        i += 1;
    }
    assert_eq!(i, specs.len(), "every option comes back");
    Ok(())
}

/// Parses `hdr` (one IOAM option written by an `emit_ext_header`) and
/// returns that option.
fn only_ioam(hdr: &[u8]) -> IoamOption<'_> {
    let mut found = None;
    for o in Options::new(hdr, Mode::Strict) {
        match o.unwrap_or_else(|e| panic!("strict parser rejects emitted header: {e}")) {
            Opt::Ioam(io) => {
                assert!(found.is_none(), "one IOAM option");
                found = Some(io);
            }
            o => assert!(o.is_padding(), "only padding besides the option"),
        }
    }
    found.expect("an IOAM option")
}

/// POT body: `emit(parse(b)) == b`, `parse(emit(r)) == r`, option placement.
pub fn check_pot(data: &[u8]) {
    let len = data.len();
    match PotRepr::parse_bytes(data) {
        Ok(r) => {
            let v = Pot::new_checked(data).expect("view accepts what the repr parses");
            assert_eq!(PotRepr::parse(&v), Ok(r));
            assert_eq!(v.namespace_id(), r.namespace_id);
            assert_eq!(r.buffer_len(), len);
            let mut out = vec![0u8; len];
            assert_eq!(r.emit(&mut out), Ok(len));
            assert_eq!(out, data, "emit(parse(bytes)) == bytes");
        }
        Err(e) => {
            inside_err(&e, len);
            assert!(Pot::new_checked(data).is_err());
        }
    }
    let mut u = Unstructured::new(data);
    let Ok(r) = PotRepr::arbitrary(&mut u) else {
        return;
    };
    let mut out = vec![0xa5u8; r.buffer_len() + 4];
    if let Ok(n) = r.emit(&mut out) {
        assert_eq!(n, r.buffer_len());
        assert!(out[n..].iter().all(|&b| b == 0xa5));
        assert_eq!(
            PotRepr::parse_bytes(&out[..n]),
            Ok(r),
            "parse(emit(r)) == r"
        );
        let mut hdr = vec![0u8; 300];
        if let Ok(hl) = r.emit_ext_header(&mut hdr, 59) {
            assert_eq!(r.ext_header_len(), Ok(hl));
            let io = only_ioam(&hdr[..hl]);
            assert_eq!(io.ioam_type, IoamType::ProofOfTransit);
            assert_eq!(PotRepr::from_option(&io), Ok(r));
        }
    } else {
        assert!(r.emit_ext_header(&mut [0u8; 300], 59).is_err());
    }
}

/// E2E body: `emit(parse(b)) == b`, `parse(emit(r)) == r`, option placement.
pub fn check_e2e(data: &[u8]) {
    let len = data.len();
    match E2eRepr::parse_bytes(data) {
        Ok(r) => {
            let v = E2e::new_checked(data).expect("view accepts what the repr parses");
            assert_eq!(E2eRepr::parse(&v), Ok(r));
            assert_eq!(v.e2e_type(), r.e2e_type());
            assert_eq!(v.sequence_number(), r.sequence_number);
            assert_eq!(v.timestamp_secs(), r.timestamp_secs);
            assert_eq!(v.timestamp_frac(), r.timestamp_frac);
            assert_eq!(v.opaque(), r.opaque);
            assert_eq!(r.buffer_len(), len);
            let mut out = vec![0u8; len];
            assert_eq!(r.emit(&mut out), Ok(len));
            assert_eq!(out, data, "emit(parse(bytes)) == bytes");
        }
        Err(e) => {
            inside_err(&e, len);
            assert!(E2e::new_checked(data).is_err());
        }
    }
    let mut u = Unstructured::new(data);
    let Ok(r) = E2eRepr::arbitrary(&mut u) else {
        return;
    };
    let mut out = vec![0xa5u8; r.buffer_len() + 4];
    if let Ok(n) = r.emit(&mut out) {
        assert_eq!(n, r.buffer_len());
        assert!(out[n..].iter().all(|&b| b == 0xa5));
        assert_eq!(
            E2eRepr::parse_bytes(&out[..n]),
            Ok(r),
            "parse(emit(r)) == r"
        );
        let mut hdr = vec![0u8; 300];
        if let Ok(hl) = r.emit_ext_header(&mut hdr, 59) {
            assert_eq!(r.ext_header_len(), Ok(hl));
            let io = only_ioam(&hdr[..hl]);
            assert_eq!(io.ioam_type, IoamType::EdgeToEdge);
            assert_eq!(E2eRepr::from_option(&io), Ok(r));
        }
    }
}

/// DEX body, RFC and legacy layouts: `emit(parse(b)) == b` (RFC layout),
/// legacy parses re-emit in the RFC layout with the same values,
/// `parse(emit(r)) == r`.
pub fn check_dex(data: &[u8]) {
    let len = data.len();
    match DexRepr::parse_bytes(data) {
        Ok(r) => {
            let v = Dex::new_checked(data).expect("view accepts what the repr parses");
            assert_eq!(v.flow_id(), r.flow_id);
            assert_eq!(v.sequence_number(), r.sequence_number);
            assert_eq!(v.extension_flags(), r.extension_flags());
            assert_eq!(r.buffer_len(), len);
            let mut out = vec![0u8; len];
            assert_eq!(r.emit(&mut out), Ok(len));
            assert_eq!(out, data, "emit(parse(bytes)) == bytes");
        }
        Err(e) => inside_err(&e, len),
    }
    match DexRepr::parse_bytes_with(data, DexLayout::Legacy) {
        Ok(r) => {
            assert_eq!(r.buffer_len(), len);
            let mut out = vec![0u8; len];
            assert_eq!(r.emit(&mut out), Ok(len));
            assert_eq!(DexRepr::parse_bytes(&out), Ok(r), "legacy values survive");
            let v = Dex::new_checked_with(data, DexLayout::Legacy).expect("legacy view");
            assert_eq!(v.flow_id(), r.flow_id);
            assert_eq!(v.sequence_number(), r.sequence_number);
        }
        Err(e) => inside_err(&e, len),
    }
    let mut u = Unstructured::new(data);
    let Ok(r) = DexRepr::arbitrary(&mut u) else {
        return;
    };
    let mut out = vec![0xa5u8; r.buffer_len() + 4];
    if let Ok(n) = r.emit(&mut out) {
        assert_eq!(n, r.buffer_len());
        assert!(out[n..].iter().all(|&b| b == 0xa5));
        assert_eq!(
            DexRepr::parse_bytes(&out[..n]),
            Ok(r),
            "parse(emit(r)) == r"
        );
        let mut hdr = vec![0u8; 300];
        let hl = r
            .emit_ext_header(&mut hdr, 59)
            .expect("a DEX body always fits");
        assert_eq!(r.ext_header_len(), Ok(hl));
        let io = only_ioam(&hdr[..hl]);
        assert_eq!(io.ioam_type, IoamType::DirectExport);
        assert_eq!(DexRepr::from_option(&io), Ok(r));
    } else {
        assert!(r.trace_type > 0x00ff_ffff);
    }
}

/// Integrity-protected bodies (types 64-67): `emit(parse(b)) == b`, the
/// protected option decodes with offsets inside the body,
/// `parse(emit(o)) == o`.
pub fn check_integrity(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    // Mostly the four integrity types; sometimes any byte.
    let ioam_type = IoamType::from_u8(if sel >= 0xf0 { sel } else { 64 + sel % 4 });
    let len = body.len();
    match IntegrityRepr::decode(ioam_type, body) {
        Ok(o) => {
            assert_eq!(o.buffer_len(), len);
            let mut out = vec![0u8; len];
            assert_eq!(o.emit(&mut out), Ok(len));
            assert_eq!(out, body, "emit(parse(bytes)) == bytes");
            match o.protected() {
                None => assert!(matches!(o.protection, Protection::Opaque { .. })),
                Some(Ok(p)) => {
                    let at = o.data_offset().expect("decoded parts");
                    assert!(at <= len);
                    match p {
                        ProtectedOption::PreallocatedTrace(t)
                        | ProtectedOption::IncrementalTrace(t) => {
                            assert_eq!(t.header, &body[..8]);
                            assert_eq!(t.data, &body[at..]);
                        }
                        ProtectedOption::Pot(p) => {
                            assert_eq!(p.buffer_len(), 4 + len - at);
                        }
                        ProtectedOption::E2e(p) => {
                            assert_eq!(p.buffer_len(), 4 + len - at);
                        }
                    }
                }
                Some(Err(e)) => inside_err(&e, len),
            }
        }
        Err(e) => inside_err(&e, len),
    }
    let mut u = Unstructured::new(data);
    let Ok(o) = IntegrityRepr::arbitrary(&mut u) else {
        return;
    };
    let mut out = vec![0xa5u8; o.buffer_len() + 4];
    if let Ok(n) = o.emit(&mut out) {
        assert_eq!(n, o.buffer_len());
        assert!(out[n..].iter().all(|&b| b == 0xa5));
        assert_eq!(
            IntegrityRepr::decode(o.ioam_type, &out[..n]),
            Ok(o),
            "parse(emit(o)) == o"
        );
        let mut hdr = vec![0u8; 300];
        if let Ok(hl) = o.emit_ext_header(&mut hdr, 59) {
            let io = only_ioam(&hdr[..hl]);
            assert_eq!(IntegrityRepr::from_option(&io), Ok(o));
        }
    }
}

/// Builds an IPv6 packet from the input: a raw byte string, or one with a
/// valid fixed header whose Payload Length covers the rest.
fn arbitrary_packet(u: &mut Unstructured<'_>, sel: u8) -> arbitrary::Result<Vec<u8>> {
    let raw = blob(u)?;
    if sel & 1 == 1 {
        return Ok(raw.to_vec());
    }
    let mut p = raw.to_vec();
    if p.len() < IPV6_HEADER_LEN {
        p.resize(IPV6_HEADER_LEN, 0);
    }
    p[0] = 0x60 | (p[0] & 0x0f);
    let payload = (p.len() - IPV6_HEADER_LEN).min(0xffff) as u16;
    p[4..6].copy_from_slice(&payload.to_be_bytes());
    if sel & 2 == 0 {
        p[6] = *u.choose(&[0u8, 6, 17, 43, 44, 50, 51, 58, 59, 60])?;
    }
    Ok(p)
}

/// An extension header to insert: one IOAM option in the Linux layout, or a
/// raw byte string.
fn arbitrary_header(u: &mut Unstructured<'_>, sel: u8) -> arbitrary::Result<Vec<u8>> {
    if sel & 16 != 0 {
        let raw = blob(u)?;
        return Ok(raw.to_vec());
    }
    let nh = u8::arbitrary(u)?;
    let code = if bool::arbitrary(u)? {
        OPT_IOAM
    } else {
        OPT_IOAM_NOCHANGE
    };
    let ty = IoamType::from(u8::arbitrary(u)?);
    let words = u.int_in_range(0..=63)?;
    let fill = u.bytes(words * 4)?;
    let mut buf = vec![0u8; 300];
    let (n, ()) = ioam_header(&mut buf, nh, code, ty, words * 4, |b| {
        b.copy_from_slice(fill)
    })
    .expect("a body of at most 252 bytes fits");
    buf.truncate(n);
    Ok(buf)
}

/// The bytes before an inserted or removed header: only the Payload Length
/// and one Next Header field (now `nh`) may differ.
fn assert_prefix_kept(now: &[u8], was: &[u8], nh: u8) {
    let changed: Vec<usize> = (0..now.len())
        .filter(|&i| i != 4 && i != 5 && now[i] != was[i])
        .collect();
    assert!(
        changed.len() <= 1,
        "bytes {changed:?} changed before the header"
    );
    if let Some(&i) = changed.first() {
        assert_eq!(now[i], nh, "the changed byte is the Next Header field");
    }
}

/// Insertion then removal of a Hop-by-Hop / Destination Options header
/// restores the packet; removal then re-insertion too; on error nothing is
/// written.
pub fn check_hbh_insert_remove(data: &[u8]) {
    let _ = insert_remove(&mut Unstructured::new(data));
}

fn insert_remove(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let sel = u8::arbitrary(u)?;
    let packet = arbitrary_packet(u, sel)?;
    let header = arbitrary_header(u, sel)?;
    let kind = if sel & 8 != 0 {
        ExtKind::arbitrary(u)?
    } else if sel & 4 != 0 {
        ExtKind::HopByHop
    } else {
        ExtKind::DestinationOptions
    };
    let slack = usize::from(u8::arbitrary(u)?);
    let len = packet.len();

    // Insert, then remove.
    let room = (len + header.len() + slack).saturating_sub(16);
    let mut buf = packet.clone();
    buf.resize(room.max(len), 0x5a);
    let before = buf.clone();
    match insert_ext_header(&mut buf, len, kind, &header) {
        Err(e) => {
            assert_eq!(buf, before, "failed insert wrote into the buffer");
            inside_err(&e, len);
        }
        Ok(ins) => {
            let hl = header.len();
            assert_eq!(ins.packet_len, len + hl);
            assert!(ins.offset >= IPV6_HEADER_LEN && ins.offset <= len);
            assert_eq!(&buf[ins.offset + 1..ins.offset + hl], &header[1..]);
            assert_prefix_kept(&buf[..ins.offset], &packet[..ins.offset], kind.protocol());
            assert_eq!(&buf[ins.offset + hl..ins.packet_len], &packet[ins.offset..]);
            assert_eq!(&buf[ins.packet_len..], &before[ins.packet_len..]);
            let h = Ipv6Header::new_unchecked(&buf[..]);
            let old = Ipv6Header::new_unchecked(&packet[..]);
            assert_eq!(
                usize::from(h.payload_len()),
                usize::from(old.payload_len()) + hl
            );
            let mut again = buf.clone();
            let r = remove_ext_header(&mut again, ins.packet_len, kind)
                .unwrap_or_else(|e| panic!("cannot remove the header just inserted: {e}"));
            assert_eq!((r.offset, r.len, r.packet_len), (ins.offset, hl, len));
            assert_eq!(
                &again[..len],
                &packet[..],
                "insert then remove restores the packet"
            );
        }
    }

    // Remove, then insert again.
    let mut buf = packet.clone();
    let before = buf.clone();
    match remove_ext_header(&mut buf, len, kind) {
        Err(e) => {
            assert_eq!(buf, before, "failed removal wrote into the buffer");
            inside_err(&e, len);
        }
        Ok(r) => {
            assert_eq!(r.packet_len + r.len, len);
            let removed = packet[r.offset..r.offset + r.len].to_vec();
            assert_eq!(&buf[r.offset..r.packet_len], &packet[r.offset + r.len..]);
            assert_prefix_kept(&buf[..r.offset], &packet[..r.offset], removed[0]);
            let at_end = ExtHeaders::chain_end(&buf[..r.packet_len])
                .map(|e| e.offset == r.offset)
                .unwrap_or(false);
            if kind == ExtKind::HopByHop || at_end {
                match insert_ext_header(&mut buf, r.packet_len, kind, &removed) {
                    Ok(ins) => {
                        assert_eq!(ins.packet_len, len);
                        assert_eq!(&buf[..], &packet[..], "remove then insert restores");
                    }
                    Err(WireError::Invalid {
                        rule: Rule::JumboPayload | Rule::UnsupportedKind(ExtKind::Fragment),
                        ..
                    }) => {}
                    // A malformed packet with a second Hop-by-Hop header
                    // right behind the first one.
                    Err(WireError::Invalid {
                        rule: Rule::Duplicate(ExtKind::HopByHop),
                        ..
                    }) if removed[0] == 0 => {}
                    Err(e) => panic!("cannot re-insert the removed header: {e}"),
                }
            }
        }
    }
    Ok(())
}
