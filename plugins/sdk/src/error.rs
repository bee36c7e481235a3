//! [`TransformError`]: how a plugin says an event, or the plugin itself, is bad.

use std::fmt;

/// Why `transform` produced no outputs (WIT `transform-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransformError {
    /// This event is bad: it goes to the target's dead-letter destination with
    /// this reason, and is not retried.
    Reject(String),
    /// The plugin cannot work at all: the host disables this binding until the
    /// plugin or its rule is reloaded, and dead-letters its events.
    Fatal(String),
}

impl TransformError {
    /// This event is bad (dead-lettered with `reason`, not retried).
    pub fn reject(reason: impl Into<String>) -> Self {
        TransformError::Reject(reason.into())
    }

    /// The plugin cannot work at all (binding disabled until reload).
    pub fn fatal(reason: impl Into<String>) -> Self {
        TransformError::Fatal(reason.into())
    }

    /// The reason, whichever kind.
    pub fn message(&self) -> &str {
        match self {
            TransformError::Reject(m) | TransformError::Fatal(m) => m,
        }
    }

    /// Whether this is a [`TransformError::Reject`].
    pub fn is_reject(&self) -> bool {
        matches!(self, TransformError::Reject(_))
    }

    /// Whether this is a [`TransformError::Fatal`].
    pub fn is_fatal(&self) -> bool {
        matches!(self, TransformError::Fatal(_))
    }
}

impl fmt::Display for TransformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransformError::Reject(m) => write!(f, "rejected: {m}"),
            TransformError::Fatal(m) => write!(f, "fatal: {m}"),
        }
    }
}

impl std::error::Error for TransformError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_and_accessors() {
        let r = TransformError::reject("bad event");
        assert!(r.is_reject() && !r.is_fatal());
        assert_eq!(r.message(), "bad event");
        assert_eq!(r.to_string(), "rejected: bad event");
        let f = TransformError::fatal(String::from("broken"));
        assert!(f.is_fatal() && !f.is_reject());
        assert_eq!(f, TransformError::Fatal("broken".into()));
        assert_eq!(f.to_string(), "fatal: broken");
    }
}
