//! `ioam craft`: writing captures of IOAM packets.

use anyhow::Result;

/// Arguments of `ioam craft`.
#[derive(Debug, clap::Args)]
pub struct CraftArgs {}

/// Run `ioam craft`.
pub fn run(_args: &CraftArgs) -> Result<()> {
    anyhow::bail!("ioam craft: not available yet")
}
