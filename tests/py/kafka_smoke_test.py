"""The Kafka test peer itself: a real tansu broker started by scripts/kafka-broker.sh,
driven by two independent clients (confluent-kafka and kafka-python).

Checks what the Kafka integration and fault tests rely on: a produce/consume round trip
through a consumer group, a restarted group member resuming at the committed offsets,
and, with the S3 storage engine (a local moto server), records and committed offsets
surviving a SIGKILL and restart of the broker.

Settings the other Kafka tests should copy: producers use acks=all and
batch.num.messages=1 (with the memory engine a consumer resuming mid-batch may skip the
rest of the batch); consumers use a short session.timeout.ms, since tansu holds a new
member's JoinGroup for about half of it (45 s by default in both clients).
"""

from __future__ import annotations

from confluent_kafka import TopicPartition

from kafka_peer import consume, group_consumer, produce


def test_round_trip_group_commit_and_resume(kafka_broker):
    broker = kafka_broker()
    broker.topic("smoke", 3)
    sent = [f"m{i}" for i in range(300)]
    produce(broker.bootstrap, "smoke", sent)

    first = group_consumer(broker.bootstrap, "g")
    first.subscribe(["smoke"])
    head = consume(first, 120)
    assert len(head) == 120
    first.commit(asynchronous=False)
    committed = first.committed([TopicPartition("smoke", p) for p in range(3)], timeout=10)
    first.close()
    assert sum(max(tp.offset, 0) for tp in committed) == 120

    second = group_consumer(broker.bootstrap, "g")
    second.subscribe(["smoke"])
    tail = consume(second, 180)
    assert consume(second, 1, timeout=2) == []
    second.close()
    assert sorted(head + tail) == sorted(sent)

    # kafka-python, an independent client, reads everything through a group of its own.
    from kafka import KafkaConsumer

    reader = KafkaConsumer(
        "smoke",
        bootstrap_servers=broker.bootstrap,
        group_id="kafka-python",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        consumer_timeout_ms=10000,
    )
    seen = []
    for msg in reader:
        seen.append(msg.value.decode())
        if len(seen) == len(sent):
            break
    reader.close()
    assert sorted(seen) == sorted(sent)


def test_s3_storage_survives_broker_kill(kafka_broker, s3_server):
    broker = kafka_broker(s3_server)
    broker.topic("durable", 3)
    sent = [f"d{i}" for i in range(100)]
    produce(broker.bootstrap, "durable", sent)

    first = group_consumer(broker.bootstrap, "g")
    first.subscribe(["durable"])
    head = consume(first, 40)
    assert len(head) == 40
    first.commit(asynchronous=False)
    first.close()

    broker.stop(kill=True)
    broker.start()

    second = group_consumer(broker.bootstrap, "g")
    second.subscribe(["durable"])
    tail = consume(second, 60)
    assert consume(second, 1, timeout=2) == []
    second.close()
    assert sorted(head + tail) == sorted(sent)
