//! Zero-copy parsing and building of IPv6 extension headers, Hop-by-Hop and
//! Destination options, and the IOAM option frame (RFC 8200, RFC 9486).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
