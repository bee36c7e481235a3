"""Talking to switchyard as an EventBridge client: a boto3 `events` client that
never retries (so errors show at once), one raw AWS JSON 1.1 request for input
an SDK would refuse to send, and the check of an AWS error answer."""

from __future__ import annotations

import json

import boto3
import botocore.config
import requests

from conftest import REGION


def events_client(endpoint: str, key: str = "test", secret: str = "test"):
    return boto3.client(
        "events",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def raw(endpoint: str, operation: str | None, body, headers: dict | None = None) -> requests.Response:
    """One AWS JSON 1.1 request without an SDK (botocore validates some inputs);
    `operation` None sends no X-Amz-Target."""
    h = {"Content-Type": "application/x-amz-json-1.1"}
    if operation is not None:
        h["X-Amz-Target"] = operation
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(endpoint + "/", headers=h, data=data, timeout=10)


def assert_aws_error(response: requests.Response, code: str, message: str) -> None:
    """Status 400, the code in the body and in X-Amzn-ErrorType, the exact message."""
    assert response.status_code == 400, response.text
    assert response.headers["X-Amzn-ErrorType"] == code
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert response.json() == {"__type": code, "message": message}
