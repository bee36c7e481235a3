//! The `Http` destination, modelled on EventBridge API destinations: `Endpoint`,
//! `Method`, `Headers`, `InvocationRateLimitPerSecond`, and `Auth` in the style
//! of EventBridge connections (`Basic`, `ApiKey`, `Bearer`, `OAuth`).
//!
//! Secrets are never written in rule files: `Auth` names environment variables
//! (`...Env`) or files (`...File`), read when the target is built. Here only the
//! names are checked.

use std::path::PathBuf;

use crate::json::{Json, JsonValue, Member};
use crate::rules::model::{Destination, HttpAuth, OAuthClientCredentials, Secret};

use super::{Obj, Reader, join};

const HTTP_FIELDS: &[&str] = &[
    "Endpoint",
    "Method",
    "Headers",
    "Auth",
    "InvocationRateLimitPerSecond",
];
const AUTH_KINDS: &[&str] = &["Basic", "ApiKey", "Bearer", "OAuth"];
/// API destinations' range for `InvocationRateLimitPerSecond`.
const RATE_LIMIT: (u64, u64) = (1, 300);

/// Advice for a secret written where its `Env`/`File` fields belong.
fn secret_advice(stem: &'static str) -> (&'static str, String) {
    (
        stem,
        format!(
            "secrets are not written in rule files: give {stem}Env (the name of an environment variable holding it) or {stem}File (the path of a file holding it)"
        ),
    )
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_env_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Reader<'_> {
    pub(super) fn http(&mut self, json: &Json, location: &str) -> Option<Destination> {
        let o = self.object(json, location, HTTP_FIELDS)?;
        let endpoint = match o.get("Endpoint") {
            Some(v) => self.http_url(v, &join(location, "Endpoint")),
            None => {
                self.missing(&o, location, "Endpoint");
                None
            }
        };
        let method = match o.get("Method") {
            None => Some("POST"),
            Some(v) => {
                let here = join(location, "Method");
                match self.string(v, &here) {
                    Some(m @ ("POST" | "PUT" | "PATCH")) => Some(m),
                    Some(other) => {
                        self.problem(
                            v,
                            &here,
                            format!("\"{other}\" is not a delivery method: use POST, PUT or PATCH"),
                        );
                        None
                    }
                    None => None,
                }
            }
        };
        let headers = match o.get("Headers") {
            Some(v) => self.headers(
                v,
                &join(location, "Headers"),
                |name| {
                    if !is_header_name(name) {
                        Some(format!("\"{name}\" is not a valid HTTP header name"))
                    } else if is_credential_header(name) {
                        Some(format!(
                            "secrets are not written in rule files: remove \"{name}\" and give the \
                             credential with Auth (Basic, ApiKey, Bearer or OAuth), which reads it \
                             from an environment variable or a file"
                        ))
                    } else {
                        None
                    }
                },
                |value| {
                    value
                        .chars()
                        .any(char::is_control)
                        .then(|| "header values cannot hold control characters".to_string())
                },
            ),
            None => Some(Vec::new()),
        };
        let mut headers_ok = headers.is_some();
        let headers = headers.unwrap_or_default();
        let rate_limit = match o.get("InvocationRateLimitPerSecond") {
            None => Some(None),
            Some(v) => {
                let here = join(location, "InvocationRateLimitPerSecond");
                self.whole_number(v, &here, RATE_LIMIT)
                    .map(|n| Some(n as u32))
            }
        };
        let auth = match o.get("Auth") {
            None => Some(None),
            Some(v) => self.auth(v, &join(location, "Auth")).map(Some),
        };
        if let (Some(Some(auth)), Some(v)) = (&auth, o.get("Headers")) {
            let (kind, set) = match auth {
                HttpAuth::Basic { .. } => ("Basic", "Authorization"),
                HttpAuth::Bearer { .. } => ("Bearer", "Authorization"),
                HttpAuth::OAuth(_) => ("OAuth", "Authorization"),
                HttpAuth::ApiKey { name, .. } => ("ApiKey", name.as_str()),
            };
            if let JsonValue::Object(members) = &v.value
                && let Some(m) = members
                    .iter()
                    .find(|m| m.key.eq_ignore_ascii_case(set) && !is_credential_header(&m.key))
            {
                self.problem_at(
                    m.key_span.start,
                    &join(&join(location, "Headers"), &m.key),
                    format!(
                        "Auth.{kind} sets the {set} header: remove \"{}\" from Headers",
                        m.key
                    ),
                );
                headers_ok = false;
            }
        }
        if !headers_ok {
            return None;
        }
        Some(Destination::Http {
            endpoint: endpoint?.to_string(),
            method: method?.to_string(),
            headers,
            auth: auth?,
            rate_limit_per_second: rate_limit?,
        })
    }

    /// An `http://` or `https://` URL with a host.
    fn http_url<'j>(&mut self, json: &'j Json, location: &str) -> Option<&'j str> {
        let s = self.string(json, location)?;
        let rest = s
            .strip_prefix("http://")
            .or_else(|| s.strip_prefix("https://"));
        match rest {
            Some(rest)
                if !rest.is_empty()
                    && !rest.starts_with('/')
                    && !s.chars().any(char::is_whitespace) =>
            {
                match reqwest::Url::parse(s) {
                    Ok(_) => Some(s),
                    Err(e) => {
                        self.problem(json, location, format!("\"{s}\" is not a valid URL: {e}"));
                        None
                    }
                }
            }
            _ => {
                self.problem(
                    json,
                    location,
                    format!("\"{s}\" is not an http:// or https:// URL with a host"),
                );
                None
            }
        }
    }

    /// `Headers`: an object of names to string values; `bad_name` and
    /// `bad_value` say what is wrong with one. `None` when anything is (each
    /// problem reported where it is).
    pub(super) fn headers(
        &mut self,
        json: &Json,
        location: &str,
        bad_name: impl Fn(&str) -> Option<String>,
        bad_value: impl Fn(&str) -> Option<String>,
    ) -> Option<Vec<(String, String)>> {
        let JsonValue::Object(members) = &json.value else {
            self.type_problem(json, location, "an object of header names to values");
            return None;
        };
        let mut headers = Vec::with_capacity(members.len());
        let mut ok = true;
        for m in members {
            let at = join(location, &m.key);
            if let Some(why) = bad_name(&m.key) {
                self.problem_at(m.key_span.start, &at, why);
                ok = false;
            }
            match self.string(&m.value, &at) {
                Some(value) => match bad_value(value) {
                    Some(why) => {
                        self.problem(&m.value, &at, why);
                        ok = false;
                    }
                    None => headers.push((m.key.clone(), value.to_string())),
                },
                None => ok = false,
            }
        }
        ok.then_some(headers)
    }

    /// A whole number within `low..=high`.
    pub(super) fn whole_number(
        &mut self,
        json: &Json,
        location: &str,
        (low, high): (u64, u64),
    ) -> Option<u64> {
        let JsonValue::Number(n) = &json.value else {
            self.type_problem(json, location, "a whole number");
            return None;
        };
        match n.parse::<u64>() {
            Ok(x) if (low..=high).contains(&x) => Some(x),
            Ok(_) => {
                self.problem(
                    json,
                    location,
                    format!("{n} is out of range: use {low} to {high}"),
                );
                None
            }
            Err(_) => {
                self.problem(
                    json,
                    location,
                    format!("{n} is not a whole number: use {low} to {high}"),
                );
                None
            }
        }
    }

    /// `Auth`: exactly one of `Basic`, `ApiKey`, `Bearer`, `OAuth`.
    fn auth(&mut self, json: &Json, location: &str) -> Option<HttpAuth> {
        let obj = self.object(json, location, AUTH_KINDS)?;
        let member: &Member = match obj.members.as_slice() {
            [] => {
                self.problem(
                    json,
                    location,
                    "missing authorization: give exactly one of Basic, ApiKey, Bearer or OAuth"
                        .into(),
                );
                return None;
            }
            [one] => one,
            [first, second, ..] => {
                self.problem_at(
                    second.key_span.start,
                    &join(location, &second.key),
                    format!(
                        "give exactly one authorization, but both {} and {} are given",
                        first.key, second.key
                    ),
                );
                return None;
            }
        };
        let here = join(location, &member.key);
        let json = &member.value;
        match member.key.as_str() {
            "Basic" => {
                let advice = secret_advice("Password");
                let o = self.object_with_advice(
                    json,
                    &here,
                    &["Username", "PasswordEnv", "PasswordFile"],
                    &[(advice.0, advice.1.as_str())],
                )?;
                let username = match o.get("Username") {
                    Some(v) => self.username(v, &join(&here, "Username")),
                    None => {
                        self.missing(&o, &here, "Username");
                        None
                    }
                };
                let password = self.secret(&o, &here, "Password", "password");
                Some(HttpAuth::Basic {
                    username: username?.to_string(),
                    password: password?,
                })
            }
            "ApiKey" => {
                let advice = secret_advice("Value");
                let o = self.object_with_advice(
                    json,
                    &here,
                    &["Name", "ValueEnv", "ValueFile"],
                    &[(advice.0, advice.1.as_str())],
                )?;
                let name = match o.get("Name") {
                    Some(v) => {
                        let at = join(&here, "Name");
                        self.string(v, &at).and_then(|name| {
                            if is_header_name(name) {
                                Some(name)
                            } else {
                                self.problem(
                                    v,
                                    &at,
                                    format!("\"{name}\" is not a valid HTTP header name"),
                                );
                                None
                            }
                        })
                    }
                    None => {
                        self.missing(&o, &here, "Name");
                        None
                    }
                };
                let value = self.secret(&o, &here, "Value", "API key");
                Some(HttpAuth::ApiKey {
                    name: name?.to_string(),
                    value: value?,
                })
            }
            "Bearer" => {
                let advice = secret_advice("Token");
                let o = self.object_with_advice(
                    json,
                    &here,
                    &["TokenEnv", "TokenFile"],
                    &[(advice.0, advice.1.as_str())],
                )?;
                let token = self.secret(&o, &here, "Token", "token")?;
                Some(HttpAuth::Bearer { token })
            }
            _ => self.oauth(json, &here).map(HttpAuth::OAuth),
        }
    }

    fn oauth(&mut self, json: &Json, location: &str) -> Option<OAuthClientCredentials> {
        let advice = secret_advice("ClientSecret");
        let o = self.object_with_advice(
            json,
            location,
            &[
                "TokenEndpoint",
                "ClientId",
                "ClientSecretEnv",
                "ClientSecretFile",
                "Scope",
                "HttpMethod",
            ],
            &[(advice.0, advice.1.as_str())],
        )?;
        let endpoint = match o.get("TokenEndpoint") {
            Some(v) => self.http_url(v, &join(location, "TokenEndpoint")),
            None => {
                self.missing(&o, location, "TokenEndpoint");
                None
            }
        };
        let client_id = match o.get("ClientId") {
            Some(v) => {
                let here = join(location, "ClientId");
                self.string(v, &here).and_then(|id| {
                    let why = if id.is_empty() {
                        "the client id cannot be empty"
                    } else if id.contains(':') {
                        "a client id cannot contain ':' (it is sent with HTTP Basic authentication)"
                    } else if id.chars().any(char::is_control) {
                        "the client id cannot hold control characters"
                    } else {
                        return Some(id);
                    };
                    self.problem(v, &here, why.into());
                    None
                })
            }
            None => {
                self.missing(&o, location, "ClientId");
                None
            }
        };
        let secret = self.secret(&o, location, "ClientSecret", "client secret");
        let scope = match o.get("Scope") {
            None => Some(None),
            Some(v) => {
                let here = join(location, "Scope");
                self.string(v, &here).and_then(|scope| {
                    if scope.trim().is_empty() || scope.chars().any(char::is_control) {
                        self.problem(
                            v,
                            &here,
                            "give scopes separated by spaces, such as \"events:write\"".into(),
                        );
                        None
                    } else {
                        Some(Some(scope.to_string()))
                    }
                })
            }
        };
        let method = match o.get("HttpMethod") {
            None => Some("POST"),
            Some(v) => {
                let here = join(location, "HttpMethod");
                match self.string(v, &here) {
                    Some(m @ ("POST" | "PUT" | "GET")) => Some(m),
                    Some(other) => {
                        self.problem(
                            v,
                            &here,
                            format!(
                                "\"{other}\" is not a token request method: use POST, PUT or GET"
                            ),
                        );
                        None
                    }
                    None => None,
                }
            }
        };
        Some(OAuthClientCredentials {
            token_endpoint: endpoint?.to_string(),
            client_id: client_id?.to_string(),
            client_secret: secret?,
            scope: scope?,
            http_method: method?.to_string(),
        })
    }

    /// A Basic user name: not empty, no `:` (RFC 7617), no control characters.
    fn username<'j>(&mut self, json: &'j Json, location: &str) -> Option<&'j str> {
        let name = self.string(json, location)?;
        let why = if name.is_empty() {
            "the username cannot be empty"
        } else if name.contains(':') {
            "a Basic username cannot contain ':'"
        } else if name.chars().any(char::is_control) {
            "the username cannot hold control characters"
        } else {
            return Some(name);
        };
        self.problem(json, location, why.into());
        None
    }

    /// Exactly one of `<stem>Env` (an environment variable's name) and
    /// `<stem>File` (a path); `what` names the secret in messages.
    fn secret(&mut self, obj: &Obj, location: &str, stem: &str, what: &str) -> Option<Secret> {
        let env_key = format!("{stem}Env");
        let file_key = format!("{stem}File");
        let member = match (obj.member(&env_key), obj.member(&file_key)) {
            (None, None) => {
                self.problem(
                    obj.json,
                    location,
                    format!(
                        "missing the {what}: give {env_key} (the name of an environment variable holding it) or {file_key} (the path of a file holding it)"
                    ),
                );
                return None;
            }
            (Some(a), Some(b)) => {
                let later = if a.key_span.start < b.key_span.start {
                    b
                } else {
                    a
                };
                self.problem_at(
                    later.key_span.start,
                    &join(location, &later.key),
                    format!("give {env_key} or {file_key}, not both"),
                );
                return None;
            }
            (Some(m), None) | (None, Some(m)) => m,
        };
        let here = join(location, &member.key);
        let value = self.string(&member.value, &here)?;
        if member.key == env_key {
            if !is_env_name(value) {
                self.problem(
                    &member.value,
                    &here,
                    format!(
                        "\"{value}\" is not an environment variable name: use letters, digits and '_', not starting with a digit"
                    ),
                );
                return None;
            }
            Some(Secret::Env(value.to_string()))
        } else {
            if value.is_empty() || value.contains('\0') {
                self.problem(
                    &member.value,
                    &here,
                    "give a file path, such as \"/run/secrets/token\"".into(),
                );
                return None;
            }
            Some(Secret::File(PathBuf::from(value)))
        }
    }
}

/// Headers that carry credentials: never taken from a rule file.
fn is_credential_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("proxy-authorization")
}
