//! The plugins directory: which `.wasm` files are plugins, the last good
//! compiled version of each, and why a newer file did not load.
//!
//! A plugin is `<dir>/<name>.wasm`. Loading one compiles it (through `cache`),
//! checks its imports against the allow-list (naming the first forbidden one),
//! and pre-instantiates it against the `transformer` world (checking its
//! exports), so binding it to a target later never compiles or links. A file
//! that fails keeps its previous good version running; a deleted file drops its
//! plugin. It does not run plugins or watch the directory (`mod`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use wasmtime::component::{Component, types::ComponentItem};

use super::cache::{self, Compiled};
use super::engine::{ALLOWED_WASI, PLUGIN_PACKAGE, PluginEngine};
use super::sandbox::{Sandbox, TransformerPre};

/// A loaded, pre-instantiated plugin. Immutable: a changed file makes a new one.
pub struct Plugin {
    pub name: String,
    pub path: PathBuf,
    /// Hex SHA-256 of the file.
    pub hash: String,
    pub size: usize,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    pub compiled: Compiled,
    pub pre: TransformerPre<Sandbox>,
    pub loaded_at: SystemTime,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("hash", &self.hash)
            .finish()
    }
}

/// Whether a file is a plugin: `<name>.wasm` with a valid plugin name.
pub fn plugin_name(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?.strip_suffix(".wasm")?;
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(name)
}

/// Compiles and checks one component file.
pub fn load_file(
    engine: &PluginEngine,
    name: &str,
    path: &Path,
    cache_dir: Option<&Path>,
) -> Result<Plugin, String> {
    std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|bytes| load_bytes(engine, name, path, &bytes, cache_dir))
        .map_err(|why| did_not_load(name, &why))
}

fn did_not_load(name: &str, why: &str) -> String {
    format!("plugin \"{name}\" did not load: {why}")
}

fn load_bytes(
    engine: &PluginEngine,
    name: &str,
    path: &Path,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<Plugin, String> {
    if is_core_module(bytes) {
        return Err(format!(
            "{} is a core WebAssembly module, not a component: build it for \
             wasm32-wasip2 (cargo build --target wasm32-wasip2), which makes a component",
            path.display()
        ));
    }
    let hash = cache::content_hash(bytes);
    let (component, compiled) = cache::compile(&engine.engine, bytes, &hash, cache_dir)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (imports, exports) = interface(&engine.engine, &component);
    if let Some(forbidden) = imports.iter().find(|i| !import_allowed(i)) {
        return Err(format!(
            "it imports `{forbidden}`, which plugins may not use: a plugin \
             gets no filesystem, network or HTTP access; it may import {PLUGIN_PACKAGE}log \
             and WASI's io, clocks, random and cli interfaces"
        ));
    }
    let instance_pre = engine
        .linker
        .instantiate_pre(&component)
        .map_err(|e| format!("it cannot be linked: {}", chain(&e)))?;
    let pre = TransformerPre::new(instance_pre).map_err(|e| {
        format!(
            "it does not implement the switchyard:plugin/transformer world \
             (version 0.1.0; exports found: {}): {}",
            if exports.is_empty() {
                "none".to_string()
            } else {
                exports.join(", ")
            },
            chain(&e)
        )
    })?;
    Ok(Plugin {
        name: name.to_string(),
        path: path.to_path_buf(),
        hash,
        size: bytes.len(),
        imports,
        exports,
        compiled,
        pre,
        loaded_at: SystemTime::now(),
    })
}

/// A core module starts with the magic and version 1; a component with layer 1.
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[..4] == b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

fn chain(e: &wasmtime::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}

fn interface(engine: &wasmtime::Engine, component: &Component) -> (Vec<String>, Vec<String>) {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(n, _)| n.to_string()).collect();
    let exports = ty
        .exports(engine)
        .map(|(n, item)| match item.ty {
            ComponentItem::ComponentFunc(_) => format!("{n} (function)"),
            _ => n.to_string(),
        })
        .collect();
    (imports, exports)
}

/// `switchyard:plugin/log@0.1.x`, or an allowed WASI interface at any version.
pub fn import_allowed(import: &str) -> bool {
    let unversioned = import.split('@').next().unwrap_or(import);
    import.starts_with(PLUGIN_PACKAGE) || ALLOWED_WASI.contains(&unversioned)
}

/// What `/status` shows of one plugin file.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    pub name: String,
    pub path: PathBuf,
    /// `ok`, or `error` when the current file did not load (`running_hash` is
    /// then the previous good version, if any).
    pub status: &'static str,
    pub running_hash: Option<String>,
    pub loaded_at_unix_ms: Option<u64>,
    pub error: Option<String>,
}

#[derive(Default)]
struct Entry {
    current: Option<Arc<Plugin>>,
    /// The hash of the file as last read, loaded or not.
    seen_hash: String,
    error: Option<String>,
}

/// The plugins of one directory.
pub struct Registry {
    engine: Arc<PluginEngine>,
    dir: PathBuf,
    cache_dir: Option<PathBuf>,
    entries: Mutex<BTreeMap<String, Entry>>,
}

impl Registry {
    pub fn new(engine: Arc<PluginEngine>, dir: PathBuf, cache_dir: Option<PathBuf>) -> Registry {
        Registry {
            engine,
            dir,
            cache_dir,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Brings the registry up to date with the directory (a missing directory
    /// has no plugins). Returns whether a running plugin changed, appeared or
    /// went away.
    pub fn refresh(&self) -> bool {
        let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
        if let Ok(read) = std::fs::read_dir(&self.dir) {
            for entry in read.flatten() {
                let path = entry.path();
                if let Some(name) = plugin_name(&path) {
                    files.insert(name.to_string(), path);
                }
            }
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = false;
        entries.retain(|name, entry| {
            let keep = files.contains_key(name);
            if !keep {
                tracing::info!(plugin = %name, "plugin removed");
                changed |= entry.current.is_some();
            }
            keep
        });
        for (name, path) in files {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    let entry = entries.entry(name.clone()).or_default();
                    entry.error = Some(format!("cannot read {}: {e}", path.display()));
                    continue;
                }
            };
            let hash = cache::content_hash(&bytes);
            if entries.get(&name).is_some_and(|e| e.seen_hash == hash) {
                continue;
            }
            let result = load_bytes(
                &self.engine,
                &name,
                &path,
                &bytes,
                self.cache_dir.as_deref(),
            );
            let entry = entries.entry(name.clone()).or_default();
            entry.seen_hash = hash;
            match result {
                Ok(plugin) => {
                    tracing::info!(plugin = %name, hash = %&plugin.hash[..12],
                        cached = plugin.compiled == Compiled::FromCache, "plugin loaded");
                    entry.current = Some(Arc::new(plugin));
                    entry.error = None;
                    changed = true;
                }
                Err(why) => {
                    if entry.current.is_some() {
                        tracing::error!(plugin = %name, "{why}; its previous version keeps running");
                    } else {
                        tracing::error!(plugin = %name, "{why}");
                    }
                    entry.error = Some(why);
                }
            }
        }
        changed
    }

    /// The running version of a plugin, or why there is none.
    pub fn get(&self, name: &str) -> Result<Arc<Plugin>, String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(name) {
            Some(Entry {
                current: Some(p), ..
            }) => Ok(p.clone()),
            Some(Entry {
                error: Some(why), ..
            }) => Err(did_not_load(name, why)),
            _ => Err(format!(
                "plugin \"{name}\" does not exist: expected the file {}",
                self.dir.join(format!("{name}.wasm")).display()
            )),
        }
    }

    pub fn status(&self) -> Vec<PluginStatus> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .map(|(name, e)| PluginStatus {
                name: name.clone(),
                path: self.dir.join(format!("{name}.wasm")),
                status: if e.error.is_some() { "error" } else { "ok" },
                running_hash: e.current.as_ref().map(|p| p.hash.clone()),
                loaded_at_unix_ms: e.current.as_ref().map(|p| {
                    p.loaded_at
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64)
                }),
                error: e.error.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_files_and_imports() {
        assert_eq!(plugin_name(Path::new("/p/redact.wasm")), Some("redact"));
        assert_eq!(plugin_name(Path::new("/p/.x.wasm")), None);
        assert_eq!(plugin_name(Path::new("/p/x.wasm.tmp")), None);
        assert!(import_allowed("switchyard:plugin/log@0.1.0"));
        assert!(import_allowed("wasi:cli/stderr@0.2.6"));
        assert!(!import_allowed("wasi:filesystem/types@0.2.6"));
        assert!(!import_allowed("wasi:sockets/tcp@0.2.0"));
        assert!(!import_allowed("wasi:http/outgoing-handler@0.2.0"));
    }
}
