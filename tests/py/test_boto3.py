"""The EventBridge API as boto3 (and raw AWS JSON 1.1 requests) see it."""

from __future__ import annotations

import datetime
import json

import botocore.config
import botocore.exceptions
import pytest

from aws_peer import assert_aws_error, events_client, raw
from conftest import ACCOUNT, REGION, assert_no_more_lines, file_rule, wait_for_lines

ENVELOPE_KEYS = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
]


def client_error(excinfo, code: str, message: str) -> None:
    err = excinfo.value.response
    assert err["Error"] == {"Code": code, "Message": message}
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code


def aws_size(entry: dict) -> int:
    """EventBridge's PutEvents entry size (the user guide's formula)."""
    size = 14 if "Time" in entry else 0
    for key in ("Source", "DetailType", "Detail"):
        if key in entry:
            size += len(entry[key].encode("utf-8"))
    for r in entry.get("Resources", []):
        size += len(r.encode("utf-8"))
    return size


@pytest.fixture
def shop(switchyard_server, tmp_path):
    """A server with one File-target rule for source com.example.shop."""
    out = tmp_path / "shop.jsonl"
    server = switchyard_server([file_rule("shop", {"source": ["com.example.shop"]}, out)])
    return server, events_client(server.endpoint), out


# --- PutEvents ---------------------------------------------------------------


def test_put_events_delivers_the_envelope_to_a_file_target(shop):
    server, client, out = shop
    sent_at = datetime.datetime(2024, 5, 6, 7, 8, 9, 987000, tzinfo=datetime.timezone.utc)
    response = client.put_events(
        Entries=[
            {
                "Source": "com.example.shop",
                "DetailType": "OrderPlaced",
                "Detail": json.dumps({"order": "o-1", "total": 120.5, "items": ["a", "b"]}),
                "Resources": ["arn:aws:shop:eu-west-1:123456789012:order/o-1"],
                "Time": sent_at,
            }
        ]
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["FailedEntryCount"] == 0
    [entry] = response["Entries"]
    assert set(entry) == {"EventId"}
    [event] = wait_for_lines(out, 1)
    assert event.key_order == ENVELOPE_KEYS
    assert event == {
        "version": "0",
        "id": entry["EventId"],
        "detail-type": "OrderPlaced",
        "source": "com.example.shop",
        "account": ACCOUNT,
        "time": "2024-05-06T07:08:09Z",
        "region": REGION,
        "resources": ["arn:aws:shop:eu-west-1:123456789012:order/o-1"],
        "detail": {"order": "o-1", "total": 120.5, "items": ["a", "b"]},
    }


def test_put_events_without_time_is_stamped_now(shop):
    server, client, out = shop
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    response = client.put_events(
        Entries=[{"Source": "com.example.shop", "DetailType": "T", "Detail": "{}"}]
    )
    after = datetime.datetime.now(datetime.timezone.utc)
    [event] = wait_for_lines(out, 1)
    assert event["id"] == response["Entries"][0]["EventId"]
    assert event["resources"] == [] and event["detail"] == {}
    stamped = datetime.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    assert before <= stamped <= after


def test_put_events_per_entry_errors_line_up_by_index(shop):
    server, client, out = shop
    entries = [
        {"Source": "com.example.shop", "DetailType": "Ok", "Detail": '{"n": 1}'},
        {"DetailType": "NoSource", "Detail": "{}"},
        {"Source": "com.example.shop", "Detail": "{}"},
        {"Source": "com.example.shop", "DetailType": "NoDetail"},
        {"Source": "com.example.shop", "DetailType": "Bad", "Detail": "{not json"},
        {"Source": "com.example.shop", "DetailType": "Array", "Detail": "[1, 2]"},
        {"Source": "com.example.shop", "DetailType": "Ok", "Detail": '{"n": 2}'},
    ]
    response = client.put_events(Entries=entries)
    assert response["FailedEntryCount"] == 5
    results = response["Entries"]
    assert len(results) == len(entries)
    assert set(results[0]) == {"EventId"} and set(results[6]) == {"EventId"}
    assert results[1:6] == [
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument.",
        },
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
    ]
    delivered = wait_for_lines(out, 2)
    assert sorted(e["id"] for e in delivered) == sorted(
        [results[0]["EventId"], results[6]["EventId"]]
    )
    assert_no_more_lines(out, 2)


def test_put_events_eleven_entries_is_a_validation_error(shop):
    server, client, out = shop
    entry = {"Source": "com.example.shop", "DetailType": "T", "Detail": "{}"}
    message = (
        "1 validation error detected: Value of 11 entries at 'entries' failed to satisfy "
        "constraint: Member must have length less than or equal to 10"
    )
    # botocore does not check the maximum itself: the server's answer reaches the caller.
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.put_events(Entries=[entry] * 11)
    client_error(excinfo, "ValidationException", message)
    # The same request without an SDK.
    assert_aws_error(
        raw(server.endpoint, "AWSEvents.PutEvents", {"Entries": [entry] * 11}),
        "ValidationException",
        message,
    )
    # Nothing of a rejected request is delivered; ten entries are fine.
    ok = client.put_events(Entries=[entry] * 10)
    assert ok["FailedEntryCount"] == 0 and len(ok["Entries"]) == 10
    wait_for_lines(out, 10)
    assert_no_more_lines(out, 10)


def test_put_events_empty_entries(shop):
    server, client, out = shop
    # botocore rejects an empty list before sending it...
    with pytest.raises(botocore.exceptions.ParamValidationError):
        client.put_events(Entries=[])
    # ...and the server says the same to a raw request.
    assert_aws_error(
        raw(server.endpoint, "AWSEvents.PutEvents", {"Entries": []}),
        "ValidationException",
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    )


LIMIT = 200


@pytest.fixture
def small_limit(switchyard_server, tmp_path):
    out = tmp_path / "sized.jsonl"
    server = switchyard_server(
        [file_rule("sized", {"source": [{"prefix": ""}]}, out)],
        config_extra=f"\n[limits]\nput_events_max_bytes = {LIMIT}\n",
    )
    return server, events_client(server.endpoint), out


def sized_entries(total: int, with_time: bool) -> list[dict]:
    """Two entries whose AWS size adds up to `total`, with multi-byte text."""
    first = {
        "Source": "com.exämple",  # 12 bytes, 11 characters
        "DetailType": "Größe",  # 7 bytes
        "Detail": json.dumps({"k": "€"}, ensure_ascii=False),
        "Resources": ["r-1", "r-ü"],
    }
    if with_time:
        first["Time"] = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    second = {"Source": "s", "DetailType": "t", "Detail": ""}
    pad = total - aws_size(first) - aws_size({**second, "Detail": '{"p":""}'})
    assert pad >= 0
    second["Detail"] = json.dumps({"p": "x" * pad}, separators=(",", ":"))
    entries = [first, second]
    assert sum(aws_size(e) for e in entries) == total
    return entries


@pytest.mark.parametrize("with_time", [True, False])
def test_put_events_size_limit_uses_the_aws_formula(small_limit, with_time):
    server, client, out = small_limit
    at_limit = client.put_events(Entries=sized_entries(LIMIT, with_time))
    assert at_limit["FailedEntryCount"] == 0
    events = wait_for_lines(out, 2)
    assert {e["source"] for e in events} == {"com.exämple", "s"}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.put_events(Entries=sized_entries(LIMIT + 1, with_time))
    client_error(
        excinfo,
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )
    assert_no_more_lines(out, 2)


def test_put_events_time_counts_14_bytes(small_limit):
    server, client, out = small_limit
    entries = sized_entries(LIMIT, with_time=False)
    assert client.put_events(Entries=entries)["FailedEntryCount"] == 0
    entries[1]["Time"] = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.put_events(Entries=entries)
    client_error(
        excinfo,
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


def test_put_events_to_a_bus_no_rule_listens_on_is_accepted(shop):
    server, client, out = shop
    response = client.put_events(
        Entries=[
            {
                "Source": "com.example.shop",
                "DetailType": "T",
                "Detail": "{}",
                "EventBusName": "nobody-listens",
            },
            {
                "Source": "com.example.shop",
                "DetailType": "T",
                "Detail": "{}",
                "EventBusName": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other",
            },
        ]
    )
    assert response["FailedEntryCount"] == 0
    assert all(set(e) == {"EventId"} for e in response["Entries"])
    # The shop rule listens on the default bus only.
    assert_no_more_lines(out, 0)


def test_put_events_routes_by_bus(switchyard_server, tmp_path):
    default_out, orders_out = tmp_path / "default.jsonl", tmp_path / "orders.jsonl"
    server = switchyard_server(
        [
            file_rule("on-default", {"source": ["s"]}, default_out),
            file_rule("on-orders", {"source": ["s"]}, orders_out, bus="orders"),
        ]
    )
    client = events_client(server.endpoint)
    r = client.put_events(
        Entries=[
            {"Source": "s", "DetailType": "d", "Detail": '{"bus": "default"}'},
            {"Source": "s", "DetailType": "o", "Detail": '{"bus": "orders"}', "EventBusName": "orders"},
        ]
    )
    assert r["FailedEntryCount"] == 0
    [d] = wait_for_lines(default_out, 1)
    [o] = wait_for_lines(orders_out, 1)
    assert (d["id"], d["detail"]) == (r["Entries"][0]["EventId"], {"bus": "default"})
    assert (o["id"], o["detail"]) == (r["Entries"][1]["EventId"], {"bus": "orders"})


# --- TestEventPattern --------------------------------------------------------

EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": ACCOUNT,
    "time": "2024-01-01T00:00:00Z",
    "region": REGION,
    "resources": ["arn:aws:ec2:eu-west-1:123456789012:instance/i-1"],
    "detail": {"instance-id": "i-1", "state": "running"},
}


@pytest.fixture
def api(switchyard_server, tmp_path):
    """A server with three rules on the default bus and one on `orders`."""
    server = switchyard_server(
        [
            file_rule(
                "alpha",
                {"source": ["a"]},
                tmp_path / "alpha.jsonl",
                Description="first rule",
            ),
            file_rule("bravo", {"source": ["b"]}, tmp_path / "bravo.jsonl", State="DISABLED"),
            {
                "Name": "charlie",
                "EventPattern": {"source": ["c"], "detail": {"n": [{"numeric": [">", 1]}]}},
                "Targets": [
                    {"Id": "t2", "Stdout": {}, "InputPath": "$.detail"},
                    {
                        "Id": "t1",
                        "File": {"Path": str(tmp_path / "charlie.jsonl")},
                        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
                    },
                    {"Id": "t3", "EventBus": {"Name": "orders"}},
                ],
            },
            file_rule("order-rule", {"source": ["o"]}, tmp_path / "orders.jsonl", bus="orders"),
        ]
    )
    return server, events_client(server.endpoint)


def test_test_event_pattern_true_and_false(api):
    server, client = api
    event = json.dumps(EVENT)
    match = client.test_event_pattern(
        EventPattern=json.dumps({"source": ["aws.ec2"], "detail": {"state": ["running"]}}),
        Event=event,
    )
    assert match["Result"] is True
    no_match = client.test_event_pattern(
        EventPattern=json.dumps({"detail": {"state": [{"anything-but": "running"}]}}),
        Event=event,
    )
    assert no_match["Result"] is False


def test_test_event_pattern_invalid_pattern(api):
    server, client = api
    with pytest.raises(client.exceptions.InvalidEventPatternException) as excinfo:
        client.test_event_pattern(EventPattern='{"source": "aws.ec2"}', Event=json.dumps(EVENT))
    client_error(
        excinfo,
        "InvalidEventPatternException",
        "Event pattern is not valid. Reason: source: a field must be an array of match values "
        '(e.g. ["value"]) or an object of fields, found string',
    )
    with pytest.raises(client.exceptions.InvalidEventPatternException) as excinfo:
        client.test_event_pattern(EventPattern="{not json", Event=json.dumps(EVENT))
    assert excinfo.value.response["Error"]["Message"].startswith(
        "Event pattern is not valid. Reason: "
    )


@pytest.mark.parametrize("missing", ["id", "account", "source", "time", "region", "detail-type"])
def test_test_event_pattern_event_missing_an_envelope_field(api, missing):
    server, client = api
    event = {k: v for k, v in EVENT.items() if k != missing}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.test_event_pattern(EventPattern='{"source": ["aws.ec2"]}', Event=json.dumps(event))
    client_error(excinfo, "ValidationException", "Parameter Event is not valid.")


def test_test_event_pattern_event_not_json(api):
    server, client = api
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.test_event_pattern(EventPattern='{"source": ["aws.ec2"]}', Event="{nope")
    client_error(excinfo, "ValidationException", "Parameter Event is not valid.")


# --- Rules and buses ---------------------------------------------------------


def rule_arn(name: str, bus: str = "default") -> str:
    path = name if bus == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{path}"


def test_list_rules_pages_with_limit_and_next_token(api):
    server, client = api
    first = client.list_rules(Limit=2)
    assert [r["Name"] for r in first["Rules"]] == ["alpha", "bravo"]
    assert first["NextToken"]
    second = client.list_rules(Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in second["Rules"]] == ["charlie"]
    assert "NextToken" not in second
    everything = client.list_rules()
    assert [r["Name"] for r in everything["Rules"]] == ["alpha", "bravo", "charlie"]
    alpha, bravo, charlie = everything["Rules"]
    assert alpha == {
        "Name": "alpha",
        "Arn": rule_arn("alpha"),
        "EventPattern": '{"source":["a"]}',
        "State": "ENABLED",
        "Description": "first rule",
        "EventBusName": "default",
    }
    assert bravo["State"] == "DISABLED"
    assert json.loads(charlie["EventPattern"]) == {
        "source": ["c"],
        "detail": {"n": [{"numeric": [">", 1]}]},
    }
    # boto3's paginator follows NextToken the same way.
    pages = client.get_paginator("list_rules").paginate(PaginationConfig={"PageSize": 1})
    assert [[r["Name"] for r in p["Rules"]] for p in pages] == [["alpha"], ["bravo"], ["charlie"]]
    assert [r["Name"] for r in client.list_rules(NamePrefix="b")["Rules"]] == ["bravo"]
    orders = client.list_rules(EventBusName="orders")["Rules"]
    assert [(r["Name"], r["Arn"]) for r in orders] == [
        ("order-rule", rule_arn("order-rule", "orders"))
    ]


def test_list_rules_limit_out_of_range(api):
    server, client = api
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.list_rules(Limit=101)
    client_error(
        excinfo,
        "ValidationException",
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value between 1 and 100",
    )


def test_describe_rule(api):
    server, client = api
    alpha = client.describe_rule(Name="alpha")
    alpha.pop("ResponseMetadata")
    assert alpha == {
        "Name": "alpha",
        "Arn": rule_arn("alpha"),
        "EventPattern": '{"source":["a"]}',
        "State": "ENABLED",
        "Description": "first rule",
        "EventBusName": "default",
        "CreatedBy": ACCOUNT,
    }
    order = client.describe_rule(Name="order-rule", EventBusName="orders")
    assert order["Arn"] == f"arn:aws:events:eu-west-1:123456789012:rule/orders/order-rule"
    assert order["EventBusName"] == "orders"
    by_arn = client.describe_rule(
        Name="order-rule", EventBusName=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
    )
    assert by_arn["Arn"] == order["Arn"]


def test_describe_rule_not_found(api):
    server, client = api
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.describe_rule(Name="nope")
    client_error(
        excinfo, "ResourceNotFoundException", "Rule nope does not exist on EventBus default."
    )
    # A rule exists on its own bus only.
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.describe_rule(Name="order-rule")
    client_error(
        excinfo, "ResourceNotFoundException", "Rule order-rule does not exist on EventBus default."
    )


def test_list_targets_by_rule(api, tmp_path):
    server, client = api
    targets = client.list_targets_by_rule(Rule="charlie")["Targets"]
    assert targets == [
        {
            "Id": "t1",
            "Arn": f"arn:switchyard:file:::{tmp_path / 'charlie.jsonl'}",
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
        },
        {
            "Id": "t2",
            "Arn": "arn:switchyard:stdout:::",
            "InputPath": "$.detail",
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        },
        {
            "Id": "t3",
            "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders",
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        },
    ]
    page = client.list_targets_by_rule(Rule="charlie", Limit=2)
    assert [t["Id"] for t in page["Targets"]] == ["t1", "t2"]
    rest = client.list_targets_by_rule(Rule="charlie", Limit=2, NextToken=page["NextToken"])
    assert [t["Id"] for t in rest["Targets"]] == ["t3"] and "NextToken" not in rest
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.list_targets_by_rule(Rule="nope", EventBusName="orders")
    client_error(excinfo, "ResourceNotFoundException", "Rule nope does not exist on EventBus orders.")


def test_list_and_describe_event_buses(api):
    server, client = api
    buses = client.list_event_buses()["EventBuses"]
    assert buses == [
        {"Name": "default", "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"},
        {"Name": "orders", "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"},
    ]
    assert [b["Name"] for b in client.list_event_buses(NamePrefix="or")["EventBuses"]] == [
        "orders"
    ]
    page = client.list_event_buses(Limit=1)
    assert [b["Name"] for b in page["EventBuses"]] == ["default"]
    assert page["NextToken"]
    default = client.describe_event_bus()
    assert (default["Name"], default["Arn"]) == ("default", buses[0]["Arn"])
    orders = client.describe_event_bus(Name="orders")
    assert (orders["Name"], orders["Arn"]) == ("orders", buses[1]["Arn"])
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.describe_event_bus(Name="nope")
    client_error(excinfo, "ResourceNotFoundException", "Event bus nope does not exist.")


def test_put_rule_names_the_rules_directory(api):
    server, client = api
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.put_rule(Name="new-rule", EventPattern='{"source": ["x"]}')
    client_error(
        excinfo,
        "ValidationException",
        "PutRule is not supported: switchyard's rules are files. Edit the rule files in "
        f"{server.rules_dir} instead; changes are live within a second",
    )
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.delete_rule(Name="alpha")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert str(server.rules_dir) in excinfo.value.response["Error"]["Message"]
    # Nothing changed.
    assert client.describe_rule(Name="alpha")["Name"] == "alpha"


# --- Raw protocol ------------------------------------------------------------


def test_unknown_operation(api):
    server, client = api
    assert_aws_error(
        raw(server.endpoint, "AWSEvents.FrobnicateRules", {}),
        "UnknownOperationException",
        "switchyard does not support the operation FrobnicateRules",
    )
    assert_aws_error(
        raw(server.endpoint, "Kinesis_20131202.PutRecord", {}),
        "UnknownOperationException",
        'unknown operation "Kinesis_20131202.PutRecord": EventBridge operations are '
        "AWSEvents.<Operation>",
    )
    assert_aws_error(
        raw(server.endpoint, None, {}),
        "UnknownOperationException",
        "missing the X-Amz-Target header: say which operation to run, e.g. "
        "X-Amz-Target: AWSEvents.PutEvents",
    )


def test_malformed_bodies_are_serialization_errors(api):
    server, client = api
    for body in ["{not json", '{"Entries": "nope"}', "[]"]:
        response = raw(server.endpoint, "AWSEvents.PutEvents", body)
        assert response.status_code == 400, body
        assert response.headers["X-Amzn-ErrorType"] == "SerializationException"
        payload = response.json()
        assert payload["__type"] == "SerializationException"
        assert payload["message"].startswith(
            "the request body is not valid input for this operation: "
        )


def test_error_statuses_are_400_never_5xx(api):
    server, client = api
    cases = [
        ("AWSEvents.PutEvents", {"Entries": []}),
        ("AWSEvents.PutEvents", "{"),
        ("AWSEvents.DescribeRule", {"Name": "missing"}),
        ("AWSEvents.DescribeRule", {}),
        ("AWSEvents.ListRules", {"Limit": 0}),
        ("AWSEvents.TestEventPattern", {"EventPattern": "{", "Event": "{}"}),
        ("AWSEvents.TestEventPattern", {}),
        ("AWSEvents.PutTargets", {}),
        ("AWSEvents.Nope", {}),
    ]
    for operation, body in cases:
        response = raw(server.endpoint, operation, body)
        assert response.status_code == 400, (operation, body, response.text)
        assert response.headers["X-Amzn-ErrorType"] == response.json()["__type"]
        assert response.headers["x-amzn-RequestId"]


def test_successful_raw_request_has_a_request_id(api):
    server, client = api
    response = raw(server.endpoint, "AWSEvents.ListEventBuses", "")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert "X-Amzn-ErrorType" not in response.headers
    assert len(response.headers["x-amzn-RequestId"]) == 36
    assert [b["Name"] for b in response.json()["EventBuses"]] == ["default", "orders"]
