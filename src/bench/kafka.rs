//! `switchyard bench kafka-loop`: the ceiling the Kafka benchmark measures
//! switchyard against: the raw rdkafka consume-then-produce loop on the same
//! broker, with the same client settings (a consumer group reading `--from`,
//! every record produced to `--to` with `acks=all`, offsets committed as it
//! goes), and nothing else: no parsing, no matching, no routing.
//! `scripts/bench-kafka.sh` runs it beside `switchyard serve` and reads both
//! outputs with the same independent client.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::Semaphore;

/// Copies `count` records from `from` to `to`, up to `in_flight` at once.
pub async fn run(
    brokers: &str,
    from: &str,
    to: &str,
    count: u64,
    in_flight: usize,
) -> Result<(), String> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "switchyard-bench-ceiling")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .map_err(|e| e.to_string())?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .create()
        .map_err(|e| e.to_string())?;
    consumer.subscribe(&[from]).map_err(|e| e.to_string())?;
    let slots = Arc::new(Semaphore::new(in_flight));
    let producer = Arc::new(producer);
    for n in 0..count {
        let m = consumer.recv().await.map_err(|e| e.to_string())?;
        let permit = slots.clone().acquire_owned().await.expect("open");
        let (key, value) = (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec));
        let producer = producer.clone();
        let to = to.to_string();
        tokio::spawn(async move {
            let mut record = FutureRecord::to(&to).payload(value.as_deref().unwrap_or_default());
            if let Some(k) = key.as_deref() {
                record = record.key(k);
            }
            if let Err((e, _)) = producer.send(record, Duration::from_secs(30)).await {
                eprintln!("bench kafka-loop: produce failed: {e}");
            }
            drop(permit);
        });
        if n % 1000 == 999 {
            let _ = consumer.commit_consumer_state(CommitMode::Async);
        }
    }
    let _ = slots.acquire_many(in_flight as u32).await;
    Ok(())
}
