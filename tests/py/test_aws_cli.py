"""The AWS CLI (v1) against switchyard, as the README shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ACCOUNT, REGION, file_rule, wait_for_lines

AWS = Path(sys.executable).parent / "aws"

ENTRIES = '[{"Source":"com.example.cli","DetailType":"CliTest","Detail":"{\\"k\\":1}"}]'


def aws(args: list[str], signed: bool, tmp_path: Path) -> subprocess.CompletedProcess:
    # Only what is set here: no credentials or config from the machine running the tests.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    if signed:
        env["AWS_ACCESS_KEY_ID"] = "test"
        env["AWS_SECRET_ACCESS_KEY"] = "test"
    else:
        args = args + ["--no-sign-request"]
    return subprocess.run(
        [str(AWS), *args], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def cli_server(switchyard_server, tmp_path):
    out = tmp_path / "cli.jsonl"
    server = switchyard_server([file_rule("cli", {"source": ["com.example.cli"]}, out)])
    return server, out


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "no-sign-request"])
def test_aws_events_put_events_one_liner(cli_server, tmp_path, signed):
    server, out = cli_server
    # aws events put-events --endpoint-url http://127.0.0.1:8088 --entries '[...]'
    result = aws(
        ["events", "put-events", "--endpoint-url", server.endpoint, "--entries", ENTRIES],
        signed,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["FailedEntryCount"] == 0
    [entry] = answer["Entries"]
    [event] = wait_for_lines(out, 1)
    assert event["id"] == entry["EventId"]
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "com.example.cli",
        "CliTest",
        {"k": 1},
    )
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)


def test_aws_events_list_rules(cli_server, tmp_path):
    server, out = cli_server
    result = aws(
        ["events", "list-rules", "--endpoint-url", server.endpoint, "--output", "json"],
        True,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "Rules": [
            {
                "Name": "cli",
                "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/cli",
                "EventPattern": '{"source":["com.example.cli"]}',
                "State": "ENABLED",
                "EventBusName": "default",
            }
        ]
    }


def test_aws_cli_shows_server_errors(cli_server, tmp_path):
    server, out = cli_server
    result = aws(
        ["events", "describe-rule", "--endpoint-url", server.endpoint, "--name", "nope"],
        True,
        tmp_path,
    )
    assert result.returncode == 255  # AWS CLI v1: the service answered an error
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeRule "
        "operation: Rule nope does not exist on EventBus default." in result.stderr
    )
