//! The one HTTP client for calls made on a tenant's behalf (channel APIs, outbound webhooks,
//! carriers): every name is resolved by a resolver that refuses private and special addresses
//! and hands the connector exactly the addresses it checked (so a name cannot be re-pointed
//! between the check and the connection); addresses written into URLs are checked too; no
//! proxy from the environment, no redirects, a connection and a total timeout, and answers
//! read only up to a cap.

pub mod address;
pub mod api;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode, Url};

/// Longest time to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call was not made or not finished.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The URL or the address it resolves to may not be called (checked before connecting).
    #[error("{0}")]
    Refused(String),
    #[error("no answer within {0} seconds")]
    Timeout(u64),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

impl CallError {
    /// Worth trying again later (the remote side may recover); a refusal never is.
    pub fn is_transient(&self) -> bool {
        matches!(self, CallError::Timeout(_) | CallError::Connect(_))
    }
}

/// An answer, its body read up to the cap the call gave.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The start of the body as text, for logs and error messages.
    pub fn excerpt(&self, chars: usize) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(chars * 4)])
            .chars()
            .take(chars)
            .collect()
    }
}

/// A refused address, found by the resolver; recognised again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, {why}, which Orderflow does not call")]
struct AddressRefused {
    host: String,
    ip: std::net::IpAddr,
    why: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} does not resolve")]
struct NoAddress(String);

/// Resolves with the system resolver and refuses the whole name when any address it has is
/// refused (a name that mixes public and private addresses is a rebinding attempt).
struct GuardedResolver {
    allow_loopback: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(Box::new(NoAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            for a in &addrs {
                if let Some(why) = address::refusal(a.ip(), allow_loopback) {
                    return Err(Box::new(AddressRefused {
                        host,
                        ip: a.ip(),
                        why,
                    })
                        as Box<dyn std::error::Error + Send + Sync>);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whom a client's calls are for, which decides where they may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    /// A tenant's endpoints: public addresses only (and loopback when allowed).
    Public { allow_loopback: bool },
    /// An endpoint the operator configured (the drafting model): anywhere, since the operator
    /// is trusted; the caps and timeouts still hold.
    Operator,
}

/// The hardened client. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct Outbound {
    http: reqwest::Client,
    reach: Reach,
}

impl Outbound {
    /// A client whose calls reach only public addresses, and loopback when `allow_loopback`
    /// (development and tests; the operator's `ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK`).
    pub fn new(allow_loopback: bool, user_agent: &str) -> Self {
        let builder =
            Self::builder(user_agent).dns_resolver(Arc::new(GuardedResolver { allow_loopback }));
        Self {
            http: builder.build().unwrap_or_default(),
            reach: Reach::Public { allow_loopback },
        }
    }

    /// A client for endpoints the operator configured: any address, HTTP or HTTPS.
    pub fn for_operator(user_agent: &str) -> Self {
        Self {
            http: Self::builder(user_agent).build().unwrap_or_default(),
            reach: Reach::Operator,
        }
    }

    fn builder(user_agent: &str) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            // A proxy from the environment would connect where it likes, not where we checked.
            .no_proxy()
            // A redirect could lead anywhere; no platform redirects its API.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(user_agent)
    }

    /// A request to build on; nothing is checked or sent until [`Outbound::send`].
    pub fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// A provider's API address as a tenant typed it, checked as [`Outbound::check_url`]
    /// would call it: `None` for empty (the provider's own API), the field named when refused.
    pub fn api_base(
        &self,
        field: &str,
        raw: &str,
    ) -> Result<Option<String>, crate::error::UserError> {
        use crate::error::{UserError, UserErrorCode as C};
        let base = raw.trim().trim_end_matches('/');
        if base.is_empty() {
            return Ok(None);
        }
        let parsed = Url::parse(base)
            .map_err(|_| UserError::on(field, C::Invalid, "must be an https:// URL"))?;
        self.check_url(&parsed)
            .map_err(|e| UserError::on(field, C::Invalid, e.to_string()))?;
        Ok(Some(base.to_owned()))
    }

    /// Whether `url` may be called: HTTPS (or HTTP to loopback when allowed), no credentials
    /// in it, and an address written in it that is not refused.
    pub fn check_url(&self, url: &Url) -> Result<(), CallError> {
        let allow_loopback = match self.reach {
            Reach::Operator => {
                return match url.scheme() {
                    "https" | "http" if url.host().is_some() => Ok(()),
                    _ => Err(CallError::Refused(
                        "the URL must be http(s) with a host".into(),
                    )),
                };
            }
            Reach::Public { allow_loopback } => allow_loopback,
        };
        let loopback_name = match url.host() {
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(CallError::Refused("the URL names no host".into())),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback_name && allow_loopback => {}
            "http" => return Err(CallError::Refused("the URL must use https".into())),
            other => {
                return Err(CallError::Refused(format!(
                    "the URL's scheme {other}: is not https"
                )));
            }
        }
        if loopback_name && !allow_loopback {
            return Err(CallError::Refused(
                "the URL points at this machine, which Orderflow does not call".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CallError::Refused(
                "the URL must not carry credentials".into(),
            ));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && let Some(why) = address::refusal(ip, allow_loopback)
        {
            return Err(CallError::Refused(format!(
                "the URL's address {ip} is {why}, which Orderflow does not call"
            )));
        }
        Ok(())
    }

    /// Sends `request` (its URL checked first), waits at most `timeout` for the whole answer
    /// and reads at most `limit` bytes of its body: a longer one is an error.
    pub async fn send(
        &self,
        request: RequestBuilder,
        timeout: Duration,
        limit: usize,
    ) -> Result<Answer, CallError> {
        self.call(request, timeout, limit, false).await
    }

    /// Like [`Outbound::send`], but a longer body is cut at `limit` (for a receiver whose
    /// status is the answer, and whose body is only logged).
    pub async fn send_keeping_start(
        &self,
        request: RequestBuilder,
        timeout: Duration,
        limit: usize,
    ) -> Result<Answer, CallError> {
        self.call(request, timeout, limit, true).await
    }

    async fn call(
        &self,
        request: RequestBuilder,
        timeout: Duration,
        limit: usize,
        truncate: bool,
    ) -> Result<Answer, CallError> {
        let request = request.build().map_err(|e| {
            CallError::Refused(format!("the request is malformed: {}", e.without_url()))
        })?;
        self.check_url(request.url())?;
        let call = async {
            let response = self.http.execute(request).await.map_err(describe)?;
            let status = response.status();
            let headers = response.headers().clone();
            if !truncate && response.content_length().is_some_and(|n| n > limit as u64) {
                return Err(CallError::TooLarge(limit));
            }
            let mut body = bytes::BytesMut::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(describe)?;
                if body.len() + chunk.len() > limit {
                    if !truncate {
                        return Err(CallError::TooLarge(limit));
                    }
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Answer {
                status,
                headers,
                body: body.freeze(),
            })
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or(Err(CallError::Timeout(timeout.as_secs())))
    }
}

/// What went wrong, without the URL (it may carry a token of the receiver's).
fn describe(err: reqwest::Error) -> CallError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<AddressRefused>() {
            return CallError::Refused(refused.to_string());
        }
        if let Some(missing) = e.downcast_ref::<NoAddress>() {
            return CallError::Connect(missing.to_string());
        }
        source = e.source();
    }
    // The total time is the caller's timeout; reqwest's own is only the connection's.
    if err.is_timeout() {
        return CallError::Connect(format!(
            "no connection within {} seconds",
            CONNECT_TIMEOUT.as_secs()
        ));
    }
    CallError::Connect(err.without_url().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn urls_are_judged_before_any_connection() {
        let strict = Outbound::new(false, "test");
        assert!(strict.check_url(&url("https://shop.example.com/x")).is_ok());
        for bad in [
            "http://shop.example.com/",
            "ftp://shop.example.com/",
            "https://user:pw@shop.example.com/",
            "https://127.0.0.1/",
            "https://localhost/",
            "https://api.localhost/",
            "http://127.0.0.1:8080/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::ffff:a00:1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[fec0::1]/",
            "https://0x7f000001/",
            "https://2130706433/",
        ] {
            assert!(
                matches!(strict.check_url(&url(bad)), Err(CallError::Refused(_))),
                "{bad}"
            );
        }
        let operator = Outbound::for_operator("test");
        assert!(operator.check_url(&url("http://10.1.2.3:8000/v1")).is_ok());
        assert!(operator.check_url(&url("ftp://10.1.2.3/")).is_err());
        let dev = Outbound::new(true, "test");
        assert!(dev.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(dev.check_url(&url("http://localhost:8080/")).is_ok());
        assert!(dev.check_url(&url("http://10.1.2.3/")).is_err());
    }

    #[tokio::test]
    async fn names_that_resolve_to_refused_addresses_are_not_connected_to() {
        let name = |n: &str| n.parse::<Name>().unwrap();
        let strict = GuardedResolver {
            allow_loopback: false,
        };
        let err = match strict.resolve(name("localhost")).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        assert!(err.downcast_ref::<AddressRefused>().is_some(), "{err}");
        let dev = GuardedResolver {
            allow_loopback: true,
        };
        let addrs: Vec<SocketAddr> = dev.resolve(name("localhost")).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[tokio::test]
    async fn send_refuses_before_connecting() {
        let strict = Outbound::new(false, "test");
        for url in [
            "https://127.0.0.1/",
            "https://[::ffff:10.0.0.1]/",
            "http://example.com/",
        ] {
            let refused = strict
                .send(
                    strict.request(reqwest::Method::GET, url),
                    Duration::from_secs(5),
                    1024,
                )
                .await;
            assert!(
                matches!(refused, Err(CallError::Refused(_))),
                "{url}: {refused:?}"
            );
        }
    }
}
