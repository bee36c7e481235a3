#!/usr/bin/env bash
# The whole test suite, from a fresh Linux machine with Rust: formatting, lints,
# unit, integration, property and conformance tests, then the Python client tests
# (tests/py: boto3, the AWS CLI and the CloudEvents SDK against the real binary) in
# a virtualenv that scripts/python-deps.sh installs. The Wasm plugins (plugins/, a
# workspace of their own) are built for wasm32-wasip2 first and their native unit
# tests run with the rest; the host's tests load the built components. The Kafka
# tests (tests/py/test_kafka.py) start their own tansu brokers through
# scripts/kafka-broker.sh, which installs tansu (and moto, for S3 storage) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== python clients (target/py-venv: boto3, awscli, cloudevents, pytest)"
# Installed first: tests/sigv4_cli.rs drives the server with boto3 too.
python=$(./scripts/python-deps.sh | tail -n 1)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== plugins (scripts/build-plugins.sh --test: wasm32-wasip2 components, native unit tests)"
(cd plugins && cargo fmt --all -- --check && cargo clippy --all-targets --locked -- -D warnings)
./scripts/build-plugins.sh --test 2>&1 | tee "$log"
echo "== cargo test"
cargo test --all-targets --locked 2>&1 | tee -a "$log"
read -r cargo_passed cargo_failed < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d %d\n", p, f }' "$log")

echo "== python client tests (tests/py)"
cargo build --locked --bin switchyard
pylog=$(mktemp)
trap 'rm -f "$log" "$pylog"' EXIT
# pytest's status is kept, not acted on by set -e, so the summary is still printed.
py_status=0
SWITCHYARD_BIN=${SWITCHYARD_BIN:-target/debug/switchyard} PYTHONDONTWRITEBYTECODE=1 \
  "$python" -m pytest -q tests/py 2>&1 | tee "$pylog" || py_status=${PIPESTATUS[0]}
# pytest -q ends with e.g. "3 failed, 47 passed, 1 error in 9.1s": errors count as failed.
read -r py_passed py_failed < <(awk '/ in [0-9.]+s/ && /(passed|failed|error)/ { p = 0; f = 0
       for (i = 2; i <= NF; i++) { w = $(i); sub(/,$/, "", w)
         if (w == "passed") p = $(i-1); if (w == "failed" || w == "error" || w == "errors") f += $(i-1) } }
     END { printf "%d %d\n", p, f }' "$pylog")
if [[ $py_status -ne 0 && $py_failed -eq 0 ]]; then
  py_failed=1 # pytest failed without a count (a collection or usage error, no tests)
fi

# One closing line for the whole run (the last test binary alone may hold no tests).
echo "$((cargo_passed + py_passed)) passed, $((cargo_failed + py_failed)) failed"
if [[ $py_status -ne 0 ]]; then
  echo "pytest exited with status $py_status" >&2
  exit 1
fi
