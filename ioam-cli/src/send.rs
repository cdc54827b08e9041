//! `ioam send`: CLT-tagged traffic with an IOAM Hop-by-Hop header.

use anyhow::Result;

/// Arguments of `ioam send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {}

/// Run `ioam send`.
pub fn run(_args: &SendArgs) -> Result<()> {
    anyhow::bail!("ioam send: not available yet")
}
