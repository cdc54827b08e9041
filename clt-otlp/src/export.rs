//! OTLP/HTTP export: POST of an `ExportTraceServiceRequest` to
//! `<endpoint>/v1/traces`, protobuf or JSON body, with retries.
//!
//! Retried, with exponential backoff and full jitter, for at most
//! [`RetryPolicy::max_elapsed`] (or until a shutdown deadline; a retry that
//! would start after it is not made): connection failures, timeouts, and HTTP 429,
//! 502, 503 and 504 (a `Retry-After` in seconds is honoured, capped by the
//! remaining time). Any other non-2xx answer is final: the batch is counted
//! as rejected, never retried (the OTLP specification's rule).
//!
//! Configuration follows the OpenTelemetry environment variables
//! ([`ExportConfig::from_env`]); explicit settings win over them.
//!
//! ```no_run
//! use clt_otlp::export::{ExportConfig, Exporter};
//! use clt_otlp::proto::Resource;
//!
//! let cfg = ExportConfig::from_env(|k| std::env::var(k).ok())?;
//! let exporter = Exporter::new(cfg);
//! let report = exporter.export(&Resource::new("ioam-agent"), &[], None);
//! println!("{report:?}");
//! # Ok::<(), clt_otlp::export::ConfigError>(())
//! ```

use core::fmt;
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::proto::{request, to_json, RequestEncoder, Resource};
use crate::span::IoamSpan;

/// Where OTLP/HTTP goes when nothing is configured.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
/// The path of the traces signal.
pub const TRACES_PATH: &str = "/v1/traces";

/// The body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default).
    HttpProtobuf,
    /// `http/json`.
    HttpJson,
}

impl Protocol {
    /// Parse the `OTEL_EXPORTER_OTLP_PROTOCOL` spelling.
    pub fn from_name(s: &str) -> Result<Self, ConfigError> {
        match s.trim() {
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Ok(Protocol::HttpJson),
            "grpc" => Err(ConfigError(
                "OTLP/gRPC is not supported (it would pull an async runtime into the agent); \
                 use http/protobuf, which every OpenTelemetry collector accepts on port 4318"
                    .into(),
            )),
            other => Err(ConfigError(format!(
                "unknown OTLP protocol {other:?}: expected http/protobuf or http/json"
            ))),
        }
    }

    /// The spelling of the OpenTelemetry variables.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Retry bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First backoff.
    pub initial_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// Give up on a batch after this long.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// Where and how to export.
#[derive(Clone, PartialEq, Eq)]
pub struct ExportConfig {
    /// The full URL of the traces endpoint (`.../v1/traces`).
    pub traces_url: String,
    /// Body encoding.
    pub protocol: Protocol,
    /// Extra request headers (authentication); never printed.
    pub headers: Vec<(String, String)>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// The certificate authorities an `https` endpoint is checked against,
    /// DER-encoded ([`load_ca_file`]); empty: Mozilla's root store
    /// (webpki-roots), the rustls default.
    pub ca_certificates: Vec<Vec<u8>>,
}

/// The certificates of a PEM file (`--otlp-ca`,
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`), DER-encoded, for
/// [`ExportConfig::ca_certificates`]. A file that cannot be read, is not
/// PEM, or holds no certificate is an error that names it.
pub fn load_ca_file(path: &std::path::Path) -> Result<Vec<Vec<u8>>, ConfigError> {
    let pem =
        std::fs::read(path).map_err(|e| ConfigError(format!("CA file {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.der().to_vec()),
            Ok(_) => {} // keys and other blocks are not trust anchors
            Err(e) => {
                return Err(ConfigError(format!(
                    "CA file {}: not valid PEM: {e}",
                    path.display()
                )))
            }
        }
    }
    if certs.is_empty() {
        return Err(ConfigError(format!(
            "CA file {}: no CERTIFICATE block in it",
            path.display()
        )));
    }
    Ok(certs)
}

impl fmt::Debug for ExportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are credentials: names only.
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExportConfig")
            .field("traces_url", &self.traces_url)
            .field("protocol", &self.protocol)
            .field("headers", &names)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("ca_certificates", &self.ca_certificates.len())
            .finish()
    }
}

/// `base` + `/v1/traces`, unless `base` already ends with it.
pub fn traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(TRACES_PATH) {
        base.to_string()
    } else {
        format!("{base}{TRACES_PATH}")
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = core::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a W3C-baggage-like list `k1=v1,k2=v2` (the format of
/// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES`); values are
/// percent-decoded. `what` names the variable in errors.
pub fn parse_key_values(s: &str, what: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((k, v)) = item.split_once('=') else {
            return Err(ConfigError(format!("{what}: {item:?} is not key=value")));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(ConfigError(format!("{what}: empty key in {item:?}")));
        }
        out.push((percent_decode(k), percent_decode(v.trim())));
    }
    Ok(out)
}

impl ExportConfig {
    /// The configuration the OpenTelemetry variables describe, read through
    /// `var` (pass `|k| std::env::var(k).ok()`): the endpoint
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else
    /// `http://localhost:4318/v1/traces`), the protocol, headers and timeout
    /// (the `_TRACES_` variants win), and the CA file
    /// (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, else
    /// `OTEL_EXPORTER_OTLP_CERTIFICATE`: a PEM file, see [`load_ca_file`]).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let nonempty = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let traces_url = match nonempty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(u) => u.trim().to_string(),
            None => traces_url(
                nonempty("OTEL_EXPORTER_OTLP_ENDPOINT")
                    .as_deref()
                    .unwrap_or(DEFAULT_ENDPOINT),
            ),
        };
        let protocol = match nonempty("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| nonempty("OTEL_EXPORTER_OTLP_PROTOCOL"))
        {
            Some(p) => Protocol::from_name(&p)?,
            None => Protocol::HttpProtobuf,
        };
        let mut headers = Vec::new();
        if let Some(h) = nonempty("OTEL_EXPORTER_OTLP_HEADERS") {
            headers = parse_key_values(&h, "OTEL_EXPORTER_OTLP_HEADERS")?;
        }
        if let Some(h) = nonempty("OTEL_EXPORTER_OTLP_TRACES_HEADERS") {
            for (k, v) in parse_key_values(&h, "OTEL_EXPORTER_OTLP_TRACES_HEADERS")? {
                headers.retain(|(old, _)| !old.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
        let timeout = match nonempty("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| nonempty("OTEL_EXPORTER_OTLP_TIMEOUT"))
        {
            Some(t) => Duration::from_millis(t.trim().parse().map_err(|_| {
                ConfigError(format!(
                    "OTEL_EXPORTER_OTLP_TIMEOUT: {t:?} is not a number of milliseconds"
                ))
            })?),
            None => Duration::from_secs(10),
        };
        let ca_certificates = match nonempty("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
            .or_else(|| nonempty("OTEL_EXPORTER_OTLP_CERTIFICATE"))
        {
            Some(path) => load_ca_file(std::path::Path::new(path.trim()))?,
            None => Vec::new(),
        };
        let cfg = ExportConfig {
            traces_url,
            protocol,
            headers,
            timeout,
            retry: RetryPolicy::default(),
            ca_certificates,
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// Refuse URLs the exporter cannot use.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(self.traces_url.starts_with("http://") || self.traces_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "OTLP endpoint {:?} must start with http:// or https://",
                self.traces_url
            )));
        }
        Ok(())
    }
}

/// How one batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (2xx) after `retries` retries.
    Delivered {
        /// Retries before success.
        retries: u32,
    },
    /// Refused with a status that is not retried (400, 401, 404, ...).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Retries before the final answer.
        retries: u32,
        /// The start of the answer body, for the log.
        detail: String,
    },
    /// Retried until the time ran out (policy or shutdown deadline).
    GaveUp {
        /// Retries made.
        retries: u32,
        /// The last failure.
        last_error: String,
    },
}

/// How long the exporter reuses the addresses a collector's host name
/// resolved to (an IP-address endpoint is never looked up).
pub const RESOLVED_TTL: Duration = Duration::from_secs(30);

/// The exporter's name resolution. ureq resolves the host again for every
/// request, even over a kept-alive connection, and with a timeout set it
/// does so on a thread of its own: a thread started and joined per
/// export. This resolver answers an IP address at once, and keeps what a
/// name resolved to for [`RESOLVED_TTL`] (a collector that moves is found
/// again within that time; a failed lookup is not kept).
#[derive(Debug, Default)]
struct CachedResolver {
    lookup: DefaultResolver,
    /// The last name resolved (`host:port`), when, and its addresses.
    last: std::sync::Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl CachedResolver {
    /// The port of `uri`: its own, or its scheme's.
    fn port(uri: &ureq::http::Uri) -> Option<u16> {
        uri.port_u16().or(match uri.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        })
    }
}

impl Resolver for CachedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(host), Some(port)) = (uri.host(), Self::port(uri)) else {
            return self.lookup.resolve(uri, config, timeout);
        };
        // An IPv6 literal comes in brackets.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            let mut addrs = self.lookup.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((k, at, addrs)) = last.as_ref() {
            if *k == key && at.elapsed() < RESOLVED_TTL {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.lookup.resolve(uri, config, timeout)?;
        *last = Some((key, Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// An OTLP/HTTP exporter (blocking; one request at a time).
#[derive(Debug)]
pub struct Exporter {
    cfg: ExportConfig,
    agent: ureq::Agent,
    /// The protobuf encoder's buffers, kept from request to request.
    encoder: std::sync::Mutex<RequestEncoder>,
}

enum Attempt {
    Ok,
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Final {
        status: u16,
        detail: String,
    },
}

fn retry_after(resp: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A pseudo-random fraction in [0, 1) for jitter (no need for crypto).
fn jitter() -> f64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

impl Exporter {
    /// An exporter for `cfg`.
    pub fn new(cfg: ExportConfig) -> Self {
        let mut tls = ureq::tls::TlsConfig::builder();
        if !cfg.ca_certificates.is_empty() {
            let roots: Vec<ureq::tls::Certificate<'static>> = cfg
                .ca_certificates
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                .collect();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&roots));
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            DefaultConnector::default(),
            CachedResolver::default(),
        );
        Exporter {
            cfg,
            agent,
            encoder: std::sync::Mutex::new(RequestEncoder::default()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExportConfig {
        &self.cfg
    }

    fn attempt(&self, body: &[u8]) -> Attempt {
        let mut req = self
            .agent
            .post(&self.cfg.traces_url)
            .header("Content-Type", self.cfg.protocol.content_type());
        for (k, v) in &self.cfg.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(body) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                if (200..300).contains(&status) {
                    return Attempt::Ok;
                }
                let after = retry_after(&resp);
                let mut detail = resp
                    .body_mut()
                    .with_config()
                    .limit(512)
                    .read_to_string()
                    .unwrap_or_default();
                detail.truncate(200);
                if matches!(status, 429 | 502 | 503 | 504) {
                    Attempt::Retry {
                        why: format!("HTTP {status}"),
                        after,
                    }
                } else {
                    Attempt::Final { status, detail }
                }
            }
            // Connection refused, reset, DNS, timeouts: the collector may
            // come back.
            Err(e) => Attempt::Retry {
                why: e.to_string(),
                after: None,
            },
        }
    }

    /// Export `spans` under `resource`, retrying until delivered, rejected,
    /// or out of time; `deadline` (a shutdown) cuts the retries short.
    pub fn export(
        &self,
        resource: &Resource,
        spans: &[IoamSpan],
        deadline: Option<Instant>,
    ) -> Delivery {
        match self.cfg.protocol {
            Protocol::HttpProtobuf => {
                // A poisoned lock only means an earlier export panicked:
                // the buffers are cleared before use anyway.
                let mut enc = self
                    .encoder
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let body = enc.encode(resource, spans);
                self.send_body(body, deadline)
            }
            Protocol::HttpJson => {
                self.send_body(to_json(&request(resource, spans)).as_bytes(), deadline)
            }
        }
    }

    /// Send an encoded body (see [`export`](Self::export)).
    pub fn send_body(&self, body: &[u8], deadline: Option<Instant>) -> Delivery {
        let start = Instant::now();
        let mut give_up = start + self.cfg.retry.max_elapsed;
        if let Some(d) = deadline {
            give_up = give_up.min(d);
        }
        let mut backoff = self.cfg.retry.initial_backoff;
        let mut retries = 0;
        loop {
            match self.attempt(body) {
                Attempt::Ok => return Delivery::Delivered { retries },
                Attempt::Final { status, detail } => {
                    return Delivery::Rejected {
                        status,
                        retries,
                        detail,
                    }
                }
                Attempt::Retry { why, after } => {
                    let wait = after.unwrap_or_else(|| {
                        backoff.mul_f64(jitter()).max(Duration::from_millis(10))
                    });
                    let now = Instant::now();
                    if now + wait >= give_up {
                        return Delivery::GaveUp {
                            retries,
                            last_error: why,
                        };
                    }
                    std::thread::sleep(wait);
                    retries += 1;
                    backoff = (backoff * 2).min(self.cfg.retry.max_backoff);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(r: &CachedResolver, url: &str) -> Vec<std::net::SocketAddr> {
        let uri: ureq::http::Uri = url.parse().unwrap();
        let addrs = r
            .resolve(
                &uri,
                &ureq::config::Config::default(),
                NextTimeout::default(),
            )
            .unwrap();
        addrs.to_vec()
    }

    #[test]
    fn addresses_are_answered_without_a_lookup_and_names_are_kept() {
        let r = CachedResolver::default();
        let v4: std::net::SocketAddr = "127.0.0.1:4318".parse().unwrap();
        assert_eq!(resolve(&r, "http://127.0.0.1:4318/v1/traces"), [v4]);
        let v6: std::net::SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(resolve(&r, "http://[::1]/v1/traces"), [v6]);
        let v6: std::net::SocketAddr = "[2001:db8::7]:443".parse().unwrap();
        assert_eq!(resolve(&r, "https://[2001:db8::7]/v1/traces"), [v6]);
        // Addresses never reach the cache; a name does, with its port.
        assert!(r.last.lock().unwrap().is_none());
        let first = resolve(&r, "http://localhost:4318/v1/traces");
        assert!(
            !first.is_empty()
                && first
                    .iter()
                    .all(|a| a.ip().is_loopback() && a.port() == 4318)
        );
        let kept = r
            .last
            .lock()
            .unwrap()
            .clone()
            .map(|(k, _, a)| (k, a.to_vec()));
        assert_eq!(kept, Some(("localhost:4318".to_string(), first.clone())));
        assert_eq!(resolve(&r, "http://localhost:4318/v1/traces"), first);
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn env_defaults() {
        let c = ExportConfig::from_env(env(&[])).unwrap();
        assert_eq!(c.traces_url, "http://localhost:4318/v1/traces");
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert!(c.headers.is_empty());
    }

    #[test]
    fn env_endpoint_rules() {
        let c = ExportConfig::from_env(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")]))
            .unwrap();
        assert_eq!(c.traces_url, "http://c:4318/v1/traces");
        let c = ExportConfig::from_env(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom"),
        ]))
        .unwrap();
        assert_eq!(c.traces_url, "http://t:9/custom");
    }

    #[test]
    fn env_protocol_headers_timeout() {
        let c = ExportConfig::from_env(env(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=se%20cret, x=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X=2"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ]))
        .unwrap();
        assert_eq!(c.protocol, Protocol::HttpJson);
        assert_eq!(
            c.headers,
            vec![
                ("api-key".into(), "se cret".into()),
                ("X".into(), "2".into())
            ]
        );
        assert_eq!(c.timeout, Duration::from_millis(2500));
        // Credentials are not in the debug output.
        assert!(!format!("{c:?}").contains("se cret"));
    }

    #[test]
    fn env_errors_name_the_variable() {
        let e =
            ExportConfig::from_env(env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).unwrap_err();
        assert!(e.0.contains("gRPC"), "{e}");
        let e =
            ExportConfig::from_env(env(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")])).unwrap_err();
        assert!(e.0.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{e}");
        let e =
            ExportConfig::from_env(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x")])).unwrap_err();
        assert!(e.0.contains("http://"), "{e}");
    }
}
