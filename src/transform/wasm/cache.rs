//! Compiling a plugin component once: the compiled artifact is cached on disk,
//! keyed by the component's content hash and the engine's compatibility hash,
//! so a restart (or another instance on the same machine) skips Cranelift.
//!
//! Deserializing compiled code runs it without validation, so it owns the rule
//! that switchyard never loads an artifact it did not write: the cache
//! directory must be owned by this user and closed to others (created `0700`),
//! each file too (`0600`, written to a temporary name and renamed), and each file
//! carries a SHA-256 of its body that is checked before use. Anything else is
//! ignored (and overwritten) with a warning. It does not decide what a plugin
//! may import (`registry`).

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8] = b"switchyard-compiled-plugin-v1\n";

/// Whether a component came from the cache or was compiled now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiled {
    FromCache,
    Compiled,
}

/// The default cache directory: `$XDG_CACHE_HOME/switchyard/plugins`, else
/// `$HOME/.cache/switchyard/plugins`; none without either.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("switchyard").join("plugins"))
}

/// The hex SHA-256 of a file's bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compiles `wasm` (whose hash is `hash`), through the cache in `dir` if any.
pub fn compile(
    engine: &Engine,
    wasm: &[u8],
    hash: &str,
    dir: Option<&Path>,
) -> Result<(Component, Compiled), String> {
    let Some(dir) = dir else {
        return compile_now(engine, wasm).map(|c| (c, Compiled::Compiled));
    };
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let path = dir.join(format!("{hash}-{:016x}.cwasm", engine_hash.finish()));
    match read_trusted(dir, &path) {
        Ok(Some(body)) => {
            // SAFETY: `body` is an artifact this program serialized with an
            // engine of the same compatibility hash (the file name), in a
            // directory and file only this user can write, and its checksum
            // matches: it is exactly what `Component::serialize` produced.
            match unsafe { Component::deserialize(engine, &body) } {
                Ok(component) => return Ok((component, Compiled::FromCache)),
                Err(e) => tracing::warn!("ignoring cached plugin {}: {e}", path.display()),
            }
        }
        Ok(None) => {}
        Err(why) => tracing::warn!("ignoring cached plugin {}: {why}", path.display()),
    }
    let component = compile_now(engine, wasm)?;
    if let Err(why) = write_trusted(dir, &path, &component) {
        tracing::warn!(
            "cannot cache the compiled plugin in {}: {why}",
            dir.display()
        );
    }
    Ok((component, Compiled::Compiled))
}

fn compile_now(engine: &Engine, wasm: &[u8]) -> Result<Component, String> {
    Component::new(engine, wasm).map_err(|e| {
        let mut message = format!("not a valid WebAssembly component: {e}");
        for cause in e.chain().skip(1) {
            message.push_str(&format!(": {cause}"));
        }
        message
    })
}

/// The body of a cache file, if it exists and passes every check.
fn read_trusted(dir: &Path, path: &Path) -> Result<Option<Vec<u8>>, String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    check_private(dir, "directory")?;
    check_private(path, "file")?;
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("not written by switchyard")?;
    if rest.len() < 32 {
        return Err("truncated".into());
    }
    let (sum, body) = rest.split_at(32);
    if Sha256::digest(body).as_slice() != sum {
        return Err("its checksum does not match (corrupt or altered)".into());
    }
    Ok(Some(body.to_vec()))
}

/// Owned by this process's user and writable by nobody else.
fn check_private(path: &Path, what: &str) -> Result<(), String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    let me = effective_uid();
    if meta.uid() != me {
        return Err(format!(
            "the {what} belongs to uid {}, not to this user ({me})",
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(format!("the {what} is writable by other users"));
    }
    Ok(())
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn write_trusted(dir: &Path, path: &Path, component: &Component) -> Result<(), String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    check_private(dir, "directory")?;
    let body = component.serialize().map_err(|e| e.to_string())?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), fastrand::u64(..)));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(&body))?;
        file.write_all(&body)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_switchyard_did_not_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.cwasm");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(&path, b"\0asm not ours").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            read_trusted(dir.path(), &path).unwrap_err(),
            "not written by switchyard"
        );

        let mut altered = MAGIC.to_vec();
        altered.extend_from_slice(&Sha256::digest(b"body"));
        altered.extend_from_slice(b"bodY");
        fs::write(&path, &altered).unwrap();
        assert!(
            read_trusted(dir.path(), &path)
                .unwrap_err()
                .contains("checksum")
        );

        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            read_trusted(dir.path(), &path).unwrap_err(),
            "the file is writable by other users"
        );
        assert_eq!(
            read_trusted(dir.path(), &dir.path().join("none")).unwrap(),
            None
        );
    }
}
