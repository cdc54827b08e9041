#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod export;
pub mod json;
pub mod pipeline;
pub mod proto;
pub mod span;

pub use span::{IoamSpan, SpanBatch, SpanBuilder, SpanConfig, SpanOut};
