//! Input shaping end to end: every case of `tests/data/input-transform-cases-public.jsonl`
//! (see `tests/data/input-transform-README.md`) goes through the real rule parser and
//! then `CompiledInput::shape`; table tests then cover each shaping rule with
//! variations (nested values, arrays, numbers, booleans, null, unicode, quotes,
//! missing paths in each position).

use std::path::Path;

use serde_json::{Value, json};
use switchyard::rules::TargetInput;
use switchyard::rules::parse::{ParseContext, parse_file};
use switchyard::transform::{CompiledInput, EventView, ShapeContext, ShapeError};

const CASES: &str = include_str!("data/input-transform-cases-public.jsonl");

/// The rule file for one target: a rule on `bus` matching every event, with the
/// target given (its `Arn`, which AWS needed, dropped; a `Stdout` destination added).
fn rule_file(name: &str, bus: &str, target: &Value) -> String {
    let mut target = target.clone();
    let t = target.as_object_mut().expect("a target is an object");
    t.remove("Arn");
    t.insert("Stdout".into(), json!({}));
    json!({
        "Name": name,
        "EventBusName": bus,
        "EventPattern": {"source": [{"exists": true}]},
        "Targets": [target],
    })
    .to_string()
}

/// Parses a rule file: the only target's input, or the problems.
fn parse_target(text: &str) -> Result<TargetInput, Vec<String>> {
    let context =
        ParseContext::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plugins"));
    let parsed = parse_file(Path::new("r.json"), text, &context);
    if !parsed.problems.is_empty() {
        return Err(parsed.problems.iter().map(|p| p.to_string()).collect());
    }
    assert_eq!(parsed.rules.len(), 1, "{text}");
    assert_eq!(parsed.rules[0].targets.len(), 1, "{text}");
    Ok(parsed.rules[0].targets[0].input.clone())
}

const RULE_NAME: &str = "example";
const RULE_ARN: &str = "arn:aws:events:us-east-2:123456789012:rule/example";
const INGESTION_TIME: &str = "2024-01-01T00:00:00Z";

fn context() -> ShapeContext<'static> {
    ShapeContext {
        rule_name: RULE_NAME,
        rule_arn: RULE_ARN,
        ingestion_time: INGESTION_TIME,
    }
}

#[test]
fn public_cases() {
    let mut failures = Vec::new();
    let mut counted = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        counted += 1;
        let case: Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let rule = &case["rule"];
        let name = rule["name"].as_str().unwrap_or("case-rule");
        let bus = rule["event_bus"].as_str().unwrap_or("default");
        let arn = rule["arn"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("arn:aws:events:us-east-1:123456789012:rule/{name}"));
        let event = serde_json::to_vec(&case["event"]).unwrap();
        let ingestion_time = case["ingestion_time"]
            .as_str()
            .or(case["event"]["time"].as_str())
            .unwrap();
        let phase = case["expect_phase"].as_str();

        let input = match parse_target(&rule_file(name, bus, &case["target"])) {
            Ok(input) => input,
            Err(problems) => {
                if phase != Some("put_targets") {
                    failures.push(format!("{id}: rule file rejected: {problems:?}"));
                }
                continue;
            }
        };
        if phase == Some("put_targets") {
            failures.push(format!("{id}: rule file accepted, expected it rejected"));
            continue;
        }
        let ctx = ShapeContext {
            rule_name: name,
            rule_arn: &arn,
            ingestion_time,
        };
        let shaped = CompiledInput::new(&input).shape(&EventView::new(&event), &ctx);
        match (phase, shaped) {
            (Some("delivery"), Err(_)) => {}
            (Some("delivery"), Ok(bytes)) => failures.push(format!(
                "{id}: delivered {:?}, expected a shaping error",
                String::from_utf8_lossy(&bytes)
            )),
            (_, Err(e)) => failures.push(format!("{id}: {e}")),
            (_, Ok(bytes)) => {
                let expect = case["expect"].as_str().unwrap();
                let same = match case["expect_kind"].as_str() {
                    Some("text") => bytes == expect.as_bytes(),
                    Some("json") => {
                        serde_json::from_slice::<Value>(&bytes).ok()
                            == Some(serde_json::from_str::<Value>(expect).unwrap())
                    }
                    other => panic!("{id}: unknown expect_kind {other:?}"),
                };
                if !same {
                    failures.push(format!(
                        "{id}: delivered {:?}, expected {expect:?}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
        }
    }
    assert_eq!(counted, 18, "every public case is read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- Table tests: one group per shaping rule ----

/// An event with one value of every kind. `detail.obj` has its keys out of
/// alphabetical order, to show key order is kept.
const EVENT: &str = r#"{"version":"0","id":"e1","detail-type":"Order Placed","source":"shop","account":"123456789012","time":"2024-01-01T00:00:00Z","region":"eu-west-1","resources":["r1","r2"],"detail":{"s":"plain","q":"say \"hi\" \\ back","u":"héllo ✓ 😀","n":42,"f":-1.5,"one_point_o":1.0,"exp":1e2,"t":true,"no":false,"nil":null,"empty":"","obj":{"b":1,"a":{"z":"x"}},"arr":["ACTIVE","INACTIVE"],"one":["HIGH"],"nums":[1,2.5],"items":[{"id":"a","v":1},{"id":"b"},{"id":"c","v":3}]}}"#;

/// Every path the table tests name, as `InputPathsMap` entries.
const PATHS: &[(&str, &str)] = &[
    ("s", "$.detail.s"),
    ("q", "$.detail.q"),
    ("u", "$.detail.u"),
    ("n", "$.detail.n"),
    ("f", "$.detail.f"),
    ("one_point_o", "$.detail.one_point_o"),
    ("exp", "$.detail.exp"),
    ("t", "$.detail.t"),
    ("no", "$.detail.no"),
    ("nil", "$.detail.nil"),
    ("empty", "$.detail.empty"),
    ("obj", "$.detail.obj"),
    ("arr", "$.detail.arr"),
    ("one", "$.detail.one"),
    ("nums", "$.detail.nums"),
    ("items", "$.detail.items"),
    ("ids", "$.detail.items[*].id"),
    ("vs", "$.detail.items[*].v"),
    ("values", "$.detail.obj.*"),
    ("none", "$.detail.items[*].nope"),
    ("r1", "$.resources[1]"),
    ("m", "$.detail.missing"),
    ("m2", "$.nothing.here"),
    ("m3", "$.resources[7]"),
];

fn compile(target: Value) -> CompiledInput {
    let input = parse_target(&rule_file(RULE_NAME, "default", &target))
        .unwrap_or_else(|problems| panic!("rejected: {problems:?}"));
    CompiledInput::new(&input)
}

fn transformer(template: &str) -> CompiledInput {
    let map: serde_json::Map<String, Value> = PATHS
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    compile(
        json!({"Id": "t", "InputTransformer": {"InputPathsMap": map, "InputTemplate": template}}),
    )
}

fn shape_with(input: &CompiledInput, event: &str) -> Result<String, ShapeError> {
    input
        .shape(&EventView::new(event.as_bytes()), &context())
        .map(|bytes| String::from_utf8(bytes).unwrap())
}

/// The bytes a template delivers for `EVENT`.
fn fill(template: &str) -> String {
    shape_with(&transformer(template), EVENT)
        .unwrap_or_else(|e| panic!("template {template:?}: {e}"))
}

fn fill_err(template: &str) -> ShapeError {
    match shape_with(&transformer(template), EVENT) {
        Ok(out) => panic!("template {template:?} delivered {out:?}"),
        Err(e) => e,
    }
}

fn input_path(path: &str) -> Result<String, ShapeError> {
    shape_with(&compile(json!({"Id": "t", "InputPath": path})), EVENT)
}

#[test]
fn string_template_keeps_quotes_and_escapes_as_written() {
    let table = [
        (
            r#""instance <s> is in <n>""#,
            r#""instance plain is in 42""#,
        ),
        (r#""a \"<s>\" b""#, r#""a \"plain\" b""#),
        (r#""tab\t and \n stay <s>""#, r#""tab\t and \n stay plain""#),
        (r#""<s><s> <s>""#, r#""plainplain plain""#),
        (
            r#""<t> <no> <nil> <f> <n>""#,
            r#""true false null -1.5 42""#,
        ),
        (r#""<u>""#, r#""héllo ✓ 😀""#),
        (r#""<q>""#, r#""say "hi" \ back""#),
        (r#""[<empty>]""#, r#""[]""#),
        ("plain text, <s>", "plain text, plain"),
        ("\"line <s>\"\n\"line <n>\"", "\"line plain\"\n\"line 42\""),
        (r#""{[ not JSON <s>""#, r#""{[ not JSON plain""#),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn objects_and_arrays_in_a_string_template_lose_their_quotes() {
    let table = [
        (r#""<obj>""#, r#""{b:1,a:{z:x}}""#),
        (r#""<arr>""#, r#""[ACTIVE,INACTIVE]""#),
        (r#""<one>""#, r#""[HIGH]""#),
        (r#""<nums>""#, r#""[1,2.5]""#),
        (r#""<items>""#, r#""[{id:a,v:1},{id:b},{id:c,v:3}]""#),
        (r#""<ids> <values>""#, r#""[a,b,c] [1,{z:x}]""#),
        (r#""<none>""#, r#""[]""#),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn missing_paths_are_empty_in_every_position() {
    let table = [
        // Unquoted JSON position: an empty string.
        (r#"{"x": <m>}"#, r#"{"x": ""}"#),
        (r#"{"x": [<m>, <m2>, 1]}"#, r#"{"x": ["", "", 1]}"#),
        (r#"[<m3>]"#, r#"[""]"#),
        // Inside a JSON string: nothing.
        (r#"{"x": "<m>"}"#, r#"{"x": ""}"#),
        (
            r#"{"x": "pre-<m>-post <s>"}"#,
            r#"{"x": "pre--post plain"}"#,
        ),
        // String template: nothing.
        (r#""pre-<m>-post""#, r#""pre--post""#),
        ("<m>", ""),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn unquoted_json_positions_take_the_values_json() {
    let table = [
        (r#"{"v": <s>}"#, r#"{"v": "plain"}"#),
        (r#"{"v": <q>}"#, r#"{"v": "say \"hi\" \\ back"}"#),
        (r#"{"v": <u>}"#, r#"{"v": "héllo ✓ 😀"}"#),
        (r#"{"v": <empty>}"#, r#"{"v": ""}"#),
        (r#"{"v": <n>, "w": <f>}"#, r#"{"v": 42, "w": -1.5}"#),
        (
            r#"{"v": <t>, "w": <no>, "x": <nil>}"#,
            r#"{"v": true, "w": false, "x": null}"#,
        ),
        (r#"{"v": <obj>}"#, r#"{"v": {"b":1,"a":{"z":"x"}}}"#),
        (
            r#"{"v": <arr>, "w": <one>}"#,
            r#"{"v": ["ACTIVE","INACTIVE"], "w": ["HIGH"]}"#,
        ),
        (
            r#"{"v": <items>}"#,
            r#"{"v": [{"id":"a","v":1},{"id":"b"},{"id":"c","v":3}]}"#,
        ),
        (
            r#"{"v": <ids>, "w": <vs>}"#,
            r#"{"v": ["a","b","c"], "w": [1,3]}"#,
        ),
        (
            r#"{"v": <values>, "w": <none>}"#,
            r#"{"v": [1,{"z":"x"}], "w": []}"#,
        ),
        (r#"{"v": <r1>}"#, r#"{"v": "r2"}"#),
        (r#"[<s>, 9, <n>, true]"#, r#"["plain", 9, 42, true]"#),
        // The template's own whitespace is kept.
        (
            "{\n  \"v\" : <s>,\n  \"w\": [ 9, <t> ]\n}",
            "{\n  \"v\" : \"plain\",\n  \"w\": [ 9, true ]\n}",
        ),
        // Numbers are written from their value, as serde_json writes an f64.
        (
            r#"{"v": <one_point_o>, "w": <exp>}"#,
            r#"{"v": 1.0, "w": 100.0}"#,
        ),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn values_inside_json_strings_go_in_unescaped() {
    let table = [
        (r#"{"v": "<s>"}"#, r#"{"v": "plain"}"#),
        (
            r#"{"v": "id \"<s>\" is <n>"}"#,
            r#"{"v": "id \"plain\" is 42"}"#,
        ),
        (r#"{"v": "<t>/<nil>/<f>"}"#, r#"{"v": "true/null/-1.5"}"#),
        (r#"{"v": "<u>"}"#, r#"{"v": "héllo ✓ 😀"}"#),
        (r#"{"v": "<empty>"}"#, r#"{"v": ""}"#),
        (
            r#"{"v": "<s>", "w": <s>}"#,
            r#"{"v": "plain", "w": "plain"}"#,
        ),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn a_filled_json_template_that_is_not_json_is_an_error() {
    // Quotes in a value are not escaped inside a string (EventBridge's rule).
    for template in [
        r#"{"v": "<q>"}"#,
        r#"{"v": "<arr>"}"#,
        r#"{"v": "<one>"}"#,
        r#"{"v": "<obj>"}"#,
        r#"{"v": "<items>"}"#,
    ] {
        let e = fill_err(template);
        assert_eq!(e.code, "InputTransformerInvalidJson", "template {template}");
    }
    assert_eq!(
        fill_err(r#"{"v": "<one>"}"#).message,
        r#"the InputTemplate starts like JSON but is not JSON once its placeholders are filled from this event: expected `,` or `}` at line 1 column 10; filled template: {"v": "["HIGH"]"}"#
    );
}

#[test]
fn predefined_variables() {
    let table = [
        (
            r#"{"name": <aws.events.rule-name>, "arn": <aws.events.rule-arn>, "at": <aws.events.event.ingestion-time>}"#,
            format!(r#"{{"name": "{RULE_NAME}", "arn": "{RULE_ARN}", "at": "{INGESTION_TIME}"}}"#),
        ),
        (
            r#""<aws.events.rule-name> triggered at <aws.events.event.ingestion-time>""#,
            format!(r#""{RULE_NAME} triggered at {INGESTION_TIME}""#),
        ),
        (
            r#"{"m": "rule <aws.events.rule-name>"}"#,
            format!(r#"{{"m": "rule {RULE_NAME}"}}"#),
        ),
        (
            r#"{"e": <aws.events.event>}"#,
            r#"{"e": {"id":"e1","account":"123456789012","detailType":"Order Placed","time":"2024-01-01T00:00:00Z","source":"shop","region":"eu-west-1","resources":["r1","r2"],"version":"0"}}"#.to_string(),
        ),
        (r#"{"e": <aws.events.event.json>}"#, format!(r#"{{"e": {EVENT}}}"#)),
        (
            r#""<aws.events.event>""#,
            r#""{id:e1,account:123456789012,detailType:Order Placed,time:2024-01-01T00:00:00Z,source:shop,region:eu-west-1,resources:[r1,r2],version:0}""#.to_string(),
        ),
    ];
    for (template, expect) in table {
        assert_eq!(fill(template), expect, "template {template}");
    }
}

#[test]
fn event_json_is_the_exact_envelope() {
    let event = "{ \"source\" : \"shop\",\n  \"n\": 1.50, \"detail\": {}, \"id\": \"x\" }";
    let out = shape_with(&transformer(r#"{"e": <aws.events.event.json>}"#), event).unwrap();
    assert_eq!(out, format!(r#"{{"e": {event}}}"#));
    // Envelope fields first, in AWS's order; other fields after, in the event's.
    let out = shape_with(&transformer(r#"{"e": <aws.events.event>}"#), event).unwrap();
    assert_eq!(out, r#"{"e": {"id":"x","source":"shop","n":1.5}}"#);
}

#[test]
fn input_path_selects_one_value_or_an_array_for_wildcards() {
    let table = [
        ("$.detail.s", r#""plain""#),
        ("$.detail.u", r#""héllo ✓ 😀""#),
        ("$.detail.q", r#""say \"hi\" \\ back""#),
        ("$.detail.n", "42"),
        ("$.detail.t", "true"),
        ("$.detail.nil", "null"),
        ("$.detail.obj", r#"{"b":1,"a":{"z":"x"}}"#),
        ("$.detail.obj.a", r#"{"z":"x"}"#),
        ("$.detail.one", r#"["HIGH"]"#),
        ("$.resources[1]", r#""r2""#),
        ("$.detail.items[2].v", "3"),
        ("$.detail.items[*].id", r#"["a","b","c"]"#),
        ("$.detail.items[*].v", "[1,3]"),
        ("$.detail.obj.*", r#"[1,{"z":"x"}]"#),
        ("$.resources[*]", r#"["r1","r2"]"#),
        ("$.detail.items[*].nope", "[]"),
        ("$", EVENT),
    ];
    for (path, expect) in table {
        assert_eq!(input_path(path).unwrap(), expect, "InputPath {path}");
    }
}

#[test]
fn input_path_selecting_nothing_is_an_error() {
    for path in [
        "$.detail.missing",
        "$.nothing.here",
        "$.resources[7]",
        "$.detail.s.deeper",
    ] {
        let e = input_path(path).unwrap_err();
        assert_eq!(
            e,
            ShapeError {
                code: "InputPathNoMatch",
                message: format!(
                    "InputPath {path} selects nothing in the event, so there is no payload to send"
                ),
            }
        );
    }
}

#[test]
fn matched_event_and_constants_are_delivered_as_they_are() {
    let event = "{ \"source\" : \"shop\",\n  \"n\": 1.50 }";
    let matched = compile(json!({"Id": "t"}));
    assert!(matched.is_matched_event());
    assert_eq!(shape_with(&matched, event).unwrap(), event);
    let table = [
        (json!("\"something\""), "\"something\""),
        (json!("{ \"a\" : 1.50 }"), "{ \"a\" : 1.50 }"),
        (json!("[1, 2]"), "[1, 2]"),
        (json!("42"), "42"),
    ];
    for (input, expect) in table {
        let constant = compile(json!({"Id": "t", "Input": input}));
        assert!(!constant.is_matched_event());
        assert_eq!(
            shape_with(&constant, event).unwrap(),
            expect,
            "Input {input}"
        );
    }
}

#[test]
fn the_event_is_parsed_only_when_needed() {
    // Not JSON at all: only shaping that reads the event notices.
    let broken = "not json";
    for target in [
        json!({"Id": "t"}),
        json!({"Id": "t", "Input": "{}"}),
        json!({"Id": "t", "InputPath": "$"}),
        json!({"Id": "t", "InputTransformer": {"InputTemplate": "\"<aws.events.rule-name>\""}}),
    ] {
        assert!(
            shape_with(&compile(target.clone()), broken).is_ok(),
            "{target}"
        );
    }
    let e = shape_with(&transformer(r#""<s>""#), broken).unwrap_err();
    assert_eq!(e.code, "InvalidEvent");
    assert_eq!(
        e.message,
        "the event is not valid JSON: expected ident at line 1 column 2"
    );
    let e = shape_with(&transformer(r#""<s>""#), r#"{"detail": {"s": 1e400}}"#).unwrap_err();
    assert_eq!(
        e,
        ShapeError {
            code: "EventNumberOutOfRange",
            message: "the event holds a number beyond the range of a 64-bit float, which InputPath and InputTransformer cannot carry: number out of range at line 1 column 22".into()
        }
    );
    // The matched event is still delivered as it is.
    let huge = r#"{"detail": {"s": 1e400}}"#;
    assert_eq!(
        shape_with(&compile(json!({"Id": "t"})), huge).unwrap(),
        huge
    );
    let e = shape_with(&transformer(r#""<s>""#), "[1]").unwrap_err();
    assert_eq!(
        e,
        ShapeError {
            code: "InvalidEvent",
            message: "the event is a JSON array, not an object".into()
        }
    );
}

#[test]
fn one_event_view_serves_many_targets() {
    let view = EventView::new(EVENT.as_bytes());
    let a = transformer(r#""<s>""#);
    let b = compile(json!({"Id": "t", "InputPath": "$.detail.n"}));
    for _ in 0..3 {
        assert_eq!(a.shape(&view, &context()).unwrap(), b"\"plain\"");
        assert_eq!(b.shape(&view, &context()).unwrap(), b"42");
    }
}

/// The examples of the README's "Input shaping" section, as written there.
#[test]
fn readme_examples() {
    let event = r#"{"id": "e1", "detail-type": "Order Placed", "source": "shop", "time": "2024-01-01T00:00:00Z",
 "resources": ["r1", "r2"],
 "detail": {"state": "RUNNING", "n": 42, "ok": true, "nil": null, "quote": "say \"hi\"",
            "payload": {"acc_id": "0a78", "sf_id": "baz"}, "list": ["ACTIVE", "INACTIVE"],
            "items": [{"id": "a"}, {"id": "b"}]}}"#;
    let map = json!({"state": "$.detail.state", "n": "$.detail.n", "ok": "$.detail.ok",
        "nil": "$.detail.nil", "quote": "$.detail.quote", "payload": "$.detail.payload",
        "list": "$.detail.list", "ids": "$.detail.items[*].id", "gone": "$.detail.missing"});
    let ctx = ShapeContext {
        rule_name: "orders",
        rule_arn: "arn:aws:events:us-east-1:123456789012:rule/orders",
        ingestion_time: "2024-01-01T00:00:05Z",
    };
    let shape = |target: Value| {
        compile(target)
            .shape(&EventView::new(event.as_bytes()), &ctx)
            .map(|b| String::from_utf8(b).unwrap())
    };
    let template = |t: &str| {
        shape(json!({"Id": "t", "InputTransformer": {"InputPathsMap": map, "InputTemplate": t}}))
    };
    let path = |p: &str| shape(json!({"Id": "t", "InputPath": p}));

    assert_eq!(shape(json!({"Id": "t"})).unwrap(), event);
    assert_eq!(
        shape(json!({"Id": "t", "Input": "{ \"seen\" : true }"})).unwrap(),
        r#"{ "seen" : true }"#
    );
    assert_eq!(path("$.detail.state").unwrap(), r#""RUNNING""#);
    assert_eq!(
        path("$.detail.payload").unwrap(),
        r#"{"acc_id":"0a78","sf_id":"baz"}"#
    );
    assert_eq!(path("$.detail.items[*].id").unwrap(), r#"["a","b"]"#);
    assert_eq!(path("$").unwrap(), event);
    assert_eq!(
        path("$.detail.missing").unwrap_err().code,
        "InputPathNoMatch"
    );
    let table = [
        (
            r#""instance \"<state>\" is <n>""#,
            r#""instance \"RUNNING\" is 42""#,
        ),
        (
            "\"<state> one\"\n\"<n> two\"",
            "\"RUNNING one\"\n\"42 two\"",
        ),
        (
            r#""Payload <payload> in <list>""#,
            r#""Payload {acc_id:0a78,sf_id:baz} in [ACTIVE,INACTIVE]""#,
        ),
        (r#""<n> <ok> <nil> <quote>""#, r#""42 true null say "hi"""#),
        (
            r#"{"s": <state>, "q": <quote>, "p": <payload>, "l": <list>, "n": <n>}"#,
            r#"{"s": "RUNNING", "q": "say \"hi\"", "p": {"acc_id":"0a78","sf_id":"baz"}, "l": ["ACTIVE","INACTIVE"], "n": 42}"#,
        ),
        (
            r#"{"m": "state <state>, n=<n>"}"#,
            r#"{"m": "state RUNNING, n=42"}"#,
        ),
        (
            r#"{"a": <gone>, "b": "x<gone>y"}"#,
            r#"{"a": "", "b": "xy"}"#,
        ),
        (r#""x<gone>y""#, r#""xy""#),
        (
            r#""<aws.events.rule-name> at <aws.events.event.ingestion-time>""#,
            r#""orders at 2024-01-01T00:00:05Z""#,
        ),
        (
            r#"{"e": <aws.events.event>}"#,
            r#"{"e": {"id":"e1","detailType":"Order Placed","time":"2024-01-01T00:00:00Z","source":"shop","resources":["r1","r2"]}}"#,
        ),
    ];
    for (t, expect) in table {
        assert_eq!(template(t).unwrap(), expect, "template {t}");
    }
    assert_eq!(
        template(r#"{"e": <aws.events.event.json>}"#).unwrap(),
        format!(r#"{{"e": {event}}}"#)
    );
    assert_eq!(
        template(r#"{"l": "<list>"}"#).unwrap_err().code,
        "InputTransformerInvalidJson"
    );
}
