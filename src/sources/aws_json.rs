//! The AWS JSON 1.1 protocol as EventBridge speaks it: `POST` on any path, the
//! operation in `X-Amz-Target: AWSEvents.<Op>`, JSON bodies, and errors as status
//! 400 with `{"__type": code, "message": ...}` plus the `X-Amzn-ErrorType` header
//! (botocore reads the body, the Rust, Go and JS SDKs the header). A client's
//! mistake is never a 5xx: SDKs retry those for seconds.
//!
//! It owns framing, dispatch and error shapes; each operation's meaning is in
//! `put_events` and `rules_api`.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::SourceContext;
use super::{put_events, rules_api};

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An EventBridge error: its code (`__type`), message and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn validation(message: impl Into<String>) -> AwsError {
        AwsError::client("ValidationException", message)
    }

    pub fn client(code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }
}

/// Operations that change rules: rules are files here.
const WRITE_OPERATIONS: &[&str] = &[
    "PutRule",
    "DeleteRule",
    "PutTargets",
    "RemoveTargets",
    "EnableRule",
    "DisableRule",
    "CreateEventBus",
    "DeleteEventBus",
    "UpdateEventBus",
    "PutPermission",
    "RemovePermission",
    "TagResource",
    "UntagResource",
    "CreateArchive",
    "DeleteArchive",
    "UpdateArchive",
    "StartReplay",
    "CancelReplay",
    "CreateApiDestination",
    "DeleteApiDestination",
    "UpdateApiDestination",
    "CreateConnection",
    "DeleteConnection",
    "UpdateConnection",
    "CreateEndpoint",
    "DeleteEndpoint",
    "UpdateEndpoint",
    "PutPartnerEvents",
];

/// Answers one AWS JSON request.
pub fn handle(ctx: &SourceContext, headers: &HeaderMap, body: &[u8]) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let result = dispatch(ctx, headers, body);
    let response = match result {
        Ok(json) => reply(StatusCode::OK, json),
        Err(e) => error_response(&e),
    };
    with_request_id(response, &request_id)
}

fn dispatch(ctx: &SourceContext, headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AwsError::client(
                "UnknownOperationException",
                "missing the X-Amz-Target header: say which operation to run, e.g. X-Amz-Target: AWSEvents.PutEvents",
            )
        })?;
    let Some(operation) = target.strip_prefix("AWSEvents.") else {
        return Err(AwsError::client(
            "UnknownOperationException",
            format!(
                "unknown operation {target:?}: EventBridge operations are AWSEvents.<Operation>"
            ),
        ));
    };
    match operation {
        "PutEvents" => put_events::put_events(ctx, body),
        "TestEventPattern" => rules_api::test_event_pattern(ctx, body),
        "ListRules" => rules_api::list_rules(ctx, body),
        "DescribeRule" => rules_api::describe_rule(ctx, body),
        "ListTargetsByRule" => rules_api::list_targets_by_rule(ctx, body),
        "ListEventBuses" => rules_api::list_event_buses(ctx, body),
        "DescribeEventBus" => rules_api::describe_event_bus(ctx, body),
        op if WRITE_OPERATIONS.contains(&op) => Err(AwsError::validation(format!(
            "{op} is not supported: switchyard's rules are files. Edit the rule files in {} instead; changes are live within a second",
            ctx.rules_dir.display()
        ))),
        op => Err(AwsError::client(
            "UnknownOperationException",
            format!("switchyard does not support the operation {op}"),
        )),
    }
}

/// Reads a request body into the operation's input shape; a body that is not
/// that shape is a `SerializationException`, as on AWS.
pub fn read_input<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        AwsError::client(
            "SerializationException",
            format!("the request body is not valid input for this operation: {e}"),
        )
    })
}

/// Serializes an operation's output.
pub fn output(value: &impl Serialize) -> Result<Vec<u8>, AwsError> {
    serde_json::to_vec(value).map_err(|e| AwsError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "InternalException",
        message: e.to_string(),
    })
}

fn reply(status: StatusCode, json: Vec<u8>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", CONTENT_TYPE)
        .body(Body::from(json))
        .expect("a valid response")
}

/// `{"__type", "message"}` with `X-Amzn-ErrorType`.
pub fn error_response(e: &AwsError) -> Response {
    let body = serde_json::json!({ "__type": e.code, "message": e.message });
    let mut response = reply(e.status, body.to_string().into_bytes());
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(e.code));
    response
}

pub fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}
