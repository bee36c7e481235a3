//! A rules directory: which files are rule files, the last good rules of each file,
//! and the checks that look across files (names unique in the directory, event bus
//! targets that some rule listens on).
//!
//! It owns the per-file acceptance policy shared by `switchyard check` and the
//! watcher: a file is loaded whole or not at all; a file that fails keeps its last
//! good rules; a file whose rule name clashes with a loaded file is the one
//! rejected. It does not watch anything or build matchers (`watch`, `snapshot`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::Problem;
use super::model::{Destination, Position, Rule};
use super::parse::{ParseContext, ParsedFile, parse_file};
use crate::pattern::PatternLimits;

/// Where rules and plugins are.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub rules_dir: PathBuf,
    pub plugins_dir: PathBuf,
    /// Limits on `EventPattern` (EventBridge's by default).
    pub pattern_limits: PatternLimits,
    /// The plugin host that judges `Transform`s (see `ParseContext::plugins`).
    pub plugins: Option<super::PluginChecker>,
}

impl LoadOptions {
    /// Rules in `rules_dir`, plugins in the `plugins` directory beside it.
    pub fn new(rules_dir: impl Into<PathBuf>) -> LoadOptions {
        let rules_dir = rules_dir.into();
        let plugins_dir = rules_dir
            .parent()
            .map_or_else(|| PathBuf::from("plugins"), |p| p.join("plugins"));
        LoadOptions {
            rules_dir,
            plugins_dir,
            pattern_limits: PatternLimits::default(),
            plugins: None,
        }
    }

    /// Rules load only with `Transform`s this host can run.
    pub fn with_plugins(mut self, host: std::sync::Arc<dyn super::PluginCheck>) -> LoadOptions {
        self.plugins = Some(super::PluginChecker(host));
        self
    }

    pub fn with_plugins_dir(mut self, plugins_dir: impl Into<PathBuf>) -> LoadOptions {
        self.plugins_dir = plugins_dir.into();
        self
    }
}

/// Whether a directory entry is a rule file: `*.json`, not hidden. Editor backups
/// and temporary files (`.#x.json`, `x.json~`, `.x.json.swp`, `x.json.tmp`) are not.
pub fn is_rule_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".json") && !n.starts_with('.') && n.len() > 5)
}

/// The rule files of a directory, sorted by path.
pub fn list_rule_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if is_rule_file(&path) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// What is known about one rule file.
#[derive(Debug, Clone, Default)]
pub struct FileState {
    /// The rules running from this file: its last version that loaded.
    pub active: Vec<Arc<Rule>>,
    /// Why the file's current content is not loaded (empty when it is).
    pub problems: Vec<Problem>,
    /// Problems of the running rules caused by other files (an event bus target
    /// that no rule listens on any more).
    pub dangling: Vec<Problem>,
    /// Hash of the content last read, to skip files that did not change.
    fingerprint: Option<u64>,
}

/// A file's state for status reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    pub path: PathBuf,
    /// `ok`, or `error` when the file's content or running rules have problems.
    pub state: &'static str,
    /// How many rules from this file are running.
    pub rules: usize,
    pub problems: Vec<Problem>,
}

/// The rules directory as loaded: every rule file and its state.
#[derive(Debug)]
pub struct DirectoryState {
    options: LoadOptions,
    files: BTreeMap<PathBuf, FileState>,
}

/// A file read in this refresh, waiting to be accepted or rejected.
struct Candidate {
    path: PathBuf,
    fingerprint: u64,
    parsed: ParsedFile,
    accepted: bool,
}

impl DirectoryState {
    pub fn new(options: LoadOptions) -> DirectoryState {
        DirectoryState {
            options,
            files: BTreeMap::new(),
        }
    }

    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// Loads a directory once and returns every problem in it: what
    /// `switchyard check` reports. Errors only when the directory can not be read.
    pub fn check(options: LoadOptions) -> io::Result<(DirectoryState, Vec<Problem>)> {
        let mut state = DirectoryState::new(options);
        state.refresh(true)?;
        let problems = state.problems();
        Ok((state, problems))
    }

    /// Brings the state up to date with the directory: files that are new, changed
    /// since they were last read, or not loaded last time are read again (every
    /// file when `force`), deleted files drop their rules. Returns whether the
    /// running rules changed.
    pub fn refresh(&mut self, force: bool) -> io::Result<bool> {
        let listed = list_rule_files(&self.options.rules_dir)?;
        let mut changed = false;

        let listed_set: HashSet<&PathBuf> = listed.iter().collect();
        self.files.retain(|path, file| {
            let keep = listed_set.contains(path);
            changed |= !keep && !file.active.is_empty();
            keep
        });

        let context = ParseContext {
            plugins_dir: self.options.plugins_dir.clone(),
            pattern_limits: self.options.pattern_limits,
            plugins: self.options.plugins.clone(),
        };
        let mut candidates = Vec::new();
        for path in listed {
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Deleted between listing and reading.
                    changed |= self
                        .files
                        .remove(&path)
                        .is_some_and(|f| !f.active.is_empty());
                    continue;
                }
                Err(e) => {
                    let problem = file_problem(&path, format!("cannot read the file: {e}"));
                    candidates.push(Candidate {
                        path,
                        fingerprint: 0,
                        parsed: ParsedFile {
                            rules: Vec::new(),
                            problems: vec![problem],
                        },
                        accepted: false,
                    });
                    continue;
                }
            };
            let fingerprint = fingerprint(&bytes);
            let known = self.files.get(&path);
            let unchanged =
                known.is_some_and(|f| f.fingerprint == Some(fingerprint) && f.problems.is_empty());
            if unchanged && !force {
                continue;
            }
            let parsed = match String::from_utf8(bytes) {
                Ok(text) => parse_file(&path, &text, &context),
                Err(e) => {
                    let valid = e.utf8_error().valid_up_to();
                    let text = String::from_utf8_lossy(&e.as_bytes()[..valid]);
                    let (line, column) = crate::json::line_col(&text, valid);
                    ParsedFile {
                        rules: Vec::new(),
                        problems: vec![Problem {
                            file: path.clone(),
                            line,
                            column,
                            message: "the file is not UTF-8 text".into(),
                        }],
                    }
                }
            };
            let accepted = parsed.problems.is_empty();
            candidates.push(Candidate {
                path,
                fingerprint,
                parsed,
                accepted,
            });
        }

        self.settle(&mut candidates);

        for candidate in candidates {
            let file = self.files.entry(candidate.path).or_default();
            file.fingerprint = Some(candidate.fingerprint);
            if candidate.accepted {
                file.active = candidate.parsed.rules.into_iter().map(Arc::new).collect();
                file.problems.clear();
                changed = true;
            } else {
                file.problems = candidate.parsed.problems;
            }
        }
        self.update_dangling();
        Ok(changed || force)
    }

    /// Accepts or rejects candidates until no more are rejected. Names must be unique
    /// among the rules that would run: those of files not read again, the last good
    /// rules of rejected files, and the new rules of accepted files. On a clash the
    /// file that is not loaded yet loses, then the later path. A target naming an
    /// event bus that no such rule listens on rejects its file too.
    fn settle(&self, candidates: &mut [Candidate]) {
        let reread: HashSet<&PathBuf> = candidates.iter().map(|c| &c.path).collect();
        let kept: Vec<&Rule> = self
            .files
            .iter()
            .filter(|(path, _)| !reread.contains(path))
            .flat_map(|(_, f)| f.active.iter().map(|r| &**r))
            .collect();
        let running = |c: &Candidate| -> Vec<&Rule> {
            self.files
                .get(&c.path)
                .map(|f| f.active.iter().map(|r| &**r).collect())
                .unwrap_or_default()
        };
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&i| running(&candidates[i]).is_empty());
        loop {
            // Rules that run whatever happens, then accepted candidates in order.
            let mut names: HashMap<&str, &Rule> = HashMap::new();
            let mut buses: HashSet<&str> = HashSet::new();
            for c in candidates.iter() {
                let rules = if c.accepted {
                    c.parsed.rules.iter().collect()
                } else {
                    running(c)
                };
                buses.extend(rules.iter().map(|r| r.event_bus_name.as_str()));
            }
            for rule in kept
                .iter()
                .copied()
                .chain(candidates.iter().filter(|c| !c.accepted).flat_map(&running))
            {
                buses.insert(&rule.event_bus_name);
                names.insert(&rule.name, rule);
            }
            let mut problems: Vec<(usize, Problem)> = Vec::new();
            for &i in &order {
                let c = &candidates[i];
                for rule in &c.parsed.rules {
                    match names.get(rule.name.as_str()) {
                        // A rejected file's new rules may repeat its running ones.
                        Some(first) if c.accepted || first.file != rule.file => {
                            problems.push((i, name_clash(rule, first)));
                        }
                        Some(_) => {}
                        None if c.accepted => {
                            names.insert(&rule.name, rule);
                        }
                        None => {}
                    }
                    problems.extend(missing_buses(rule, &buses).into_iter().map(|p| (i, p)));
                }
            }
            let mut rejected_more = false;
            for (i, problem) in problems {
                let c = &mut candidates[i];
                rejected_more |= c.accepted;
                c.accepted = false;
                if !c.parsed.problems.contains(&problem) {
                    c.parsed.problems.push(problem);
                }
            }
            if !rejected_more {
                break;
            }
        }
        for c in candidates.iter_mut() {
            c.parsed.problems.sort_by_key(|p| (p.line, p.column));
        }
    }

    /// Records, for each file, running rules whose event bus targets nobody listens on.
    fn update_dangling(&mut self) {
        let buses: HashSet<String> = self
            .files
            .values()
            .flat_map(|f| &f.active)
            .map(|r| r.event_bus_name.clone())
            .collect();
        let buses: HashSet<&str> = buses.iter().map(String::as_str).collect();
        for file in self.files.values_mut() {
            file.dangling = file
                .active
                .iter()
                .flat_map(|r| missing_buses(r, &buses))
                .filter(|p| !file.problems.contains(p))
                .collect();
        }
    }

    /// Every running rule, by file path and then in file order.
    pub fn rules(&self) -> Vec<Arc<Rule>> {
        self.files
            .values()
            .flat_map(|f| f.active.iter().cloned())
            .collect()
    }

    pub fn files(&self) -> impl Iterator<Item = (&Path, &FileState)> {
        self.files.iter().map(|(p, f)| (p.as_path(), f))
    }

    /// Every current problem, by file.
    pub fn problems(&self) -> Vec<Problem> {
        self.files
            .values()
            .flat_map(|f| f.problems.iter().chain(&f.dangling).cloned())
            .collect()
    }

    pub fn status(&self) -> Vec<FileStatus> {
        self.files
            .iter()
            .map(|(path, f)| {
                let problems: Vec<Problem> =
                    f.problems.iter().chain(&f.dangling).cloned().collect();
                FileStatus {
                    path: path.clone(),
                    state: if problems.is_empty() { "ok" } else { "error" },
                    rules: f.active.len(),
                    problems,
                }
            })
            .collect()
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn file_problem(path: &Path, message: String) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
    }
}

fn problem_at(rule: &Rule, at: Position, message: String) -> Problem {
    Problem {
        file: rule.file.clone(),
        line: at.line,
        column: at.column,
        message,
    }
}

fn name_clash(rule: &Rule, first: &Rule) -> Problem {
    problem_at(
        rule,
        rule.at,
        format!(
            "rule \"{}\": the name is already used by the rule at {}:{}:{}; rule names must be unique across the directory",
            rule.name,
            first.file.display(),
            first.at.line,
            first.at.column
        ),
    )
}

fn missing_buses(rule: &Rule, buses: &HashSet<&str>) -> Vec<Problem> {
    rule.targets
        .iter()
        .filter_map(|t| match &t.destination {
            Destination::EventBus { name } if name != "default" && !buses.contains(name.as_str()) => {
                Some(problem_at(
                    rule,
                    t.destination_at,
                    format!(
                        "rule \"{}\" target \"{}\": event bus \"{name}\" does not exist: no rule in the directory has \"EventBusName\": \"{name}\"",
                        rule.name, t.id
                    ),
                ))
            }
            _ => None,
        })
        .collect()
}
