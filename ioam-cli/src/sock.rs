//! The few socket calls std does not offer: attaching an IPv6 Hop-by-Hop
//! Options header to a socket (`setsockopt(IPV6_HOPOPTS)`) or to one
//! datagram (`sendmsg` with an `IPV6_HOPOPTS` control message), and reading
//! the Hop-by-Hop header of received datagrams (`IPV6_RECVHOPOPTS`), as
//! RFC 3542 §6 and §4 define them. Linux only.
//!
//! This is the only module of the workspace with `unsafe` code: each block
//! is one libc call whose pointers come from live Rust slices and whose
//! lengths are those slices' lengths.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::RawFd;

/// `IPV6_HOPOPTS` (RFC 3542 §6.3; 54 on Linux).
pub const IPV6_HOPOPTS: libc::c_int = libc::IPV6_HOPOPTS;
/// `IPV6_RECVHOPOPTS` (RFC 3542 §6.3; 53 on Linux).
pub const IPV6_RECVHOPOPTS: libc::c_int = libc::IPV6_RECVHOPOPTS;

/// Largest Hop-by-Hop header the kernel accepts: Hdr Ext Len is 8 bits, so
/// `(255 + 1) * 8` bytes (RFC 8200 §4.3).
pub const HBH_MAX: usize = 2048;

fn check_hbh(hbh: &[u8]) -> io::Result<()> {
    if hbh.len() < 8 || !hbh.len().is_multiple_of(8) || hbh.len() > HBH_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "a Hop-by-Hop header is 8 to {HBH_MAX} bytes in steps of 8, got {}",
                hbh.len()
            ),
        ));
    }
    Ok(())
}

/// Attach `hbh` (a whole Hop-by-Hop Options header, Next Header and Hdr Ext
/// Len included) to every packet sent on socket `fd`, or remove it with an
/// empty slice. Needs CAP_NET_RAW for options other than padding and Router
/// Alert (`EPERM` otherwise).
pub fn set_hopopts(fd: RawFd, hbh: &[u8]) -> io::Result<()> {
    if !hbh.is_empty() {
        check_hbh(hbh)?;
    }
    let len = libc::socklen_t::try_from(hbh.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let ptr = if hbh.is_empty() {
        core::ptr::null()
    } else {
        hbh.as_ptr().cast::<libc::c_void>()
    };
    // SAFETY: `ptr`/`len` describe `hbh`, which outlives the call; the
    // kernel copies the bytes and keeps no pointer.
    let rc = unsafe { libc::setsockopt(fd, libc::IPPROTO_IPV6, IPV6_HOPOPTS, ptr, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Set the hop limit of unicast packets sent on socket `fd`
/// (`IPV6_UNICAST_HOPS`, RFC 3493 §5.1), so that the hop limit a sender
/// writes in its own IOAM record is the one the packet leaves with.
pub fn set_unicast_hops(fd: RawFd, hops: u8) -> io::Result<()> {
    let v = libc::c_int::from(hops);
    // SAFETY: pointer and size of a live c_int.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            (&v as *const libc::c_int).cast::<libc::c_void>(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Send `payload` on the connected datagram socket `fd` with `hbh` as the
/// Hop-by-Hop header of this datagram only (an `IPV6_HOPOPTS` ancillary
/// message, RFC 3542 §6.3). Returns the bytes sent.
pub fn send_with_hopopts(fd: RawFd, payload: &[u8], hbh: &[u8]) -> io::Result<usize> {
    check_hbh(hbh)?;
    let data_len = hbh.len() as libc::c_uint;
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
    // u64 storage keeps the control buffer aligned for `cmsghdr`.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast::<libc::c_void>(),
        iov_len: payload.len(),
    };
    // SAFETY: an all-zero msghdr is a valid "no name, no data" value.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = space as _;
    // SAFETY: `msg_control` points to `space` zeroed, aligned bytes, enough
    // for one control message of `data_len` bytes, so CMSG_FIRSTHDR is
    // non-null and CMSG_DATA has room for `hbh`; `iov` points at `payload`,
    // which the kernel only reads. All buffers outlive the `sendmsg` call.
    let rc = unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
        (*cmsg).cmsg_type = IPV6_HOPOPTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as _;
        core::ptr::copy_nonoverlapping(hbh.as_ptr(), libc::CMSG_DATA(cmsg), hbh.len());
        libc::sendmsg(fd, &msg, 0)
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

/// Ask the kernel to report the Hop-by-Hop header of datagrams received on
/// `fd` (`IPV6_RECVHOPOPTS`), for [`recv_with_hopopts`].
pub fn enable_recv_hopopts(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: pointer and size of a live c_int.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            IPV6_RECVHOPOPTS,
            (&on as *const libc::c_int).cast::<libc::c_void>(),
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Receive one datagram into `buf`; returns its length and the Hop-by-Hop
/// header it arrived with, if the kernel reported one.
pub fn recv_with_hopopts(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<Vec<u8>>)> {
    // Room for one Hop-by-Hop header of the largest size.
    // SAFETY: pure size computation.
    let space = unsafe { libc::CMSG_SPACE(HBH_MAX as libc::c_uint) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = space as _;
    // SAFETY: `iov` and `msg_control` describe live, writable buffers of the
    // stated sizes.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut hbh = None;
    // SAFETY: the kernel filled `msg_controllen` bytes of `control` with
    // well-formed control messages; CMSG_FIRSTHDR/NXTHDR stay within them,
    // and each message's data is `cmsg_len - CMSG_LEN(0)` bytes long.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::IPPROTO_IPV6 && (*cmsg).cmsg_type == IPV6_HOPOPTS {
                let data_len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let data = core::slice::from_raw_parts(libc::CMSG_DATA(cmsg), data_len);
                hbh = Some(data.to_vec());
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, hbh))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_header_sizes() {
        assert!(check_hbh(&[0; 7]).is_err());
        assert!(check_hbh(&[0; 12]).is_err());
        assert!(check_hbh(&[0; HBH_MAX + 8]).is_err());
        assert!(check_hbh(&[0; 8]).is_ok());
    }
}
