//! The system calls: `setsockopt`/`getsockopt(IPV6_HOPOPTS)` and `sendmsg`
//! with an `IPV6_HOPOPTS` control message. The only `unsafe` code of the
//! crate; each block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddrV6;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The largest Hop-by-Hop header (Hdr Ext Len 255).
pub(crate) const HBH_MAX: usize = 2048;

/// Set (or, with an empty slice, remove) the sticky Hop-by-Hop header.
pub(crate) fn set_hopopts(fd: BorrowedFd<'_>, hbh: &[u8]) -> io::Result<()> {
    let len = libc::socklen_t::try_from(hbh.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    let ptr = if hbh.is_empty() {
        core::ptr::null()
    } else {
        hbh.as_ptr().cast::<libc::c_void>()
    };
    // SAFETY: `fd` is an open descriptor for the borrow; `ptr` is null with
    // length 0 or points to `len` initialised bytes that outlive the call,
    // which only reads them.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPOPTS,
            ptr,
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The sticky Hop-by-Hop header the kernel holds for the socket (empty when
/// none).
pub(crate) fn get_hopopts(fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; HBH_MAX];
    let mut len = HBH_MAX as libc::socklen_t;
    // SAFETY: `buf` has `len` writable bytes and `len` is a valid, writable
    // socklen_t; the kernel writes at most `len` bytes and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPOPTS,
            buf.as_mut_ptr().cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate((len as usize).min(HBH_MAX));
    Ok(buf)
}

/// Send one datagram carrying `hbh` as its Hop-by-Hop header (to `dest`, or
/// to the connected peer when `None`).
pub(crate) fn send_with_hopopts(
    fd: BorrowedFd<'_>,
    payload: &[u8],
    hbh: &[u8],
    dest: Option<&SocketAddrV6>,
) -> io::Result<usize> {
    if hbh.len() > HBH_MAX {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let data_len = hbh.len() as libc::c_uint;
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(data_len) } as usize;
    // u64 elements: the control buffer is aligned for cmsghdr.
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast::<libc::c_void>(),
        iov_len: payload.len(),
    };
    let mut name: libc::sockaddr_in6 = sockaddr_in6(dest);
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    if dest.is_some() {
        msg.msg_name = (&mut name as *mut libc::sockaddr_in6).cast::<libc::c_void>();
        msg.msg_namelen = core::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    }
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = space as _;
    // SAFETY: `msg` points to a control buffer of CMSG_SPACE(data_len)
    // bytes, so CMSG_FIRSTHDR is non-null and its header and CMSG_LEN(
    // data_len) bytes of data lie inside the buffer; `hbh` has `data_len`
    // bytes; iov, name and control outlive the sendmsg call, which only
    // reads the payload.
    let rc = unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
        (*cmsg).cmsg_type = libc::IPV6_HOPOPTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as _;
        core::ptr::copy_nonoverlapping(hbh.as_ptr(), libc::CMSG_DATA(cmsg), hbh.len());
        libc::sendmsg(fd.as_raw_fd(), &msg, 0)
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

fn sockaddr_in6(a: Option<&SocketAddrV6>) -> libc::sockaddr_in6 {
    // SAFETY: an all-zero sockaddr_in6 is valid (then filled in).
    let mut s: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
    if let Some(a) = a {
        s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        s.sin6_port = a.port().to_be();
        s.sin6_flowinfo = a.flowinfo().to_be();
        s.sin6_addr.s6_addr = a.ip().octets();
        s.sin6_scope_id = a.scope_id();
    }
    s
}

/// Ask for the Hop-by-Hop header of received datagrams as ancillary data.
pub(crate) fn enable_recv_hopopts(fd: BorrowedFd<'_>) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a valid c_int for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_RECVHOPOPTS,
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

/// Receive one datagram and its Hop-by-Hop header, if it had one.
pub(crate) fn recv_with_hopopts(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
) -> io::Result<(usize, Option<Vec<u8>>)> {
    // SAFETY: CMSG_SPACE is a pure size computation.
    let space = unsafe { libc::CMSG_SPACE(HBH_MAX as libc::c_uint) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast::<libc::c_void>(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is a valid empty message.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast::<libc::c_void>();
    msg.msg_controllen = space as _;
    // SAFETY: iov and control point to writable buffers of the lengths
    // given, alive for the call.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut hbh = None;
    // SAFETY: the kernel filled msg_controllen bytes of `control` with
    // well-formed cmsghdrs; CMSG_FIRSTHDR/CMSG_NXTHDR stay inside them and
    // each data slice is cmsg_len - CMSG_LEN(0) bytes of that buffer.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::IPPROTO_IPV6 && (*cmsg).cmsg_type == libc::IPV6_HOPOPTS {
                let data_len =
                    ((*cmsg).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                let data = core::slice::from_raw_parts(libc::CMSG_DATA(cmsg), data_len);
                hbh = Some(data.to_vec());
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, hbh))
}
