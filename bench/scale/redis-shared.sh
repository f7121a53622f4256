#!/usr/bin/env bash
# Several `sluice run` processes on one API key sharing their budgets through one Redis (`--redis`), each with its own
# batch file and journal, against one `sluice mock` holding the key's budget. With RESTART=1 Redis is killed (kill -9,
# nothing persisted) once a third of the work is answered and started again empty 5 s later: the processes go on with
# their local shares and rejoin. Checks that every process finishes with exactly one result per custom_id, and reports
# wall time against the ideal (work / budget), the mock's 429s against its requests, what it saw twice, and its budget
# violations. Not part of the tests; docs/scale-out.md and docs/benchmarks.md quote its figures.
#
#   bench/scale/redis-shared.sh [LINES-PER-PROCESS] [PROCESSES]   (defaults 5000 and 4; needs the .NET SDK,
#                                                                  redis-server, python3 and curl)
#   RESTART=1 bench/scale/redis-shared.sh                         Redis stopped mid-run and started again
#   RPM=30000                                                     the key's budget (requests a minute)
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-5000}
processes=${2:-4}
rpm=${RPM:-30000}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}" "${mock:-}" "${redis:-}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build src/Sluice.Cli -c Release -nologo -v quiet >/dev/null
sluice=src/Sluice.Cli/bin/Release/net10.0/sluice
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

for p in $(seq "$processes"); do
  python3 - "$lines" "$p" >"$work/requests-$p.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"custom_id": f"p{sys.argv[2]}-{i}", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"model": "gpt-4o-mini", "max_tokens": 16,
                               "messages": [{"role": "user", "content": f"Summarise item {i} in one line."}]}}))
PY
done

redis_port=$(free_port)
start_redis() {
  /usr/bin/redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --loglevel warning >>"$work/redis.log" 2>&1 &
  redis=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break; sleep 0.1; done
}
start_redis
mock_port=$(free_port)
"$sluice" mock --listen "127.0.0.1:$mock_port" --rpm "$rpm" --latency 100ms --jitter 50ms --any-model --seed 7 >"$work/mock.log" 2>&1 &
mock=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$mock_port/mock/stats" >/dev/null 2>&1 && break; sleep 0.2; done
answered() { curl -sf "http://127.0.0.1:$mock_port/mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["succeeded"])'; }

start=$(date +%s.%N)
for p in $(seq "$processes"); do
  OPENAI_API_KEY=bench-key "$sluice" run "$work/requests-$p.jsonl" --redis "127.0.0.1:$redis_port" \
    -o "$work/results-$p.jsonl" --base-url "http://127.0.0.1:$mock_port/v1" --rpm "$rpm" >"$work/run-$p.log" 2>&1 &
  pids+=($!)
done

if [ "${RESTART:-0}" = 1 ]; then
  total=$((lines * processes))
  until [ "$(answered)" -ge $((total / 3)) ]; do sleep 0.2; done
  kill -9 "$redis"; wait "$redis" 2>/dev/null || true
  echo "Redis killed after $(answered) answers; starting it again, empty, in 5 s"
  sleep 5
  start_redis
  echo "Redis back after $(answered) answers"
fi

status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
end=$(date +%s.%N)
curl -sf "http://127.0.0.1:$mock_port/mock/stats" >"$work/stats.json"

python3 - "$work" "$lines" "$processes" "$start" "$end" "$status" "$rpm" <<'PY'
import json, sys
work, lines, processes, start, end, status, rpm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
for p in range(1, processes + 1):
    ids = [json.loads(l)["custom_id"] for l in open(f"{work}/results-{p}.jsonl")]
    ok = sorted(ids) == sorted(f"p{p}-{i}" for i in range(lines))
    assert ok and len(ids) == len(set(ids)), f"process {p}: {len(ids)} lines, {len(set(ids))} distinct: not one per custom_id"
stats = json.load(open(f"{work}/stats.json"))
received = stats["received"]
rejected = sum(stats["rejected"].values())
cid = stats["customIds"]
total = lines * processes
ideal = total / (rpm / 60.0)
wall = end - start
print(f"{processes} processes x {lines} lines: every results file has exactly one line per custom_id (exit status {status})")
print(f"wall time {wall:.1f} s, ideal {ideal:.1f} s (budget {rpm}/min): efficiency {ideal / wall:.3f} (process start-up included)")
print(f"mock: {received} requests, {rejected} refused ({100.0 * rejected / received:.2f}%), {cid['duplicateSuccesses']} custom_ids answered 200 twice, "
      f"budget violations {stats['budgetViolations']['total']}")
PY
