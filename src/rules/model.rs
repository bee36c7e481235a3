//! The rule model: plain data for rules and targets after validation.
//!
//! It owns the shapes (with EventBridge's names and defaults) and nothing else:
//! reading files into these types is `parse`, checks across files are `directory`,
//! and delivering, transforming and retrying are later stages that read these types.

use std::path::PathBuf;

use serde::Serialize;

use crate::pattern::Pattern;

/// A 1-based line and column in a rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One validated rule (CloudFormation `AWS::Events::Rule` properties).
#[derive(Debug, Clone)]
pub struct Rule {
    /// `Name`: 1 to 64 of `[.\-_A-Za-z0-9]`, unique across the directory.
    pub name: String,
    /// `Description`: at most 512 characters.
    pub description: Option<String>,
    /// `EventBusName`: the bus whose events the rule sees (default `default`).
    pub event_bus_name: String,
    /// `State`.
    pub state: RuleState,
    /// `EventPattern`, validated.
    pub event_pattern: Pattern,
    /// `EventPattern` as text, compact (what `DescribeRule` and `ListRules` show).
    pub event_pattern_text: String,
    /// `Targets`: at most 5, ids unique within the rule.
    pub targets: Vec<Target>,
    /// The file the rule came from and where its `Name` value stands there.
    pub file: PathBuf,
    pub at: Position,
}

impl Rule {
    pub fn is_enabled(&self) -> bool {
        self.state != RuleState::Disabled
    }
}

/// `State`. EventBridge's `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` is read as
/// enabled: switchyard has no CloudTrail events to leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RuleState {
    Enabled,
    EnabledWithAllCloudtrailManagementEvents,
    Disabled,
}

/// One target of a rule.
#[derive(Debug, Clone)]
pub struct Target {
    /// `Id`: 1 to 64 of `[.\-_A-Za-z0-9]`, unique within the rule.
    pub id: String,
    /// Where matched events go (switchyard's extension; EventBridge uses `Arn`).
    pub destination: Destination,
    /// Where the destination is written in the file (for cross-file checks).
    pub destination_at: Position,
    /// What is sent: the event, `Input`, `InputPath` or `InputTransformer`.
    pub input: TargetInput,
    /// `Transform`: a Wasm plugin run after the input is shaped.
    pub transform: Option<Transform>,
    /// `RetryPolicy`, with EventBridge's defaults when absent.
    pub retry_policy: RetryPolicy,
    /// `DeadLetterConfig`: where events go when delivery finally fails.
    pub dead_letter: Option<Destination>,
}

/// Where a target (or a dead-letter queue) delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `"Kafka": {"Topic", "KeyPath"?, "Key"?, "Headers"?, "Ordered"?}`: the
    /// record key is taken from the event (`KeyPath`) or constant (`Key`).
    Kafka {
        topic: String,
        key_path: Option<JsonPath>,
        key: Option<String>,
        headers: Vec<(String, String)>,
        /// Records with the same key reach the topic in the order their events
        /// were routed, also across retries.
        ordered: bool,
    },
    /// `"Http": {"Endpoint", "Method"?, "Headers"?, "Auth"?,
    /// "InvocationRateLimitPerSecond"?}` (EventBridge API destinations).
    Http {
        endpoint: String,
        method: String,
        headers: Vec<(String, String)>,
        /// `Auth`: how each request is authorized (EventBridge connections).
        auth: Option<HttpAuth>,
        /// `InvocationRateLimitPerSecond`: 1 to 300; requests beyond it wait.
        rate_limit_per_second: Option<u32>,
    },
    /// `"File": {"Path"}`: JSON Lines appended to the file.
    File { path: PathBuf },
    /// `"Stdout": {}`: JSON Lines on standard output.
    Stdout,
    /// `"EventBus": {"Name"}`: put the event on another bus of this switchyard.
    EventBus { name: String },
}

/// `Http.Auth`: exactly one kind, in the style of EventBridge connections'
/// `AuthParameters`. Rule files name where secrets are, never the secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    /// `"Basic": {"Username", "PasswordEnv" | "PasswordFile"}`.
    Basic { username: String, password: Secret },
    /// `"ApiKey": {"Name", "ValueEnv" | "ValueFile"}`: header name and value.
    ApiKey { name: String, value: Secret },
    /// `"Bearer": {"TokenEnv" | "TokenFile"}`: `Authorization: Bearer <token>`.
    Bearer { token: Secret },
    /// `"OAuth": {...}`: a client credentials grant.
    OAuth(OAuthClientCredentials),
}

/// `Http.Auth.OAuth`: OAuth 2 client credentials (RFC 6749 section 4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientCredentials {
    /// `TokenEndpoint`: an `http://` or `https://` URL.
    pub token_endpoint: String,
    /// `ClientId`.
    pub client_id: String,
    /// `ClientSecretEnv` or `ClientSecretFile`.
    pub client_secret: Secret,
    /// `Scope`, sent as `scope` when given.
    pub scope: Option<String>,
    /// `HttpMethod` of the token request: `POST` (default), `PUT` or `GET`.
    pub http_method: String,
}

/// Where a secret is read when the target is built (`...Env` or `...File`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The name of an environment variable of the switchyard process.
    Env(String),
    /// A file holding the secret (one trailing line break is not part of it).
    File(PathBuf),
}

/// What a target receives (EventBridge allows at most one of the three fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetInput {
    /// None of `Input`, `InputPath`, `InputTransformer`: the whole matched event.
    MatchedEvent,
    /// `Input`: this constant JSON text instead of the event.
    Constant(String),
    /// `InputPath`: the part of the event this path selects.
    Path(JsonPath),
    /// `InputTransformer`.
    Transformer(InputTransformer),
}

/// `InputTransformer`: values picked from the event, filled into a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTransformer {
    /// `InputPathsMap`, in file order: placeholder name and the path it reads.
    pub input_paths_map: Vec<(String, JsonPath)>,
    /// `InputTemplate`, with `<name>` placeholders.
    pub input_template: String,
}

/// A JSONPath in EventBridge's dialect (dot notation, array indices, wildcards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    /// As written in the rule, e.g. `$.detail.instance-id`.
    pub text: String,
    /// The same path in RFC 9535 bracket notation, e.g. `$['detail']['instance-id']`,
    /// which `jsonpath-rust` evaluates (it does not accept `-` in dot notation).
    pub normalized: String,
}

/// `Transform`: a Wasm plugin, `plugins/<Plugin>.wasm`, and its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    pub plugin: String,
    pub plugin_path: PathBuf,
    /// `Config` as compact JSON text (an object); `{}` when absent.
    pub config: String,
    pub limits: TransformLimits,
}

/// `Transform.Limits`: this target's own sandbox limits; an unset one is the
/// `[plugins]` configuration's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransformLimits {
    pub timeout_ms: Option<u64>,
    pub memory_mib: Option<u64>,
    pub maximum_outputs: Option<usize>,
    pub maximum_output_bytes: Option<usize>,
}

/// `RetryPolicy`, with EventBridge's ranges and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetryPolicy {
    /// 0 to 185, default 185.
    pub maximum_retry_attempts: u32,
    /// 60 to 86400, default 86400 (24 hours).
    pub maximum_event_age_in_seconds: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            maximum_retry_attempts: 185,
            maximum_event_age_in_seconds: 86_400,
        }
    }
}
