"""Kafka -> switchyard (1,000 rules) -> Kafka, against the raw rdkafka
consume-then-produce loop (`switchyard bench kafka-loop`) on the same broker, in
one run, both read by the same independent client (confluent-kafka).

Phase 1, throughput: N records are waiting in the input topic; each system drains
them into its own output topic; events/s = N / (last arrival - first arrival).
Phase 2, latency: records are produced at a steady rate while each system runs;
end-to-end latency = arrival at the reader - the producer's timestamp in the
record; p50 and p99 are printed.

Run through scripts/bench-kafka.sh (it builds the release binary and the venv).
"""

from __future__ import annotations

import json
import subprocess
import threading
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "py"))

from confluent_kafka import Consumer, Producer  # noqa: E402

from kafka_peer import GROUP_TIMEOUTS, Broker  # noqa: E402

BIN = REPO / "target" / "release" / "switchyard"


def rules(dir: Path, count: int) -> None:
    """count - 1 rules that do not match, one that sends everything to `out`."""
    dir.mkdir(parents=True)
    batch = []
    for i in range(count - 1):
        batch.append({"Name": f"r{i}", "EventPattern": {"source": ["kafka"], "detail": {"n": [-1 - i]}},
                      "Targets": [{"Id": "t", "Kafka": {"Topic": "unused"}}]})
    batch.append({"Name": "all", "EventPattern": {"source": ["kafka"]},
                  "Targets": [{"Id": "out", "Kafka": {"Topic": "out"}}]})
    (dir / "rules.json").write_text(json.dumps(batch))


def produce(bootstrap: str, topic: str, n: int, rate: float | None, start: int = 0) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    t0 = time.monotonic()
    for i in range(n):
        if rate:
            wait = t0 + i / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        p.produce(topic, json.dumps({"n": start + i, "sent": time.time()}).encode())
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0


def reader(bootstrap: str, topic: str, group: str) -> Consumer:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, **GROUP_TIMEOUTS})
    c.subscribe([topic])
    return c


def read(c: Consumer, topic: str, n: int, timeout: float = 300) -> tuple[list[float], list[float]]:
    """Arrival times and latencies of the next n records."""
    arrivals, latencies = [], []
    deadline = time.monotonic() + timeout
    while len(arrivals) < n and time.monotonic() < deadline:
        for m in c.consume(1000, 0.2):
            if m.error():
                continue
            now = time.time()
            body = json.loads(m.value())
            sent = body["detail"]["sent"] if "detail" in body else body["sent"]
            arrivals.append(now)
            latencies.append(now - sent)
    if len(arrivals) < n:
        raise SystemExit(f"{topic}: only {len(arrivals)} of {n} records arrived")
    return arrivals, latencies


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 5_000.0
    steady = int(rate * 5)
    work = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    broker = Broker(work / "broker")
    broker.start()
    procs = []
    try:
        for topic in ["in", "out", "ceiling-in", "ceiling-out", "unused"]:
            broker.topic(topic, 3)
        rules(work / "rules", 1000)
        config = work / "switchyard.toml"
        config.write_text(f'[kafka]\nbrokers = "{broker.bootstrap}"\n'
                          '[kafka.consumer]\n"session.timeout.ms" = "6000"\n"heartbeat.interval.ms" = "500"\n'
                          '[kafka.source]\ntopics = ["in"]\ngroup = "bench"\n')
        results = {}
        for name, source, out, cmd in [
            ("raw rdkafka loop (ceiling)", "ceiling-in", "ceiling-out",
             [str(BIN), "bench", "kafka-loop", "--brokers", broker.bootstrap, "--from", "ceiling-in",
              "--to", "ceiling-out", "--count", str(n + steady)]),
            ("switchyard, 1,000 rules", "in", "out",
             [str(BIN), "serve", "--rules", str(work / "rules"), "--listen", "127.0.0.1:0",
              "--config", str(config)]),
        ]:
            produce(broker.bootstrap, source, n, None)
            proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=open(work / f"{out}.log", "w"))
            procs.append(proc)
            c = reader(broker.bootstrap, out, f"reader-{out}")
            arrivals, _ = read(c, out, n)
            throughput = n / (arrivals[-1] - arrivals[0])
            # The same reader stays joined while records come at a steady rate.
            feed = threading.Thread(target=produce, args=(broker.bootstrap, source, steady, rate, n))
            feed.start()
            _, latencies = read(c, out, steady)
            feed.join()
            c.close()
            results[name] = (throughput, pct(latencies, 0.5), pct(latencies, 0.99))
            proc.terminate()
            proc.wait(timeout=30)
        print(f"Kafka -> Kafka, {n} records backlog, then {steady} at {rate:.0f}/s (2-core machine):")
        for name, (tp, p50, p99) in results.items():
            print(f"  {name:<30} {tp:>10,.0f} events/s   p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms")
        ceiling = results["raw rdkafka loop (ceiling)"][0]
        ours = results["switchyard, 1,000 rules"][0]
        print(f"  switchyard reaches {ours / ceiling:.0%} of the ceiling (target: at least 80%)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        broker.stop()


if __name__ == "__main__":
    main()
