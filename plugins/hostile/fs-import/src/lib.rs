//! Hostile test plugin `fs-import`: `transform` reads a file with `std::fs`,
//! so the component imports `wasi:filesystem` (types and preopens). A host
//! that does not grant the filesystem should refuse to load it; one that
//! links `wasi:filesystem` with no preopened directories makes the read fail.
//!
//! Config: `{"path": "/etc/passwd"}` (the file to read; that is the default).
//!
//! If the read succeeds (the sandbox leaked), the output is the event with
//! `"fs-import-bytes": <file size>` added at the top level; if it fails, the
//! event is rejected with `fs-import: cannot read PATH: ERROR`.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value};

/// The parsed config.
pub struct FsImport {
    path: String,
}

impl Plugin for FsImport {
    fn init(config: Config) -> Result<Self, String> {
        let path = config
            .str_or("path", "/etc/passwd")
            .map_err(|e| format!("fs-import: {e}"))?;
        Ok(FsImport {
            path: path.to_owned(),
        })
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let bytes = std::fs::read(&self.path).map_err(|e| {
            TransformError::reject(format!("fs-import: cannot read {}: {e}", self.path))
        })?;
        let mut json = event.into_json()?;
        if let Value::Object(map) = &mut json {
            map.insert("fs-import-bytes".into(), Value::from(bytes.len()));
        }
        Ok(Outputs::one(json))
    }
}

switchyard_plugin::export_plugin!(FsImport);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::json;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn reads_the_file_natively() {
        let path = std::env::temp_dir().join(format!("fs-import-{}.txt", std::process::id()));
        std::fs::write(&path, "12345").unwrap();
        let config = json!({"path": path.to_str().unwrap()}).to_string();
        let mut h = Harness::<FsImport>::new(&config);
        let out = h.transform(r#"{"id": "e"}"#).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(out, [json!({"id": "e", "fs-import-bytes": 5})]);
    }

    #[test]
    fn missing_file_is_a_reject() {
        let mut h = Harness::<FsImport>::new(r#"{"path": "/nonexistent/fs-import"}"#);
        let err = h.transform("{}").unwrap_err();
        assert!(err.is_reject());
        assert!(
            err.message()
                .starts_with("fs-import: cannot read /nonexistent/fs-import: ")
        );
    }
}
