#!/usr/bin/env bash
# Builds the WebAssembly plugins in plugins/ (a cargo workspace of its own) for
# wasm32-wasip2 and copies the components into place:
#   examples -> plugins/<name>.wasm             (redact, enrich, split, cloudevents, passthrough)
#   hostile  -> target/test-plugins/<name>.wasm (what the host's tests load)
# and prints them with their sizes. With --test, it then runs the plugins'
# native unit tests (SDK, examples, hostile plugins) with cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

run_tests=false
for arg in "$@"; do
  case "$arg" in
    --test) run_tests=true ;;
    -h | --help)
      sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-plugins.sh: unknown argument: $arg (use --test or --help)" >&2
      exit 2
      ;;
  esac
done

if command -v rustup >/dev/null 2>&1; then
  rustup target add wasm32-wasip2 >/dev/null 2>&1 ||
    { echo "build-plugins.sh: rustup target add wasm32-wasip2 failed" >&2; exit 1; }
fi

echo "== cargo build --manifest-path plugins/Cargo.toml --target wasm32-wasip2 --release --locked"
cargo build --manifest-path plugins/Cargo.toml --target wasm32-wasip2 --release --locked

out=plugins/target/wasm32-wasip2/release
# output file name -> crate name (its artifact is the crate name with - as _)
examples=(
  redact:switchyard-plugin-redact
  enrich:switchyard-plugin-enrich
  split:switchyard-plugin-split
  cloudevents:switchyard-plugin-cloudevents
  passthrough:switchyard-plugin-passthrough
)
hostile=(
  loop:hostile-loop
  membomb:hostile-membomb
  recursion:hostile-recursion
  panic:hostile-panic
  huge-output:hostile-huge-output
  not-json:hostile-not-json
  not-object:hostile-not-object
  fs-import:hostile-fs-import
  fatal:hostile-fatal
  reject:hostile-reject
  flaky:hostile-flaky
  init-fails:hostile-init-fails
  logger:hostile-logger
)

built=()
place() { # DEST_DIR NAME:CRATE
  local name=${2%%:*} crate=${2#*:}
  local src="$out/${crate//-/_}.wasm" dest="$1/$name.wasm"
  if [[ ! -f "$src" ]]; then
    echo "build-plugins.sh: $src was not built (crate $crate)" >&2
    exit 1
  fi
  cp "$src" "$dest"
  built+=("$dest")
}

mkdir -p target/test-plugins
for entry in "${examples[@]}"; do place plugins "$entry"; done
for entry in "${hostile[@]}"; do place target/test-plugins "$entry"; done

echo "== built components"
for f in "${built[@]}"; do
  printf '%9d  %s\n' "$(wc -c <"$f")" "$f"
done

if $run_tests; then
  echo "== cargo test --manifest-path plugins/Cargo.toml --locked"
  cargo test --manifest-path plugins/Cargo.toml --locked
fi
