//! SigV4 end to end: the real binary with `[auth]` configured, driven by real
//! signing clients. Requests are signed with `aws-sigv4` (as the Rust SDK signs)
//! and sent with reqwest, and boto3 from the test virtualenv (`target/py-venv`,
//! installed by scripts/python-deps.sh) calls the server too. The server is
//! stopped with SIGTERM and must exit 0.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;

const AKID: &str = "AKIDSWITCHYARDCLI";
const SECRET: &str = "cli-test/secret+key";
const SECRET_ENV: &str = "SWITCHYARD_SIGV4_CLI_TEST_SECRET";

struct Server {
    child: Child,
    addr: String,
    events: PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts `switchyard serve` with one rule (all `com.example.shop` events to a
/// file) and `[auth]` naming `SECRET_ENV`; `secret` is what that variable holds.
// The child is waited for here when it exits early, else by `Server`.
#[allow(clippy::zombie_processes)]
fn start(secret: Option<&str>) -> Result<Server, (i32, String)> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let events = dir.path().join("events.jsonl");
    let rule = serde_json::json!([{
        "Name": "shop-to-file",
        "EventPattern": { "source": ["com.example.shop"] },
        "Targets": [{ "Id": "file", "File": { "Path": events } }]
    }]);
    std::fs::write(rules.join("shop.json"), rule.to_string()).unwrap();
    let config = dir.path().join("switchyard.toml");
    std::fs::write(
        &config,
        format!(
            "[file]\nfsync = \"every-write\"\n[auth]\naccess_key_id = \"{AKID}\"\nsecret_access_key_env = \"{SECRET_ENV}\"\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--rules"])
        .arg(&rules)
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .env_remove(SECRET_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(s) = secret {
        command.env(SECRET_ENV, s);
    }
    let mut child = command.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            return Err((status.code().unwrap_or(-1), seen));
        }
        seen.push_str(&line);
        if let Some(addr) = line.trim().strip_prefix("switchyard listening on http://") {
            let addr = addr.to_string();
            // Keep reading so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in stderr.lines() {});
            return Ok(Server {
                child,
                addr,
                events,
                _dir: dir,
            });
        }
    }
}

impl Drop for Server {
    /// A failed test must not leave the server running.
    fn drop(&mut self) {
        if self.child.try_wait().is_ok_and(|s| s.is_none()) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    /// SIGTERM, then the exit status must be 0.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "switchyard exited with {exit}");
        std::fs::read_to_string(&self.events).unwrap_or_default()
    }
}

/// One AWS JSON request, signed with `secret` (or not at all) as an SDK signs it.
async fn call(
    addr: &str,
    operation: &str,
    body: &str,
    secret: Option<&str>,
) -> (u16, Option<String>, serde_json::Value) {
    let url = format!("http://{addr}/");
    let target = format!("AWSEvents.{operation}");
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("x-amz-target".to_string(), target),
    ];
    if let Some(secret) = secret {
        let identity = Credentials::new(AKID, secret, None, None, "test").into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region("eu-central-1")
            .name("events")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let request = SignableRequest::new(
            "POST",
            url.as_str(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body.as_bytes()),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let added: Vec<(String, String)> = instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        headers.extend(added);
    }
    let mut request = reqwest::Client::new().post(&url).body(body.to_string());
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_string());
    let json = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    (status, error_type, json)
}

/// boto3 in the test virtualenv; the test command installs it
/// (scripts/python-deps.sh). Missing, the test fails: it never skips.
fn botocore_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", "import boto3"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "boto3 is not installed at {}: run scripts/python-deps.sh (scripts/test.sh does)",
        python.display()
    );
    python
}

const BOTO3_SCRIPT: &str = r#"
import json, sys
import boto3, botocore
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, akid, secret = sys.argv[1:4]

def client(signed=True, **kw):
    cfg = {"retries": {"max_attempts": 1}}
    if not signed:
        cfg["signature_version"] = botocore.UNSIGNED
    return boto3.client("events", endpoint_url=endpoint, region_name="ap-southeast-2",
                        config=Config(**cfg), **kw)

def error(c):
    try:
        c.list_rules()
        return None
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

out = {}
entry = {"Source": "com.example.shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"via": "boto3"})}
r = client(aws_access_key_id=akid, aws_secret_access_key=secret).put_events(Entries=[entry])
out["good"] = {"failed": r["FailedEntryCount"], "status": r["ResponseMetadata"]["HTTPStatusCode"]}
r = client(aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token="session-token").list_rules()
out["with_token"] = [rule["Name"] for rule in r["Rules"]]
out["wrong_secret"] = error(client(aws_access_key_id=akid, aws_secret_access_key="not-the-secret"))
out["unknown_key"] = error(client(aws_access_key_id="AKIDSOMEONEELSE", aws_secret_access_key=secret))
out["unsigned"] = error(client(signed=False))
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_clients_get_in_and_others_get_eventbridge_errors() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = start(Some(SECRET)).unwrap();
    let addr = server.addr.clone();

    let entries = r#"{"Entries":[{"Source":"com.example.shop","DetailType":"OrderPlaced","Detail":"{\"via\":\"aws-sigv4\"}"}]}"#;
    let (status, error_type, body) = call(&addr, "PutEvents", entries, Some(SECRET)).await;
    assert_eq!((status, error_type), (200, None), "{body}");
    assert_eq!(body["FailedEntryCount"], 0, "{body}");

    let (status, error_type, body) =
        call(&addr, "PutEvents", entries, Some("not-the-secret")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_type.as_deref(), Some("InvalidSignatureException"));
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(
        body["message"],
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );

    let (status, error_type, body) = call(&addr, "ListRules", "{}", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        error_type.as_deref(),
        Some("MissingAuthenticationTokenException")
    );
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    assert_eq!(body["message"], "Missing Authentication Token");

    {
        let python = botocore_python();
        let output = tokio::task::spawn_blocking(move || {
            Command::new(python)
                .args(["-c", BOTO3_SCRIPT, &format!("http://{addr}"), AKID, SECRET])
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .env_remove("AWS_PROFILE")
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .env_remove("AWS_SESSION_TOKEN")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let out: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(out["good"], serde_json::json!({"failed": 0, "status": 200}));
        assert_eq!(out["with_token"], serde_json::json!(["shop-to-file"]));
        assert_eq!(out["wrong_secret"]["code"], "InvalidSignatureException");
        assert_eq!(out["wrong_secret"]["status"], 400);
        assert_eq!(out["unknown_key"]["code"], "UnrecognizedClientException");
        assert_eq!(
            out["unknown_key"]["message"],
            "The security token included in the request is invalid."
        );
        assert_eq!(
            out["unsigned"]["code"],
            "MissingAuthenticationTokenException"
        );
        assert_eq!(out["unsigned"]["status"], 400);
    }

    let delivered = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    let lines: Vec<&str> = delivered.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "only the signed PutEvents are delivered: {delivered}"
    );
    assert!(lines[0].contains("aws-sigv4"), "{delivered}");
    assert!(lines[1].contains("boto3"), "{delivered}");
}

#[test]
fn a_missing_secret_stops_startup_with_exit_2() {
    let Err((code, stderr)) = start(None) else {
        panic!("switchyard started without its secret");
    };
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("environment variable {SECRET_ENV} is not set")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cloudevents_endpoint_stays_open() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = start(Some(SECRET)).unwrap();
    let response = reqwest::Client::new()
        .post(format!("http://{}/cloudevents", server.addr))
        .header("content-type", "application/cloudevents+json")
        .body(
            r#"{"specversion":"1.0","id":"1","source":"com.example.shop","type":"OrderPlaced","data":{"via":"cloudevents"}}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let delivered = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    assert!(delivered.contains("cloudevents"), "{delivered}");
}
