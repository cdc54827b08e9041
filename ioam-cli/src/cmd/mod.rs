//! The subcommands that are only a command line: their arguments (clap)
//! and the glue from them to the library. `decode` lives in `main.rs`.

pub(crate) mod agent;
pub(crate) mod send;
