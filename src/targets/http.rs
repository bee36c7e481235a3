//! The HTTP target, modelled on EventBridge API destinations: the payload is sent
//! with the rule's method, URL and headers over one pooled, keep-alive client,
//! authorized as the rule's `Auth` says (`http_auth`) and no faster than its
//! `InvocationRateLimitPerSecond` (a token bucket: attempts beyond it wait, none
//! are dropped).
//!
//! It owns the request and the reading of the answer: 2xx is delivered;
//! timeouts, connection failures, 429, 5xx and (as API destinations do) 401, 407
//! and 409 are retryable, honouring `Retry-After`; any other status is permanent,
//! with the status and the start of the body in the error. A 401 also drops a
//! cached OAuth token, so the retry fetches a new one. Backoff and dead letters
//! are the router's.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};

use super::http_auth::{Authorizer, error_chain, excerpt};
use super::{Attempt, BoxFuture, DeliveryError, Target};
use crate::rules::model::HttpAuth;

/// The shared client (connection pool) with the targets' timeout.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    pub fn new(timeout: Duration) -> HttpClient {
        // reqwest is built without a default TLS provider; ring builds in seconds.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("building the HTTP client");
        HttpClient { client }
    }

    /// A target sending to `endpoint`. `auth` secrets are read now: a secret that
    /// cannot be read is an error naming the field, and the target is not built.
    pub fn target(
        &self,
        endpoint: &str,
        method: &str,
        headers: &[(String, String)],
        auth: Option<&HttpAuth>,
        rate_limit_per_second: Option<u32>,
    ) -> Result<HttpTarget, String> {
        let url = reqwest::Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("method {method} is not an HTTP method"))?;
        let mut map = HeaderMap::new();
        map.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("header name {k:?} is not valid"))?;
            let value =
                HeaderValue::from_str(v).map_err(|_| format!("header {k} has an invalid value"))?;
            map.insert(name, value);
        }
        let auth = auth.map(|a| Authorizer::new(a, &self.client)).transpose()?;
        let limiter = match rate_limit_per_second {
            None => None,
            Some(n) => {
                let n = NonZeroU32::new(n).ok_or("the rate limit must be at least 1 per second")?;
                Some(RateLimiter::direct(Quota::per_second(n)))
            }
        };
        Ok(HttpTarget {
            client: self.client.clone(),
            url,
            method,
            headers: map,
            auth,
            limiter,
        })
    }
}

pub struct HttpTarget {
    client: reqwest::Client,
    url: reqwest::Url,
    method: Method,
    headers: HeaderMap,
    auth: Option<Authorizer>,
    /// `InvocationRateLimitPerSecond`: attempts wait for a cell (bursts up to
    /// the per-second rate, as the bucket starts full).
    limiter: Option<DefaultDirectRateLimiter>,
}

impl Target for HttpTarget {
    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let mut request = self
                .client
                .request(self.method.clone(), self.url.clone())
                .headers(self.headers.clone())
                .body(attempt.payload.clone());
            let mut sent_auth = None;
            if let Some(auth) = &self.auth {
                let (name, value) = auth.header().await?;
                request = request.header(name, value.clone());
                sent_auth = Some((auth, value));
            }
            let response = request.send().await.map_err(|e| self.transport_error(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            if status == StatusCode::UNAUTHORIZED
                && let Some((auth, value)) = sent_auth
            {
                auth.rejected(&value).await;
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            let body = response.bytes().await.unwrap_or_default();
            let message = format!(
                "{} {} answered {status}: {}",
                self.method,
                self.url,
                excerpt(&body)
            );
            Err(DeliveryError {
                code: "HttpError",
                message,
                retryable: is_retryable(status),
                retry_after,
            })
        })
    }
}

impl HttpTarget {
    fn transport_error(&self, e: &reqwest::Error) -> DeliveryError {
        let (code, what) = if e.is_timeout() {
            ("HttpTimeout", "timed out")
        } else if e.is_connect() {
            ("HttpConnectionFailed", "could not connect")
        } else {
            ("HttpRequestFailed", "failed")
        };
        let mut message = format!("{} {} {what}", self.method, self.url);
        if let Some(source) = std::error::Error::source(e) {
            message.push_str(": ");
            message.push_str(&error_chain(source));
        }
        DeliveryError::retryable(code, message)
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3); a date
/// in the past is no wait.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        // Beyond a day is beyond any retry policy (MaximumEventAgeInSeconds).
        return Some(Duration::from_secs(seconds.min(86_400)));
    }
    let http_date = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, http_date)
        .ok()?
        .assume_utc();
    Some(
        (at - time::OffsetDateTime::now_utc())
            .try_into()
            .unwrap_or_default(),
    )
}

/// API destinations retry 401, 407, 409, 429 and 5xx; other statuses are final.
fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error() || matches!(status.as_u16(), 401 | 407 | 409 | 429)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("18446744073709551615"),
            Some(Duration::from_secs(86_400)),
            "capped, so adding it to an age cannot overflow"
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let later = (time::OffsetDateTime::now_utc() + time::Duration::seconds(100))
            .format(format)
            .unwrap();
        let wait = retry_after(&later).unwrap();
        assert!(
            wait > Duration::from_secs(95) && wait <= Duration::from_secs(100),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-5"), None);
    }

    #[test]
    fn retryable_statuses_are_api_destinations() {
        for s in [401, 407, 409, 429, 500, 502, 503] {
            assert!(is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 403, 404, 410, 413, 422] {
            assert!(!is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
