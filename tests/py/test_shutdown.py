"""SIGTERM: new requests are refused, what is in flight is delivered, exit 0."""

from __future__ import annotations

import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.exceptions
import pytest
import requests

from test_boto3 import events_client


def test_sigterm_while_idle_exits_0_and_refuses_new_requests(switchyard_server):
    server = switchyard_server([])
    assert requests.get(server.endpoint + "/healthz", timeout=5).text == "ok\n"
    assert server.stop() == 0
    assert any("stopped" in line for line in server.stderr_lines), server.logs()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.endpoint + "/healthz", timeout=5)
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        events_client(server.endpoint).list_rules()


def test_sigterm_right_after_the_listening_line_exits_0(switchyard_server):
    # A supervisor may stop the server as soon as it is up: the handlers must be
    # installed before the listening line (they once were installed after it, and
    # such a SIGTERM killed the process instead of stopping it).
    for i in range(10):
        server = switchyard_server([], name=f"quick-{i}")
        assert server.stop() == 0, server.logs()


def test_stdout_target_lines_are_out_before_exit(switchyard_server):
    server = switchyard_server(
        [{"Name": "print", "EventPattern": {"source": ["p"]}, "Targets": [{"Id": "o", "Stdout": {}}]}]
    )
    r = events_client(server.endpoint).put_events(
        Entries=[{"Source": "p", "DetailType": "T", "Detail": '{"n": 1}'}]
    )
    deadline = time.monotonic() + 10
    while not server.stdout_lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.stop() == 0
    [line] = server.stdout_lines
    event = json.loads(line)
    assert (event["id"], event["detail"]) == (r["Entries"][0]["EventId"], {"n": 1})


class Hook:
    """A local HTTP endpoint that holds each request until released."""

    def __init__(self):
        self.received = threading.Event()
        self.release = threading.Event()
        self.bodies: list[bytes] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                hook.bodies.append(self.rfile.read(length))
                hook.received.set()
                hook.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def test_sigterm_drains_in_flight_deliveries_and_refuses_new_requests(switchyard_server, hook):
    server = switchyard_server(
        [
            {
                "Name": "slow",
                "EventPattern": {"source": ["slow"]},
                "Targets": [{"Id": "hook", "Http": {"Endpoint": hook.url}}],
            }
        ]
    )
    client = events_client(server.endpoint)
    r = client.put_events(Entries=[{"Source": "slow", "DetailType": "T", "Detail": '{"n": 7}'}])
    assert r["FailedEntryCount"] == 0
    assert hook.received.wait(10), "the HTTP target was never called"
    server.proc.send_signal(signal.SIGTERM)
    # Draining: the listener still answers, but accepts nothing new.
    deadline = time.monotonic() + 10
    while requests.get(server.endpoint + "/readyz", timeout=5).status_code != 503:
        assert time.monotonic() < deadline, "never started draining"
        time.sleep(0.02)
    assert requests.get(server.endpoint + "/readyz", timeout=5).text == "shutting down\n"
    response = requests.post(
        server.endpoint + "/",
        headers={
            "X-Amz-Target": "AWSEvents.PutEvents",
            "Content-Type": "application/x-amz-json-1.1",
        },
        data=json.dumps({"Entries": [{"Source": "slow", "DetailType": "T", "Detail": "{}"}]}),
        timeout=5,
    )
    assert response.status_code == 503
    assert response.headers["X-Amzn-ErrorType"] == "ServiceUnavailableException"
    assert response.headers["x-amzn-RequestId"], "every AWS answer has a request id"
    assert response.json() == {
        "__type": "ServiceUnavailableException",
        "message": "switchyard is shutting down and accepts no new requests",
    }
    response = requests.post(
        server.endpoint + "/cloudevents",
        headers={"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
        data=b"{}",
        timeout=5,
    )
    assert response.status_code == 503
    assert server.proc.poll() is None, "exited before its delivery finished"
    hook.release.set()
    assert server.stop() == 0
    assert len(hook.bodies) == 1
    event = json.loads(hook.bodies[0])
    assert (event["id"], event["detail"]) == (r["Entries"][0]["EventId"], {"n": 7})
