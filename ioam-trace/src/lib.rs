//! IOAM trace options (RFC 9197 §4.4, RFC 9322): trace-type bits, node-data
//! records, the opaque state snapshot, and the transit writer.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
