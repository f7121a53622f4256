#!/usr/bin/env bash
# One batch of 20,000 requests over 4 `sluice run --batch` workers sharing a Redis, against `sluice mock`; one worker
# is killed with SIGKILL a quarter of the way through and not restarted. Checks that `sluice collect` writes exactly
# one valid result line per custom_id, and reports the wall time, each worker's count, and what the mock saw twice
# (its per-custom_id statistics). Not part of the tests; docs/scale-out.md ("A batch across machines") quotes its figures.
#
#   bench/scale/redis-batch.sh [LINES] [WORKERS]      (defaults 20000 and 4; needs the .NET SDK, redis-server,
#                                                       python3 and curl)
#   GATE=local bench/scale/redis-batch.sh              each worker paces alone (SLUICE_REDIS_GATE=local) at
#                                                       1/WORKERS of the budget, instead of the shared Redis gate
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-20000}
workers=${2:-4}
rpm=${RPM:-30000}
takeover=${TAKEOVER:-10s}
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

python3 - "$lines" >"$work/requests.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"model": "gpt-4o-mini", "max_tokens": 16,
                               "messages": [{"role": "user", "content": f"Summarise item {i} in one line."}]}}))
PY

redis_port=$(free_port)
/usr/bin/redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --loglevel warning >"$work/redis.log" 2>&1 &
redis=$!
mock_port=$(free_port)
"$sluice" mock --listen "127.0.0.1:$mock_port" --rpm "$rpm" --latency 100ms --jitter 50ms --any-model --seed 7 >"$work/mock.log" 2>&1 &
mock=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$mock_port/mock/stats" >/dev/null 2>&1 && break; sleep 0.2; done
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break; sleep 0.1; done

worker_rpm=$rpm
if [ "${GATE:-redis}" = local ]; then export SLUICE_REDIS_GATE=local; worker_rpm=$((rpm / workers)); fi
answered() { curl -sf "http://127.0.0.1:$mock_port/mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["succeeded"])'; }

start=$(date +%s.%N)
for w in $(seq "$workers"); do
  OPENAI_API_KEY=bench-key "$sluice" run "$work/requests.jsonl" --redis "127.0.0.1:$redis_port" --batch bench \
    -o "$work/results-$w.jsonl" --base-url "http://127.0.0.1:$mock_port/v1" --rpm "$worker_rpm" \
    --takeover-after "$takeover" >"$work/worker-$w.log" 2>&1 &
  pids+=($!)
done

# Worker 2 dies (kill -9) once the mock has answered a quarter of the batch: it holds lines in flight then.
victim=${pids[1]}
until [ "$(answered)" -ge $((lines / 4)) ]; do sleep 0.2; done
kill -9 "$victim"
killed_at=$(answered)
echo "killed worker 2 (pid $victim) with SIGKILL after $killed_at answers"

status=0
for w in $(seq "$workers"); do
  [ "$w" -eq 2 ] && continue
  wait "${pids[$((w - 1))]}" || status=$?
done
end=$(date +%s.%N)

"$sluice" collect --redis "127.0.0.1:$redis_port" --batch bench -o "$work/final.jsonl" >"$work/collect.log" 2>&1 || status=$?
cat "$work/collect.log"
curl -sf "http://127.0.0.1:$mock_port/mock/stats" >"$work/stats.json"

python3 - "$work" "$lines" "$workers" "$start" "$end" "$status" <<'PY'
import json, re, sys
work, lines, workers, start, end, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
ids = []
for line in open(f"{work}/final.jsonl"):
    ids.append(json.loads(line)["custom_id"])
expected = [f"req-{i}" for i in range(lines)]
print(f"results: {len(ids)} lines, {len(set(ids))} distinct custom_ids, in input order: {ids == expected}")
assert ids == expected, "not exactly one result per custom_id in input order"
for w in range(1, workers + 1):
    if w == 2:
        continue
    same = open(f"{work}/results-{w}.jsonl").read() == open(f"{work}/final.jsonl").read()
    assert same, f"worker {w}'s results file differs from collect's"
counts = {}
for w in range(1, workers + 1):
    text = open(f"{work}/worker-{w}.log").read()
    done = re.findall(r"this worker did ([\d,]+)", text) or re.findall(r"this worker ([\d,]+)", text)
    counts[w] = int(done[-1].replace(",", "")) if done else 0
alive = sum(c for w, c in counts.items() if w != 2)
counts[2] = lines - alive
stats = json.load(open(f"{work}/stats.json"))
cid = stats["customIds"]
print(f"wall time {end - start:.1f} s for {lines} lines over {workers} workers (exit status of the rest: {status})")
print("per worker: " + ", ".join(f"worker {w}: {c}" + (" (killed; recorded = total - others)" if w == 2 else "") for w, c in counts.items()))
print(f"mock: {cid['total']} requests with a custom_id, {cid['distinct']} distinct, {cid['total'] - cid['distinct']} sent more than once, "
      f"{cid['duplicateSuccesses']} answered 200 more than once; budget violations {stats['budgetViolations']['total']}")
PY
