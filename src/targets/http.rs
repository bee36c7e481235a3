//! The HTTP target, modelled on EventBridge API destinations: the payload is sent
//! with the rule's method, URL and headers over one pooled, keep-alive client.
//!
//! It owns the request and the reading of the answer: 2xx is delivered;
//! timeouts, connection failures, 429, 5xx and (as API destinations do) 401, 407
//! and 409 are retryable, honouring `Retry-After`; any other status is permanent,
//! with the status and the start of the body in the error. Backoff and dead
//! letters are the router's.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};

use super::{Attempt, BoxFuture, DeliveryError, Target};

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

    pub fn target(
        &self,
        endpoint: &str,
        method: &str,
        headers: &[(String, String)],
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
        Ok(HttpTarget {
            client: self.client.clone(),
            url,
            method,
            headers: map,
        })
    }
}

pub struct HttpTarget {
    client: reqwest::Client,
    url: reqwest::Url,
    method: Method,
    headers: HeaderMap,
}

impl Target for HttpTarget {
    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let response = self
                .client
                .request(self.method.clone(), self.url.clone())
                .headers(self.headers.clone())
                .body(attempt.payload.clone())
                .send()
                .await
                .map_err(|e| self.transport_error(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.bytes().await.unwrap_or_default();
            let excerpt = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
            let message = format!("{} {} answered {status}: {excerpt}", self.method, self.url);
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
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        DeliveryError::retryable(code, message)
    }
}

/// API destinations retry 401, 407, 409, 429 and 5xx; other statuses are final.
fn is_retryable(status: StatusCode) -> bool {
    status.is_server_error() || matches!(status.as_u16(), 401 | 407 | 409 | 429)
}

#[cfg(test)]
mod tests {
    use super::*;

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
