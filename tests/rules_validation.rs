//! One test per validation message of rule files: the exact text, with the
//! line and column it points at. Generated cases are kept readable: each rule
//! text puts the offending value at the start of a line where it can.

mod rules_support;
use rules_support::problems;

#[test]
fn invalid_json() {
    let text = "{\n\"Name\": \"a\",\n";
    assert_eq!(
        problems(text),
        ["r.json:3:1: invalid JSON: unexpected end of input, expected a string key"]
    );
}

#[test]
fn top_level_not_rule() {
    let text = "\"rules\"";
    assert_eq!(
        problems(text),
        ["r.json:1:1: a rule file holds one rule object or an array of rule objects, found string"]
    );
}

#[test]
fn type_mismatch() {
    let text =
        "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Description\": 5\n}";
    assert_eq!(
        problems(text),
        ["r.json:4:16: Description: expected a string, found number"]
    );
}

#[test]
fn duplicate_field() {
    let text =
        "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Name\": \"r2\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:1: Name: duplicate field \"Name\" (first given at line 2, column 1): give each field once"
        ]
    );
}

#[test]
fn unknown_field_close_name() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Eventbusname\": \"x\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:1: Eventbusname: unknown field \"Eventbusname\": did you mean \"EventBusName\"?"
        ]
    );
}

#[test]
fn unknown_field_lists_fields() {
    let text =
        "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Owner\": \"team-a\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:1: Owner: unknown field \"Owner\": expected one of Name, Description, EventBusName, State, EventPattern, Targets"
        ]
    );
}

#[test]
fn unsupported_eventbridge_field() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"ScheduleExpression\": \"rate(5 minutes)\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:1: ScheduleExpression: unknown field \"ScheduleExpression\": scheduled rules are not supported: switchyard rules match events with EventPattern"
        ]
    );
}

#[test]
fn missing_name() {
    let text = "{\n\"EventPattern\": {\"source\": [\"x\"]}\n}";
    assert_eq!(
        problems(text),
        ["r.json:1:1: missing required field \"Name\""]
    );
}

#[test]
fn bad_rule_name() {
    let text = "{\n\"Name\": \"orders to kafka\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Description\": \"d\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:2:9: Name: \"orders to kafka\" is not a valid rule name: use 1 to 64 letters, digits, '.', '-' or '_'"
        ]
    );
}

#[test]
fn long_rule_name() {
    let text = "{\n\"Name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Description\": \"d\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:2:9: Name: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not a valid rule name: use 1 to 64 letters, digits, '.', '-' or '_'"
        ]
    );
}

#[test]
fn long_description() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Description\": \"ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\"\n}";
    assert_eq!(
        problems(text),
        ["r.json:4:16: Description: 513 characters is too long: use at most 512"]
    );
}

#[test]
fn bad_bus_name() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"EventBusName\": \"my bus\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:17: EventBusName: \"my bus\" is not a valid event bus name: use 1 to 256 letters, digits, '.', '-', '_' or '/'"
        ]
    );
}

#[test]
fn bad_state() {
    let text =
        "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"State\": \"enabled\"\n}";
    assert_eq!(
        problems(text),
        ["r.json:4:10: State: \"enabled\" is not a rule state: use ENABLED or DISABLED"]
    );
}

#[test]
fn missing_pattern() {
    let text = "{\n\"Name\": \"r1\"\n}";
    assert_eq!(
        problems(text),
        ["r.json:1:1: missing required field \"EventPattern\""]
    );
}

#[test]
fn pattern_error_in_object() {
    let text =
        "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"detail\": {\"state\": [{\"prefix\": 5}]}}\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:3:50: EventPattern.detail.state[0]: \"prefix\" takes a string or {\"equals-ignore-case\": string}, found number"
        ]
    );
}

#[test]
fn pattern_error_in_string() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": \"{\\\"source\\\": [\\\"x\\\"], \\\"detail\\\": {\\\"n\\\": [{\\\"numeric\\\": [\\\">\\\"]}]}}\"\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:3:75: EventPattern.detail.n[0]: \"numeric\" comparison \">\" must be followed by a number"
        ]
    );
}

#[test]
fn pattern_wrong_type() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": 7\n}";
    assert_eq!(
        problems(text),
        ["r.json:3:17: EventPattern: expected an object (or a string holding one), found number"]
    );
}

#[test]
fn pattern_too_large() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"source-0000\", \"source-0001\", \"source-0002\", \"source-0003\", \"source-0004\", \"source-0005\", \"source-0006\", \"source-0007\", \"source-0008\", \"source-0009\", \"source-0010\", \"source-0011\", \"source-0012\", \"source-0013\", \"source-0014\", \"source-0015\", \"source-0016\", \"source-0017\", \"source-0018\", \"source-0019\", \"source-0020\", \"source-0021\", \"source-0022\", \"source-0023\", \"source-0024\", \"source-0025\", \"source-0026\", \"source-0027\", \"source-0028\", \"source-0029\", \"source-0030\", \"source-0031\", \"source-0032\", \"source-0033\", \"source-0034\", \"source-0035\", \"source-0036\", \"source-0037\", \"source-0038\", \"source-0039\", \"source-0040\", \"source-0041\", \"source-0042\", \"source-0043\", \"source-0044\", \"source-0045\", \"source-0046\", \"source-0047\", \"source-0048\", \"source-0049\", \"source-0050\", \"source-0051\", \"source-0052\", \"source-0053\", \"source-0054\", \"source-0055\", \"source-0056\", \"source-0057\", \"source-0058\", \"source-0059\", \"source-0060\", \"source-0061\", \"source-0062\", \"source-0063\", \"source-0064\", \"source-0065\", \"source-0066\", \"source-0067\", \"source-0068\", \"source-0069\", \"source-0070\", \"source-0071\", \"source-0072\", \"source-0073\", \"source-0074\", \"source-0075\", \"source-0076\", \"source-0077\", \"source-0078\", \"source-0079\", \"source-0080\", \"source-0081\", \"source-0082\", \"source-0083\", \"source-0084\", \"source-0085\", \"source-0086\", \"source-0087\", \"source-0088\", \"source-0089\", \"source-0090\", \"source-0091\", \"source-0092\", \"source-0093\", \"source-0094\", \"source-0095\", \"source-0096\", \"source-0097\", \"source-0098\", \"source-0099\", \"source-0100\", \"source-0101\", \"source-0102\", \"source-0103\", \"source-0104\", \"source-0105\", \"source-0106\", \"source-0107\", \"source-0108\", \"source-0109\", \"source-0110\", \"source-0111\", \"source-0112\", \"source-0113\", \"source-0114\", \"source-0115\", \"source-0116\", \"source-0117\", \"source-0118\", \"source-0119\", \"source-0120\", \"source-0121\", \"source-0122\", \"source-0123\", \"source-0124\", \"source-0125\", \"source-0126\", \"source-0127\", \"source-0128\", \"source-0129\", \"source-0130\", \"source-0131\", \"source-0132\", \"source-0133\", \"source-0134\", \"source-0135\", \"source-0136\", \"source-0137\", \"source-0138\", \"source-0139\", \"source-0140\", \"source-0141\", \"source-0142\", \"source-0143\", \"source-0144\", \"source-0145\", \"source-0146\", \"source-0147\", \"source-0148\", \"source-0149\", \"source-0150\", \"source-0151\", \"source-0152\", \"source-0153\", \"source-0154\", \"source-0155\", \"source-0156\", \"source-0157\", \"source-0158\", \"source-0159\", \"source-0160\", \"source-0161\", \"source-0162\", \"source-0163\", \"source-0164\", \"source-0165\", \"source-0166\", \"source-0167\", \"source-0168\", \"source-0169\", \"source-0170\", \"source-0171\", \"source-0172\", \"source-0173\", \"source-0174\", \"source-0175\", \"source-0176\", \"source-0177\", \"source-0178\", \"source-0179\", \"source-0180\", \"source-0181\", \"source-0182\", \"source-0183\", \"source-0184\", \"source-0185\", \"source-0186\", \"source-0187\", \"source-0188\", \"source-0189\", \"source-0190\", \"source-0191\", \"source-0192\", \"source-0193\", \"source-0194\", \"source-0195\", \"source-0196\", \"source-0197\", \"source-0198\", \"source-0199\"]}\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:3:17: EventPattern: the pattern is 2812 bytes written compactly, more than the limit of 2048 bytes"
        ]
    );
}

#[test]
fn targets_not_array() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": {\"Id\": \"a\"}\n}";
    assert_eq!(
        problems(text),
        ["r.json:4:12: Targets: expected an array of targets, found object"]
    );
}

#[test]
fn too_many_targets() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"t0\", \"Stdout\": {}},\n{\"Id\": \"t1\", \"Stdout\": {}},\n{\"Id\": \"t2\", \"Stdout\": {}},\n{\"Id\": \"t3\", \"Stdout\": {}},\n{\"Id\": \"t4\", \"Stdout\": {}},\n{\"Id\": \"t5\", \"Stdout\": {}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:10:1: Targets: 6 targets is more than the limit of 5 per rule: split the rule"]
    );
}

#[test]
fn missing_target_id() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Stdout\": {}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:5:1: Targets[0]: missing required field \"Id\""]
    );
}

#[test]
fn bad_target_id() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a b\", \"Stdout\": {}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:8: Targets[0].Id: \"a b\" is not a valid target id: use 1 to 64 letters, digits, '.', '-' or '_'"
        ]
    );
}

#[test]
fn duplicate_target_id() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"out\", \"Stdout\": {}},\n{\"Id\": \"out\", \"File\": {\"Path\": \"x.jsonl\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:8: Targets[1].Id: duplicate target id \"out\" (first used at line 5, column 8): target ids must be unique within a rule"
        ]
    );
}

#[test]
fn missing_destination() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:1: Targets[0]: missing destination: give exactly one of Kafka, Http, File, Stdout or EventBus"
        ]
    );
}

#[test]
fn two_destinations() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"File\": {\"Path\": \"x.jsonl\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:27: Targets[0].File: give exactly one destination, but both Stdout and File are given"
        ]
    );
}

#[test]
fn target_arn_advice() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Arn\": \"arn:aws:sqs:us-east-1:1:q\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:13: Targets[0].Arn: unknown field \"Arn\": switchyard does not deliver to AWS resources: say where events go with one of Kafka, Http, File, Stdout or EventBus",
            "r.json:5:1: Targets[0]: missing destination: give exactly one of Kafka, Http, File, Stdout or EventBus"
        ]
    );
}

#[test]
fn kafka_bad_topic() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Kafka\": {\"Topic\": \"my topic\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:32: Targets[0].Kafka.Topic: \"my topic\" is not a valid Kafka topic name: use 1 to 249 letters, digits, '.', '_' or '-'"
        ]
    );
}

#[test]
fn kafka_missing_topic() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Kafka\": {}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:5:22: Targets[0].Kafka: missing required field \"Topic\""]
    );
}

#[test]
fn kafka_bad_key_path() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Kafka\": {\"Topic\": \"t\", \"KeyPath\": \"detail.id\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:49: Targets[0].Kafka.KeyPath: \"detail.id\" is not a JSONPath EventBridge accepts: a path starts with $ (the whole event), as in $.detail.state"
        ]
    );
}

#[test]
fn http_bad_endpoint() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Http\": {\"Endpoint\": \"ftp://example.com\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:34: Targets[0].Http.Endpoint: \"ftp://example.com\" is not an http:// or https:// URL with a host"
        ]
    );
}

#[test]
fn http_endpoint_not_a_url() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Http\": {\"Endpoint\": \"http://[::1/x\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:34: Targets[0].Http.Endpoint: \"http://[::1/x\" is not a valid URL: invalid IPv6 address"
        ]
    );
}

#[test]
fn http_bad_method() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Http\": {\"Endpoint\": \"http://localhost:9000/x\", \"Method\": \"GET\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:71: Targets[0].Http.Method: \"GET\" is not a delivery method: use POST, PUT or PATCH"
        ]
    );
}

#[test]
fn http_bad_header() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Http\": {\"Endpoint\": \"http://localhost:9000/x\", \"Headers\": {\"X Token\": \"1\"}}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:73: Targets[0].Http.Headers.X Token: \"X Token\" is not a valid HTTP header name"
        ]
    );
}

#[test]
fn file_empty_path() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"File\": {\"Path\": \"\"}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:5:30: Targets[0].File.Path: give a file path, such as \"out/orders.jsonl\""]
    );
}

#[test]
fn stdout_takes_no_fields() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {\"Pretty\": true}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:24: Targets[0].Stdout.Pretty: unknown field \"Pretty\": this object takes no fields"
        ]
    );
}

#[test]
fn event_bus_loop() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"EventBus\": {\"Name\": \"default\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:25: Targets[0].EventBus: the rule listens on event bus \"default\" and would send its events back to it, looping forever: choose another bus"
        ]
    );
}

#[test]
fn input_not_json() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"Input\": \"{\\\"a\\\": }\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:45: Targets[0].Input: Input must be JSON text, but unexpected '}', expected a JSON value; to send a plain string, quote it: \"\\\"text\\\"\""
        ]
    );
}

#[test]
fn input_conflict() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"InputPath\": \"$.detail\",\n\"InputTransformer\": {\"InputTemplate\": \"x\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:7:1: Targets[0].InputTransformer: Input, InputPath and InputTransformer exclude each other, but InputPath and InputTransformer are both given: keep one"
        ]
    );
}

#[test]
fn input_path_bracket_notation() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputPath\": \"$.detail['state']\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:49: Targets[0].InputPath: \"$.detail['state']\" is not a JSONPath EventBridge accepts: use dot notation ($.detail.name), not bracket notation"
        ]
    );
}

#[test]
fn input_path_without_dollar() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputPath\": \"detail.state\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:41: Targets[0].InputPath: \"detail.state\" is not a JSONPath EventBridge accepts: a path starts with $ (the whole event), as in $.detail.state"
        ]
    );
}

#[test]
fn input_path_recursive_descent() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputPath\": \"$..state\"}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:42: Targets[0].InputPath: \"$..state\" is not a JSONPath EventBridge accepts: recursive descent (..) is not supported"
        ]
    );
}

#[test]
fn paths_map_too_many() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\"InputPathsMap\": {\"v0\": \"$.detail\", \"v1\": \"$.detail\", \"v2\": \"$.detail\", \"v3\": \"$.detail\", \"v4\": \"$.detail\", \"v5\": \"$.detail\", \"v6\": \"$.detail\", \"v7\": \"$.detail\", \"v8\": \"$.detail\", \"v9\": \"$.detail\", \"v10\": \"$.detail\", \"v11\": \"$.detail\", \"v12\": \"$.detail\", \"v13\": \"$.detail\", \"v14\": \"$.detail\", \"v15\": \"$.detail\", \"v16\": \"$.detail\", \"v17\": \"$.detail\", \"v18\": \"$.detail\", \"v19\": \"$.detail\", \"v20\": \"$.detail\", \"v21\": \"$.detail\", \"v22\": \"$.detail\", \"v23\": \"$.detail\", \"v24\": \"$.detail\", \"v25\": \"$.detail\", \"v26\": \"$.detail\", \"v27\": \"$.detail\", \"v28\": \"$.detail\", \"v29\": \"$.detail\", \"v30\": \"$.detail\", \"v31\": \"$.detail\", \"v32\": \"$.detail\", \"v33\": \"$.detail\", \"v34\": \"$.detail\", \"v35\": \"$.detail\", \"v36\": \"$.detail\", \"v37\": \"$.detail\", \"v38\": \"$.detail\", \"v39\": \"$.detail\", \"v40\": \"$.detail\", \"v41\": \"$.detail\", \"v42\": \"$.detail\", \"v43\": \"$.detail\", \"v44\": \"$.detail\", \"v45\": \"$.detail\", \"v46\": \"$.detail\", \"v47\": \"$.detail\", \"v48\": \"$.detail\", \"v49\": \"$.detail\", \"v50\": \"$.detail\", \"v51\": \"$.detail\", \"v52\": \"$.detail\", \"v53\": \"$.detail\", \"v54\": \"$.detail\", \"v55\": \"$.detail\", \"v56\": \"$.detail\", \"v57\": \"$.detail\", \"v58\": \"$.detail\", \"v59\": \"$.detail\", \"v60\": \"$.detail\", \"v61\": \"$.detail\", \"v62\": \"$.detail\", \"v63\": \"$.detail\", \"v64\": \"$.detail\", \"v65\": \"$.detail\", \"v66\": \"$.detail\", \"v67\": \"$.detail\", \"v68\": \"$.detail\", \"v69\": \"$.detail\", \"v70\": \"$.detail\", \"v71\": \"$.detail\", \"v72\": \"$.detail\", \"v73\": \"$.detail\", \"v74\": \"$.detail\", \"v75\": \"$.detail\", \"v76\": \"$.detail\", \"v77\": \"$.detail\", \"v78\": \"$.detail\", \"v79\": \"$.detail\", \"v80\": \"$.detail\", \"v81\": \"$.detail\", \"v82\": \"$.detail\", \"v83\": \"$.detail\", \"v84\": \"$.detail\", \"v85\": \"$.detail\", \"v86\": \"$.detail\", \"v87\": \"$.detail\", \"v88\": \"$.detail\", \"v89\": \"$.detail\", \"v90\": \"$.detail\", \"v91\": \"$.detail\", \"v92\": \"$.detail\", \"v93\": \"$.detail\", \"v94\": \"$.detail\", \"v95\": \"$.detail\", \"v96\": \"$.detail\", \"v97\": \"$.detail\", \"v98\": \"$.detail\", \"v99\": \"$.detail\", \"v100\": \"$.detail\"}, \"InputTemplate\": \"x\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:1964: Targets[0].InputTransformer.InputPathsMap: 101 variables is more than the limit of 100"
        ]
    );
}

#[test]
fn paths_map_bad_key() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\n\"InputPathsMap\": {\"my var\": \"$.detail\"},\n\"InputTemplate\": \"x\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:19: Targets[0].InputTransformer.InputPathsMap.my var: \"my var\" is not a valid variable name: use letters, digits, '_' or '-'"
        ]
    );
}

#[test]
fn paths_map_predefined_key() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\n\"InputPathsMap\": {\"aws.events.event\": \"$.detail\"},\n\"InputTemplate\": \"x\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:19: Targets[0].InputTransformer.InputPathsMap.aws.events.event: \"aws.events.event\" is a predefined variable and cannot be redefined: choose another name"
        ]
    );
}

#[test]
fn template_unknown_placeholder() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\n\"InputPathsMap\": {\"state\": \"$.detail.state\"},\n\"InputTemplate\": \"instance is <sate>\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:7:31: Targets[0].InputTransformer.InputTemplate: unknown placeholder <sate>: InputPathsMap defines <state>; the predefined ones are <aws.events.rule-arn>, <aws.events.rule-name>, <aws.events.event>, <aws.events.event.json>, <aws.events.event.ingestion-time>"
        ]
    );
}

#[test]
fn template_not_json() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\n\"InputPathsMap\": {\"state\": \"$.detail.state\"},\n\"InputTemplate\": \"{\\\"state\\\": <state>,}\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:7:18: Targets[0].InputTransformer.InputTemplate: the template starts like JSON but is not JSON once placeholders are filled: unexpected '}', expected a string key"
        ]
    );
}

#[test]
fn template_placeholder_as_key() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\n\"InputPathsMap\": {\"state\": \"$.detail.state\"},\n\"InputTemplate\": \"{\\\"<state>\\\": 1}\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:7:18: Targets[0].InputTransformer.InputTemplate: a placeholder cannot be used as an object key"
        ]
    );
}

#[test]
fn template_missing() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {}, \"InputTransformer\": {\"InputPathsMap\": {}}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:5:47: Targets[0].InputTransformer: missing required field \"InputTemplate\""]
    );
}

#[test]
fn retry_attempts_out_of_range() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"RetryPolicy\": {\"MaximumRetryAttempts\": 200}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:41: Targets[0].RetryPolicy.MaximumRetryAttempts: 200 is out of range: use 0 to 185"
        ]
    );
}

#[test]
fn retry_age_out_of_range() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"RetryPolicy\": {\"MaximumEventAgeInSeconds\": 30}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:45: Targets[0].RetryPolicy.MaximumEventAgeInSeconds: 30 is out of range: use 60 to 86400"
        ]
    );
}

#[test]
fn retry_not_whole_number() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"RetryPolicy\": {\"MaximumRetryAttempts\": 2.5}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:41: Targets[0].RetryPolicy.MaximumRetryAttempts: 2.5 is not a whole number: use 0 to 185"
        ]
    );
}

#[test]
fn retry_wrong_type() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"RetryPolicy\": {\"MaximumRetryAttempts\": \"3\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:41: Targets[0].RetryPolicy.MaximumRetryAttempts: expected a whole number, found string"
        ]
    );
}

#[test]
fn dead_letter_event_bus() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"DeadLetterConfig\": {\"EventBus\": {\"Name\": \"dlq\"}}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:22: Targets[0].DeadLetterConfig.EventBus: an event bus cannot be a dead-letter destination: use Kafka, Http, File or Stdout"
        ]
    );
}

#[test]
fn dead_letter_missing_destination() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"DeadLetterConfig\": {}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:21: Targets[0].DeadLetterConfig: missing destination: give exactly one of Kafka, Http, File or Stdout"
        ]
    );
}

#[test]
fn dead_letter_arn_advice() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"DeadLetterConfig\": {\"Arn\": \"arn:aws:sqs:us-east-1:1:dlq\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:22: Targets[0].DeadLetterConfig.Arn: unknown field \"Arn\": switchyard does not deliver to AWS resources: say where events go with one of Kafka, Http, File, Stdout or EventBus",
            "r.json:6:21: Targets[0].DeadLetterConfig: missing destination: give exactly one of Kafka, Http, File or Stdout"
        ]
    );
}

#[test]
fn transform_missing_plugin() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"Transform\": {\"Plugin\": \"redact\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:25: Targets[0].Transform.Plugin: plugin \"redact\" does not exist: expected the file PLUGINS/redact.wasm"
        ]
    );
}

#[test]
fn transform_bad_plugin_name() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"Transform\": {\"Plugin\": \"../etc/passwd\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:6:25: Targets[0].Transform.Plugin: \"../etc/passwd\" is not a valid plugin name: use 1 to 64 letters, digits, '_' or '-'"
        ]
    );
}

#[test]
fn transform_config_not_object() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Stdout\": {},\n\"Transform\": {\"Plugin\": \"present\", \"Config\": [1]}}\n]\n}";
    assert_eq!(
        problems(text),
        ["r.json:6:46: Targets[0].Transform.Config: expected an object, found array"]
    );
}

/// The problems of a rule whose one target is `Http` with an endpoint on line 5
/// and `fields` (more members of the `Http` object) from line 6, column 1.
fn http_problems(fields: &str) -> Vec<String> {
    problems(&format!(
        "{{\n\"Name\": \"r1\",\n\"EventPattern\": {{\"source\": [\"x\"]}},\n\"Targets\": [\n{{\"Id\": \"a\", \"Http\": {{\"Endpoint\": \"http://localhost:9000/x\",\n{fields}}}}}\n]\n}}"
    ))
}

const ENV_OR_FILE: &str = "(the name of an environment variable holding it)";
const FILE_HOLDING: &str = "(the path of a file holding it)";

#[test]
fn http_full_auth_and_rate_limit_are_read() {
    use std::path::{Path, PathBuf};
    use switchyard::rules::model::{Destination, HttpAuth, OAuthClientCredentials, Secret};
    use switchyard::rules::parse::{ParseContext, parse_file};

    let text = r#"{"Name": "r1", "EventPattern": {"source": ["x"]}, "Targets": [
      {"Id": "basic", "Http": {"Endpoint": "https://a.example.com/e", "InvocationRateLimitPerSecond": 300,
        "Auth": {"Basic": {"Username": "alice", "PasswordEnv": "A_PASSWORD"}}}},
      {"Id": "key", "Http": {"Endpoint": "https://a.example.com/e", "Headers": {"X-Team": "t"},
        "Auth": {"ApiKey": {"Name": "x-api-key", "ValueFile": "/run/secrets/key"}}}},
      {"Id": "bearer", "Http": {"Endpoint": "https://a.example.com/e", "InvocationRateLimitPerSecond": 1,
        "Auth": {"Bearer": {"TokenEnv": "_TOKEN2"}}}},
      {"Id": "oauth", "Http": {"Endpoint": "https://a.example.com/e",
        "Auth": {"OAuth": {"TokenEndpoint": "https://auth.example.com/token", "ClientId": "c-1",
          "ClientSecretFile": "secrets/c", "Scope": "events:write", "HttpMethod": "PUT"}}}},
      {"Id": "oauth-defaults", "Http": {"Endpoint": "https://a.example.com/e",
        "Auth": {"OAuth": {"TokenEndpoint": "https://auth.example.com/token", "ClientId": "c-1",
          "ClientSecretEnv": "C"}}}}
    ]}"#;
    let context = ParseContext::new(PathBuf::new());
    let parsed = parse_file(Path::new("r.json"), text, &context);
    assert_eq!(parsed.problems, []);
    let http: Vec<(Option<HttpAuth>, Option<u32>)> = parsed.rules[0]
        .targets
        .iter()
        .map(|t| match &t.destination {
            Destination::Http {
                auth,
                rate_limit_per_second,
                ..
            } => (auth.clone(), *rate_limit_per_second),
            other => panic!("{other:?}"),
        })
        .collect();
    let oauth = OAuthClientCredentials {
        token_endpoint: "https://auth.example.com/token".into(),
        client_id: "c-1".into(),
        client_secret: Secret::File("secrets/c".into()),
        scope: Some("events:write".into()),
        http_method: "PUT".into(),
    };
    assert_eq!(
        http,
        [
            (
                Some(HttpAuth::Basic {
                    username: "alice".into(),
                    password: Secret::Env("A_PASSWORD".into())
                }),
                Some(300)
            ),
            (
                Some(HttpAuth::ApiKey {
                    name: "x-api-key".into(),
                    value: Secret::File("/run/secrets/key".into())
                }),
                None
            ),
            (
                Some(HttpAuth::Bearer {
                    token: Secret::Env("_TOKEN2".into())
                }),
                Some(1)
            ),
            (Some(HttpAuth::OAuth(oauth.clone())), None),
            (
                Some(HttpAuth::OAuth(OAuthClientCredentials {
                    client_secret: Secret::Env("C".into()),
                    scope: None,
                    http_method: "POST".into(),
                    ..oauth
                })),
                None
            ),
        ]
    );
}

#[test]
fn http_unknown_field() {
    assert_eq!(
        http_problems("\"RateLimit\": 5"),
        [
            "r.json:6:1: Targets[0].Http.RateLimit: unknown field \"RateLimit\": expected one of Endpoint, Method, Headers, Auth, InvocationRateLimitPerSecond"
        ]
    );
    assert_eq!(
        http_problems("\"InvocationRateLimitPerSecnd\": 5"),
        [
            "r.json:6:1: Targets[0].Http.InvocationRateLimitPerSecnd: unknown field \"InvocationRateLimitPerSecnd\": did you mean \"InvocationRateLimitPerSecond\"?"
        ]
    );
}

#[test]
fn http_rate_limit_out_of_range() {
    for n in ["0", "301"] {
        assert_eq!(
            http_problems(&format!("\"InvocationRateLimitPerSecond\": {n}")),
            [format!(
                "r.json:6:33: Targets[0].Http.InvocationRateLimitPerSecond: {n} is out of range: use 1 to 300"
            )]
        );
    }
}

#[test]
fn http_rate_limit_not_whole() {
    assert_eq!(
        http_problems("\"InvocationRateLimitPerSecond\": 2.5"),
        [
            "r.json:6:33: Targets[0].Http.InvocationRateLimitPerSecond: 2.5 is not a whole number: use 1 to 300"
        ]
    );
    assert_eq!(
        http_problems("\"InvocationRateLimitPerSecond\": \"10\""),
        [
            "r.json:6:33: Targets[0].Http.InvocationRateLimitPerSecond: expected a whole number, found string"
        ]
    );
}

#[test]
fn http_auth_empty() {
    assert_eq!(
        http_problems("\"Auth\": {}"),
        [
            "r.json:6:9: Targets[0].Http.Auth: missing authorization: give exactly one of Basic, ApiKey, Bearer or OAuth"
        ]
    );
    assert_eq!(
        http_problems("\"Auth\": \"Bearer abc\""),
        ["r.json:6:9: Targets[0].Http.Auth: expected an object, found string"]
    );
}

#[test]
fn http_auth_two_kinds() {
    assert_eq!(
        http_problems(
            "\"Auth\": {\"Basic\": {\"Username\": \"u\", \"PasswordEnv\": \"P\"},\n\"Bearer\": {\"TokenEnv\": \"T\"}}"
        ),
        [
            "r.json:7:1: Targets[0].Http.Auth.Bearer: give exactly one authorization, but both Basic and Bearer are given"
        ]
    );
}

#[test]
fn http_auth_unknown_kind() {
    assert_eq!(
        http_problems("\"Auth\": {\n\"Oauth\": {}}"),
        [
            "r.json:7:1: Targets[0].Http.Auth.Oauth: unknown field \"Oauth\": did you mean \"OAuth\"?",
            "r.json:6:9: Targets[0].Http.Auth: missing authorization: give exactly one of Basic, ApiKey, Bearer or OAuth"
        ]
    );
}

#[test]
fn http_basic_missing_username() {
    assert_eq!(
        http_problems("\"Auth\": {\"Basic\": {\"PasswordEnv\": \"P\"}}"),
        ["r.json:6:19: Targets[0].Http.Auth.Basic: missing required field \"Username\""]
    );
}

#[test]
fn http_basic_bad_username() {
    assert_eq!(
        http_problems("\"Auth\": {\"Basic\": {\n\"Username\": \"a:b\", \"PasswordEnv\": \"P\"}}"),
        ["r.json:7:13: Targets[0].Http.Auth.Basic.Username: a Basic username cannot contain ':'"]
    );
    assert_eq!(
        http_problems("\"Auth\": {\"Basic\": {\n\"Username\": \"\", \"PasswordEnv\": \"P\"}}"),
        ["r.json:7:13: Targets[0].Http.Auth.Basic.Username: the username cannot be empty"]
    );
    assert_eq!(
        http_problems("\"Auth\": {\"Basic\": {\n\"Username\": \"a\\tb\", \"PasswordEnv\": \"P\"}}"),
        [
            "r.json:7:13: Targets[0].Http.Auth.Basic.Username: the username cannot hold control characters"
        ]
    );
}

#[test]
fn http_basic_password_in_the_file() {
    assert_eq!(
        http_problems("\"Auth\": {\"Basic\": {\"Username\": \"u\",\n\"Password\": \"hunter2\"}}"),
        [
            format!(
                "r.json:7:1: Targets[0].Http.Auth.Basic.Password: unknown field \"Password\": secrets are not written in rule files: give PasswordEnv {ENV_OR_FILE} or PasswordFile {FILE_HOLDING}"
            ),
            format!(
                "r.json:6:19: Targets[0].Http.Auth.Basic: missing the password: give PasswordEnv {ENV_OR_FILE} or PasswordFile {FILE_HOLDING}"
            ),
        ]
    );
}

#[test]
fn http_secret_env_and_file() {
    assert_eq!(
        http_problems(
            "\"Auth\": {\"Basic\": {\"Username\": \"u\", \"PasswordEnv\": \"P\",\n\"PasswordFile\": \"/run/secrets/p\"}}"
        ),
        [
            "r.json:7:1: Targets[0].Http.Auth.Basic.PasswordFile: give PasswordEnv or PasswordFile, not both"
        ]
    );
}

#[test]
fn http_secret_bad_env_name() {
    for name in ["MY-TOKEN", "1TOKEN", ""] {
        assert_eq!(
            http_problems(&format!(
                "\"Auth\": {{\"Bearer\": {{\n\"TokenEnv\": \"{name}\"}}}}"
            )),
            [format!(
                "r.json:7:13: Targets[0].Http.Auth.Bearer.TokenEnv: \"{name}\" is not an environment variable name: use letters, digits and '_', not starting with a digit"
            )]
        );
    }
}

#[test]
fn http_secret_empty_file() {
    assert_eq!(
        http_problems("\"Auth\": {\"Bearer\": {\n\"TokenFile\": \"\"}}"),
        [
            "r.json:7:14: Targets[0].Http.Auth.Bearer.TokenFile: give a file path, such as \"/run/secrets/token\""
        ]
    );
    assert_eq!(
        http_problems("\"Auth\": {\"Bearer\": {\n\"TokenFile\": 5}}"),
        ["r.json:7:14: Targets[0].Http.Auth.Bearer.TokenFile: expected a string, found number"]
    );
}

#[test]
fn http_bearer_token_in_the_file() {
    assert_eq!(
        http_problems("\"Auth\": {\"Bearer\": {\n\"Token\": \"abc\"}}"),
        [
            format!(
                "r.json:7:1: Targets[0].Http.Auth.Bearer.Token: unknown field \"Token\": secrets are not written in rule files: give TokenEnv {ENV_OR_FILE} or TokenFile {FILE_HOLDING}"
            ),
            format!(
                "r.json:6:20: Targets[0].Http.Auth.Bearer: missing the token: give TokenEnv {ENV_OR_FILE} or TokenFile {FILE_HOLDING}"
            ),
        ]
    );
    assert_eq!(
        http_problems("\"Auth\": {\"Bearer\": {\n\"tokenEnv\": \"T\"}}"),
        [
            "r.json:7:1: Targets[0].Http.Auth.Bearer.tokenEnv: unknown field \"tokenEnv\": did you mean \"TokenEnv\"?".to_string(),
            format!(
                "r.json:6:20: Targets[0].Http.Auth.Bearer: missing the token: give TokenEnv {ENV_OR_FILE} or TokenFile {FILE_HOLDING}"
            ),
        ]
    );
}

#[test]
fn http_api_key_problems() {
    assert_eq!(
        http_problems("\"Auth\": {\"ApiKey\": {\n\"Name\": \"x api key\", \"ValueEnv\": \"K\"}}"),
        [
            "r.json:7:9: Targets[0].Http.Auth.ApiKey.Name: \"x api key\" is not a valid HTTP header name"
        ]
    );
    assert_eq!(
        http_problems("\"Auth\": {\"ApiKey\": {}}"),
        [
            "r.json:6:20: Targets[0].Http.Auth.ApiKey: missing required field \"Name\"".to_string(),
            format!(
                "r.json:6:20: Targets[0].Http.Auth.ApiKey: missing the API key: give ValueEnv {ENV_OR_FILE} or ValueFile {FILE_HOLDING}"
            ),
        ]
    );
    assert_eq!(
        http_problems(
            "\"Auth\": {\"ApiKey\": {\"Name\": \"k\",\n\"Value\": \"v\", \"ValueEnv\": \"K\"}}"
        ),
        [format!(
            "r.json:7:1: Targets[0].Http.Auth.ApiKey.Value: unknown field \"Value\": secrets are not written in rule files: give ValueEnv {ENV_OR_FILE} or ValueFile {FILE_HOLDING}"
        )]
    );
}

#[test]
fn http_oauth_missing_fields() {
    assert_eq!(
        http_problems("\"Auth\": {\"OAuth\": {}}"),
        [
            "r.json:6:19: Targets[0].Http.Auth.OAuth: missing required field \"TokenEndpoint\""
                .to_string(),
            "r.json:6:19: Targets[0].Http.Auth.OAuth: missing required field \"ClientId\""
                .to_string(),
            format!(
                "r.json:6:19: Targets[0].Http.Auth.OAuth: missing the client secret: give ClientSecretEnv {ENV_OR_FILE} or ClientSecretFile {FILE_HOLDING}"
            ),
        ]
    );
}

#[test]
fn http_oauth_bad_values() {
    let fields = "\"Auth\": {\"OAuth\": {\n\"TokenEndpoint\": \"localhost/token\",\n\"ClientId\": \"a:b\",\n\"ClientSecretFile\": \"/s\",\n\"Scope\": \" \",\n\"HttpMethod\": \"DELETE\"}}";
    assert_eq!(
        http_problems(fields),
        [
            "r.json:7:18: Targets[0].Http.Auth.OAuth.TokenEndpoint: \"localhost/token\" is not an http:// or https:// URL with a host",
            "r.json:8:13: Targets[0].Http.Auth.OAuth.ClientId: a client id cannot contain ':' (it is sent with HTTP Basic authentication)",
            "r.json:10:10: Targets[0].Http.Auth.OAuth.Scope: give scopes separated by spaces, such as \"events:write\"",
            "r.json:11:15: Targets[0].Http.Auth.OAuth.HttpMethod: \"DELETE\" is not a token request method: use POST, PUT or GET",
        ]
    );
    assert_eq!(
        http_problems(
            "\"Auth\": {\"OAuth\": {\"TokenEndpoint\": \"https://auth.example.com/token\", \"ClientSecretEnv\": \"S\",\n\"ClientId\": \"\"}}"
        ),
        ["r.json:7:13: Targets[0].Http.Auth.OAuth.ClientId: the client id cannot be empty"]
    );
}

#[test]
fn http_oauth_client_secret_in_the_file() {
    assert_eq!(
        http_problems(
            "\"Auth\": {\"OAuth\": {\"TokenEndpoint\": \"https://auth.example.com/token\", \"ClientId\": \"c\",\n\"ClientSecret\": \"s\"}}"
        ),
        [
            format!(
                "r.json:7:1: Targets[0].Http.Auth.OAuth.ClientSecret: unknown field \"ClientSecret\": secrets are not written in rule files: give ClientSecretEnv {ENV_OR_FILE} or ClientSecretFile {FILE_HOLDING}"
            ),
            format!(
                "r.json:6:19: Targets[0].Http.Auth.OAuth: missing the client secret: give ClientSecretEnv {ENV_OR_FILE} or ClientSecretFile {FILE_HOLDING}"
            ),
        ]
    );
}

#[test]
fn http_auth_header_given_twice() {
    assert_eq!(
        http_problems(
            "\"Headers\": {\n\"authorization\": \"Bearer x\"},\n\"Auth\": {\"Bearer\": {\"TokenEnv\": \"T\"}}"
        ),
        [
            "r.json:7:1: Targets[0].Http.Headers.authorization: secrets are not written in rule files: remove \"authorization\" and give the credential with Auth (Basic, ApiKey, Bearer or OAuth), which reads it from an environment variable or a file"
        ]
    );
    assert_eq!(
        http_problems("\"Headers\": {\n\"Proxy-Authorization\": \"Basic eDp5\"}"),
        [
            "r.json:7:1: Targets[0].Http.Headers.Proxy-Authorization: secrets are not written in rule files: remove \"Proxy-Authorization\" and give the credential with Auth (Basic, ApiKey, Bearer or OAuth), which reads it from an environment variable or a file"
        ]
    );
    assert_eq!(
        http_problems(
            "\"Headers\": {\n\"X-Api-Key\": \"1\"},\n\"Auth\": {\"ApiKey\": {\"Name\": \"x-api-key\", \"ValueEnv\": \"K\"}}"
        ),
        [
            "r.json:7:1: Targets[0].Http.Headers.X-Api-Key: Auth.ApiKey sets the x-api-key header: remove \"X-Api-Key\" from Headers"
        ]
    );
}

#[test]
fn pattern_wildcard_too_complex() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"],\n\"EventBusArn\": [{\"wildcard\": \"*:*:*:*:*:event-bus/*\"}]}\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:4:16: EventPattern.EventBusArn: Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character (wildcard complexity is more than the limit of 10)"
        ]
    );
}

#[test]
fn kafka_key_headers_and_ordered() {
    let text = "{\n\"Name\": \"r1\",\n\"EventPattern\": {\"source\": [\"x\"]},\n\"Targets\": [\n{\"Id\": \"a\", \"Kafka\": {\"Topic\": \"t\", \"KeyPath\": \"$.id\", \"Key\": \"k\", \"Headers\": {\"\": \"x\", \"n\": 1}, \"Ordered\": \"yes\"}}\n]\n}";
    assert_eq!(
        problems(text),
        [
            "r.json:5:63: Targets[0].Kafka.Key: give KeyPath or Key, not both",
            "r.json:5:80: Targets[0].Kafka.Headers.: a header name cannot be empty",
            "r.json:5:94: Targets[0].Kafka.Headers.n: expected a string, found number",
            "r.json:5:109: Targets[0].Kafka.Ordered: expected true or false, found string"
        ]
    );
}
