//! The HTTP target against real servers on loopback: authorization headers,
//! OAuth client credentials (token reuse, refresh, 401), the rate limit, and how
//! answers and transport failures are classified for the router's retries.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use bytes::Bytes;
use switchyard::event::Event;
use switchyard::router::completion::Completion;
use switchyard::rules::model::{HttpAuth, OAuthClientCredentials, Secret};
use switchyard::targets::http::{HttpClient, HttpTarget};
use switchyard::targets::{Attempt, DeliveryError, Target};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn client() -> HttpClient {
    HttpClient::new(Duration::from_secs(5))
}

fn target(client: &HttpClient, url: &str, auth: Option<&HttpAuth>) -> HttpTarget {
    match client.target(url, "POST", &[], auth, None) {
        Ok(t) => t,
        Err(e) => panic!("building the target: {e}"),
    }
}

async fn deliver(target: &HttpTarget, body: &str) -> Result<(), DeliveryError> {
    let payload = Bytes::from(body.to_string());
    let event = Arc::new(Event {
        id: "e-1".into(),
        bus: "default".into(),
        source: "test".into(),
        detail_type: "t".into(),
        json: Bytes::from_static(b"{}"),
        received: SystemTime::now(),
        received_at: Instant::now(),
        hops: 0,
    });
    let completion = Completion::detached(None);
    target
        .deliver(Attempt {
            payload: &payload,
            event: &event,
            completion: &completion,
            number: 1,
            dead_letter: None,
        })
        .await
}

/// What an endpoint received: each request's headers and body.
#[derive(Default)]
struct Received {
    requests: Mutex<Vec<(HeaderMap, String)>>,
}

impl Received {
    fn header(&self, i: usize, name: &str) -> Option<String> {
        let requests = self.requests.lock().unwrap();
        let value = requests[i].0.get(name)?;
        Some(value.to_str().unwrap().to_string())
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

async fn record(State(received): State<Arc<Received>>, headers: HeaderMap, body: String) {
    received.requests.lock().unwrap().push((headers, body));
}

async fn recording_endpoint() -> (String, Arc<Received>) {
    let received = Arc::new(Received::default());
    let router = Router::new()
        .route("/events", post(record))
        .with_state(received.clone());
    let addr = serve(router).await;
    (format!("http://{addr}/events"), received)
}

fn secret_file(dir: &tempfile::TempDir, name: &str, content: &str) -> Secret {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    Secret::File(path)
}

/// A secret file that outlives the test's setup function (the OS cleans /tmp).
fn lasting_secret_file(content: &str) -> Secret {
    let path = tempfile::tempdir().unwrap().keep().join("secret");
    std::fs::write(&path, content).unwrap();
    Secret::File(path)
}

#[tokio::test]
async fn basic_api_key_and_bearer_headers_arrive() {
    let (url, received) = recording_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let client = client();

    let basic = HttpAuth::Basic {
        username: "alice".into(),
        // A secret file's trailing line break is not part of the secret.
        password: secret_file(&dir, "password", "s3cret\n"),
    };
    deliver(&target(&client, &url, Some(&basic)), r#"{"n": 1}"#)
        .await
        .unwrap();
    // Cargo sets CARGO_PKG_NAME for test processes: an environment variable
    // that exists without the test changing the environment.
    let api_key = HttpAuth::ApiKey {
        name: "x-api-key".into(),
        value: Secret::Env("CARGO_PKG_NAME".into()),
    };
    deliver(&target(&client, &url, Some(&api_key)), r#"{"n": 2}"#)
        .await
        .unwrap();
    let bearer = HttpAuth::Bearer {
        token: secret_file(&dir, "token", "tok-abc\r\n"),
    };
    deliver(&target(&client, &url, Some(&bearer)), r#"{"n": 3}"#)
        .await
        .unwrap();

    assert_eq!(
        received.header(0, "authorization").as_deref(),
        Some("Basic YWxpY2U6czNjcmV0")
    );
    assert_eq!(
        received.header(1, "x-api-key").as_deref(),
        Some(env!("CARGO_PKG_NAME"))
    );
    assert_eq!(received.header(1, "authorization"), None);
    assert_eq!(
        received.header(2, "authorization").as_deref(),
        Some("Bearer tok-abc")
    );
    let requests = received.requests.lock().unwrap();
    assert_eq!(requests[2].1, r#"{"n": 3}"#);
    assert_eq!(
        requests[2].0.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
}

#[tokio::test]
async fn unreadable_secrets_make_the_target_unavailable() {
    let client = client();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let build = |auth: HttpAuth| {
        client
            .target("http://127.0.0.1:9/x", "POST", &[], Some(&auth), None)
            .err()
            .expect("the target must not build")
    };
    assert_eq!(
        build(HttpAuth::Bearer {
            token: Secret::Env("SWITCHYARD_TEST_SURELY_UNSET".into())
        }),
        "Http.Auth.Bearer.TokenEnv: the environment variable SWITCHYARD_TEST_SURELY_UNSET is not set"
    );
    let message = build(HttpAuth::Basic {
        username: "u".into(),
        password: Secret::File(missing.clone()),
    });
    assert!(
        message.starts_with(&format!(
            "Http.Auth.Basic.PasswordFile: cannot read {}: ",
            missing.display()
        )),
        "{message}"
    );
    assert_eq!(
        build(HttpAuth::ApiKey {
            name: "x-api-key".into(),
            value: secret_file(&dir, "empty", "\n"),
        }),
        format!(
            "Http.Auth.ApiKey.ValueFile: {} is empty",
            dir.path().join("empty").display()
        )
    );
    assert_eq!(
        build(HttpAuth::OAuth(OAuthClientCredentials {
            token_endpoint: "http://127.0.0.1:9/token".into(),
            client_id: "c".into(),
            client_secret: Secret::Env("SWITCHYARD_TEST_SURELY_UNSET".into()),
            scope: None,
            http_method: "POST".into(),
        })),
        "Http.Auth.OAuth.ClientSecretEnv: the environment variable SWITCHYARD_TEST_SURELY_UNSET is not set"
    );
    assert_eq!(
        build(HttpAuth::Bearer {
            token: secret_file(&dir, "bad", "a\nb"),
        }),
        "Http.Auth.Bearer.TokenFile: the token holds characters a header cannot"
    );
}

/// A token endpoint handing out `tok-1`, `tok-2`, ... and an API endpoint that
/// accepts the tokens it has not been told to refuse.
struct OAuthServer {
    fetches: AtomicUsize,
    expires_in: Option<u64>,
    /// Token requests: Authorization header and form body.
    token_requests: Mutex<Vec<(String, String)>>,
    /// Bearer tokens the API endpoint saw, in order.
    seen: Mutex<Vec<String>>,
    refused: Mutex<Vec<String>>,
    fail_with: Option<(StatusCode, &'static str)>,
}

impl OAuthServer {
    fn new(expires_in: Option<u64>) -> OAuthServer {
        OAuthServer {
            fetches: AtomicUsize::new(0),
            expires_in,
            token_requests: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            refused: Mutex::new(Vec::new()),
            fail_with: None,
        }
    }
}

async fn token(State(s): State<Arc<OAuthServer>>, headers: HeaderMap, body: String) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    s.token_requests.lock().unwrap().push((auth, body));
    if let Some((status, body)) = s.fail_with {
        return (status, body).into_response();
    }
    let n = s.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    let expires = s
        .expires_in
        .map(|e| format!(r#", "expires_in": {e}"#))
        .unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"access_token": "tok-{n}", "token_type": "Bearer"{expires}}}"#),
    )
        .into_response()
}

async fn api(State(s): State<Arc<OAuthServer>>, headers: HeaderMap) -> StatusCode {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let token = auth.strip_prefix("Bearer ").unwrap_or("").to_string();
    s.seen.lock().unwrap().push(token.clone());
    if token.is_empty() || s.refused.lock().unwrap().contains(&token) {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    }
}

async fn oauth_setup(server: OAuthServer) -> (Arc<OAuthServer>, String, HttpAuth) {
    let state = Arc::new(server);
    let router = Router::new()
        .route("/token", any(token))
        .route("/events", post(api))
        .with_state(state.clone());
    let addr = serve(router).await;
    let auth = HttpAuth::OAuth(OAuthClientCredentials {
        token_endpoint: format!("http://{addr}/token"),
        client_id: "client-1".into(),
        client_secret: lasting_secret_file("shh\n"),
        scope: Some("events:write events:read".into()),
        http_method: "POST".into(),
    });
    (state, format!("http://{addr}/events"), auth)
}

#[tokio::test]
async fn oauth_token_is_fetched_once_and_shared() {
    let (server, url, auth) = oauth_setup(OAuthServer::new(Some(3600))).await;
    let target = Arc::new(target(&client(), &url, Some(&auth)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let target = target.clone();
        tasks.spawn(async move { deliver(&target, &format!("{{\"i\": {i}}}")).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    for _ in 0..5 {
        deliver(&target, "{}").await.unwrap();
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 1);
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.len(), 25);
    assert!(seen.iter().all(|t| t == "tok-1"), "{seen:?}");
    // RFC 6749 section 4.4: client credentials with HTTP Basic, the grant and
    // scope as a form.
    let requests = server.token_requests.lock().unwrap();
    assert_eq!(requests[0].0, "Basic Y2xpZW50LTE6c2ho");
    assert_eq!(
        requests[0].1,
        "grant_type=client_credentials&scope=events%3Awrite+events%3Aread"
    );
}

#[tokio::test]
async fn oauth_token_is_refreshed_before_it_expires() {
    // expires_in 1: the token is used for 0.9 s (10% of its lifetime is kept).
    let (server, url, auth) = oauth_setup(OAuthServer::new(Some(1))).await;
    let target = target(&client(), &url, Some(&auth));
    deliver(&target, "{}").await.unwrap();
    deliver(&target, "{}").await.unwrap();
    tokio::time::sleep(Duration::from_millis(950)).await;
    deliver(&target, "{}").await.unwrap();
    assert_eq!(server.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(*server.seen.lock().unwrap(), ["tok-1", "tok-1", "tok-2"]);
}

#[tokio::test]
async fn oauth_token_without_expiry_is_kept() {
    let (server, url, auth) = oauth_setup(OAuthServer::new(None)).await;
    let target = target(&client(), &url, Some(&auth));
    for _ in 0..3 {
        deliver(&target, "{}").await.unwrap();
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn oauth_token_is_fetched_again_after_a_401() {
    let (server, url, auth) = oauth_setup(OAuthServer::new(Some(3600))).await;
    server.refused.lock().unwrap().push("tok-1".into());
    let target = target(&client(), &url, Some(&auth));
    let error = deliver(&target, "{}").await.unwrap_err();
    assert_eq!(error.code, "HttpError");
    assert!(error.retryable, "API destinations retry 401");
    assert!(
        error.message.contains("401 Unauthorized"),
        "{}",
        error.message
    );
    // The retry fetches a new token instead of sending the refused one again.
    deliver(&target, "{}").await.unwrap();
    deliver(&target, "{}").await.unwrap();
    assert_eq!(server.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(*server.seen.lock().unwrap(), ["tok-1", "tok-2", "tok-2"]);
}

#[tokio::test]
async fn oauth_token_request_can_be_a_get() {
    let (server, url, auth) = oauth_setup(OAuthServer::new(Some(3600))).await;
    let HttpAuth::OAuth(mut o) = auth else {
        unreachable!()
    };
    o.http_method = "GET".into();
    o.scope = None;
    let target = target(&client(), &url, Some(&HttpAuth::OAuth(o)));
    deliver(&target, "{}").await.unwrap();
    assert_eq!(server.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(server.token_requests.lock().unwrap()[0].1, "");
}

#[tokio::test]
async fn failing_token_endpoint_is_a_retryable_oauth_error() {
    let mut failing = OAuthServer::new(Some(3600));
    failing.fail_with = Some((StatusCode::BAD_REQUEST, r#"{"error":"invalid_client"}"#));
    let (server, url, auth) = oauth_setup(failing).await;
    let HttpAuth::OAuth(o) = &auth else {
        unreachable!()
    };
    let endpoint = o.token_endpoint.clone();
    let target = target(&client(), &url, Some(&auth));
    let error = deliver(&target, "{}").await.unwrap_err();
    assert_eq!(error.code, "OAuthTokenFailed");
    assert!(error.retryable);
    assert_eq!(
        error.message,
        format!(
            r#"OAuth token endpoint {endpoint} answered 400 Bad Request: {{"error":"invalid_client"}}"#
        )
    );
    assert!(server.seen.lock().unwrap().is_empty(), "nothing was sent");

    // A token endpoint that is not there at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    let HttpAuth::OAuth(mut o) = auth else {
        unreachable!()
    };
    o.token_endpoint = gone.clone();
    let target = self::target(&client(), &url, Some(&HttpAuth::OAuth(o)));
    let error = deliver(&target, "{}").await.unwrap_err();
    assert_eq!(error.code, "OAuthTokenFailed");
    assert!(error.retryable);
    assert!(
        error.message.starts_with(&format!(
            "OAuth token endpoint {gone} could not be reached: "
        )),
        "{}",
        error.message
    );

    // An answer without an access token.
    let mut odd = OAuthServer::new(None);
    odd.fail_with = Some((StatusCode::OK, r#"{"token": "x"}"#));
    let (_, url, auth) = oauth_setup(odd).await;
    let HttpAuth::OAuth(o) = &auth else {
        unreachable!()
    };
    let endpoint = o.token_endpoint.clone();
    let error = deliver(&self::target(&client(), &url, Some(&auth)), "{}")
        .await
        .unwrap_err();
    assert_eq!(error.code, "OAuthTokenFailed");
    assert_eq!(
        error.message,
        format!(
            r#"OAuth token endpoint {endpoint} answered 200 OK without an access_token: {{"token": "x"}}"#
        )
    );
}

#[tokio::test]
async fn rate_limit_delays_deliveries_and_drops_none() {
    let (url, received) = recording_endpoint().await;
    let n = 5;
    let target = Arc::new(client().target(&url, "POST", &[], None, Some(n)).unwrap());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..2 * n {
        let target = target.clone();
        tasks.spawn(async move { deliver(&target, "{}").await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    // A full bucket lets N through at once; the other N wait 1/N s each.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(received.count(), 2 * n as usize);
}

async fn answer(
    status: StatusCode,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
) -> String {
    let router = Router::new().route(
        "/events",
        post(move || async move {
            let mut response = (status, body).into_response();
            for (k, v) in headers {
                response
                    .headers_mut()
                    .insert(*k, axum::http::HeaderValue::from_static(v));
            }
            response
        }),
    );
    format!("http://{}/events", serve(router).await)
}

#[tokio::test]
async fn answers_are_classified_as_api_destinations_do() {
    let client = client();

    let url = answer(
        StatusCode::TOO_MANY_REQUESTS,
        &[("retry-after", "7")],
        "slow down",
    )
    .await;
    let error = deliver(&target(&client, &url, None), "{}")
        .await
        .unwrap_err();
    assert_eq!(error.code, "HttpError");
    assert!(error.retryable);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));

    let url = answer(StatusCode::SERVICE_UNAVAILABLE, &[], "down").await;
    let error = deliver(&target(&client, &url, None), "{}")
        .await
        .unwrap_err();
    assert!(error.retryable);
    assert_eq!(error.retry_after, None);
    assert_eq!(
        error.message,
        format!("POST {url} answered 503 Service Unavailable: down")
    );

    let long = "x".repeat(300);
    let body: &'static str = Box::leak(format!("no such thing {long}").into_boxed_str());
    let url = answer(StatusCode::NOT_FOUND, &[], body).await;
    let error = deliver(&target(&client, &url, None), "{}")
        .await
        .unwrap_err();
    assert_eq!(error.code, "HttpError");
    assert!(!error.retryable, "404 is final");
    assert_eq!(
        error.message,
        format!("POST {url} answered 404 Not Found: {}", &body[..256])
    );
}

#[tokio::test]
async fn a_slow_endpoint_times_out() {
    let router = Router::new().route(
        "/events",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK
        }),
    );
    let url = format!("http://{}/events", serve(router).await);
    let client = HttpClient::new(Duration::from_millis(200));
    let error = deliver(&target(&client, &url, None), "{}")
        .await
        .unwrap_err();
    assert_eq!(error.code, "HttpTimeout");
    assert!(error.retryable);
    assert!(
        error.message.starts_with(&format!("POST {url} timed out")),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_closed_connection_is_retryable() {
    // A server that reads the request and closes the connection without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await;
            drop(socket);
        }
    });
    let url = format!("http://{addr}/events");
    let error = deliver(&target(&client(), &url, None), "{}")
        .await
        .unwrap_err();
    assert!(error.retryable, "{error:?}");
    assert!(error.code.starts_with("Http"), "{error:?}");

    // Nobody listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/events", closed.local_addr().unwrap());
    drop(closed);
    let error = deliver(&target(&client(), &url, None), "{}")
        .await
        .unwrap_err();
    assert_eq!(error.code, "HttpConnectionFailed");
    assert!(error.retryable);
}
