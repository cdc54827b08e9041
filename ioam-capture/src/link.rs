//! Finding the IPv6 packet inside a captured frame, for every link type the
//! tool reads (see [`crate::file::linktype`]).

use core::fmt;

use crate::file::linktype;

/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Where the IPv6 packet of a frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'a> {
    /// The frame carries IPv6; `offset` is where the IPv6 header starts in
    /// the frame.
    Ipv6 {
        /// Offset of the IPv6 header in the frame.
        offset: usize,
        /// The IPv6 packet (to the end of the captured bytes).
        packet: &'a [u8],
    },
    /// The frame carries something else (IPv4, ARP, ...): not our business.
    Other,
}

/// A frame whose link-layer header cannot be read. Offsets are from the
/// start of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The frame is shorter than its link-layer header.
    Truncated {
        /// Link-layer header being read.
        what: &'static str,
        /// Bytes needed.
        required: usize,
        /// Bytes captured.
        actual: usize,
    },
    /// The tool does not know this link type.
    UnsupportedLinkType(u32),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Truncated {
                what,
                required,
                actual,
            } => write!(
                f,
                "{what} truncated: needs {required} bytes, frame has {actual}"
            ),
            LinkError::UnsupportedLinkType(t) => write!(
                f,
                "unsupported link type {t} (supported: 0 NULL, 1 Ethernet, 101 raw, 108 LOOP, 113 SLL, 229 IPv6, 276 SLL2)"
            ),
        }
    }
}

impl core::error::Error for LinkError {}

fn need(what: &'static str, data: &[u8], required: usize) -> Result<(), LinkError> {
    if data.len() < required {
        Err(LinkError::Truncated {
            what,
            required,
            actual: data.len(),
        })
    } else {
        Ok(())
    }
}

fn be16(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

fn ipv6_at(data: &[u8], offset: usize) -> Payload<'_> {
    Payload::Ipv6 {
        offset,
        packet: &data[offset..],
    }
}

/// BSD address-family values meaning IPv6 (NetBSD/OpenBSD 24, FreeBSD 28,
/// Darwin 30, Linux 10).
fn is_af_inet6(af: u32) -> bool {
    matches!(af, 10 | 24 | 28 | 30)
}

/// DLT_RAW as some systems number it in old captures (12 on most BSDs,
/// 14 on OpenBSD); files should say LINKTYPE_RAW (101).
const DLT_RAW_12: u32 = 12;
const DLT_RAW_14: u32 = 14;

/// Whether [`ipv6_payload`] understands link type `linktype`.
pub fn is_supported(linktype: u32) -> bool {
    matches!(
        linktype,
        linktype::NULL
            | linktype::ETHERNET
            | linktype::RAW
            | linktype::LOOP
            | linktype::LINUX_SLL
            | linktype::IPV6
            | linktype::LINUX_SLL2
            | DLT_RAW_12
            | DLT_RAW_14
    )
}

/// Locate the IPv6 packet in `data`, a frame of link type `linktype`.
pub fn ipv6_payload(linktype: u32, data: &[u8]) -> Result<Payload<'_>, LinkError> {
    match linktype {
        linktype::ETHERNET => {
            need("Ethernet header", data, 14)?;
            let mut at = 12;
            let mut ethertype = be16(data, at);
            while matches!(
                ethertype,
                ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
            ) {
                at += 4;
                need("802.1Q VLAN tag", data, at + 2)?;
                ethertype = be16(data, at);
            }
            if ethertype == ETHERTYPE_IPV6 {
                Ok(ipv6_at(data, at + 2))
            } else {
                Ok(Payload::Other)
            }
        }
        linktype::RAW | linktype::IPV6 | DLT_RAW_12 | DLT_RAW_14 => {
            need("raw IP packet", data, 1)?;
            if data[0] >> 4 == 6 {
                Ok(ipv6_at(data, 0))
            } else if linktype == linktype::IPV6 {
                // LINKTYPE_IPV6 promises IPv6: let the IPv6 parser report the
                // bad version.
                Ok(ipv6_at(data, 0))
            } else {
                Ok(Payload::Other)
            }
        }
        linktype::NULL | linktype::LOOP => {
            need("loopback header", data, 4)?;
            let raw = [data[0], data[1], data[2], data[3]];
            let af = if linktype == linktype::LOOP {
                u32::from_be_bytes(raw)
            } else {
                // Host byte order of the capturing machine: accept both.
                let le = u32::from_le_bytes(raw);
                if is_af_inet6(le) {
                    le
                } else {
                    u32::from_be_bytes(raw)
                }
            };
            if is_af_inet6(af) {
                Ok(ipv6_at(data, 4))
            } else {
                Ok(Payload::Other)
            }
        }
        linktype::LINUX_SLL => {
            need("Linux cooked (SLL) header", data, 16)?;
            if be16(data, 14) == ETHERTYPE_IPV6 {
                Ok(ipv6_at(data, 16))
            } else {
                Ok(Payload::Other)
            }
        }
        linktype::LINUX_SLL2 => {
            need("Linux cooked v2 (SLL2) header", data, 20)?;
            if be16(data, 0) == ETHERTYPE_IPV6 {
                Ok(ipv6_at(data, 20))
            } else {
                Ok(Payload::Other)
            }
        }
        other => Err(LinkError::UnsupportedLinkType(other)),
    }
}

/// Build the link-layer header of a frame of type `linktype` carrying an
/// IPv6 packet (the inverse of [`ipv6_payload`]), for writing captures.
/// `vlan` adds one 802.1Q tag to an Ethernet header.
pub fn ipv6_link_header(linktype: u32, vlan: Option<u16>) -> Result<Vec<u8>, LinkError> {
    const SRC_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const DST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    let mut h = Vec::new();
    match linktype {
        linktype::ETHERNET => {
            h.extend_from_slice(&DST_MAC);
            h.extend_from_slice(&SRC_MAC);
            if let Some(tci) = vlan {
                h.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
                h.extend_from_slice(&tci.to_be_bytes());
            }
            h.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        }
        linktype::RAW | linktype::IPV6 => {}
        // Written as a little-endian host would (FreeBSD AF_INET6 = 28).
        linktype::NULL => h.extend_from_slice(&28u32.to_le_bytes()),
        linktype::LOOP => h.extend_from_slice(&24u32.to_be_bytes()),
        linktype::LINUX_SLL => {
            h.extend_from_slice(&0u16.to_be_bytes()); // packet type: to us
            h.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            h.extend_from_slice(&6u16.to_be_bytes()); // address length
            h.extend_from_slice(&SRC_MAC);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        }
        linktype::LINUX_SLL2 => {
            h.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
            h.extend_from_slice(&[0, 0]); // reserved
            h.extend_from_slice(&2u32.to_be_bytes()); // interface index
            h.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            h.push(0); // packet type
            h.push(6); // address length
            h.extend_from_slice(&SRC_MAC);
            h.extend_from_slice(&[0, 0]);
        }
        other => return Err(LinkError::UnsupportedLinkType(other)),
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [u32; 7] = [
        linktype::NULL,
        linktype::ETHERNET,
        linktype::RAW,
        linktype::LOOP,
        linktype::LINUX_SLL,
        linktype::IPV6,
        linktype::LINUX_SLL2,
    ];

    #[test]
    fn header_roundtrip_every_linktype() {
        let pkt = [0x60u8, 0, 0, 0, 0, 0, 59, 64];
        for lt in ALL {
            for vlan in [None, Some(0x0064)] {
                let mut frame = ipv6_link_header(lt, vlan).unwrap();
                let hl = frame.len();
                frame.extend_from_slice(&pkt);
                assert_eq!(
                    ipv6_payload(lt, &frame).unwrap(),
                    Payload::Ipv6 {
                        offset: hl,
                        packet: &pkt[..]
                    },
                    "linktype {lt}"
                );
                // Every truncation inside the link header is an error, never a panic.
                for cut in 0..hl {
                    assert!(
                        ipv6_payload(lt, &frame[..cut]).is_err(),
                        "lt {lt} cut {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn other_protocols_and_types() {
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(
            ipv6_payload(linktype::ETHERNET, &eth).unwrap(),
            Payload::Other
        );
        assert_eq!(
            ipv6_payload(linktype::RAW, &[0x45]).unwrap(),
            Payload::Other
        );
        assert_eq!(
            ipv6_payload(linktype::NULL, &2u32.to_le_bytes()).unwrap(),
            Payload::Other
        );
        // Big-endian NULL header from a big-endian host.
        let mut be = 30u32.to_be_bytes().to_vec();
        be.push(0x60);
        assert!(matches!(
            ipv6_payload(linktype::NULL, &be).unwrap(),
            Payload::Ipv6 { offset: 4, .. }
        ));
        assert_eq!(
            ipv6_payload(147, &[0]),
            Err(LinkError::UnsupportedLinkType(147))
        );
        assert!(!is_supported(147));
        for lt in ALL {
            assert!(is_supported(lt));
        }
        assert!(matches!(
            ipv6_payload(12, &[0x60]).unwrap(),
            Payload::Ipv6 { offset: 0, .. }
        ));
    }
}
