//! Logging through the host's `log` import.
//!
//! The macros ([`trace!`](crate::trace), [`debug!`](crate::debug),
//! [`info!`](crate::info), [`warn!`](crate::warn), [`error!`](crate::error)
//! and [`log!`](macro@crate::log)) ask [`enabled`] first and format the message only
//! if the host would keep it. The context sent with each message is the
//! calling module's path. The host forwards messages to switchyard's log with
//! the plugin's name, rule and target, rate-limited and truncated.
//!
//! Natively (tests), messages go to the active `testing::Harness`'s
//! in-memory record, or to stderr outside a harness.

/// A log level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected, handled.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// `"trace"`, `"debug"`, `"info"`, `"warn"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the host would keep a message at `level`.
pub fn enabled(level: Level) -> bool {
    imp::enabled(level)
}

/// Sends one message to the host (no `enabled` check: the macros do that).
pub fn log(level: Level, context: &str, message: &str) {
    imp::log(level, context, message)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Level;
    use crate::bindings::switchyard::plugin::log as host;

    fn wit(level: Level) -> host::Level {
        match level {
            Level::Trace => host::Level::Trace,
            Level::Debug => host::Level::Debug,
            Level::Info => host::Level::Info,
            Level::Warn => host::Level::Warn,
            Level::Error => host::Level::Error,
        }
    }

    pub fn enabled(level: Level) -> bool {
        host::enabled(wit(level))
    }

    pub fn log(level: Level, context: &str, message: &str) {
        host::log(wit(level), context, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Level;
    use crate::testing::{LogRecord, capture};

    pub fn enabled(level: Level) -> bool {
        capture::with(|c| c.is_none_or(|c| level >= c.min_level))
    }

    pub fn log(level: Level, context: &str, message: &str) {
        let record = LogRecord {
            level,
            context: context.to_owned(),
            message: message.to_owned(),
        };
        capture::with(|c| match c {
            Some(c) => c.records.push(record),
            None => eprintln!("[{level}] {context}: {message}"),
        });
    }
}

/// Logs at `level` (a [`Level`]) with `format!` arguments, if enabled:
/// `log!(Level::Info, "got {}", id)`.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)+) => {{
        let level: $crate::Level = $level;
        if $crate::log::enabled(level) {
            $crate::log::log(level, ::core::module_path!(), &::std::format!($($arg)+));
        }
    }};
}

/// Logs at [`Level::Trace`](crate::Level::Trace), if enabled.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Trace, $($arg)+) };
}

/// Logs at [`Level::Debug`](crate::Level::Debug), if enabled.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Debug, $($arg)+) };
}

/// Logs at [`Level::Info`](crate::Level::Info), if enabled.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Info, $($arg)+) };
}

/// Logs at [`Level::Warn`](crate::Level::Warn), if enabled.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Warn, $($arg)+) };
}

/// Logs at [`Level::Error`](crate::Level::Error), if enabled.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Error, $($arg)+) };
}
