//! Invariant checks for every parser and writer of the workspace, shared by
//! the cargo-fuzz targets in `fuzz/` and by the stable replay test of this
//! crate (`cargo test -p fuzz-replay`), which runs every file of
//! `fuzz/corpus/<target>/` through the check of that target.
//!
//! Each `check_*` function takes the raw fuzzer input. Targets with
//! structured input read it through [`arbitrary::Unstructured`], so a
//! corpus file is always plain bytes. A check returns normally when every
//! invariant holds and panics (with the violated invariant) otherwise:
//!
//! - parsers never panic, terminate, and report error offsets inside their
//!   input (`offset <= len`);
//! - `parse(emit(x)) == x` for every repr and builder, and
//!   `emit(parse(bytes)) == bytes` where the encoding is canonical;
//! - the transit writer changes only the trace's Flags/RemainingLen bytes
//!   and its own record slot, with exact RemainingLen arithmetic or the
//!   Overflow flag set;
//! - extension-header insertion followed by removal restores the packet.
//!
//! ```
//! // The empty input is valid for every target.
//! for (name, check) in fuzz_replay::TARGETS {
//!     check(&[]);
//!     assert!(!name.is_empty());
//! }
//! ```

mod capture;
mod clt;
mod craft;
mod decode;
mod edge;
mod trace;
mod util;
mod wire;

pub use capture::check_capture_file;
pub use clt::{check_clt_context, check_clt_legacy, check_injector, check_traceparent};
pub use craft::check_craft_args;
pub use decode::check_decode;
pub use edge::{check_kernel_events, check_span_builder};
pub use trace::{check_incremental_insert, check_trace_records, check_transit_writer};
pub use wire::{
    check_dex, check_e2e, check_ext_headers, check_hbh_insert_remove, check_integrity,
    check_options, check_pot,
};

/// A fuzz target check: the raw input in, a panic on a broken invariant.
pub type Check = fn(&[u8]);

/// Every fuzz target, by the name of its file in `fuzz/fuzz_targets/` and of
/// its corpus directory `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Check)] = &[
    ("ext_headers", check_ext_headers),
    ("capture_file", check_capture_file),
    ("craft_args", check_craft_args),
    ("options", check_options),
    ("pot", check_pot),
    ("e2e", check_e2e),
    ("dex", check_dex),
    ("integrity", check_integrity),
    ("trace_records", check_trace_records),
    ("transit_writer", check_transit_writer),
    ("incremental_insert", check_incremental_insert),
    ("hbh_insert_remove", check_hbh_insert_remove),
    ("clt_context", check_clt_context),
    ("clt_legacy", check_clt_legacy),
    ("traceparent", check_traceparent),
    ("injector", check_injector),
    ("kernel_events", check_kernel_events),
    ("span_builder", check_span_builder),
    ("decode", check_decode),
];
