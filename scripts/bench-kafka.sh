#!/usr/bin/env bash
# Kafka -> switchyard (1,000 rules) -> Kafka against the raw rdkafka
# consume-then-produce loop on the same broker, in one run (scripts/bench_kafka.py
# says how it measures). Usage: scripts/bench-kafka.sh [RECORDS] [STEADY_RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin switchyard
python=$(./scripts/python-deps.sh | tail -n 1)
./scripts/kafka-broker.sh install >/dev/null
exec "$python" scripts/bench_kafka.py "$@"
