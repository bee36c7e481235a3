//! The file target's paths: one shared writer per file, opened for append (parent
//! directories created), so that every rule and dead-letter destination naming
//! the same file goes through one writer and lines never interleave.
//!
//! It owns opening files and the registry of writers; writing lines and syncing
//! are `lines`'.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::lines::{LineWriter, SyncPolicy};
use crate::config::FileConfig;

pub struct FileWriters {
    sync: SyncPolicy,
    /// Weak: a writer lives while some target uses it, so a file no rule names
    /// any more is closed once its last deliveries finish.
    open: Mutex<HashMap<PathBuf, Weak<LineWriter>>>,
}

impl FileWriters {
    pub fn new(config: FileConfig) -> FileWriters {
        FileWriters {
            sync: SyncPolicy {
                policy: config.fsync,
                interval: Duration::from_millis(config.fsync_interval_ms.max(1)),
            },
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The writer for `path`, opening the file the first time.
    pub fn writer(&self, path: &Path) -> Result<Arc<LineWriter>, String> {
        let key = absolute(path);
        let mut open = self.open.lock().unwrap();
        open.retain(|_, w| w.strong_count() > 0);
        if let Some(w) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(w);
        }
        if let Some(parent) = key.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create directory {}: {e}", parent.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&key)
            .map_err(|e| format!("cannot open {} for appending: {e}", key.display()))?;
        let writer = Arc::new(LineWriter::file(
            path.display().to_string(),
            file,
            self.sync,
        ));
        open.insert(key, Arc::downgrade(&writer));
        Ok(writer)
    }

    pub fn flush_all(&self) {
        let writers: Vec<Arc<LineWriter>> = self
            .open
            .lock()
            .unwrap()
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for w in writers {
            w.flush();
        }
    }
}

/// Paths are compared absolute, so `./a.jsonl` and `a.jsonl` share a writer.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
