//! The transform stage: runs targets' Wasm plugins, then queues what they
//! return on the target like any other delivery.
//!
//! Plugin calls are synchronous CPU work with their own deadline, and WASI's
//! synchronous host calls cannot run inside the async runtime, so they run on a
//! few threads of this stage's own (`plugins.threads`, one per core by default),
//! each keeping its own instance of every plugin binding. The router hands over
//! one request's plugin work as one batch; a worker runs the batch in order,
//! fans each event's outputs out as deliveries (`[]` drops the event: it is
//! done), and sends each failure to the target's dead-letter path with the
//! plugin's `ERROR_CODE`. The queue needs no bound of its own: every item holds
//! its event's admission permit, so the router's in-flight bound is this
//! queue's bound too.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::completion::{Completion, Outcome};
use super::dead_letter::Failure;
use super::delivery::{self, Delivery, TargetHandle};
use crate::event::Event;
use crate::transform::wasm::{Binding, Input};

/// One event's plugin work for one target.
pub struct TransformItem {
    pub binding: Arc<Binding>,
    pub handle: Arc<TargetHandle>,
    pub event: Arc<Event>,
    /// What input shaping made of the event: the plugin's input.
    pub payload: Bytes,
    /// `payload` is the event itself (no input shaping).
    pub payload_is_event: bool,
    pub completion: Completion,
}

pub struct TransformStage {
    queue: Sender<Vec<TransformItem>>,
}

impl TransformStage {
    /// Starts `threads` workers that queue deliveries on `runtime`.
    pub fn start(threads: usize, runtime: tokio::runtime::Handle) -> TransformStage {
        let (queue, receiver) = mpsc::channel::<Vec<TransformItem>>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            let runtime = runtime.clone();
            std::thread::Builder::new()
                .name(format!("switchyard-plugin-{i}"))
                .spawn(move || work(&receiver, &runtime))
                .expect("cannot start a plugin thread");
        }
        TransformStage { queue }
    }

    pub fn submit(&self, batch: Vec<TransformItem>) {
        if let Err(mpsc::SendError(batch)) = self.queue.send(batch) {
            // Only when every worker died: settle rather than lose the events.
            let runtime = tokio::runtime::Handle::current();
            let _enter = runtime.enter();
            for item in batch {
                item.handle.dead_letter_now(
                    item.event,
                    Some(item.payload),
                    Failure::now(
                        "PluginUnavailable",
                        "the plugin threads have stopped".into(),
                    ),
                    item.completion,
                );
            }
        }
    }
}

fn work(receiver: &Mutex<Receiver<Vec<TransformItem>>>, runtime: &tokio::runtime::Handle) {
    loop {
        let batch = {
            let guard = receiver.lock().unwrap_or_else(|e| e.into_inner());
            match guard.recv() {
                Ok(batch) => batch,
                Err(_) => return,
            }
        };
        let mut deliveries = Vec::new();
        let mut failures = Vec::new();
        for item in batch {
            let input = Input {
                bytes: &item.payload,
                known_object: item.payload_is_event,
            };
            match item.binding.transform(input, item.event.received) {
                Ok(outputs) => {
                    for payload in outputs {
                        deliveries.push((
                            item.handle.clone(),
                            Delivery {
                                event: item.event.clone(),
                                payload,
                                completion: item.completion.split(),
                            },
                        ));
                    }
                    item.completion.finish(Outcome::Delivered);
                }
                Err(failure) => failures.push((item, failure)),
            }
        }
        // Entered only now: plugin calls must run outside the runtime.
        let _enter = runtime.enter();
        delivery::dispatch(deliveries);
        for (item, failure) in failures {
            item.handle.dead_letter_now(
                item.event,
                Some(item.payload),
                Failure::now(failure.code, failure.message),
                item.completion,
            );
        }
    }
}
