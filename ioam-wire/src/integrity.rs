//! Integrity-protected IOAM option bodies (draft-ietf-ippm-ioam-data-integrity).
