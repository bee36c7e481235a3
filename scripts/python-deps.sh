#!/usr/bin/env bash
# Creates the virtualenv the Python integration tests (tests/py) run in, at
# target/py-venv, and installs tests/py/requirements.txt into it. Idempotent and
# fast when nothing changed: the install is skipped while the venv's stamp holds
# the requirements file's hash. Needs only Python 3.11 (or newer) with pip.
# Prints the venv's python on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
req=tests/py/requirements.txt
stamp=$venv/.requirements.sha256

python=${PYTHON:-}
if [[ -z $python ]]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then
      python=$candidate
      break
    fi
  done
fi
if [[ -z $python ]]; then
  echo "python-deps: no python3 found; install Python 3.11 with pip" >&2
  exit 1
fi

want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "$venv/bin/python"
  exit 0
fi

if [[ ! -x $venv/bin/python ]]; then
  mkdir -p target
  echo "python-deps: creating $venv with $($python --version 2>&1)" >&2
  if ! "$python" -m venv "$venv" >&2; then
    # Debian's python without python3-venv: virtualenv from pip does the same.
    rm -rf "$venv"
    echo "python-deps: the venv module failed; using virtualenv from pip" >&2
    "$python" -m pip install --quiet --user virtualenv >&2
    "$python" -m virtualenv --quiet "$venv" >&2
  fi
fi
echo "python-deps: installing $req" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
echo "$want" >"$stamp"
echo "$venv/bin/python"
