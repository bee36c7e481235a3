//! Authorization for HTTP targets, modelled on EventBridge connections: Basic,
//! API key, bearer token, and OAuth 2 client credentials with a cached token.
//!
//! It owns turning a rule's `Auth` (which names where secrets are, never the
//! secrets) into the header each attempt sends: secrets are read once, when the
//! target is built (server start, reload), and a secret that cannot be read makes
//! the target unavailable with the reason. OAuth tokens are fetched on first use,
//! shared by all attempts, refreshed shortly before they expire and dropped when
//! the endpoint answers 401, so the retry fetches a new one. Sending the request
//! and classifying answers are `http`'s.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio::sync::Mutex;

use super::DeliveryError;
use crate::rules::model::{HttpAuth, OAuthClientCredentials, Secret};

/// How long a token without `expires_in` is used before fetching another.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The most of a token's lifetime left unused: tokens are refreshed when 10% of
/// their lifetime, or 30 seconds, whichever is less, is left.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// The header an [`HttpTarget`](super::http::HttpTarget) adds to each attempt.
pub(super) enum Authorizer {
    /// Basic, API key or bearer token: one header, fixed when the target is built.
    Fixed(HeaderName, HeaderValue),
    /// OAuth client credentials: a bearer token fetched and cached.
    OAuth(Box<OAuth>),
}

impl Authorizer {
    /// Reads the secrets `auth` names. The error says which field's secret could
    /// not be read (and never holds a secret).
    pub(super) fn new(auth: &HttpAuth, client: &reqwest::Client) -> Result<Authorizer, String> {
        Ok(match auth {
            HttpAuth::Basic { username, password } => {
                let password = read_secret(password, "Http.Auth.Basic.Password")?;
                let credentials = base64(format!("{username}:{password}").as_bytes());
                let value = sensitive(format!("Basic {credentials}")).map_err(|_| {
                    "Http.Auth.Basic: the username or password holds characters a header cannot"
                        .to_string()
                })?;
                Authorizer::Fixed(AUTHORIZATION, value)
            }
            HttpAuth::ApiKey { name, value } => {
                let field = "Http.Auth.ApiKey.Value";
                let secret = read_secret(value, field)?;
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("Http.Auth.ApiKey.Name: {name:?} is not a header name"))?;
                let value = sensitive(secret).map_err(|_| {
                    format!(
                        "{field}{}: the value holds characters a header cannot",
                        kind(value)
                    )
                })?;
                Authorizer::Fixed(name, value)
            }
            HttpAuth::Bearer { token } => {
                let field = "Http.Auth.Bearer.Token";
                let secret = read_secret(token, field)?;
                let value = sensitive(format!("Bearer {secret}")).map_err(|_| {
                    format!(
                        "{field}{}: the token holds characters a header cannot",
                        kind(token)
                    )
                })?;
                Authorizer::Fixed(AUTHORIZATION, value)
            }
            HttpAuth::OAuth(oauth) => Authorizer::OAuth(Box::new(OAuth::new(oauth, client)?)),
        })
    }

    /// The header for one attempt (for OAuth, fetching a token when none is
    /// cached or the cached one is about to expire).
    pub(super) async fn header(&self) -> Result<(HeaderName, HeaderValue), DeliveryError> {
        match self {
            Authorizer::Fixed(name, value) => Ok((name.clone(), value.clone())),
            Authorizer::OAuth(oauth) => Ok((AUTHORIZATION, oauth.token().await?)),
        }
    }

    /// The endpoint answered 401 to an attempt that sent `used`.
    pub(super) async fn rejected(&self, used: &HeaderValue) {
        if let Authorizer::OAuth(oauth) = self {
            oauth.forget(used).await;
        }
    }
}

/// OAuth 2 client credentials grant (RFC 6749 section 4.4).
pub(super) struct OAuth {
    client: reqwest::Client,
    endpoint: Url,
    method: Method,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    /// Held while a token is fetched, so concurrent attempts wait for one fetch.
    cached: Mutex<Option<Token>>,
}

struct Token {
    header: HeaderValue,
    refresh_at: Instant,
}

impl OAuth {
    fn new(o: &OAuthClientCredentials, client: &reqwest::Client) -> Result<OAuth, String> {
        let endpoint = Url::parse(&o.token_endpoint)
            .map_err(|e| format!("Http.Auth.OAuth.TokenEndpoint: {}: {e}", o.token_endpoint))?;
        let method = Method::from_bytes(o.http_method.as_bytes()).map_err(|_| {
            format!(
                "Http.Auth.OAuth.HttpMethod: {} is not an HTTP method",
                o.http_method
            )
        })?;
        Ok(OAuth {
            client: client.clone(),
            endpoint,
            method,
            client_id: o.client_id.clone(),
            client_secret: read_secret(&o.client_secret, "Http.Auth.OAuth.ClientSecret")?,
            scope: o.scope.clone(),
            cached: Mutex::new(None),
        })
    }

    async fn token(&self) -> Result<HeaderValue, DeliveryError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.header.clone());
        }
        *cached = None;
        let token = self.fetch().await?;
        let header = token.header.clone();
        *cached = Some(token);
        Ok(header)
    }

    async fn forget(&self, used: &HeaderValue) {
        let mut cached = self.cached.lock().await;
        // Only the token that was refused: another attempt may have fetched anew.
        if cached.as_ref().is_some_and(|t| t.header == *used) {
            *cached = None;
        }
    }

    async fn fetch(&self) -> Result<Token, DeliveryError> {
        let started = Instant::now();
        let mut params = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            params.push(("scope", scope));
        }
        let request = if self.method == Method::GET {
            let mut url = self.endpoint.clone();
            url.query_pairs_mut().extend_pairs(&params);
            self.client.get(url)
        } else {
            self.client
                .request(self.method.clone(), self.endpoint.clone())
                .form(&params)
        };
        let response = request
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.failed(format!("could not be reached: {}", error_chain(&e))))?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(self.failed(format!("answered {status}: {}", excerpt(&body))));
        }
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let Some(access_token) = answer
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
        else {
            return Err(self.failed(format!(
                "answered {status} without an access_token: {}",
                excerpt(&body)
            )));
        };
        let header = sensitive(format!("Bearer {access_token}")).map_err(|_| {
            self.failed("answered with an access_token a header cannot hold".to_string())
        })?;
        Ok(Token {
            header,
            refresh_at: started + use_for(lifetime(&answer)),
        })
    }

    fn failed(&self, what: String) -> DeliveryError {
        DeliveryError::retryable(
            "OAuthTokenFailed",
            format!("OAuth token endpoint {} {what}", self.endpoint),
        )
    }
}

/// The longest a token is used before it is fetched again, whatever the
/// endpoint's `expires_in`.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

/// The token's lifetime from the answer's `expires_in` (seconds, as a number or
/// a string); a lifetime past a day is taken as a day, since an endpoint may say
/// anything and a `Duration` cannot hold every number.
fn lifetime(answer: &serde_json::Value) -> Option<Duration> {
    answer.get("expires_in").and_then(|e| {
        e.as_f64()
            .or_else(|| e.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(MAX_TOKEN_LIFETIME.as_secs_f64())))
    })
}

/// How long a token is used: its lifetime less a margin of 10% (at most 30
/// seconds), or five minutes when the endpoint did not say.
fn use_for(expires_in: Option<Duration>) -> Duration {
    match expires_in {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(lifetime) => lifetime - (lifetime / 10).min(MAX_REFRESH_MARGIN),
    }
}

fn kind(secret: &Secret) -> &'static str {
    match secret {
        Secret::Env(_) => "Env",
        Secret::File(_) => "File",
    }
}

/// Reads a secret from its environment variable or file (without the file's
/// trailing line break). `field` is the rule field without `Env`/`File`.
fn read_secret(secret: &Secret, field: &str) -> Result<String, String> {
    let value = match secret {
        Secret::Env(name) => match std::env::var(name) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => {
                return Err(format!(
                    "{field}Env: the environment variable {name} is not set"
                ));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(format!(
                    "{field}Env: the environment variable {name} is not UTF-8"
                ));
            }
        },
        Secret::File(path) => match std::fs::read_to_string(path) {
            Ok(text) => text
                .strip_suffix('\n')
                .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t))
                .to_string(),
            Err(e) => {
                return Err(format!("{field}File: cannot read {}: {e}", path.display()));
            }
        },
    };
    if value.is_empty() {
        return Err(match secret {
            Secret::Env(name) => format!("{field}Env: the environment variable {name} is empty"),
            Secret::File(path) => format!("{field}File: {} is empty", path.display()),
        });
    }
    Ok(value)
}

fn sensitive(value: String) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::from_str(&value)?;
    value.set_sensitive(true);
    Ok(value)
}

/// The start of a body, for error messages.
pub(super) fn excerpt(body: &[u8]) -> String {
    let mut end = body.len().min(256);
    while end > 0 && end < body.len() && std::str::from_utf8(&body[..end]).is_err() {
        end -= 1;
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// An error with its sources, `a: b: c`.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// Standard base64 with padding (RFC 4648), for Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(use_for(None), Duration::from_secs(300));
        assert_eq!(
            use_for(Some(Duration::from_secs(3600))),
            Duration::from_secs(3570)
        );
        assert_eq!(
            use_for(Some(Duration::from_secs(100))),
            Duration::from_secs(90)
        );
        assert_eq!(
            use_for(Some(Duration::from_secs(1))),
            Duration::from_millis(900)
        );
        assert_eq!(use_for(Some(Duration::ZERO)), Duration::ZERO);
    }

    #[test]
    fn any_expires_in_gives_a_lifetime_of_at_most_a_day() {
        let of = |answer: &str| lifetime(&serde_json::from_str(answer).unwrap());
        assert_eq!(
            of(r#"{"expires_in": 3600}"#),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            of(r#"{"expires_in": " 60 "}"#),
            Some(Duration::from_secs(60))
        );
        for huge in [r#"{"expires_in": 1e300}"#, r#"{"expires_in": "1e20"}"#] {
            assert_eq!(of(huge), Some(MAX_TOKEN_LIFETIME), "{huge}");
        }
        for none in [
            r#"{}"#,
            r#"{"expires_in": -5}"#,
            r#"{"expires_in": "soon"}"#,
        ] {
            assert_eq!(of(none), None, "{none}");
        }
    }

    #[test]
    fn excerpts_cut_at_character_boundaries() {
        let body = "é".repeat(200);
        assert_eq!(excerpt(body.as_bytes()), "é".repeat(128));
    }
}
