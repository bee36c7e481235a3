#!/usr/bin/env bash
# PutEvents -> file throughput, latency and CPU per event of `switchyard serve`
# with 1,000 rules loaded, against the ceiling in the same run: a minimal server on
# the same HTTP stack that parses the same requests and appends the same lines
# with no routing (`switchyard bench ingest-ceiling`). Load comes from wrk, which
# keeps many requests in flight. Loopback only, bounded in time.
#
#   scripts/bench-gateway.sh [SECONDS] [CONNECTIONS] [ROUNDS]
#
# With DURABLE=1 it also runs switchyard with durable ingest (PutEvents appended
# to a Kafka topic on a local tansu broker before the answer, then routed from it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
rounds=${3:-3}

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --locked --quiet
bin=$PWD/target/release/switchyard
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
os.makedirs(f"{work}/rules")
rules = []
for i in range(999):
    rules.append({
        "Name": f"svc-{i}",
        "EventPattern": {"source": [f"com.example.svc{i}"], "detail-type": ["OrderPlaced"],
                         "detail": {"total": [{"numeric": [">", 10 * (i % 10)]}]}},
        "Targets": [{"Id": "f", "File": {"Path": f"{work}/other.jsonl"}}],
    })
rules.append({
    "Name": "bench",
    "EventPattern": {"source": ["com.example.shop"], "detail-type": ["OrderPlaced"],
                     "detail": {"total": [{"numeric": [">", 100]}]}},
    "Targets": [{"Id": "f", "File": {"Path": f"{work}/out.jsonl"}}],
})
for n in range(10):
    with open(f"{work}/rules/rules-{n}.json", "w") as f:
        json.dump(rules[n * 100:(n + 1) * 100], f)
detail = json.dumps({"order-id": "o-12345", "total": 150.5, "currency": "EUR",
                     "customer": {"id": "c-987", "tier": "gold", "email": "someone@example.com"},
                     "items": [{"sku": f"sku-{k}", "qty": k, "price": 9.99} for k in range(4)]})
body = json.dumps({"Entries": [{"Source": "com.example.shop", "DetailType": "OrderPlaced",
                                 "Detail": detail} for _ in range(10)]})
with open(f"{work}/put.lua", "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.headers["X-Amz-Target"] = "AWSEvents.PutEvents"\n')
    f.write('wrk.headers["Content-Type"] = "application/x-amz-json-1.1"\n')
    f.write("wrk.body = " + json.dumps(body) + "\n")
with open(f"{work}/config.toml", "w") as f:
    f.write('[file]\nfsync = "os"\n[router]\nmax_in_flight_events = 200000\n'
            '[targets]\nqueue_size = 65536\nmax_concurrency = 4096\n')
PY

if [[ ${DURABLE:-0} == 1 ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ./scripts/kafka-broker.sh start "$port" "$work/broker" >/dev/null
  trap 'kill $(jobs -p) 2>/dev/null || true; ./scripts/kafka-broker.sh stop "$work/broker" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  ./scripts/kafka-broker.sh topic "$port" ingest 3 >/dev/null
  { cat "$work/config.toml"
    printf '[kafka]\nbrokers = "127.0.0.1:%s"\n[kafka.producer]\n"linger.ms" = "1"\n' "$port"
    printf '[kafka.consumer]\n"session.timeout.ms" = "6000"\n"heartbeat.interval.ms" = "500"\n'
    printf '[kafka.ingest]\ntopic = "ingest"\n'
  } >"$work/durable.toml"
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_port() {
  for _ in $(seq 100); do
    if grep -q "listening on http://" "$1" 2>/dev/null; then
      sed -n 's|.*listening on http://\([^ ]*\).*|\1|p' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  echo "server did not start: $(cat "$1")" >&2
  exit 1
}

# run NAME CMD...: warms up, measures, prints one JSON line.
run() {
  local name=$1; shift
  rm -f "$work/out.jsonl"
  "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" &
  local pid=$!
  local addr
  addr=$(wait_port "$work/$name.stderr")
  wrk -t1 -c"$connections" -d2s -s "$work/put.lua" "http://$addr/" >/dev/null
  sleep 1
  local lines_before ticks_before
  lines_before=$(wc -l <"$work/out.jsonl" 2>/dev/null || echo 0)
  ticks_before=$(cpu_ticks "$pid")
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/put.lua" "http://$addr/" >"$work/$name.wrk"
  sleep 1
  local lines_after ticks_after
  lines_after=$(wc -l <"$work/out.jsonl")
  ticks_after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  python3 - "$name" "$work/$name.wrk" "$lines_before" "$lines_after" "$ticks_before" "$ticks_after" "$(getconf CLK_TCK)" "$seconds" <<'PY'
import json, re, sys
name, wrk_out, lb, la, tb, ta, hz, secs = sys.argv[1:]
text = open(wrk_out).read()
def lat(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", text, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
written = int(la) - int(lb)
cpu = (int(ta) - int(tb)) / int(hz)
print(json.dumps({
    "server": name, "requests_per_sec": round(rps), "events_per_sec": round(rps * 10),
    "events_written": written, "p50_ms": lat(50), "p99_ms": lat(99),
    "cpu_us_per_event": round(cpu / max(written, 1) * 1e6, 2),
    "non_2xx": int(errors.group(1)) if errors else 0,
}))
PY
}

echo "== PutEvents -> file, 10 entries per request, ${connections} connections, ${seconds} s, 1,000 rules; best of ${rounds} interleaved rounds"
for round in $(seq "$rounds"); do
  run switchyard "$bin" serve --rules "$work/rules" --listen 127.0.0.1:0 --config "$work/config.toml" | tee -a "$work/a.json"
  run ceiling "$bin" bench ingest-ceiling --listen 127.0.0.1:0 --out "$work/out.jsonl" | tee -a "$work/b.json"
  if [[ ${DURABLE:-0} == 1 ]]; then
    run durable "$bin" serve --rules "$work/rules" --listen 127.0.0.1:0 --config "$work/durable.toml" | tee -a "$work/c.json"
  fi
done
python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
best = [max((json.loads(l) for l in open(p)), key=lambda r: r["events_per_sec"]) for p in sys.argv[1:]]
a, b = best
print(f"best: switchyard {a['events_per_sec']} events/s (p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms, "
      f"{a['cpu_us_per_event']} us CPU/event); ceiling {b['events_per_sec']} events/s (p50 {b['p50_ms']} ms, "
      f"p99 {b['p99_ms']} ms, {b['cpu_us_per_event']} us CPU/event)")
print(f"switchyard reaches {a['events_per_sec'] / b['events_per_sec']:.0%} of the ceiling")
PY
if [[ ${DURABLE:-0} == 1 ]]; then
  python3 - "$work/a.json" "$work/c.json" <<'PY'
import json, sys
a, c = [max((json.loads(l) for l in open(p)), key=lambda r: r["events_per_sec"]) for p in sys.argv[1:]]
print(f"durable ingest: {c['events_per_sec']} events/s accepted (p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms), "
      f"{c['events_written']} routed to the file in the measured window; without it {a['events_per_sec']} events/s "
      f"(p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms): {c['events_per_sec'] / a['events_per_sec']:.0%}")
PY
fi
