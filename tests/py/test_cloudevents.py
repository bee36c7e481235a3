"""CloudEvents 1.0 over HTTP, sent with the CloudEvents Python SDK.

cloudevents 2.x keeps the 1.x API (`CloudEvent`, `to_binary`, `to_structured`)
under `cloudevents.v1.http` (1.x named it `cloudevents.http`), and adds the new
`cloudevents.core` API; both are used. Neither has a batch writer, so batches are
the SDK's structured events in a JSON array sent as
application/cloudevents-batch+json.
"""

from __future__ import annotations

import datetime
import json

import pytest
import requests

try:  # cloudevents 1.x
    from cloudevents.http import CloudEvent, to_binary, to_structured
except ImportError:  # cloudevents 2.x (pinned in requirements.txt)
    from cloudevents.v1.http import CloudEvent, to_binary, to_structured
from cloudevents.core.bindings import http as core_http
from cloudevents.core.v1.event import CloudEvent as CoreCloudEvent

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
    "cloudevents",
]

TIME = datetime.datetime(2024, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.timezone.utc)


def post(url: str, headers: dict, body) -> requests.Response:
    return requests.post(url, headers=headers, data=body, timeout=10)


@pytest.fixture
def ce(switchyard_server, tmp_path):
    """Rules: every event on the default bus, on `ce-bus`, and events whose
    `myext` extension is "x"."""
    outs = {
        "default": tmp_path / "default.jsonl",
        "bus": tmp_path / "bus.jsonl",
        "ext": tmp_path / "ext.jsonl",
    }
    server = switchyard_server(
        [
            file_rule("all-default", {"source": [{"prefix": ""}]}, outs["default"]),
            file_rule("all-ce-bus", {"source": [{"prefix": ""}]}, outs["bus"], bus="ce-bus"),
            file_rule("by-extension", {"cloudevents": {"myext": ["x"]}}, outs["ext"]),
        ]
    )
    return server, outs


def sample_event(**attrs) -> CloudEvent:
    attributes = {
        "type": "com.example.sensor.reading",
        "source": "/sensors/7",
        "subject": "sensor-7",
        "time": TIME.isoformat(),
        "myext": "x",
    }
    attributes.update(attrs)
    return CloudEvent(attributes, {"celsius": 21.5, "ok": True})


def assert_mapped(event: dict, sent: CloudEvent, cloudevents: dict) -> None:
    assert event.key_order == ENVELOPE_KEYS
    assert event == {
        "version": "0",
        "id": sent["id"],
        "detail-type": "com.example.sensor.reading",
        "source": "/sensors/7",
        "account": ACCOUNT,
        "time": "2024-03-04T05:06:07Z",
        "region": REGION,
        "resources": ["sensor-7"],
        "detail": {"celsius": 21.5, "ok": True},
        "cloudevents": cloudevents,
    }


def test_binary_mode(ce):
    server, outs = ce
    sent = sample_event()
    headers, body = to_binary(sent)
    # The SDK sends JSON data without a Content-Type in binary mode.
    assert "ce-myext" in headers and "content-type" not in {h.lower() for h in headers}
    response = post(server.endpoint + "/cloudevents", headers, body)
    assert response.status_code == 202, response.text
    assert response.json() == {"message": "accepted 1"}
    [event] = wait_for_lines(outs["default"], 1)
    assert_mapped(
        event,
        sent,
        {"specversion": "1.0", "datacontenttype": "application/json", "myext": "x"},
    )


def test_binary_mode_with_a_content_type(ce):
    server, outs = ce
    sent = sample_event(datacontenttype="application/json", dataschema="https://example.com/s")
    headers, body = to_binary(sent)
    assert headers["content-type"] == "application/json"
    response = post(server.endpoint + "/cloudevents", headers, body)
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(outs["default"], 1)
    assert_mapped(
        event,
        sent,
        {
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "dataschema": "https://example.com/s",
            "myext": "x",
        },
    )


def test_structured_mode(ce):
    server, outs = ce
    sent = sample_event()
    headers, body = to_structured(sent)
    assert headers["content-type"] == "application/cloudevents+json"
    response = post(server.endpoint + "/cloudevents", headers, body)
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(outs["default"], 1)
    assert_mapped(
        event,
        sent,
        {"specversion": "1.0", "datacontenttype": "application/json", "myext": "x"},
    )


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_named_bus(ce, mode):
    server, outs = ce
    sent = sample_event(myext="not-x")
    headers, body = (to_binary if mode == "binary" else to_structured)(sent)
    response = post(server.endpoint + "/cloudevents/ce-bus", headers, body)
    assert response.status_code == 202, response.text
    [event] = wait_for_lines(outs["bus"], 1)
    assert event["id"] == sent["id"]
    assert event["cloudevents"]["myext"] == "not-x"
    # Only the ce-bus rule saw it.
    assert_no_more_lines(outs["default"], 0, settle=0.3)
    assert_no_more_lines(outs["ext"], 0, settle=0)


def test_core_api_binary_and_structured(ce):
    server, outs = ce
    sent = []
    for convert in (core_http.to_binary_event, core_http.to_structured_event):
        event = CoreCloudEvent(
            {"type": "com.example.core", "source": "/core", "time": TIME, "myext": "x"},
            {"n": len(sent)},
        )
        message = convert(event)
        response = post(server.endpoint + "/cloudevents", message.headers, message.body)
        assert response.status_code == 202, response.text
        sent.append(event)
    got = {e["id"]: e for e in wait_for_lines(outs["default"], 2)}
    for i, event in enumerate(sent):
        delivered = got[event.get_id()]
        assert delivered["detail-type"] == "com.example.core"
        assert delivered["source"] == "/core"
        assert delivered["time"] == "2024-03-04T05:06:07Z"
        assert delivered["resources"] == []
        assert delivered["detail"] == {"n": i}
        assert delivered["cloudevents"]["myext"] == "x"
        assert delivered["cloudevents"]["specversion"] == "1.0"


def test_batch_mode(ce):
    server, outs = ce
    events = [sample_event(), sample_event(myext="y"), sample_event()]
    batch = json.dumps([json.loads(to_structured(e)[1]) for e in events])
    response = post(
        server.endpoint + "/cloudevents",
        {"Content-Type": "application/cloudevents-batch+json"},
        batch,
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"message": "accepted 3"}
    delivered = wait_for_lines(outs["default"], 3)
    assert sorted(e["id"] for e in delivered) == sorted(e["id"] for e in events)


def test_batch_with_one_bad_event_accepts_none(ce):
    server, outs = ce
    good = json.loads(to_structured(sample_event())[1])
    bad = dict(good, id="e-2")
    del bad["type"]
    response = post(
        server.endpoint + "/cloudevents",
        {"Content-Type": "application/cloudevents-batch+json"},
        json.dumps([good, bad]),
    )
    assert response.status_code == 400
    assert response.json() == {"message": "event [1]: required attribute type is missing"}
    assert_no_more_lines(outs["default"], 0)


def test_non_object_data_is_wrapped(ce):
    server, outs = ce
    # The core API writes text data as it is (the 1.x API JSON-encodes str data).
    text = CoreCloudEvent(
        {"type": "t.text", "source": "/s", "datacontenttype": "text/plain"}, "hello"
    )
    message = core_http.to_binary_event(text)
    assert message.body == b"hello"
    assert post(server.endpoint + "/cloudevents", message.headers, message.body).status_code == 202
    array = CloudEvent({"type": "t.array", "source": "/s"}, [1, "two", None])
    headers, body = to_structured(array)
    assert post(server.endpoint + "/cloudevents", headers, body).status_code == 202
    number = CloudEvent({"type": "t.number", "source": "/s", "datacontenttype": "application/json"}, 42)
    headers, body = to_binary(number)
    assert post(server.endpoint + "/cloudevents", headers, body).status_code == 202
    no_data = CloudEvent({"type": "t.none", "source": "/s"})
    headers, body = to_structured(no_data)
    assert post(server.endpoint + "/cloudevents", headers, body).status_code == 202
    by_type = {e["detail-type"]: e for e in wait_for_lines(outs["default"], 4)}
    assert by_type["t.text"]["detail"] == {"data": "hello"}
    assert by_type["t.text"]["cloudevents"]["datacontenttype"] == "text/plain"
    assert by_type["t.array"]["detail"] == {"data": [1, "two", None]}
    assert by_type["t.number"]["detail"] == {"data": 42}
    assert by_type["t.none"]["detail"] == {}


def test_pattern_on_an_extension_routes(ce):
    server, outs = ce
    x, y = sample_event(myext="x"), sample_event(myext="y")
    for event in (x, y):
        headers, body = to_binary(event)
        assert post(server.endpoint + "/cloudevents", headers, body).status_code == 202
    wait_for_lines(outs["default"], 2)
    [routed] = wait_for_lines(outs["ext"], 1)
    assert routed["id"] == x["id"]
    assert_no_more_lines(outs["ext"], 1)


@pytest.mark.parametrize("attribute", ["type", "source", "id"])
def test_missing_required_attribute_is_400(ce, attribute):
    server, outs = ce
    structured = json.loads(to_structured(sample_event())[1])
    del structured[attribute]
    response = post(
        server.endpoint + "/cloudevents",
        {"Content-Type": "application/cloudevents+json"},
        json.dumps(structured),
    )
    assert response.status_code == 400
    assert response.json() == {"message": f"required attribute {attribute} is missing"}
    headers, body = to_binary(sample_event())
    del headers[f"ce-{attribute}"]
    response = post(server.endpoint + "/cloudevents", headers, body)
    assert response.status_code == 400
    assert response.json() == {"message": f"required attribute {attribute} is missing"}
    assert_no_more_lines(outs["default"], 0)


def test_bad_specversion_is_400(ce):
    server, outs = ce
    # The SDK writes CloudEvents 0.3 too; switchyard reads 1.0 only.
    old = CloudEvent({"type": "t", "source": "/s", "specversion": "0.3"}, {"a": 1})
    for convert in (to_binary, to_structured):
        headers, body = convert(old)
        response = post(server.endpoint + "/cloudevents", headers, body)
        assert response.status_code == 400
        assert response.json() == {
            "message": 'specversion "0.3" is not supported: switchyard reads CloudEvents 1.0'
        }
    assert_no_more_lines(outs["default"], 0)


def test_bad_time_is_400(ce):
    server, outs = ce
    headers, body = to_binary(sample_event())
    headers["ce-time"] = "yesterday"
    response = post(server.endpoint + "/cloudevents", headers, body)
    assert response.status_code == 400
    assert response.json() == {
        "message": 'attribute time "yesterday" is not an RFC 3339 timestamp'
    }


def test_unsupported_content_type_is_415(ce):
    server, outs = ce
    response = post(server.endpoint + "/cloudevents", {"Content-Type": "text/plain"}, "hello")
    assert response.status_code == 415
    assert response.json() == {
        "message": 'cannot read content type "text/plain": send application/cloudevents+json, '
        "application/cloudevents-batch+json, or a binary-mode event with ce-* headers"
    }
    headers, _ = to_binary(sample_event())
    headers["Content-Type"] = "application/octet-stream"
    response = post(server.endpoint + "/cloudevents", headers, b"\x00\x01")
    assert response.status_code == 415
    assert response.json() == {
        "message": 'cannot read data of content type "application/octet-stream": '
        "binary-mode data must be JSON or text"
    }
    assert_no_more_lines(outs["default"], 0)


def test_binary_headers_are_percent_decoded(ce):
    server, outs = ce
    event = CoreCloudEvent(
        {"type": "t.enc", "source": "/s", "subject": "café bar/%x", "myext": "x", "note": "ü"},
        {"a": 1},
    )
    message = core_http.to_binary_event(event)
    # The SDK percent-encodes what is not visible ASCII (and % itself).
    assert message.headers["ce-subject"] == "caf%C3%A9%20bar/%25x"
    response = post(server.endpoint + "/cloudevents", message.headers, message.body)
    assert response.status_code == 202, response.text
    [delivered] = wait_for_lines(outs["default"], 1)
    assert delivered["resources"] == ["café bar/%x"]
    assert delivered["cloudevents"]["note"] == "ü"
    wait_for_lines(outs["ext"], 1)


def test_structured_data_base64(ce):
    server, outs = ce
    body = {"specversion": "1.0", "id": "b-1", "source": "/s", "type": "t.b64", "data_base64": "aGk="}
    response = post(
        server.endpoint + "/cloudevents",
        {"Content-Type": "application/cloudevents+json; charset=utf-8"},
        json.dumps(body),
    )
    assert response.status_code == 202, response.text
    [delivered] = wait_for_lines(outs["default"], 1)
    assert delivered["id"] == "b-1"
    assert delivered["detail"] == {"data_base64": "aGk="}
    assert delivered["cloudevents"] == {"specversion": "1.0"}
