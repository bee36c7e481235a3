"""What an operator observes: /metrics values, JSON logs, dead letters, give-ups.

A local HTTP peer (http.server in a thread) stands in for targets and dead-letter
destinations: `/missing` answers 404 (not retried), `/flaky` 500 (retried),
`/slow` 200 after 0.3 s, anything else 200. Metric values are read from the
OpenMetrics text with their full label set.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time

import pytest
import requests

from aws_peer import events_client
from conftest import ACCOUNT, REGION, file_rule, wait_for_lines

# --- helpers -----------------------------------------------------------------


def rule_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(server) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, keyed by (name, its full label set)."""
    response = requests.get(server.endpoint + "/metrics", timeout=10)
    assert response.status_code == 200
    out = {}
    for line in response.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(values: dict, name: str, **labels) -> float | None:
    return values.get((name, frozenset(labels.items())))


def wait_for_metric(server, name: str, want, timeout: float = 5.0, **labels) -> dict:
    """Polls /metrics until `name{labels}` satisfies `want` (a value or a predicate)."""
    check = want if callable(want) else (lambda v: v == want)
    deadline = time.monotonic() + timeout
    while True:
        values = samples(server)
        value = metric(values, name, **labels)
        if value is not None and check(value):
            return values
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}{labels} is {value}, wanted {want}")
        time.sleep(0.05)


class Peer:
    """An HTTP server in a thread that records every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with peer.lock:
                    peer.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                if self.path.startswith("/missing"):
                    self.answer(404, b"no such hook")
                elif self.path.startswith("/flaky"):
                    self.answer(500, b"try later")
                else:
                    if self.path.startswith("/slow"):
                        time.sleep(0.3)
                    self.answer(200, b"ok")

            def answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def wait_for(self, path: str, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received(path)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{path}: wanted {count} requests, got {len(self.received(path))}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer():
    p = Peer()
    yield p
    p.close()


def http_rule(name: str, source: str, endpoint: str, **target_extra) -> dict:
    target = {"Id": "hook", "Http": {"Endpoint": endpoint}}
    target.update(target_extra)
    return {"Name": name, "EventPattern": {"source": [source]}, "Targets": [target]}


def put(client, source: str, detail: dict | None = None) -> str:
    response = client.put_events(
        Entries=[{"Source": source, "DetailType": "Ops", "Detail": json.dumps(detail or {"n": 1})}]
    )
    assert response["FailedEntryCount"] == 0, response
    return response["Entries"][0]["EventId"]


def wait_for_stderr(server, predicate, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.stderr_lines):
            if predicate(line):
                return line
        time.sleep(0.02)
    raise AssertionError("no such line on stderr\n" + server.logs())


# --- /metrics values ---------------------------------------------------------


def test_metrics_count_matches_invocations_and_latency(switchyard_server, tmp_path):
    out = tmp_path / "counted.jsonl"
    other = tmp_path / "other.jsonl"
    server = switchyard_server(
        [
            file_rule("counted", {"source": ["ops.counted"]}, out),
            file_rule("other", {"source": ["ops.other"]}, other),
        ]
    )
    client = events_client(server.endpoint)
    n = 4
    entries = [
        {"Source": "ops.counted", "DetailType": "t", "Detail": '{"i": %d}' % i} for i in range(n)
    ]
    assert client.put_events(Entries=entries[:3])["FailedEntryCount"] == 0
    assert client.put_events(Entries=entries[3:])["FailedEntryCount"] == 0
    # Not matched by `counted`: one for `other`, one on a bus nobody listens on,
    # one no rule matches, and one invalid entry.
    response = client.put_events(
        Entries=[
            {"Source": "ops.other", "DetailType": "t", "Detail": "{}"},
            {"Source": "ops.counted", "DetailType": "t", "Detail": "{}", "EventBusName": "nobody"},
            {"Source": "ops.unmatched", "DetailType": "t", "Detail": "{}"},
            {"Source": "ops.counted", "DetailType": "t", "Detail": "[1]"},
        ]
    )
    assert response["FailedEntryCount"] == 1
    wait_for_lines(out, n)
    wait_for_lines(other, 1)
    latency = "switchyard_ingestion_to_invocation_success_latency_seconds"
    values = wait_for_metric(server, latency + "_count", n, rule="counted", target="file")
    wait_for_metric(server, "switchyard_in_flight_events", 0)
    values = samples(server)
    rt = {"rule": "counted", "target": "file"}
    assert metric(values, "switchyard_matched_events_total", bus="default", rule="counted") == n
    assert metric(values, "switchyard_matched_events_total", bus="default", rule="other") == 1
    assert metric(values, "switchyard_invocations_total", **rt) == n
    assert metric(values, "switchyard_failed_invocations_total", **rt) == 0
    assert metric(values, "switchyard_retry_invocation_attempts_total", **rt) == 0
    assert metric(values, "switchyard_invocations_sent_to_dlq_total", **rt) == 0
    assert metric(values, "switchyard_throttled_rules_total", **rt) == 0
    assert metric(values, latency + "_count", **rt) == n
    assert metric(values, latency + "_bucket", le="+Inf", **rt) == n
    assert 0 < metric(values, latency + "_sum", **rt) < 5 * n
    assert metric(values, "switchyard_invocations_total", rule="other", target="file") == 1
    # 4 + 3 accepted entries, 1 invalid one.
    ingested = "switchyard_ingested_events_total"
    assert metric(values, ingested, source="put_events", outcome="accepted") == n + 3
    assert metric(values, ingested, source="put_events", outcome="invalid") == 1
    assert metric(values, "switchyard_events_without_rules_total", bus="nobody") == 1
    assert metric(values, "switchyard_target_queue_depth", **rt) == 0
    assert metric(values, "switchyard_rules_generation") == 1


def test_throttled_rules_counts_deliveries_past_the_queue_size(peer, switchyard_server):
    # queue_size = 1 and one slot: while the first delivery takes 0.3 s the others
    # wait, and each past the first waiting one is counted in ThrottledRules.
    server = switchyard_server(
        [http_rule("slow", "ops.slow", peer.url + "/slow")],
        config_extra="\n[targets]\nqueue_size = 1\nmax_concurrency = 1\n",
    )
    client = events_client(server.endpoint)
    n = 5
    ids = [put(client, "ops.slow") for _ in range(n)]
    rt = {"rule": "slow", "target": "hook"}
    during = samples(server)
    assert metric(during, "switchyard_target_queue_depth", **rt) >= 1
    # The first delivery never waits; the second waits within the queue size
    # unless the first had not taken its slot yet; every later one is past it.
    assert metric(during, "switchyard_throttled_rules_total", **rt) in (n - 2, n - 1)
    got = peer.wait_for("/slow", n, timeout=4)
    assert sorted(json.loads(r["body"])["id"] for r in got) == sorted(ids)
    values = wait_for_metric(server, "switchyard_invocations_total", n, **rt)
    values = wait_for_metric(server, "switchyard_in_flight_events", 0)
    assert metric(values, "switchyard_throttled_rules_total", **rt) in (n - 2, n - 1)
    assert metric(values, "switchyard_target_queue_depth", **rt) == 0
    assert metric(values, "switchyard_failed_invocations_total", **rt) == 0
    latency = "switchyard_ingestion_to_invocation_success_latency_seconds"
    assert metric(values, latency + "_count", **rt) == n
    # Each waited for the ones before it: 0.3 + 0.6 + ... + 1.5 s in all.
    assert metric(values, latency + "_sum", **rt) >= 0.3 * (1 + 2 + 3 + 4 + 5) * 0.9


def test_throttled_rules_stays_zero_within_the_queue_size(peer, switchyard_server):
    # The control: the same load with the default queue size is not throttled.
    server = switchyard_server(
        [http_rule("slow", "ops.slow", peer.url + "/slow")],
        config_extra="\n[targets]\nmax_concurrency = 1\n",
    )
    client = events_client(server.endpoint)
    for _ in range(4):
        put(client, "ops.slow")
    rt = {"rule": "slow", "target": "hook"}
    values = samples(server)
    assert metric(values, "switchyard_throttled_rules_total", **rt) == 0
    assert metric(values, "switchyard_target_queue_depth", **rt) >= 1
    values = wait_for_metric(server, "switchyard_invocations_total", 4, **rt)
    peer.wait_for("/slow", 4)
    assert metric(values, "switchyard_throttled_rules_total", **rt) == 0


def test_failed_dead_letter_writes_are_counted(peer, switchyard_server, tmp_path):
    # A dead-letter file whose parent is a regular file cannot be created (even
    # as root), and the target fails for good (404): every dead letter fails.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    dlq = blocker / "dlq.jsonl"
    server = switchyard_server(
        [
            http_rule(
                "bad-dlq",
                "ops.bad-dlq",
                peer.url + "/missing",
                DeadLetterConfig={"File": {"Path": str(dlq)}},
            )
        ]
    )
    client = events_client(server.endpoint)
    ids = [put(client, "ops.bad-dlq") for _ in range(2)]
    rt = {"rule": "bad-dlq", "target": "hook"}
    values = wait_for_metric(
        server, "switchyard_invocations_failed_to_be_sent_to_dlq_total", 2, **rt
    )
    assert metric(values, "switchyard_invocations_sent_to_dlq_total", **rt) == 0
    assert metric(values, "switchyard_failed_invocations_total", **rt) == 2
    assert metric(values, "switchyard_invocations_total", **rt) == 2
    assert len(peer.received("/missing")) == 2
    assert not dlq.exists()
    # Each record is logged instead, with the reason the dead letter failed.
    for event_id in ids:
        line = wait_for_stderr(server, lambda l: f"event_id={event_id}" in l and "given up" in l)
        assert " ERROR " in line
        assert (
            "delivery given up (writing to the dead-letter destination failed: "
            f"TargetUnavailable: cannot create directory {blocker}: " in line
        )
    wait_for_metric(server, "switchyard_in_flight_events", 0)


def test_an_unusable_dead_letter_destination_is_logged_as_such(peer, switchyard_server, tmp_path):
    # When only the DeadLetterConfig cannot be used, the startup error names the
    # dead-letter destination, not "target unavailable": the Http target itself
    # is fine, and the line once blamed it.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    server = switchyard_server(
        [
            http_rule(
                "bad-dlq",
                "ops.bad-dlq",
                peer.url + "/missing",
                DeadLetterConfig={"File": {"Path": str(blocker / "dlq.jsonl")}},
            )
        ]
    )
    line = wait_for_stderr(server, lambda l: f"cannot create directory {blocker}" in l)
    assert "dead-letter" in line, line
    assert "target unavailable" not in line, line


# --- JSON logs ---------------------------------------------------------------


@pytest.fixture
def json_logging(peer, switchyard_server, tmp_path, monkeypatch):
    # The fixture passes its own environment on and only defaults RUST_LOG.
    monkeypatch.setenv("RUST_LOG", "switchyard=debug")
    out = tmp_path / "delivered.jsonl"
    server = switchyard_server(
        [
            file_rule("delivered", {"source": ["ops.ok"]}, out),
            http_rule(
                "flaky",
                "ops.flaky",
                peer.url + "/flaky",
                RetryPolicy={"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
            ),
        ],
        args=("--log-format", "json"),
    )
    return server, out


def parsed_stderr(server) -> tuple[int, list[dict]]:
    """The listening line's index and every other stderr line, each parsed as JSON."""
    lines = list(server.stderr_lines)
    listening = [i for i, l in enumerate(lines) if l.startswith("switchyard listening on ")]
    assert len(listening) == 1, lines
    at = listening[0]
    # By design the line supervisors and the tests wait for is
    # plain text, printed with eprintln! beside the JSON log line that says the same.
    assert lines[at] == f"switchyard listening on {server.endpoint}\n"
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[at])
    parsed = []
    for i, line in enumerate(lines):
        if i == at:
            continue
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert {"timestamp", "level", "fields", "target"} <= set(record), line
        parsed.append(record)
    assert any(
        r["fields"].get("message") == f"listening on {server.endpoint}" for r in parsed[:at]
    )
    return at, parsed


def test_json_logs_carry_the_event_id_of_a_failing_delivery(json_logging, peer):
    server, out = json_logging
    event_id = put(events_client(server.endpoint), "ops.flaky")
    peer.wait_for("/flaky", 2)
    wait_for_stderr(server, lambda l: "delivery given up" in l)
    wait_for_metric(server, "switchyard_in_flight_events", 0)
    at, records = parsed_stderr(server)
    ours = [r for r in records if r.get("span", {}).get("event_id") == event_id]
    [routed] = [r for r in ours if r["span"]["name"] == "route"]
    assert routed["level"] == "DEBUG" and routed["fields"]["message"] == "matched", routed
    assert routed["fields"]["rule"] == "flaky"
    about = [r for r in ours if r["span"]["name"] == "deliver"]
    # debug: the retry; error: the give-up (no dead-letter destination).
    assert [r["level"] for r in about] == ["DEBUG", "ERROR"], about
    for r in about:
        assert r["span"]["name"] == "deliver"
        assert r["span"]["rule_arn"] == rule_arn("flaky")
        assert r["span"]["target"] == "hook"
        assert r["spans"] == [r["span"]]
        assert r["target"].startswith("switchyard::router::")
    retry, given_up = about
    assert retry["fields"]["event_id"] == event_id
    assert retry["fields"]["attempt"] == 1
    assert retry["fields"]["message"].startswith(
        f"delivery failed (HttpError: POST {peer.url}/flaky answered 500 Internal Server Error: "
        "try later); retrying in "
    )
    fields = given_up["fields"]
    assert fields["message"] == "delivery given up (no dead-letter destination is configured)"
    assert fields["event_id"] == event_id
    assert fields["rule_arn"] == rule_arn("flaky")
    assert fields["error_code"] == "HttpError"
    assert fields["exhausted_retry_condition"] == "MaximumRetryAttempts"
    assert fields["retry_attempts"] == 1
    record = json.loads(fields["record"])
    assert record["event"]["id"] == event_id
    assert record["attributes"]["RETRY_ATTEMPTS"] == 1


def test_json_logs_carry_the_event_id_of_a_delivered_event(json_logging):
    # At RUST_LOG=switchyard=debug a delivered event leaves log lines carrying
    # its id, from its `route`/`deliver` spans, as README "Metrics and status"
    # documents; once nothing was logged in those spans, so no line had the id.
    server, out = json_logging
    event_id = put(events_client(server.endpoint), "ops.ok")
    [event] = wait_for_lines(out, 1)
    assert event["id"] == event_id
    wait_for_metric(server, "switchyard_in_flight_events", 0)
    time.sleep(0.2)
    at, records = parsed_stderr(server)
    about = [
        r
        for r in records
        if r.get("span", {}).get("event_id") == event_id
        or r["fields"].get("event_id") == event_id
    ]
    assert about, "no log line carries the event id\n" + server.logs()
    assert {r["span"]["name"] for r in about if "span" in r} <= {"route", "deliver"}


# --- Dead letters ------------------------------------------------------------


def assert_dead_letter(record: dict, rule: str, event_id: str, sent: dict, code_message: tuple):
    code, message = code_message
    assert list(record) == ["attributes", "event", "payload"]
    assert record["attributes"] == {
        "RULE_ARN": rule_arn(rule),
        "TARGET_ID": "hook",
        "ERROR_CODE": code,
        "ERROR_MESSAGE": message,
        "EXHAUSTED_RETRY_CONDITION": None,
        "RETRY_ATTEMPTS": 0,
    }
    assert record["event"] == sent
    assert record["event"]["id"] == event_id
    assert json.loads(record["payload"]) == sent


def test_dead_letter_to_http(peer, switchyard_server):
    server = switchyard_server(
        [
            http_rule(
                "to-http-dlq",
                "ops.http-dlq",
                peer.url + "/missing",
                DeadLetterConfig={"Http": {"Endpoint": peer.url + "/dlq"}},
            ),
            http_rule(
                "retried-dlq",
                "ops.retried",
                peer.url + "/flaky",
                RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
                DeadLetterConfig={"Http": {"Endpoint": peer.url + "/dlq-retried"}},
            ),
        ]
    )
    client = events_client(server.endpoint)
    event_id = put(client, "ops.http-dlq", {"order": "o-1", "total": 12.5})
    [dead] = peer.wait_for("/dlq", 1)
    [attempt] = peer.received("/missing")  # a 404 is not retried
    sent = json.loads(attempt["body"])
    assert sent["id"] == event_id and sent["detail"] == {"order": "o-1", "total": 12.5}
    assert dead["headers"]["content-type"] == "application/json; charset=utf-8"
    record = json.loads(dead["body"])
    assert_dead_letter(
        record,
        "to-http-dlq",
        event_id,
        sent,
        ("HttpError", f"POST {peer.url}/missing answered 404 Not Found: no such hook"),
    )
    # Retries that run out say which limit ended them.
    retried_id = put(client, "ops.retried")
    [dead] = peer.wait_for("/dlq-retried", 1)
    assert len(peer.received("/flaky")) == 3
    record = json.loads(dead["body"])
    assert record["event"]["id"] == retried_id
    assert record["attributes"] == {
        "RULE_ARN": rule_arn("retried-dlq"),
        "TARGET_ID": "hook",
        "ERROR_CODE": "HttpError",
        "ERROR_MESSAGE": f"POST {peer.url}/flaky answered 500 Internal Server Error: try later",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
        "RETRY_ATTEMPTS": 2,
    }
    values = wait_for_metric(
        server, "switchyard_invocations_sent_to_dlq_total", 1, rule="to-http-dlq", target="hook"
    )
    rt = {"rule": "retried-dlq", "target": "hook"}
    values = wait_for_metric(server, "switchyard_invocations_sent_to_dlq_total", 1, **rt)
    assert metric(values, "switchyard_invocations_total", **rt) == 3
    assert metric(values, "switchyard_retry_invocation_attempts_total", **rt) == 2
    assert metric(values, "switchyard_failed_invocations_total", **rt) == 1
    # The dead letter is logged at warn level, with the event id.
    line = wait_for_stderr(server, lambda l: f"event_id={event_id}" in l and "dead-letter" in l)
    assert " WARN " in line and "sent to the dead-letter destination: " in line


def test_dead_letter_to_stdout(peer, switchyard_server):
    server = switchyard_server(
        [
            http_rule(
                "to-stdout-dlq",
                "ops.stdout-dlq",
                peer.url + "/missing",
                DeadLetterConfig={"Stdout": {}},
            )
        ]
    )
    event_id = put(events_client(server.endpoint), "ops.stdout-dlq", {"k": "v"})
    [attempt] = peer.wait_for("/missing", 1)
    sent = json.loads(attempt["body"])
    deadline = time.monotonic() + 5
    while not server.stdout_lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(server.stdout_lines) == 1, server.stdout_lines
    [line] = server.stdout_lines
    assert line.endswith("}\n") and "\n" not in line[:-1]
    assert_dead_letter(
        json.loads(line),
        "to-stdout-dlq",
        event_id,
        sent,
        ("HttpError", f"POST {peer.url}/missing answered 404 Not Found: no such hook"),
    )
    wait_for_metric(
        server, "switchyard_invocations_sent_to_dlq_total", 1, rule="to-stdout-dlq", target="hook"
    )


def test_without_a_dead_letter_destination_a_give_up_is_logged_at_error(peer, switchyard_server):
    server = switchyard_server([http_rule("no-dlq", "ops.no-dlq", peer.url + "/missing")])
    event_id = put(events_client(server.endpoint), "ops.no-dlq")
    line = wait_for_stderr(server, lambda l: "delivery given up" in l)
    # Text format: `<time> ERROR deliver{...}: <target>: <message> <fields>`.
    assert re.match(r"^\S+Z ERROR ", line), line
    assert f"event_id={event_id}" in line
    assert f'rule_arn="{rule_arn("no-dlq")}"' in line
    assert 'error_code="HttpError"' in line
    assert "delivery given up (no dead-letter destination is configured)" in line
    assert (
        f'error_message=POST {peer.url}/missing answered 404 Not Found: no such hook' in line
    )
    # The whole record is in the line too.
    record = re.search(r'record=(\{.*\})', line).group(1)
    assert json.loads(record)["event"]["id"] == event_id
    values = wait_for_metric(
        server, "switchyard_failed_invocations_total", 1, rule="no-dlq", target="hook"
    )
    # Nothing was written anywhere, so neither DLQ counter moves.
    rt = {"rule": "no-dlq", "target": "hook"}
    assert metric(values, "switchyard_invocations_sent_to_dlq_total", **rt) == 0
    assert metric(values, "switchyard_invocations_failed_to_be_sent_to_dlq_total", **rt) == 0
    assert server.stdout_lines == []
