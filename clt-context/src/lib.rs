//! Cross-Layer Telemetry: trace and span identifiers carried in IOAM.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
