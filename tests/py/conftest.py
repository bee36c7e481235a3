"""Fixtures that run the real switchyard binary for the client tests.

`switchyard_server(rules, ...)` writes a rules directory and a config file in a
temporary directory, starts `switchyard serve --listen 127.0.0.1:0`, waits for
the `switchyard listening on http://ADDR` line on stderr and returns a `Server`
with the endpoint. At teardown every server still running gets SIGTERM and must
exit with status 0. The binary is `$SWITCHYARD_BIN`, by default
`target/debug/switchyard`; a missing binary fails the test (it never skips).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The Kafka broker fixtures (kafka_broker, s3_server) live with their helpers.
from kafka_peer import kafka_broker, s3_server  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-west-1"
LISTENING = re.compile(r"switchyard listening on (http://\S+)")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


def binary_path() -> Path:
    given = os.environ.get("SWITCHYARD_BIN")
    path = Path(given) if given else REPO / "target" / "debug" / "switchyard"
    if not path.is_absolute():
        path = REPO / path
    return path


@dataclass
class Server:
    endpoint: str
    proc: subprocess.Popen
    dir: Path
    rules_dir: Path
    config_path: Path
    stderr_lines: list[str] = field(default_factory=list)
    stdout_lines: list[str] = field(default_factory=list)
    exit_code: int | None = None
    killed: bool = False

    def kill(self) -> None:
        """SIGKILL: a crash, with no draining and no final commit."""
        self.proc.kill()
        self.exit_code = self.proc.wait()
        self.killed = True

    def path(self, name: str) -> Path:
        """A path inside the server's temporary directory (for File targets)."""
        return self.dir / name

    def stop(self) -> int:
        """SIGTERM, wait for the exit, return the exit code."""
        if self.exit_code is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"switchyard did not exit within {STOP_TIMEOUT}s of SIGTERM\n" + self.logs()
                )
        return self.exit_code

    def logs(self) -> str:
        return "switchyard stderr:\n" + "".join(self.stderr_lines[-200:])


def read_lines(stream, sink: list[str], ready: threading.Event | None = None, box=None):
    for line in iter(stream.readline, ""):
        sink.append(line)
        if ready is not None and not ready.is_set():
            m = LISTENING.search(line)
            if m:
                box.append(m.group(1))
                ready.set()
    stream.close()
    if ready is not None:
        ready.set()


def write_rules(rules_dir: Path, rules) -> None:
    """`rules` is a list of rule objects (one file each) or {file name: content}."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(rules, dict):
        for name, content in rules.items():
            text = content if isinstance(content, str) else json.dumps(content, indent=2)
            (rules_dir / name).write_text(text)
    else:
        for i, rule in enumerate(rules):
            (rules_dir / f"{i:02d}-{rule['Name']}.json").write_text(json.dumps(rule, indent=2))


def config_text(extra: str = "") -> str:
    base = f"""
[server]
account = "{ACCOUNT}"
region = "{REGION}"
drain_timeout_ms = 5000

[retry]
base_delay_ms = 10
max_delay_ms = 100

[file]
fsync = "os"
"""
    return base + extra


@pytest.fixture
def switchyard_server(tmp_path):
    """Factory: `switchyard_server(rules, config_extra="")` -> a running Server."""
    started: list[Server] = []

    def start(rules=(), config_extra: str = "", name: str = "server", args=()) -> Server:
        binary = binary_path()
        if not binary.is_file() or not os.access(binary, os.X_OK):
            pytest.fail(
                f"switchyard binary {binary} is missing: build it with `cargo build` "
                "or set SWITCHYARD_BIN",
                pytrace=False,
            )
        root = tmp_path / name
        rules_dir = root / "rules"
        write_rules(rules_dir, list(rules) if not isinstance(rules, dict) else rules)
        config_path = root / "switchyard.toml"
        config_path.write_text(config_text(config_extra))
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        proc = subprocess.Popen(
            [
                str(binary),
                "serve",
                "--rules",
                str(rules_dir),
                "--listen",
                "127.0.0.1:0",
                "--config",
                str(config_path),
                *args,
            ],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        server = Server("", proc, root, rules_dir, config_path)
        started.append(server)
        ready = threading.Event()
        box: list[str] = []
        threading.Thread(
            target=read_lines, args=(proc.stderr, server.stderr_lines, ready, box), daemon=True
        ).start()
        threading.Thread(
            target=read_lines, args=(proc.stdout, server.stdout_lines), daemon=True
        ).start()
        if not ready.wait(START_TIMEOUT) or not box:
            proc.kill()
            proc.wait()
            server.exit_code = proc.returncode
            pytest.fail(
                f"switchyard did not print its listening line within {START_TIMEOUT}s "
                f"(exit code {proc.returncode})\n" + server.logs(),
                pytrace=False,
            )
        server.endpoint = box[0]
        return server

    yield start

    for server in started:
        code = server.stop()
        if not server.killed:
            assert code == 0, f"switchyard exited with {code} after SIGTERM\n" + server.logs()


def wait_for_lines(path: Path, count: int, timeout: float = 10.0) -> list[dict]:
    """The first `count` JSON lines of a File target's file, waiting for them."""
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = [l for l in path.read_text().splitlines() if l.strip()]
            if len(lines) >= count:
                return [json.loads(l, object_pairs_hook=OrderedPairs) for l in lines]
        time.sleep(0.02)
    raise AssertionError(f"{path}: wanted {count} lines within {timeout}s, found {len(lines)}")


def assert_no_more_lines(path: Path, count: int, settle: float = 0.5) -> None:
    """After `settle` seconds, `path` still holds exactly `count` lines."""
    time.sleep(settle)
    lines = [l for l in path.read_text().splitlines() if l.strip()] if path.exists() else []
    assert len(lines) == count, lines


class OrderedPairs(dict):
    """A dict that also remembers its key order as a list (for envelope order checks)."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.key_order = [k for k, _ in pairs]


def file_rule(name: str, pattern: dict, path: Path, bus: str | None = None, **extra) -> dict:
    rule = {
        "Name": name,
        "EventPattern": pattern,
        "Targets": [{"Id": "file", "File": {"Path": str(path)}}],
    }
    if bus is not None:
        rule["EventBusName"] = bus
    rule.update(extra)
    return rule
