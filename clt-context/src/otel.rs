//! Conversions to and from the `opentelemetry` crate (0.31) trace types.
//!
//! Byte order is the same on both sides (the W3C order), so a conversion
//! never changes an identifier. A [`SpanContext`] taken from a packet is a
//! context that came from another process: `From` marks it remote, with an
//! empty trace state (CLT does not carry `tracestate`).

use opentelemetry::trace as otel;

use crate::id::{SpanContext, SpanId, TraceFlags, TraceId};

impl From<TraceId> for otel::TraceId {
    fn from(id: TraceId) -> Self {
        otel::TraceId::from_bytes(id.0)
    }
}

impl From<otel::TraceId> for TraceId {
    fn from(id: otel::TraceId) -> Self {
        TraceId(id.to_bytes())
    }
}

impl From<SpanId> for otel::SpanId {
    fn from(id: SpanId) -> Self {
        otel::SpanId::from_bytes(id.0)
    }
}

impl From<otel::SpanId> for SpanId {
    fn from(id: otel::SpanId) -> Self {
        SpanId(id.to_bytes())
    }
}

impl From<TraceFlags> for otel::TraceFlags {
    fn from(flags: TraceFlags) -> Self {
        otel::TraceFlags::new(flags.0)
    }
}

impl From<otel::TraceFlags> for TraceFlags {
    fn from(flags: otel::TraceFlags) -> Self {
        TraceFlags(flags.to_u8())
    }
}

impl SpanContext {
    /// The OpenTelemetry span context, with the given `is_remote` and an
    /// empty trace state.
    pub fn to_otel(&self, is_remote: bool) -> otel::SpanContext {
        otel::SpanContext::new(
            self.trace_id.into(),
            self.span_id.into(),
            self.flags.into(),
            is_remote,
            otel::TraceState::NONE,
        )
    }
}

impl From<SpanContext> for otel::SpanContext {
    /// A remote OpenTelemetry span context (it arrived in a packet).
    fn from(ctx: SpanContext) -> Self {
        ctx.to_otel(true)
    }
}

impl From<&otel::SpanContext> for SpanContext {
    /// Keeps the ids and flags; `is_remote` and the trace state are dropped.
    fn from(ctx: &otel::SpanContext) -> Self {
        SpanContext::new(
            ctx.trace_id().into(),
            ctx.span_id().into(),
            ctx.trace_flags().into(),
        )
    }
}

impl From<otel::SpanContext> for SpanContext {
    /// Keeps the ids and flags; `is_remote` and the trace state are dropped.
    fn from(ctx: otel::SpanContext) -> Self {
        SpanContext::from(&ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::strategies::any_span_context;
    use core::fmt::Write;
    use proptest::prelude::*;

    fn text(v: impl core::fmt::Display) -> heapless::String<64> {
        let mut s = heapless::String::new();
        write!(s, "{v}").unwrap();
        s
    }

    #[test]
    fn same_text_on_both_sides() {
        let ctx: SpanContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let o = otel::SpanContext::from(ctx);
        assert_eq!(text(o.trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(text(o.span_id()), "00f067aa0ba902b7");
        assert!(o.is_sampled());
        assert!(o.is_remote());
        assert!(o.is_valid());
        assert_eq!(SpanContext::from(&o), ctx);
    }

    proptest! {
        #[test]
        fn otel_round_trip(ctx in any_span_context()) {
            let o = ctx.to_otel(false);
            prop_assert_eq!(o.is_valid(), ctx.is_valid());
            prop_assert_eq!(o.is_sampled(), ctx.flags.is_sampled());
            prop_assert_eq!(SpanContext::from(o), ctx);
            prop_assert_eq!(TraceId::from(otel::TraceId::from(ctx.trace_id)), ctx.trace_id);
            prop_assert_eq!(SpanId::from(otel::SpanId::from(ctx.span_id)), ctx.span_id);
            prop_assert_eq!(TraceFlags::from(otel::TraceFlags::from(ctx.flags)), ctx.flags);
        }
    }
}
