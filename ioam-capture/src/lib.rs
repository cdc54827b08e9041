#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod file;
pub mod link;
pub mod write;

#[cfg(feature = "live")]
pub mod live;

#[cfg(feature = "kernel-events")]
pub mod events;
