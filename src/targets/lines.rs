//! JSON Lines output (the file and stdout targets share it): one writer thread
//! per file, so that any number of rules and deliveries writing one file never
//! interleave partial lines.
//!
//! Deliveries send their line and wait for the writer's answer; the writer takes
//! every line that is waiting, writes them with one `write` call, syncs according
//! to the fsync policy, and only then answers, so a delivery counts as done only
//! when its line is in the file. It owns line framing and syncing, not paths
//! (`file`) or retries (the router).

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::{Attempt, BoxFuture, DeliveryError, Target};
use crate::config::FsyncPolicy;

enum Command {
    Line(Bytes, oneshot::Sender<Result<(), String>>),
    Flush(mpsc::Sender<()>),
}

/// The writer thread's handle.
pub struct LineWriter {
    /// Unbounded on purpose: a delivery must not block a runtime thread, and the
    /// lines in flight are bounded upstream (per-target concurrency, the router's
    /// in-flight limit).
    tx: mpsc::Sender<Command>,
    name: String,
}

/// How the writer syncs.
#[derive(Debug, Clone, Copy)]
pub struct SyncPolicy {
    pub policy: FsyncPolicy,
    pub interval: Duration,
}

trait Sink: Write + Send + 'static {
    fn sync(&mut self) -> std::io::Result<()>;
}

impl Sink for std::fs::File {
    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }
}

impl Sink for std::io::Stdout {
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LineWriter {
    pub fn stdout() -> LineWriter {
        LineWriter::spawn(
            "stdout".into(),
            std::io::stdout(),
            SyncPolicy {
                policy: FsyncPolicy::Os,
                interval: Duration::from_secs(1),
            },
        )
    }

    pub fn file(name: String, file: std::fs::File, sync: SyncPolicy) -> LineWriter {
        LineWriter::spawn(name, file, sync)
    }

    fn spawn(name: String, sink: impl Sink, sync: SyncPolicy) -> LineWriter {
        let (tx, rx) = mpsc::channel();
        let thread_name = format!("lines {name}");
        std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || write_loop(sink, rx, sync))
            .expect("spawning a writer thread");
        LineWriter { tx, name }
    }

    /// Appends one line; resolves once it is written (and synced, by policy).
    pub async fn write(&self, line: Bytes) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Line(line, tx))
            .map_err(|_| format!("the writer of {} has stopped", self.name))?;
        rx.await
            .map_err(|_| format!("the writer of {} has stopped", self.name))?
    }

    /// Writes and syncs everything sent so far (blocking; used at shutdown).
    pub fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        if self.tx.send(Command::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(5));
        }
    }
}

fn write_loop(mut sink: impl Sink, rx: mpsc::Receiver<Command>, sync: SyncPolicy) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut acks: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
    let mut flushes: Vec<mpsc::Sender<()>> = Vec::new();
    let mut dirty_since: Option<Instant> = None;
    loop {
        let first = match dirty_since {
            Some(at) if sync.policy == FsyncPolicy::Interval => {
                let wait = sync.interval.saturating_sub(at.elapsed());
                match rx.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            _ => match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            },
        };
        let mut next = first;
        while let Some(command) = next.take() {
            match command {
                Command::Line(line, ack) => {
                    push_line(&mut buf, &line);
                    acks.push(ack);
                }
                Command::Flush(done) => flushes.push(done),
            }
            if acks.len() >= 4096 {
                break;
            }
            next = rx.try_recv().ok();
        }
        let mut result = if buf.is_empty() {
            Ok(())
        } else {
            sink.write_all(&buf).and_then(|_| sink.flush())
        };
        buf.clear();
        if result.is_ok() && !acks.is_empty() && dirty_since.is_none() {
            dirty_since = Some(Instant::now());
        }
        let due = match sync.policy {
            FsyncPolicy::EveryWrite => dirty_since.is_some(),
            FsyncPolicy::Interval => dirty_since.is_some_and(|at| at.elapsed() >= sync.interval),
            FsyncPolicy::Os => false,
        } || (!flushes.is_empty() && dirty_since.is_some());
        // Under `os` nothing is due until a flush (shutdown), which syncs
        // whatever was written since the last one.
        if due && result.is_ok() {
            result = sink.sync();
            dirty_since = None;
        }
        let outcome = result.map_err(|e| e.to_string());
        for ack in acks.drain(..) {
            let _ = ack.send(outcome.clone());
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
    let _ = sink.flush();
    let _ = sink.sync();
}

/// One line per event: a payload's line breaks become spaces. In JSON they can
/// only be whitespace between tokens, so JSON payloads keep their meaning.
fn push_line(buf: &mut Vec<u8>, payload: &[u8]) {
    if memchr::memchr2(b'\n', b'\r', payload).is_some() {
        buf.extend(
            payload
                .iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
        );
    } else {
        buf.extend_from_slice(payload);
    }
    buf.push(b'\n');
}

/// A file or stdout target: its deliveries go through the shared writer.
pub struct LinesTarget {
    writer: Arc<LineWriter>,
}

impl LinesTarget {
    pub fn new(writer: Arc<LineWriter>) -> LinesTarget {
        LinesTarget { writer }
    }
}

impl Target for LinesTarget {
    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.writer
                .write(attempt.payload.clone())
                .await
                .map_err(|e| {
                    DeliveryError::retryable(
                        "WriteFailed",
                        format!("writing to {}: {e}", self.writer.name),
                    )
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that counts its syncs and the bytes written before each.
    #[derive(Clone, Default)]
    struct Counting(Arc<std::sync::Mutex<(usize, Vec<usize>)>>);

    impl Write for Counting {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink for Counting {
        fn sync(&mut self) -> std::io::Result<()> {
            let mut state = self.0.lock().unwrap();
            let written = state.0;
            state.1.push(written);
            Ok(())
        }
    }

    /// Writes `lines` one after another (each waits for its answer), then
    /// flushes; the bytes written at each sync.
    fn syncs(policy: FsyncPolicy, interval_ms: u64, lines: usize, pause: Duration) -> Vec<usize> {
        let sink = Counting::default();
        let writer = LineWriter::spawn(
            "test".into(),
            sink.clone(),
            SyncPolicy {
                policy,
                interval: Duration::from_millis(interval_ms),
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for _ in 0..lines {
            runtime
                .block_on(writer.write(Bytes::from_static(b"{}")))
                .unwrap();
            std::thread::sleep(pause);
        }
        let before_flush = sink.0.lock().unwrap().1.clone();
        writer.flush();
        let after_flush = sink.0.lock().unwrap().1.clone();
        assert!(
            after_flush.last() == Some(&(lines * 3)),
            "a flush syncs all: {after_flush:?}"
        );
        before_flush
    }

    #[test]
    fn each_fsync_policy_syncs_when_it_says() {
        // every-write: each line is synced before its delivery counts.
        assert_eq!(
            syncs(FsyncPolicy::EveryWrite, 1000, 3, Duration::ZERO),
            [3, 6, 9]
        );
        // os: never before the shutdown flush.
        assert_eq!(syncs(FsyncPolicy::Os, 1000, 3, Duration::ZERO), [0; 0]);
        // interval: none within the interval, then one per interval.
        assert_eq!(
            syncs(FsyncPolicy::Interval, 60_000, 3, Duration::ZERO),
            [0; 0]
        );
        let spaced = syncs(FsyncPolicy::Interval, 20, 4, Duration::from_millis(40));
        assert!(!spaced.is_empty() && spaced.len() <= 4, "{spaced:?}");
    }

    #[test]
    fn line_breaks_become_spaces() {
        let mut buf = Vec::new();
        push_line(&mut buf, b"{\n \"a\": 1\r\n}");
        push_line(&mut buf, b"{}");
        assert_eq!(buf, b"{  \"a\": 1  }\n{}\n");
    }
}
