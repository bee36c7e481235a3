"""The fixture itself: a missing binary fails the tests that need it, loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent


def test_missing_binary_fails_never_skips(tmp_path):
    env = dict(os.environ, SWITCHYARD_BIN=str(tmp_path / "no-such-switchyard"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rfEs",
            str(HERE / "test_shutdown.py::test_sigterm_while_idle_exits_0_and_refuses_new_requests"),
        ],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"switchyard binary {tmp_path / 'no-such-switchyard'} is missing" in result.stdout
    assert "1 failed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_listening_line_gives_a_working_endpoint(switchyard_server):
    a = switchyard_server([], name="a")
    b = switchyard_server([], name="b")
    assert a.endpoint != b.endpoint
    for server in (a, b):
        assert server.endpoint.startswith("http://127.0.0.1:")
        ready = requests.get(server.endpoint + "/readyz", timeout=5)
        assert ready.status_code == 200 and ready.text.startswith("ready (rules generation ")
