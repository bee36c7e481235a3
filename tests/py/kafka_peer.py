"""The Kafka test peer: a real tansu broker started by scripts/kafka-broker.sh (memory
storage, or S3 storage on a local moto server so records survive a broker restart),
and helpers that drive it with confluent-kafka, a client independent of switchyard.

Producers use acks=all and batch.num.messages=1 (with the memory engine a consumer
resuming mid-batch may skip the rest of the batch); consumers use a short
session.timeout.ms, since tansu holds a new member's JoinGroup for about half of it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "kafka-broker.sh"
GROUP_TIMEOUTS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"kafka-broker.sh {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout.strip()


class Broker:
    def __init__(self, dir: Path, storage: str = "memory"):
        self.dir = dir
        self.storage = storage
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.running = False

    def start(self) -> None:
        run("start", str(self.port), str(self.dir), self.storage)
        self.running = True

    def stop(self, kill: bool = False) -> None:
        if self.running:
            run("stop", str(self.dir), *(["--kill"] if kill else []))
            self.running = False

    def topic(self, name: str, partitions: int) -> None:
        run("topic", str(self.port), name, str(partitions))


@pytest.fixture
def kafka_broker(tmp_path):
    """Factory: `kafka_broker(storage="memory")` -> a started Broker, stopped at teardown."""
    brokers: list[Broker] = []

    def start(storage: str = "memory") -> Broker:
        broker = Broker(tmp_path / f"broker{len(brokers)}", storage)
        brokers.append(broker)
        broker.start()
        return broker

    yield start
    for broker in brokers:
        broker.stop()


@pytest.fixture
def s3_server(tmp_path):
    """A local S3 server (moto) with bucket "tansu": yields the `s3:PORT` storage arg."""
    port = free_port()
    dir = tmp_path / "s3"
    run("s3-start", str(port), str(dir))
    yield f"s3:{port}"
    run("s3-stop", str(dir))


def produce(bootstrap: str, topic: str, values: list[str]) -> None:
    errors = []
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "batch.num.messages": 1, "linger.ms": 0}
    )
    for i, value in enumerate(values):
        producer.produce(
            topic,
            key=str(i).encode(),
            value=value.encode(),
            on_delivery=lambda err, msg: errors.append(err) if err else None,
        )
        producer.poll(0)
    assert producer.flush(30) == 0, "unflushed messages"
    assert errors == []


def group_consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **GROUP_TIMEOUTS,
        }
    )


def consume(consumer: Consumer, count: int, timeout: float = 30.0) -> list[str]:
    values: list[str] = []
    deadline = time.monotonic() + timeout
    while len(values) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        assert msg.error() is None, msg.error()
        values.append(msg.value().decode())
    return values
