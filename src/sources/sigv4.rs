//! AWS Signature Version 4 verification of AWS JSON requests (service `events`).
//!
//! It owns deciding whether one request is signed by the configured key:
//! parsing the `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/date/
//! region/events/aws4_request, SignedHeaders=..., Signature=...`), checking the
//! credential scope and the `X-Amz-Date` window (15 minutes either way), and
//! recomputing the signature over the method, path, query, the signed headers
//! only and the body with `aws-sigv4`'s signer (the algorithm is not written
//! here), compared in constant time. Verdicts are EventBridge's error codes, all
//! status 400 as the AWS JSON services answer them; never a 5xx.
//!
//! Any region in the credential scope is accepted (the signature still covers it;
//! envelopes take `server.region` regardless). A signed `X-Amz-Security-Token`
//! is covered by the signature but not checked against anything: there is one
//! static key. Only header signatures are understood (no presigned query
//! strings, no SigV4a, no `Date` header instead of `X-Amz-Date`).
//!
//! Not here: which requests need it (the AWS JSON path, through
//! `aws_json::handle`; CloudEvents is not SigV4-signed and stays open), and
//! reading the secret (`config::read_secret`, at startup).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use axum::http::{HeaderMap, Uri};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::macros::format_description;

use super::aws_json::AwsError;
use crate::config::{AuthConfig, read_secret};

/// The signing name clients use for EventBridge.
pub const SERVICE: &str = "events";
/// How far `X-Amz-Date` may be from the server's clock, either way.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SECURITY_TOKEN: &str = "x-amz-security-token";

pub const MISSING_TOKEN: &str = "MissingAuthenticationTokenException";
pub const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";
pub const INVALID_SIGNATURE: &str = "InvalidSignatureException";
pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";

pub const MISSING_TOKEN_MESSAGE: &str = "Missing Authentication Token";
pub const UNRECOGNIZED_CLIENT_MESSAGE: &str =
    "The security token included in the request is invalid.";
pub const INVALID_SIGNATURE_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Checks requests against the one configured key; built once at startup.
pub struct Verifier {
    access_key_id: String,
    identity_secret: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The parts of an `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl Verifier {
    /// `None` when no access key is configured (requests are not checked);
    /// `Err` when the secret cannot be read or either part is empty.
    pub fn from_config(auth: &AuthConfig) -> Result<Option<Verifier>, String> {
        let Some(access_key_id) = &auth.access_key_id else {
            return Ok(None);
        };
        if access_key_id.is_empty() {
            return Err("auth.access_key_id is empty".into());
        }
        let secret = read_secret(
            auth.secret_access_key_env.as_deref(),
            auth.secret_access_key_file.as_deref(),
            "auth secret access key",
        )?;
        if secret.is_empty() {
            return Err("auth secret access key: the secret is empty".into());
        }
        Ok(Some(Verifier::new(access_key_id, &secret)))
    }

    pub fn new(access_key_id: &str, secret_access_key: &str) -> Verifier {
        Verifier {
            access_key_id: access_key_id.to_string(),
            identity_secret: secret_access_key.to_string(),
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Whether the request is signed by the configured key, now.
    pub fn verify(
        &self,
        method: &str,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AwsError> {
        self.verify_at(method, uri, headers, body, SystemTime::now())
    }

    /// [`Verifier::verify`] with the server's clock at `now`.
    pub fn verify_at(
        &self,
        method: &str,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), AwsError> {
        let Some(header) = headers.get("authorization") else {
            return Err(AwsError::client(MISSING_TOKEN, MISSING_TOKEN_MESSAGE));
        };
        let header = header
            .to_str()
            .map_err(|_| incomplete("the Authorization header is not ASCII text"))?;
        let auth = parse_authorization(header)?;

        let amz_date = headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                incomplete(format!(
                    "Authorization header requires existence of a 'X-Amz-Date' header (switchyard does not accept 'Date' instead). Authorization={header}"
                ))
            })?;
        let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
            incomplete(format!(
                "X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', not '{amz_date}'"
            ))
        })?;

        if auth.service != SERVICE {
            return Err(invalid(format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            )));
        }
        if auth.access_key_id != self.access_key_id {
            return Err(AwsError::client(
                UNRECOGNIZED_CLIENT,
                UNRECOGNIZED_CLIENT_MESSAGE,
            ));
        }
        if auth.date != &amz_date[..8] {
            return Err(invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                &amz_date[..8]
            )));
        }
        check_window(signed_at, now)?;
        if !auth.signed_headers.contains(&"host") {
            return Err(incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        if !auth.signed_headers.contains(&"x-amz-date") {
            return Err(incomplete(
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }

        let expected = self.signature(method, uri, headers, body, &auth, signed_at)?;
        if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            Ok(())
        } else {
            Err(invalid(INVALID_SIGNATURE_MESSAGE))
        }
    }

    /// The signature an SDK holding our secret computes for this request.
    fn signature(
        &self,
        method: &str,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        auth: &Authorization<'_>,
        signed_at: SystemTime,
    ) -> Result<String, AwsError> {
        // The signer adds `x-amz-date` (from the time) and `x-amz-security-token`
        // (from the credentials) itself; every other signed header is passed as
        // received, every value of it, and nothing unsigned.
        let mut signed = Vec::new();
        let mut session_token = None;
        for name in &auth.signed_headers {
            let values = headers.get_all(*name);
            if *name == SECURITY_TOKEN {
                session_token = values.iter().next().and_then(|v| v.to_str().ok());
                continue;
            }
            if *name == "x-amz-date" {
                continue;
            }
            for value in values {
                let value = value
                    .to_str()
                    .map_err(|_| invalid(INVALID_SIGNATURE_MESSAGE))?;
                signed.push((*name, value));
            }
        }
        let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
        // The `host` header is signed (checked above), so the authority here is
        // never used; it only makes the URI absolute as the signer wants it.
        let full_uri = format!("http://switchyard.invalid{path_and_query}");
        let request = SignableRequest::new(
            method,
            full_uri,
            signed.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|_| invalid(INVALID_SIGNATURE_MESSAGE))?;

        let identity = Credentials::new(
            &self.access_key_id,
            &self.identity_secret,
            session_token.map(str::to_string),
            None,
            "switchyard",
        )
        .into();
        let mut settings = SigningSettings::default();
        // Only the client's signed headers are given, so none is dropped.
        settings.excluded_headers = Some(Vec::new());
        let params = SigningParams::builder()
            .identity(&identity)
            .region(auth.region)
            .name(SERVICE)
            .time(signed_at)
            .settings(settings)
            .build()
            .map_err(|_| invalid(INVALID_SIGNATURE_MESSAGE))?
            .into();
        let output = sign(request, &params).map_err(|_| invalid(INVALID_SIGNATURE_MESSAGE))?;
        Ok(output.signature().to_string())
    }
}

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::client(INVALID_SIGNATURE, message)
}

fn incomplete(message: impl Into<String>) -> AwsError {
    AwsError::client(INCOMPLETE_SIGNATURE, message)
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, AwsError> {
    let Some(rest) = header
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
    else {
        let scheme = header.split(' ').next().unwrap_or_default();
        return Err(incomplete(format!(
            "Unsupported Authorization Type '{scheme}': switchyard accepts AWS Signature Version 4 ({ALGORITHM}) only"
        )));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(incomplete(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if !missing.is_empty() {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );

    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/{SERVICE}/aws4_request, not '{credential}'."
        )));
    };
    if terminator != "aws4_request" {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if access_key_id.is_empty() {
        return Err(incomplete("Credential has an empty access key id."));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!(
            "Credential should be scoped to a date in the form YYYYMMDD, not '{date}'."
        )));
    }
    if region.is_empty() {
        return Err(incomplete("Credential should be scoped to a valid region."));
    }
    let signed_headers: Vec<&str> = signed_headers.split(';').collect();
    if signed_headers
        .iter()
        .any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(incomplete(format!(
            "SignedHeaders must be lowercase header names separated by ';', not '{}'.",
            signed_headers.join(";")
        )));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = time::PrimitiveDateTime::parse(value, format).ok()?;
    Some(parsed.assume_utc().into())
}

fn format_amz_date(at: SystemTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from(at)
        .format(format)
        .unwrap_or_else(|_| "?".into())
}

fn check_window(signed_at: SystemTime, now: SystemTime) -> Result<(), AwsError> {
    let minutes = MAX_SKEW.as_secs() / 60;
    if signed_at + MAX_SKEW < now {
        return Err(invalid(format!(
            "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
            format_amz_date(signed_at),
            format_amz_date(now - MAX_SKEW),
            format_amz_date(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(invalid(format!(
            "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
            format_amz_date(signed_at),
            format_amz_date(now + MAX_SKEW),
            format_amz_date(now)
        )));
    }
    Ok(())
}

/// Signs a request as an SDK does (test support, also for the integration test's
/// shape): the headers to add (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` when given).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_like_an_sdk(
    access_key_id: &str,
    secret: &str,
    region: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    at: SystemTime,
) -> Vec<(String, String)> {
    let identity = Credentials::new(access_key_id, secret, None, None, "test").into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        method,
        uri,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    const AKID: &str = "AKIDSWITCHYARDTEST";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const BODY: &[u8] = br#"{"Entries":[{"Source":"a","DetailType":"b","Detail":"{}"}]}"#;

    fn now() -> SystemTime {
        parse_amz_date("20261201T120000Z").unwrap()
    }

    /// A PutEvents request as botocore sends it, signed with `secret` at `at`.
    fn signed_request(akid: &str, secret: &str, at: SystemTime) -> HeaderMap {
        let base = [
            ("host", "127.0.0.1:8088"),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSEvents.PutEvents"),
            ("user-agent", "aws-cli/2 botocore/1"),
        ];
        let added = sign_like_an_sdk(
            akid,
            secret,
            "eu-west-1",
            "POST",
            "http://127.0.0.1:8088/",
            &base,
            BODY,
            at,
        );
        let mut headers = HeaderMap::new();
        for (k, v) in base {
            headers.insert(k, HeaderValue::from_static(v));
        }
        for (k, v) in added {
            headers.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(&v).unwrap(),
            );
        }
        headers
    }

    fn verify(headers: &HeaderMap, body: &[u8]) -> Result<(), AwsError> {
        Verifier::new(AKID, SECRET).verify_at("POST", &Uri::from_static("/"), headers, body, now())
    }

    fn code(r: Result<(), AwsError>) -> (&'static str, String) {
        let e = r.unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        (e.code, e.message)
    }

    #[test]
    fn a_good_signature_is_accepted() {
        let headers = signed_request(AKID, SECRET, now());
        let auth = headers["authorization"].to_str().unwrap();
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{auth}"
        );
        verify(&headers, BODY).unwrap();
        // Within the window either way.
        verify(
            &signed_request(AKID, SECRET, now() - Duration::from_secs(14 * 60)),
            BODY,
        )
        .unwrap();
        verify(
            &signed_request(AKID, SECRET, now() + Duration::from_secs(14 * 60)),
            BODY,
        )
        .unwrap();
    }

    #[test]
    fn a_session_token_is_covered_by_the_signature() {
        let identity = Credentials::new(AKID, SECRET, Some("TOKEN".into()), None, "test").into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(SERVICE)
            .time(now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let base = [
            ("host", "localhost"),
            ("x-amz-target", "AWSEvents.ListRules"),
        ];
        let request = SignableRequest::new(
            "POST",
            "http://localhost/",
            base.iter().copied(),
            SignableBody::Bytes(b"{}"),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        for (k, v) in base {
            headers.insert(k, HeaderValue::from_static(v));
        }
        for (k, v) in instructions.headers() {
            headers.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        verify(&headers, b"{}").unwrap();
        headers.insert(SECURITY_TOKEN, HeaderValue::from_static("OTHER"));
        assert_eq!(code(verify(&headers, b"{}")).0, INVALID_SIGNATURE);
    }

    #[test]
    fn a_wrong_secret_is_an_invalid_signature() {
        let headers = signed_request(AKID, "not-the-secret", now());
        assert_eq!(
            code(verify(&headers, BODY)),
            (INVALID_SIGNATURE, INVALID_SIGNATURE_MESSAGE.to_string())
        );
    }

    #[test]
    fn an_unknown_key_id_is_an_unrecognized_client() {
        let headers = signed_request("AKIDSOMEONEELSE", SECRET, now());
        assert_eq!(
            code(verify(&headers, BODY)),
            (UNRECOGNIZED_CLIENT, UNRECOGNIZED_CLIENT_MESSAGE.to_string())
        );
    }

    #[test]
    fn a_missing_header_is_a_missing_token() {
        let mut headers = signed_request(AKID, SECRET, now());
        headers.remove("authorization");
        assert_eq!(
            code(verify(&headers, BODY)),
            (MISSING_TOKEN, MISSING_TOKEN_MESSAGE.to_string())
        );
    }

    #[test]
    fn malformed_headers_are_incomplete_signatures() {
        let good = signed_request(AKID, SECRET, now());
        let auth = good["authorization"].to_str().unwrap().to_string();
        let cases = [
            ("Bearer abc".to_string(), "Unsupported Authorization Type"),
            (
                auth.replace("Signature=", "Sig"),
                "not a valid key=value pair",
            ),
            (
                auth.split(", Signature=").next().unwrap().to_string(),
                "requires 'Signature' parameter",
            ),
            (
                auth.replace("/aws4_request", "/aws4"),
                "valid terminator: 'aws4_request', not 'aws4'",
            ),
            (
                auth.replace("/eu-west-1/", "/"),
                "Credential must have the form",
            ),
            (
                auth.replace("content-type;host;", "content-type;"),
                "'Host' or ':authority' must be a 'SignedHeader'",
            ),
        ];
        for (value, expected) in cases {
            let mut headers = good.clone();
            headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
            let (c, message) = code(verify(&headers, BODY));
            assert_eq!(c, INCOMPLETE_SIGNATURE, "{value}: {message}");
            assert!(message.contains(expected), "{value}: {message}");
        }
        let mut headers = good.clone();
        headers.remove("x-amz-date");
        let (c, message) = code(verify(&headers, BODY));
        assert_eq!(c, INCOMPLETE_SIGNATURE);
        assert!(message.contains("'X-Amz-Date'"), "{message}");
        // Another service's scope is a signature problem, as on AWS.
        let mut headers = good.clone();
        let other = auth.replace("/events/", "/sqs/");
        headers.insert("authorization", HeaderValue::from_str(&other).unwrap());
        let (c, message) = code(verify(&headers, BODY));
        assert_eq!(c, INVALID_SIGNATURE);
        assert!(message.contains("correct service: 'events'"), "{message}");
    }

    #[test]
    fn a_date_outside_the_window_is_expired_or_not_yet_current() {
        let old = signed_request(AKID, SECRET, now() - Duration::from_secs(16 * 60));
        let (c, message) = code(verify(&old, BODY));
        assert_eq!(c, INVALID_SIGNATURE);
        assert_eq!(
            message,
            "Signature expired: 20261201T114400Z is now earlier than 20261201T114500Z (20261201T120000Z - 15 min.)"
        );
        let future = signed_request(AKID, SECRET, now() + Duration::from_secs(16 * 60));
        let (c, message) = code(verify(&future, BODY));
        assert_eq!(c, INVALID_SIGNATURE);
        assert!(
            message.starts_with("Signature not yet current: 20261201T121600Z"),
            "{message}"
        );
    }

    #[test]
    fn a_tampered_body_or_signed_header_is_an_invalid_signature() {
        let headers = signed_request(AKID, SECRET, now());
        let tampered = br#"{"Entries":[{"Source":"evil","DetailType":"b","Detail":"{}"}]}"#;
        assert_eq!(code(verify(&headers, tampered)).0, INVALID_SIGNATURE);

        let mut target = headers.clone();
        target.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSEvents.ListRules"),
        );
        assert_eq!(code(verify(&target, BODY)).0, INVALID_SIGNATURE);

        // A different date in the header than the one signed.
        let mut date = headers.clone();
        date.insert("x-amz-date", HeaderValue::from_static("20261201T120001Z"));
        assert_eq!(code(verify(&date, BODY)).0, INVALID_SIGNATURE);

        // Unsigned headers may change (proxies add and rewrite them).
        let mut unsigned = headers.clone();
        unsigned.insert("user-agent", HeaderValue::from_static("something else"));
        unsigned.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.1"));
        verify(&unsigned, BODY).unwrap();

        // The path is signed too.
        let e = Verifier::new(AKID, SECRET)
            .verify_at("POST", &Uri::from_static("/other"), &headers, BODY, now())
            .unwrap_err();
        assert_eq!(e.code, INVALID_SIGNATURE);
    }

    #[test]
    fn the_verifier_comes_from_the_config() {
        let off = AuthConfig::default();
        assert!(Verifier::from_config(&off).unwrap().is_none());
        let missing = AuthConfig {
            access_key_id: Some(AKID.into()),
            secret_access_key_env: Some("SWITCHYARD_TEST_SURELY_UNSET_SECRET".into()),
            secret_access_key_file: None,
        };
        let e = Verifier::from_config(&missing).unwrap_err();
        assert!(
            e.contains("SWITCHYARD_TEST_SURELY_UNSET_SECRET is not set"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, format!("{SECRET}\n")).unwrap();
        let from_file = AuthConfig {
            access_key_id: Some(AKID.into()),
            secret_access_key_env: None,
            secret_access_key_file: Some(file),
        };
        let v = Verifier::from_config(&from_file).unwrap().unwrap();
        v.verify_at(
            "POST",
            &Uri::from_static("/"),
            &signed_request(AKID, SECRET, now()),
            BODY,
            now(),
        )
        .unwrap();
    }
}
