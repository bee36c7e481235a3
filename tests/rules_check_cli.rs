//! `switchyard check` as CI runs it: the real binary on real directories.

mod plugin_support;

use std::path::Path;
use std::process::{Command, Output};

fn check(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("check")
        .args(args)
        .output()
        .expect("run switchyard check")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn example_rules_pass() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let output = check(&[&rules]);
    assert_eq!(stdout(&output), "ok: 6 rules in 4 files\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn every_problem_in_every_file_is_printed_and_the_exit_code_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.json"),
        "{\n  \"Name\": \"bad name\",\n  \"EventPattern\": {\"source\": [\"x\"]},\n  \"Colour\": \"red\"\n}",
    )
    .unwrap();
    std::fs::write(d.join("b.json"), "[\n  {\"Name\": \"b\",\n").unwrap();
    std::fs::write(
        d.join("c.json"),
        "{\"Name\": \"c\", \"EventPattern\": {\"source\": [\"x\"]},\n \"Targets\": [{\"Id\": \"t\", \"Stdout\": {},\n  \"RetryPolicy\": {\"MaximumRetryAttempts\": 200}}]}",
    )
    .unwrap();
    std::fs::write(
        d.join("good.json"),
        "{\"Name\": \"good\", \"EventPattern\": {\"source\": [\"x\"]}}",
    )
    .unwrap();
    let output = check(&[d]);
    let text = stdout(&output).replace(&*d.to_string_lossy(), "DIR");
    assert_eq!(
        text,
        "DIR/a.json:2:11: Name: \"bad name\" is not a valid rule name: use 1 to 64 letters, digits, '.', '-' or '_'\n\
         DIR/a.json:4:3: Colour: unknown field \"Colour\": expected one of Name, Description, EventBusName, State, EventPattern, Targets\n\
         DIR/b.json:3:1: invalid JSON: unexpected end of input, expected a string key\n\
         DIR/c.json:3:43: Targets[0].RetryPolicy.MaximumRetryAttempts: 200 is out of range: use 0 to 185\n\
         4 problems in 3 files of 4 files checked\n"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn plugins_directory_option() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let plugins = dir.path().join("elsewhere");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        rules.join("a.json"),
        r#"{"Name": "a", "EventPattern": {"source": ["x"]}, "Targets": [{"Id": "t", "Stdout": {}, "Transform": {"Plugin": "p"}}]}"#,
    )
    .unwrap();
    std::fs::copy(
        plugin_support::plugin_file("passthrough"),
        plugins.join("p.wasm"),
    )
    .unwrap();
    let output = check(&[&rules]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(&format!(
            "Transform: plugin \"p\" does not exist: expected the file {}\n",
            dir.path().join("plugins/p.wasm").display()
        )),
        "{}",
        stdout(&output)
    );
    let output = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("check")
        .arg(&rules)
        .arg("--plugins")
        .arg(&plugins)
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "ok: 1 rule in 1 file\n");
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = check(&[&dir.path().join("nope")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("switchyard check: cannot read the rules directory"),
        "{stderr}"
    );
}
