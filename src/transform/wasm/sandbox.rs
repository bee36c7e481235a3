//! One plugin instance's world: the `transformer` bindings, the state its Store
//! holds (a WASI context with no capabilities, captured stdout and stderr, the
//! memory limiter), and the host side of the `log` import.
//!
//! It owns what a plugin can see and how its output reaches switchyard's log:
//! every line (from `log`, stdout or stderr) goes to tracing with the plugin's
//! name, rule and target, truncated to `plugins.log_max_bytes` and rate-limited
//! to `plugins.logs_per_second` per instance (the excess is counted and
//! reported). It does not decide when to instantiate or how to classify
//! failures (`binding`).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "plugins/wit",
    world: "transformer",
});

pub use switchyard::plugin::log::Level;

/// Who a plugin instance runs for, in every log line it causes.
#[derive(Debug, Clone)]
pub struct Label {
    pub plugin: Arc<str>,
    pub rule: Arc<str>,
    pub target: Arc<str>,
}

/// How much a plugin may write to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub per_second: u32,
    pub max_bytes: usize,
}

/// The state of one plugin instance's Store.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: MemoryLimiter,
    log: PluginLog,
    stdout: Captured,
    stderr: Captured,
}

impl Sandbox {
    pub fn new(label: Label, memory_bytes: usize, log: LogLimits) -> Sandbox {
        // Captured output beyond this per call is counted, not kept.
        let capacity = log.max_bytes.max(1024) * 4;
        let stdout = Captured::new(capacity);
        let stderr = Captured::new(capacity);
        // No arguments, no environment, no preopened directories, no network
        // (the linker has no filesystem or socket interfaces at all), stdin empty.
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .build();
        Sandbox {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit: memory_bytes,
                hit: false,
            },
            log: PluginLog::new(label, log),
            stdout,
            stderr,
        }
    }

    /// Forwards what the plugin wrote to stdout and stderr since the last call to
    /// the log, and returns stderr's text (a panic message, after a trap).
    pub fn drain_output(&mut self) -> String {
        let out = self.stdout.take();
        if !out.is_empty() {
            for line in String::from_utf8_lossy(&out)
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                self.log.write(Level::Info, "stdout", line);
            }
        }
        let err = self.stderr.take();
        let text = String::from_utf8_lossy(&err).into_owned();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            self.log.write(Level::Warn, "stderr", line);
        }
        text
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl switchyard::plugin::types::Host for Sandbox {}

impl switchyard::plugin::log::Host for Sandbox {
    fn enabled(&mut self, level: Level) -> bool {
        self.log.enabled(level)
    }

    fn log(&mut self, level: Level, context: String, message: String) {
        self.log.write(level, &context, &message);
    }
}

/// The memory limit, with `trap_on_grow_failure` behaviour: growing past it traps
/// at once, and `hit` records why, so the failure is reported as
/// `PluginMemoryLimit` rather than as whatever the guest does on a failed
/// allocation.
pub struct MemoryLimiter {
    pub limit: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.hit = true;
            wasmtime::bail!(
                "the plugin's memory limit of {} MiB is reached (it asked for {} MiB)",
                self.limit >> 20,
                desired.div_ceil(1 << 20)
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Log lines of one instance: truncated, rate-limited, labelled.
struct PluginLog {
    label: Label,
    limits: LogLimits,
    window: Instant,
    in_window: u32,
    dropped: u64,
}

impl PluginLog {
    fn new(label: Label, limits: LogLimits) -> PluginLog {
        PluginLog {
            label,
            limits,
            window: Instant::now(),
            in_window: 0,
            dropped: 0,
        }
    }

    fn enabled(&self, level: Level) -> bool {
        match level {
            Level::Trace => tracing::enabled!(target: "plugin", tracing::Level::TRACE),
            Level::Debug => tracing::enabled!(target: "plugin", tracing::Level::DEBUG),
            Level::Info => tracing::enabled!(target: "plugin", tracing::Level::INFO),
            Level::Warn => tracing::enabled!(target: "plugin", tracing::Level::WARN),
            Level::Error => tracing::enabled!(target: "plugin", tracing::Level::ERROR),
        }
    }

    fn write(&mut self, level: Level, context: &str, message: &str) {
        if !self.enabled(level) {
            return;
        }
        if self.window.elapsed().as_secs() >= 1 {
            if self.dropped > 0 {
                let l = &self.label;
                tracing::warn!(target: "plugin", plugin = %l.plugin, rule = %l.rule,
                    target_id = %l.target, "{} log lines dropped (plugins.logs_per_second = {})",
                    self.dropped, self.limits.per_second);
            }
            self.window = Instant::now();
            self.in_window = 0;
            self.dropped = 0;
        }
        if self.in_window >= self.limits.per_second {
            self.dropped += 1;
            return;
        }
        self.in_window += 1;
        let message = truncate(message, self.limits.max_bytes);
        let context = truncate(context, 256);
        let l = &self.label;
        macro_rules! emit {
            ($macro:ident) => {
                tracing::$macro!(target: "plugin", plugin = %l.plugin, rule = %l.rule,
                    target_id = %l.target, context = %context, "{message}")
            };
        }
        match level {
            Level::Trace => emit!(trace),
            Level::Debug => emit!(debug),
            Level::Info => emit!(info),
            Level::Warn => emit!(warn),
            Level::Error => emit!(error),
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary, saying so.
pub fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes, truncated)", &text[..end], text.len()).into()
}

/// A plugin's stdout or stderr: kept in memory up to a capacity, drained after
/// every call. Writes never fail (the excess is dropped), so a chatty plugin is
/// cut short in the log, not broken.
#[derive(Clone)]
struct Captured(Arc<CapturedShared>);

struct CapturedShared {
    /// Set by a write, so draining after a quiet call takes no lock.
    written: AtomicBool,
    buf: Mutex<CapturedBuf>,
}

struct CapturedBuf {
    bytes: Vec<u8>,
    capacity: usize,
}

impl Captured {
    fn new(capacity: usize) -> Captured {
        Captured(Arc::new(CapturedShared {
            written: AtomicBool::new(false),
            buf: Mutex::new(CapturedBuf {
                bytes: Vec::new(),
                capacity,
            }),
        }))
    }

    fn push(&self, bytes: &[u8]) {
        self.0.written.store(true, Ordering::Release);
        let mut buf = self.0.buf.lock().unwrap_or_else(|e| e.into_inner());
        let room = buf.capacity.saturating_sub(buf.bytes.len());
        let keep = bytes.len().min(room);
        buf.bytes.extend_from_slice(&bytes[..keep]);
    }

    fn take(&self) -> Vec<u8> {
        if !self.0.written.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        let mut buf = self.0.buf.lock().unwrap_or_else(|e| e.into_inner());
        if buf.bytes.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut buf.bytes)
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Captured {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Captured {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_at_a_character_boundary_and_says_so() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("héllo wörld", 2);
        assert_eq!(cut, "h… (13 bytes, truncated)");
    }

    #[test]
    fn captured_output_keeps_up_to_its_capacity_and_drains() {
        let c = Captured::new(4);
        c.push(b"abcdef");
        assert_eq!(c.take(), b"abcd");
        assert!(c.take().is_empty());
        c.push(b"x");
        assert_eq!(c.take(), b"x");
    }
}
