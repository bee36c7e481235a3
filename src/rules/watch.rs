//! Keeping the running rule set in step with the rules directory.
//!
//! It owns the reload loop: file system events (notify, debounced) and SIGHUP wake
//! one worker thread, which re-reads what changed through `DirectoryState`, builds
//! the next `RuleSet` off the hot path and swaps it in atomically (arc-swap).
//! Readers never wait: they take the current snapshot and finish an event on it
//! even if a newer one is swapped in meanwhile. It also owns the status report.
//! What makes a file acceptable is `directory`'s and `parse`'s business.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

use arc_swap::ArcSwap;
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use serde::Serialize;

use crate::pattern::EventLimits;

use super::directory::{DirectoryState, FileStatus, LoadOptions};
use super::snapshot::RuleSet;

/// How to watch a rules directory.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub load: LoadOptions,
    /// Quiet time after the last file system event before reloading. Editors save
    /// through several operations; this lets them finish.
    pub debounce: Duration,
    pub event_limits: EventLimits,
    /// Called on the watcher's thread with every snapshot it publishes (the first
    /// one too), after the swap: the server builds its routes from it.
    pub on_publish: Option<PublishHook>,
}

/// See [`WatchOptions::on_publish`].
#[derive(Clone)]
pub struct PublishHook(pub Arc<dyn Fn(Arc<RuleSet>) + Send + Sync>);

impl std::fmt::Debug for PublishHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublishHook")
    }
}

impl WatchOptions {
    pub fn new(rules_dir: impl Into<PathBuf>) -> WatchOptions {
        WatchOptions {
            load: LoadOptions::new(rules_dir),
            debounce: Duration::from_millis(150),
            event_limits: EventLimits::default(),
            on_publish: None,
        }
    }
}

/// The state of the running rules, for logs, admin endpoints and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The running snapshot's generation (1 after the first load).
    pub generation: u64,
    /// When that snapshot was built, in milliseconds since the Unix epoch.
    pub loaded_at_unix_ms: u64,
    /// Rules running (enabled or not).
    pub rules: usize,
    /// Every rule file, `ok` or `error` with its problems.
    pub files: Vec<FileStatus>,
    /// Why the directory itself could not be read on the last attempt.
    pub directory_error: Option<String>,
}

/// See [`RulesWatcher::reloader`]; does nothing once the watcher is gone.
pub struct Reloader(Mutex<Sender<Command>>);

impl Reloader {
    pub fn force_reload(&self) {
        let _ = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Command::FullReload);
    }
}

enum Command {
    Changed,
    FullReload,
    Stop,
}

/// Watches a rules directory and keeps the current [`RuleSet`]. Dropping it stops
/// watching; snapshots already taken stay valid.
pub struct RulesWatcher {
    current: Arc<ArcSwap<RuleSet>>,
    status: Arc<Mutex<Status>>,
    commands: Sender<Command>,
    worker: Option<JoinHandle<()>>,
    _debouncer: Debouncer<RecommendedWatcher>,
    sighup: Option<(signal_hook::iterator::Handle, JoinHandle<()>)>,
}

impl RulesWatcher {
    /// Loads the directory and starts watching it. Fails when the directory can not
    /// be read or watched; problems in rule files are not failures (see `status`).
    pub fn start(options: WatchOptions) -> io::Result<RulesWatcher> {
        let mut worker = Worker {
            state: DirectoryState::new(options.load.clone()),
            limits: options.event_limits,
            on_publish: options.on_publish.clone(),
            current: Arc::new(ArcSwap::from_pointee(RuleSet::empty())),
            status: Arc::new(Mutex::new(Status {
                generation: 0,
                loaded_at_unix_ms: 0,
                rules: 0,
                files: Vec::new(),
                directory_error: None,
            })),
        };
        worker.state.refresh(true)?;
        worker.publish(Instant::now());

        let (commands, receiver) = mpsc::channel();
        let events = commands.clone();
        let mut debouncer = new_debouncer(options.debounce, move |result: DebounceEventResult| {
            if let Err(e) = &result {
                tracing::warn!("watching the rules directory: {e}");
            }
            // Any event may mean any file changed (renames, symlink swaps): the
            // worker compares contents, so which paths were named does not matter.
            let _ = events.send(Command::Changed);
        })
        .map_err(io::Error::other)?;
        debouncer
            .watcher()
            .watch(&options.load.rules_dir, RecursiveMode::NonRecursive)
            .map_err(io::Error::other)?;

        let current = worker.current.clone();
        let status = worker.status.clone();
        let handle = std::thread::Builder::new()
            .name("switchyard-rules".into())
            .spawn(move || worker.run(receiver))?;
        Ok(RulesWatcher {
            current,
            status,
            commands,
            worker: Some(handle),
            _debouncer: debouncer,
            sighup: None,
        })
    }

    /// The current rule set. Match a whole event against one snapshot.
    pub fn snapshot(&self) -> Arc<RuleSet> {
        self.current.load_full()
    }

    /// The swap cell itself, for hot paths that prefer `load()` guards.
    pub fn shared(&self) -> Arc<ArcSwap<RuleSet>> {
        self.current.clone()
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads every file and publishes a new snapshot, as SIGHUP does. Returns at
    /// once; the reload happens on the watcher's thread.
    pub fn force_reload(&self) {
        let _ = self.commands.send(Command::FullReload);
    }

    /// A handle that forces full reloads from elsewhere (the plugins watcher).
    pub fn reloader(&self) -> Reloader {
        Reloader(Mutex::new(self.commands.clone()))
    }

    /// Makes SIGHUP force a full reload (as long as this watcher lives).
    pub fn reload_on_sighup(&mut self) -> io::Result<()> {
        if self.sighup.is_some() {
            return Ok(());
        }
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])?;
        let handle = signals.handle();
        let commands = self.commands.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-sighup".into())
            .spawn(move || {
                for _ in signals.forever() {
                    tracing::info!("SIGHUP: reloading every rule file");
                    if commands.send(Command::FullReload).is_err() {
                        break;
                    }
                }
            })?;
        self.sighup = Some((handle, thread));
        Ok(())
    }
}

impl Drop for RulesWatcher {
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.sighup.take() {
            handle.close();
            let _ = thread.join();
        }
        let _ = self.commands.send(Command::Stop);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

struct Worker {
    state: DirectoryState,
    limits: EventLimits,
    on_publish: Option<PublishHook>,
    current: Arc<ArcSwap<RuleSet>>,
    status: Arc<Mutex<Status>>,
}

impl Worker {
    fn run(mut self, commands: Receiver<Command>) {
        while let Ok(first) = commands.recv() {
            // Take everything queued meanwhile: one reload serves them all.
            let mut force = false;
            for command in std::iter::once(first).chain(commands.try_iter()) {
                match command {
                    Command::Stop => return,
                    Command::FullReload => force = true,
                    Command::Changed => {}
                }
            }
            let started = Instant::now();
            match self.state.refresh(force) {
                Ok(true) => self.publish(started),
                Ok(false) => self.update_status(None),
                Err(e) => {
                    tracing::error!(
                        "cannot read the rules directory {}: {e}; the running rules stay",
                        self.state.options().rules_dir.display()
                    );
                    self.update_status(Some(e.to_string()));
                }
            }
        }
    }

    /// Builds the next snapshot from the directory state and swaps it in.
    fn publish(&mut self, started: Instant) {
        let generation = self.current.load().generation() + 1;
        let snapshot = RuleSet::build(generation, self.state.rules(), self.limits);
        let rules = snapshot.rules().len();
        self.update_status(None);
        {
            let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            status.generation = generation;
            status.rules = rules;
            status.loaded_at_unix_ms = snapshot
                .created()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
        }
        let snapshot = Arc::new(snapshot);
        self.current.store(snapshot.clone());
        if let Some(hook) = &self.on_publish {
            (hook.0)(snapshot);
        }
        tracing::info!(
            generation,
            rules,
            "rules loaded in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }

    /// Refreshes the per-file status and logs what changed in it.
    fn update_status(&self, directory_error: Option<String>) {
        let files = self.state.status();
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        for file in &files {
            let before = status.files.iter().find(|f| f.path == file.path);
            if before.map(|b| &b.problems) == Some(&file.problems) {
                continue;
            }
            for problem in &file.problems {
                tracing::warn!("{problem}");
            }
            if file.problems.is_empty() && before.is_some() {
                tracing::info!("{}: loaded", file.path.display());
            } else if !file.problems.is_empty() && file.rules > 0 {
                tracing::warn!(
                    "{}: not loaded; its last good version ({} rules) keeps running",
                    file.path.display(),
                    file.rules
                );
            }
        }
        status.files = files;
        status.directory_error = directory_error;
    }
}
