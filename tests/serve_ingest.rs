//! PutEvents entry errors through the real server that the Python client tests do
//! not cover (botocore shapes `Time` and `EventBusName` before sending them), and
//! bodies that are not the operation's input shape.

mod serve_support;

use serde_json::{Value, json};
use serve_support::Server;

fn entry(extra: Value) -> Value {
    let mut e = json!({"Source": "app", "DetailType": "t", "Detail": "{}"});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_bus_name_errors_are_per_entry() {
    let server = Server::start(&[], "");
    let r = server
        .put_events(json!([
            entry(json!({"Time": "yesterday"})),
            entry(json!({"Time": 1_700_000_000.5})),
            entry(json!({"Time": "2024-01-01T01:00:00+01:00"})),
            entry(json!({"EventBusName": "no spaces"})),
            entry(json!({"EventBusName": "arn:aws:events:us-east-1:1:rule/x"})),
            entry(json!({"EventBusName": "arn:aws:events:us-east-1:1:event-bus/orders"})),
        ]))
        .await;
    assert_eq!(r["FailedEntryCount"], 3, "{r}");
    let e = r["Entries"].as_array().unwrap();
    assert_eq!(e[0]["ErrorCode"], "InvalidArgument");
    assert_eq!(
        e[0]["ErrorMessage"],
        "Parameter Time is not valid. Reason: Time must be epoch seconds or an RFC 3339 timestamp."
    );
    assert!(
        e[1]["EventId"].is_string() && e[2]["EventId"].is_string(),
        "{r}"
    );
    assert_eq!(e[3]["ErrorCode"], "InvalidArgument");
    assert_eq!(
        e[3]["ErrorMessage"],
        "Parameter EventBusName is not valid. Reason: \"no spaces\" is not a valid event bus name."
    );
    assert_eq!(
        e[4]["ErrorMessage"],
        "Parameter EventBusName is not valid. Reason: arn:aws:events:us-east-1:1:rule/x is not an event bus ARN."
    );
    assert!(
        e[5]["EventId"].is_string(),
        "an event bus ARN names the bus"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_the_input_shape_are_serialization_errors() {
    let server = Server::start(&[], "");
    let (status, body) = server.aws("PutEvents", json!({"Entries": "nope"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid input for this operation: invalid type: string \"nope\", expected a sequence"),
        "{body}"
    );
    let (status, body) = server.aws("PutEvents", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_an_aws_error_not_plain_text() {
    let server = Server::start(&[], "[limits]\nmax_body_bytes = 1000\n");
    let big = "x".repeat(2_000);
    let (status, body) = server
        .aws(
            "PutEvents",
            json!({"Entries": [{"Source": "a", "DetailType": "t", "Detail": big}]}),
        )
        .await;
    assert_eq!(status, 400, "a client mistake, never retried");
    assert_eq!(body["__type"], "ValidationException");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("the request body cannot be read: "),
        "{message}"
    );
    assert!(
        message.ends_with("(the limit is limits.max_body_bytes = 1000 bytes)"),
        "{message}"
    );
    let r = reqwest::Client::new()
        .post(server.url("/"))
        .header("x-amz-target", "AWSEvents.PutEvents")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.headers().contains_key("x-amzn-requestid"),
        "every AWS answer has a request id: {:?}",
        r.headers()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_requests_are_answered_on_any_path_even_the_admin_ones() {
    let server = Server::start(&[], "");
    for path in ["/healthz", "/metrics", "/status/rules", "/some/where"] {
        let r = reqwest::Client::new()
            .post(server.url(path))
            .header("x-amz-target", "AWSEvents.ListEventBuses")
            .header("content-type", "application/x-amz-json-1.1")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(body["EventBuses"][0]["Name"], "default", "{path}");
    }
}

async fn post_cloudevents(server: &Server, content_type: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(server.url("/cloudevents"))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudevents_extensions_must_be_scalars_and_batches_must_fit() {
    let server = Server::start(&[], "[router]\nmax_in_flight_events = 2\n");
    let event =
        |i: u32| json!({"specversion": "1.0", "id": i.to_string(), "source": "s", "type": "t"});
    let mut bad = event(1);
    bad["myext"] = json!({"nested": true});
    let (status, body) = post_cloudevents(&server, "application/cloudevents+json", bad).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "attribute myext must be a string, number or boolean, found an object"
    );

    let batch = json!([event(1), event(2), event(3)]);
    let (status, body) =
        post_cloudevents(&server, "application/cloudevents-batch+json", batch).await;
    assert_eq!(status, 413);
    assert_eq!(
        body["message"],
        "a batch of 3 events can never be admitted: router.max_in_flight_events is 2; split the batch"
    );
    let (status, _) = post_cloudevents(
        &server,
        "application/cloudevents-batch+json",
        json!([event(1), event(2)]),
    )
    .await;
    assert_eq!(status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wildcard_complexity_limit_is_configurable_for_rule_loading() {
    let rule = json!({
        "Name": "arns",
        "EventPattern": {"resources": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},
        "Targets": [{"Id": "t", "Stdout": {}}]
    })
    .to_string();
    let strict = Server::start(&[("r.json", &rule)], "");
    let (_, status) = strict.get("/status/rules").await;
    assert!(status.contains("Rule is too complex"), "{status}");
    let lenient = Server::start(
        &[("r.json", &rule)],
        "[limits]\nmax_wildcard_complexity = 20\n",
    );
    let (_, status) = lenient.get("/status/rules").await;
    let s: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(s["rules"], 1, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_operation_inputs_are_validation_errors() {
    let server = Server::start(&[], "");
    let cases = [
        (
            "TestEventPattern",
            json!({"Event": "{}"}),
            "1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null",
        ),
        (
            "TestEventPattern",
            json!({"EventPattern": "{}"}),
            "1 validation error detected: Value null at 'event' failed to satisfy constraint: Member must not be null",
        ),
        (
            "DescribeRule",
            json!({}),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        ),
        (
            "ListTargetsByRule",
            json!({}),
            "1 validation error detected: Value null at 'rule' failed to satisfy constraint: Member must not be null",
        ),
        (
            "ListRules",
            json!({"Limit": 0}),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100",
        ),
    ];
    for (op, body, message) in cases {
        let (status, answer) = server.aws(op, body).await;
        assert_eq!(status, 400, "{op}");
        assert_eq!(answer["__type"], "ValidationException", "{op}");
        assert_eq!(answer["message"], message, "{op}");
    }
}
