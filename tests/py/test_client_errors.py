"""Errors a client can cause, each with the exact status, code and message.

CloudEvents (`POST /cloudevents`) answers `{"message": ...}` with 400 or 415;
the AWS JSON API answers status 400 with `{"__type", "message"}` and
`X-Amzn-ErrorType`, per entry for PutEvents. SigV4 rejections come from a
server with `[auth]` configured, for requests signed by botocore's own
`SigV4Auth` and then altered the way a broken client or proxy would.
"""

from __future__ import annotations

import datetime
import json

import botocore.config
import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import aws_peer
from aws_peer import events_client, raw
from conftest import ACCOUNT, REGION, assert_no_more_lines, file_rule, wait_for_lines

# --- helpers -----------------------------------------------------------------


def post_ce(server, headers: dict, body) -> requests.Response:
    return requests.post(server.endpoint + "/cloudevents", headers=headers, data=body, timeout=10)


def assert_ce_error(response: requests.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": message}


def assert_aws_error(response: requests.Response, code: str, message: str) -> None:
    aws_peer.assert_aws_error(response, code, message)
    assert len(response.headers["x-amzn-RequestId"]) == 36


def nested(depth: int) -> str:
    """A JSON object nested `depth` levels deep: depth 1 is `{"a":1}`."""
    text = "1"
    for _ in range(depth):
        text = '{"a":' + text + "}"
    return text


BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "err-1",
    "ce-source": "/errors",
    "ce-type": "com.example.error",
}
STRUCTURED = {"Content-Type": "application/cloudevents+json"}
BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def structured_event(**attrs) -> dict:
    event = {"specversion": "1.0", "id": "err-1", "source": "/errors", "type": "com.example.error"}
    event.update(attrs)
    return {k: v for k, v in event.items() if v is not None}


@pytest.fixture
def ce(switchyard_server, tmp_path):
    out = tmp_path / "all.jsonl"
    server = switchyard_server([file_rule("all", {"source": [{"prefix": ""}]}, out)])
    return server, out


# --- CloudEvents: structured and batch mode ------------------------------------


def test_structured_without_specversion_is_400(ce):
    server, out = ce
    response = post_ce(server, STRUCTURED, json.dumps(structured_event(specversion=None)))
    assert_ce_error(response, 400, "required attribute specversion is missing")
    # An empty specversion is as good as none.
    response = post_ce(server, STRUCTURED, json.dumps(structured_event(specversion="")))
    assert_ce_error(response, 400, "required attribute specversion is missing")
    assert_no_more_lines(out, 0)


def test_binary_without_specversion_is_400(ce):
    server, out = ce
    headers = {k: v for k, v in BINARY.items() if k != "ce-specversion"}
    response = post_ce(server, headers, "{}")
    assert_ce_error(response, 400, "required attribute specversion is missing")
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "attribute, value, found",
    [
        ("id", 42, "a number"),
        ("id", True, "a boolean"),
        ("source", 7.5, "a number"),
        ("type", False, "a boolean"),
        ("subject", 1, "a number"),
        ("time", 1700000000, "a number"),
    ],
)
def test_structured_non_string_attribute_is_400(ce, attribute, value, found):
    server, out = ce
    response = post_ce(server, STRUCTURED, json.dumps(structured_event(**{attribute: value})))
    assert_ce_error(response, 400, f"attribute {attribute} must be a string, found {found}")
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "value, found", [([1, 2], "an array"), ({"k": "v"}, "an object")]
)
def test_structured_extension_that_is_not_a_scalar_is_400(ce, value, found):
    server, out = ce
    response = post_ce(server, STRUCTURED, json.dumps(structured_event(myext=value)))
    assert_ce_error(
        response, 400, f"attribute myext must be a string, number or boolean, found {found}"
    )
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "body, reason",
    [
        ("{not json", "unexpected 'n', expected a string key at line 1 column 2"),
        ('{"specversion": "1.0",', "unexpected end of input, expected a string key at line 1 column 23"),
        ("", "unexpected end of input, expected a JSON value at line 1 column 1"),
    ],
)
def test_structured_body_that_is_not_json_is_400(ce, body, reason):
    server, out = ce
    response = post_ce(server, STRUCTURED, body)
    assert_ce_error(response, 400, f"the structured CloudEvent is not valid JSON: {reason}")
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "body, found", [("[1]", "an array"), ('"text"', "a string"), ("null", "null")]
)
def test_structured_body_that_is_not_an_object_is_400(ce, body, found):
    server, out = ce
    response = post_ce(server, STRUCTURED, body)
    assert_ce_error(response, 400, f"a structured CloudEvent must be a JSON object, found {found}")


@pytest.mark.parametrize(
    "body, found",
    [
        (json.dumps(structured_event()), "an object"),
        ('"[]"', "a string"),
        ("42", "a number"),
    ],
)
def test_batch_that_is_not_an_array_is_400(ce, body, found):
    server, out = ce
    response = post_ce(server, BATCH, body)
    assert_ce_error(response, 400, f"a CloudEvents batch must be a JSON array, found {found}")
    assert_no_more_lines(out, 0)


def test_batch_body_that_is_not_json_is_400(ce):
    server, out = ce
    response = post_ce(server, BATCH, "[{")
    assert_ce_error(
        response,
        400,
        "the CloudEvents batch is not valid JSON: unexpected end of input, expected a string key at line 1 column 3",
    )


def test_batch_element_that_is_not_an_object_is_400(ce):
    server, out = ce
    response = post_ce(server, BATCH, json.dumps([structured_event(), 7]))
    assert_ce_error(
        response, 400, "event [1]: a structured CloudEvent must be a JSON object, found a number"
    )
    response = post_ce(server, BATCH, json.dumps([structured_event(id=9)]))
    assert_ce_error(response, 400, "event [0]: attribute id must be a string, found a number")
    assert_no_more_lines(out, 0)


# --- CloudEvents: binary mode headers and data -------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        "%C0%A0",  # the spec's example: an overlong encoding of U+0020
        "%FF",  # never valid in UTF-8
        "caf%C3",  # a truncated two-byte sequence
        "%ED%A0%80",  # a UTF-16 surrogate (U+D800) encoded as UTF-8
    ],
)
def test_binary_header_that_is_not_utf8_once_decoded_is_400(ce, encoded):
    server, out = ce
    response = post_ce(server, dict(BINARY, **{"ce-subject": encoded}), "{}")
    assert_ce_error(response, 400, "header ce-subject is not UTF-8 once percent-decoded")
    assert_no_more_lines(out, 0)


def test_binary_header_with_a_raw_non_ascii_byte_is_400(ce):
    server, out = ce
    # http.client sends str header values as Latin-1: "ü" is the byte 0xFC.
    response = post_ce(server, dict(BINARY, **{"ce-note": "ü"}), "{}")
    assert_ce_error(response, 400, "header ce-note is not visible ASCII")
    assert_no_more_lines(out, 0)


def test_binary_header_with_a_malformed_escape_is_kept_as_text(ce):
    # `%ZZ` is not a percent-escape; the percent-encoding crate keeps it as it is
    # (only bytes that are not UTF-8 after decoding are rejected). Pinned so that
    # a change to this leniency is deliberate.
    server, out = ce
    response = post_ce(server, dict(BINARY, **{"ce-subject": "%ZZ%4"}), "{}")
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(out, 1)
    assert event["resources"] == ["%ZZ%4"]


def test_binary_header_double_quoted_value_is_unquoted(ce):
    # A binary-mode header value that is an RFC 7230 quoted-string is unquoted
    # and unescaped before percent-decoding, as the HTTP binding (3.1.3.2)
    # requires of receivers; the quotes and backslashes once ended up in the
    # attribute.
    server, out = ce
    response = post_ce(server, dict(BINARY, **{"ce-subject": '"quoted \\"value\\""'}), "{}")
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(out, 1)
    assert event["resources"] == ['quoted "value"']


def test_binary_data_that_is_not_json_is_400(ce):
    server, out = ce
    response = post_ce(server, BINARY, "{nope")
    assert_ce_error(
        response, 400, "the event data is not valid JSON: unexpected 'n', expected a string key at line 1 column 2"
    )
    headers = dict(BINARY, **{"Content-Type": "application/json"})
    response = post_ce(server, headers, "[1,")
    assert_ce_error(
        response,
        400,
        "the event data is not valid JSON: unexpected end of input, expected a JSON value at line 1 column 4",
    )
    assert_no_more_lines(out, 0)


def test_binary_text_data_that_is_not_utf8_is_400(ce):
    server, out = ce
    response = post_ce(server, dict(BINARY, **{"Content-Type": "text/plain"}), b"caf\xe9")
    assert_ce_error(response, 400, "text data is not UTF-8")
    assert_no_more_lines(out, 0)


def test_data_deeper_than_the_configured_limit_is_400(switchyard_server, tmp_path):
    out = tmp_path / "all.jsonl"
    server = switchyard_server(
        [file_rule("all", {"source": [{"prefix": ""}]}, out)],
        config_extra="\n[limits]\nmax_event_depth = 4\n",
    )
    assert post_ce(server, BINARY, nested(4)).status_code == 202
    response = post_ce(server, BINARY, nested(5))
    assert_ce_error(
        response,
        400,
        "data: event is not valid JSON: nesting deeper than 4 levels at line 1 column 21",
    )
    body = json.dumps(structured_event()).rstrip("}") + ', "data": ' + nested(5) + "}"
    response = post_ce(server, STRUCTURED, body)
    assert_ce_error(
        response,
        400,
        "data: event is not valid JSON: nesting deeper than 4 levels at line 1 column 21",
    )
    [event] = wait_for_lines(out, 1)
    assert event["detail"] == json.loads(nested(4))
    assert_no_more_lines(out, 1)


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_data_at_the_default_depth_limit_is_accepted(ce, mode):
    # Data 128 levels deep (the default max_event_depth) is accepted in both
    # modes, as PutEvents accepts the same Detail. The JSON parser's own
    # recursion limit, counted over the whole body, once rejected it first
    # ("recursion limit exceeded"), so raising max_event_depth never helped.
    server, out = ce
    if mode == "binary":
        response = post_ce(server, BINARY, nested(128))
    else:
        body = json.dumps(structured_event()).rstrip("}") + ', "data": ' + nested(128) + "}"
        response = post_ce(server, STRUCTURED, body)
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(out, 1)
    assert event["detail"] == json.loads(nested(128))


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_time_past_year_9999_in_utc_is_400_not_a_dropped_connection(ce, mode):
    # A valid RFC 3339 time whose UTC instant is in year 10000 is a 400 naming
    # the attribute; it once panicked the handler, and the client's connection
    # was closed without any response.
    server, out = ce
    late = "9999-12-31T23:59:59-01:00"
    try:
        if mode == "binary":
            response = post_ce(server, dict(BINARY, **{"ce-time": late}), "{}")
        else:
            response = post_ce(server, STRUCTURED, json.dumps(structured_event(time=late)))
    except requests.exceptions.ConnectionError as e:
        pytest.fail(f"the server closed the connection without an answer: {e}")
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"attribute time {json.dumps(late)} ")
    assert_no_more_lines(out, 0)


# --- TestEventPattern --------------------------------------------------------


@pytest.fixture
def api(switchyard_server, tmp_path):
    out = tmp_path / "api.jsonl"
    server = switchyard_server([file_rule("api", {"source": ["a"]}, out)])
    return server, events_client(server.endpoint), out


def client_error(excinfo, code: str, message: str) -> None:
    err = excinfo.value.response
    assert err["Error"] == {"Code": code, "Message": message}
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("event", ["[1]", "1", "null", '"an event"', "[]", "true"])
def test_test_event_pattern_event_that_is_not_an_object(api, event):
    server, client, _ = api
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.test_event_pattern(EventPattern='{"source": ["a"]}', Event=event)
    client_error(excinfo, "ValidationException", "Parameter Event is not valid.")
    assert_aws_error(
        raw(
            server.endpoint,
            "AWSEvents.TestEventPattern",
            {"EventPattern": '{"source": ["a"]}', "Event": event},
        ),
        "ValidationException",
        "Parameter Event is not valid.",
    )


def test_test_event_pattern_missing_members(api):
    server, client, _ = api
    assert_aws_error(
        raw(server.endpoint, "AWSEvents.TestEventPattern", {"Event": "{}"}),
        "ValidationException",
        "1 validation error detected: Value null at 'eventPattern' failed to satisfy "
        "constraint: Member must not be null",
    )
    assert_aws_error(
        raw(server.endpoint, "AWSEvents.TestEventPattern", {"EventPattern": '{"source": ["a"]}'}),
        "ValidationException",
        "1 validation error detected: Value null at 'event' failed to satisfy constraint: "
        "Member must not be null",
    )


ENVELOPE = (
    '{"id":"1","account":"%s","source":"a","time":"2024-01-01T00:00:00Z",'
    '"region":"%s","detail-type":"d","detail":%%s}' % (ACCOUNT, REGION)
)


def test_test_event_pattern_takes_an_event_as_deep_as_its_own_limit(api):
    # TestEventPattern takes an event as deep as the event limit allows (128
    # levels, its detail 127), so any event PutEvents accepts can be tested. A
    # second parse of Event with a stricter limit once answered "Parameter Event
    # is not valid." for any detail deeper than 126.
    server, client, _ = api
    assert client.test_event_pattern(
        EventPattern='{"source": ["a"]}', Event=ENVELOPE % nested(126)
    )["Result"] is True
    result = client.test_event_pattern(
        EventPattern='{"source": ["a"]}', Event=ENVELOPE % nested(127)
    )
    assert result["Result"] is True


# --- PutEvents ---------------------------------------------------------------


def test_put_events_detail_deeper_than_the_limit_is_malformed(api):
    server, client, out = api
    # max_event_depth is 128 by default: 128 levels of Detail pass, 129 do not.
    response = client.put_events(
        Entries=[
            {"Source": "a", "DetailType": "deep", "Detail": nested(128)},
            {"Source": "a", "DetailType": "deeper", "Detail": nested(129)},
            {"Source": "a", "DetailType": "array", "Detail": "[" * 200 + "]" * 200},
        ]
    )
    assert response["FailedEntryCount"] == 2
    ok, too_deep, array = response["Entries"]
    assert set(ok) == {"EventId"}
    malformed = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert too_deep == malformed and array == malformed
    [event] = wait_for_lines(out, 1)
    assert event["id"] == ok["EventId"]
    assert event["detail"] == json.loads(nested(128))
    assert_no_more_lines(out, 1)


def test_put_events_detail_depth_follows_the_configured_limit(switchyard_server, tmp_path):
    out = tmp_path / "shallow.jsonl"
    server = switchyard_server(
        [file_rule("shallow", {"source": ["a"]}, out)],
        config_extra="\n[limits]\nmax_event_depth = 3\n",
    )
    response = events_client(server.endpoint).put_events(
        Entries=[
            {"Source": "a", "DetailType": "t", "Detail": nested(3)},
            {"Source": "a", "DetailType": "t", "Detail": nested(4)},
            {"Source": "a", "DetailType": "t", "Detail": '{"a": [[[1]]]}'},
        ]
    )
    assert response["FailedEntryCount"] == 2
    assert set(response["Entries"][0]) == {"EventId"}
    for entry in response["Entries"][1:]:
        assert entry == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    wait_for_lines(out, 1)
    assert_no_more_lines(out, 1)


@pytest.mark.parametrize(
    "value", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00", 1e300]
)
def test_put_events_bad_time_is_invalid_argument(api, value):
    server, client, out = api
    response = raw(
        server.endpoint,
        "AWSEvents.PutEvents",
        {"Entries": [{"Source": "a", "DetailType": "t", "Detail": "{}", "Time": value}]},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "FailedEntryCount": 1,
        "Entries": [
            {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": "Parameter Time is not valid. Reason: Time must be epoch "
                "seconds or an RFC 3339 timestamp.",
            }
        ],
    }
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-01:00",  # year 10000 in UTC: once a panic
        "0000-01-01T00:30:00+01:00",  # year -1 in UTC: once envelope time "-001-12-31T23:30:00Z"
    ],
)
def test_put_events_time_outside_years_0000_to_9999_in_utc_is_invalid_argument(api, value):
    # A Time whose UTC instant leaves years 0000-9999 is refused per entry with
    # InvalidArgument, like epoch seconds out of that range. Past 9999 it once
    # panicked the handler (connection closed, no answer); before 0000 it wrote
    # an envelope `time` that is not a timestamp.
    server, client, out = api
    try:
        response = raw(
            server.endpoint,
            "AWSEvents.PutEvents",
            {"Entries": [{"Source": "a", "DetailType": "t", "Detail": "{}", "Time": value}]},
        )
    except requests.exceptions.ConnectionError as e:
        pytest.fail(f"the server closed the connection without an answer: {e}")
    assert response.status_code == 200, response.text
    assert response.json()["Entries"] == [
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": "Parameter Time is not valid. Reason: Time must be epoch "
            "seconds or an RFC 3339 timestamp.",
        }
    ]
    assert_no_more_lines(out, 0)


def test_put_events_epoch_time_past_year_9999_is_invalid_argument(api):
    server, client, out = api
    entries = [{"Source": "a", "DetailType": "t", "Detail": "{}", "Time": 253402300800}]
    response = raw(server.endpoint, "AWSEvents.PutEvents", {"Entries": entries})
    assert response.json()["Entries"][0]["ErrorCode"] == "InvalidArgument"


def test_put_events_bad_event_bus_name_is_invalid_argument(api):
    server, client, out = api
    response = client.put_events(
        Entries=[
            {"Source": "a", "DetailType": "t", "Detail": "{}", "EventBusName": "no spaces!"},
            {
                "Source": "a",
                "DetailType": "t",
                "Detail": "{}",
                "EventBusName": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/api",
            },
            {"Source": "a", "DetailType": "t", "Detail": "{}", "EventBusName": "x" * 257},
        ]
    )
    assert response["FailedEntryCount"] == 3
    assert response["Entries"] == [
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": 'Parameter EventBusName is not valid. Reason: "no spaces!" is not '
            "a valid event bus name.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": f"Parameter EventBusName is not valid. Reason: arn:aws:events:"
            f"{REGION}:{ACCOUNT}:rule/api is not an event bus ARN.",
        },
        {
            "ErrorCode": "InvalidArgument",
            "ErrorMessage": f'Parameter EventBusName is not valid. Reason: "{"x" * 257}" is '
            "not a valid event bus name.",
        },
    ]
    assert_no_more_lines(out, 0)


# --- The read-only calls -----------------------------------------------------


def test_read_calls_without_their_required_member(api):
    server, client, _ = api
    for operation, member in [
        ("AWSEvents.DescribeRule", "name"),
        ("AWSEvents.ListTargetsByRule", "rule"),
    ]:
        assert_aws_error(
            raw(server.endpoint, operation, {}),
            "ValidationException",
            f"1 validation error detected: Value null at '{member}' failed to satisfy "
            "constraint: Member must not be null",
        )


@pytest.mark.parametrize("operation", ["ListEventBuses", "ListTargetsByRule"])
def test_read_calls_limit_out_of_range(api, operation):
    server, client, _ = api
    body = {"Limit": 0} if operation == "ListEventBuses" else {"Rule": "api", "Limit": 0}
    assert_aws_error(
        raw(server.endpoint, f"AWSEvents.{operation}", body),
        "ValidationException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value between 1 and 100",
    )


# --- SigV4 -------------------------------------------------------------------

AKID = "AKIDSWITCHYARDPYTEST"
SECRET = "py-test/secret+key"


@pytest.fixture
def signed(switchyard_server, tmp_path):
    """A server with `[auth]` (the secret in a file) and one File-target rule."""
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    out = tmp_path / "signed.jsonl"
    server = switchyard_server(
        [file_rule("signed", {"source": ["signed"]}, out)],
        config_extra=f'\n[auth]\naccess_key_id = "{AKID}"\nsecret_access_key_file = "{secret}"\n',
    )
    return server, out


PUT = {"Entries": [{"Source": "signed", "DetailType": "t", "Detail": '{"n": 1}'}]}


def sign(endpoint: str, operation: str, body: dict, secret: str = SECRET) -> tuple[dict, str]:
    """Headers botocore's SigV4 signer produces for this request, and its body."""
    data = json.dumps(body)
    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=data,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": operation},
    )
    SigV4Auth(Credentials(AKID, secret), "events", REGION).add_auth(request)
    return dict(request.prepare().headers), data


def send(endpoint: str, headers: dict, data: str) -> requests.Response:
    return requests.post(endpoint + "/", headers=headers, data=data, timeout=10)


def test_sigv4_good_signature_passes(signed):
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target," in headers["Authorization"]
    response = send(server.endpoint, headers, data)
    assert response.status_code == 200, response.text
    [entry] = response.json()["Entries"]
    [event] = wait_for_lines(out, 1)
    assert event["id"] == entry["EventId"]
    # A real boto3 client with the same key works too; a wrong secret does not.
    client = events_client(server.endpoint, key=AKID, secret=SECRET)
    assert [r["Name"] for r in client.list_rules()["Rules"]] == ["signed"]
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT, secret="not-the-secret")
    assert_aws_error(
        send(server.endpoint, headers, data),
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.",
    )
    assert_no_more_lines(out, 1)


def test_sigv4_credential_date_not_matching_x_amz_date(signed):
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    amz_date = headers["X-Amz-Date"]
    day = amz_date[:8]
    other = (datetime.datetime.strptime(day, "%Y%m%d") - datetime.timedelta(days=1)).strftime(
        "%Y%m%d"
    )
    headers["Authorization"] = headers["Authorization"].replace(f"/{day}/", f"/{other}/")
    assert f"Credential={AKID}/{other}/{REGION}/events/aws4_request" in headers["Authorization"]
    assert_aws_error(
        send(server.endpoint, headers, data),
        "InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        f"from HTTP: '{other}' != '{day}', from '{amz_date}'.",
    )
    assert_no_more_lines(out, 0)


def test_sigv4_x_amz_date_not_signed(signed):
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    headers["Authorization"] = headers["Authorization"].replace(
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target",
        "SignedHeaders=content-type;host;x-amz-target",
    )
    assert_aws_error(
        send(server.endpoint, headers, data),
        "IncompleteSignatureException",
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    )
    assert_no_more_lines(out, 0)


@pytest.mark.parametrize(
    "bad_date",
    ["2024-01-01T00:00:00Z", "20240101T000000", "20241301T000000Z", "20240101T250000Z", ""],
)
def test_sigv4_malformed_x_amz_date(signed, bad_date):
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    headers["X-Amz-Date"] = bad_date
    assert_aws_error(
        send(server.endpoint, headers, data),
        "IncompleteSignatureException",
        "X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', "
        f"not '{bad_date}'",
    )
    assert_no_more_lines(out, 0)


def test_sigv4_missing_x_amz_date(signed):
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    del headers["X-Amz-Date"]
    headers["Date"] = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert_aws_error(
        send(server.endpoint, headers, data),
        "IncompleteSignatureException",
        "Authorization header requires existence of a 'X-Amz-Date' header (switchyard "
        f"does not accept 'Date' instead). Authorization={headers['Authorization']}",
    )


def test_sigv4_an_expired_date_is_reported_before_unsigned_headers(signed):
    # The README's table lists the checks in the order the code makes them: the
    # 15-minute window before the SignedHeaders checks.
    server, out = signed
    headers, data = sign(server.endpoint, "AWSEvents.PutEvents", PUT)
    day = headers["X-Amz-Date"][:8]
    yesterday = (datetime.datetime.strptime(day, "%Y%m%d") - datetime.timedelta(days=1)).strftime(
        "%Y%m%d"
    )
    # A day old, with the credential scope's date to match: only the window and
    # the SignedHeaders are wrong.
    headers["X-Amz-Date"] = yesterday + "T120000Z"
    headers["Authorization"] = (
        headers["Authorization"].replace(f"/{day}/", f"/{yesterday}/").replace(";x-amz-date", "")
    )
    response = send(server.endpoint, headers, data)
    assert response.status_code == 400, response.text
    assert response.headers["X-Amzn-ErrorType"] == "InvalidSignatureException"
    message = response.json()["message"]
    assert message.startswith(f"Signature expired: {yesterday}T120000Z is now earlier than "), message
