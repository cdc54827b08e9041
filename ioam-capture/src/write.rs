//! Writing captures: classic pcap (microsecond timestamps, little-endian, the
//! format every tool reads) and a minimal pcapng writer (one section, one
//! interface, Enhanced Packet Blocks with nanosecond timestamps).

use std::io::{self, Write};

use crate::file::Timestamp;

/// Snap length written in the headers.
pub const SNAPLEN: u32 = 65535;

/// A classic pcap writer.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Write the 24-byte global header for link type `linktype`.
    pub fn new(mut out: W, linktype: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        h.extend_from_slice(&SNAPLEN.to_le_bytes());
        h.extend_from_slice(&linktype.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out })
    }

    /// Append one record (the frame is stored whole; timestamps before 1970
    /// or after 2106 are clamped to the pcap range).
    pub fn write(&mut self, time: Timestamp, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
        let secs = time.secs.clamp(0, i64::from(u32::MAX)) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&(time.nanos / 1000).to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)
    }

    /// Flush and return the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A minimal pcapng writer: one Section Header Block, one Interface
/// Description Block (with `if_tsresol` = 9, nanoseconds), then Enhanced
/// Packet Blocks.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let total = 12 + body.len();
    let mut b = Vec::with_capacity(total);
    b.extend_from_slice(&block_type.to_le_bytes());
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b
}

impl<W: Write> PcapNgWriter<W> {
    /// Write the section header and one interface of link type `linktype`.
    pub fn new(mut out: W, linktype: u32) -> io::Result<Self> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        out.write_all(&block(0x0a0d_0d0a, &shb))?;
        let mut idb = Vec::new();
        idb.extend_from_slice(&(linktype as u16).to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&SNAPLEN.to_le_bytes());
        // if_tsresol = 9 (nanoseconds)
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[9, 0, 0, 0]);
        // opt_endofopt
        idb.extend_from_slice(&[0, 0, 0, 0]);
        out.write_all(&block(1, &idb))?;
        Ok(PcapNgWriter { out })
    }

    /// Append one Enhanced Packet Block on interface 0.
    pub fn write(&mut self, time: Timestamp, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
        let ticks = u64::try_from(time.secs)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(time.nanos));
        let mut epb = Vec::with_capacity(20 + frame.len() + 3);
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ticks >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ticks as u32).to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(&len.to_le_bytes());
        epb.extend_from_slice(frame);
        pad4(&mut epb);
        self.out.write_all(&block(6, &epb))
    }

    /// Flush and return the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::{linktype, Frames};

    #[test]
    fn pcapng_roundtrip() {
        let mut w = PcapNgWriter::new(Vec::new(), linktype::LINUX_SLL2).unwrap();
        let t = Timestamp {
            secs: 1_700_000_000,
            nanos: 123_456_789,
        };
        w.write(t, &[1, 2, 3, 4, 5]).unwrap();
        w.write(t, &[]).unwrap();
        let bytes = w.into_inner().unwrap();
        let frames: Vec<_> = Frames::new(&bytes)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].data, &[1, 2, 3, 4, 5]);
        assert_eq!(frames[0].time, Some(t));
        assert_eq!(frames[0].linktype, linktype::LINUX_SLL2);
        assert_eq!(frames[1].number, 2);
        for cut in 1..bytes.len() {
            let n = match Frames::new(&bytes[..cut]) {
                Ok(f) => f.filter(|r| r.is_err()).count(),
                Err(_) => 1,
            };
            // Every cut that is not on a block boundary reports an error.
            let boundaries = [28usize, 28 + 32, 28 + 32 + 40];
            if !boundaries.contains(&cut) {
                assert_eq!(n, 1, "cut {cut}");
            }
        }
    }
}
