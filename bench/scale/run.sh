#!/usr/bin/env bash
# A million requests through `sluice run` against `sluice mock` (no limits, 5 ms answers, another process on this
# machine): prints the run's summary, the peak resident set and the resident set sampled every 10 seconds, so you
# can see that memory stays flat rather than growing with the file. Not part of the tests.
#
#   bench/scale/run.sh [LINES]        (default 1000000; needs the .NET SDK and python3; about 2 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-1000000}
work=$(mktemp -d)
trap 'kill "${mock:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build src/Sluice.Cli -c Release -nologo -v quiet >/dev/null
sluice=src/Sluice.Cli/bin/Release/net10.0/sluice

echo "writing $lines request lines..."
python3 - "$lines" >"$work/requests.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"custom_id": f"req-{i}", "method": "POST", "url": "/v1/chat/completions",
                      "body": {"model": "gpt-4o-mini", "max_tokens": 16,
                               "messages": [{"role": "user", "content": f"Summarise item {i} in one line."}]}}))
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$sluice" mock --listen "127.0.0.1:$port" --latency 5ms --any-model >"$work/mock.log" 2>&1 &
mock=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/mock/stats" >/dev/null 2>&1 && break; sleep 0.2; done

OPENAI_API_KEY=unused "$sluice" run "$work/requests.jsonl" -o "$work/results.jsonl" \
  --base-url "http://127.0.0.1:$port/v1" >"$work/run.log" 2>&1 &
run=$!
peak=0
echo "resident set while running (every 10 s):"
while kill -0 "$run" 2>/dev/null; do
  rss=$(ps -o rss= -p "$run" 2>/dev/null | tr -d ' ' || true)
  if [ -n "$rss" ]; then
    [ "$rss" -gt "$peak" ] && peak=$rss
    echo "  $((rss / 1024)) MB  $(tail -1 "$work/run.log" | sed 's/ ·.*//')"
  fi
  for _ in $(seq 20); do kill -0 "$run" 2>/dev/null || break; sleep 0.5; done
done
wait "$run" || true
tail -6 "$work/run.log"
echo "peak resident set seen: $((peak / 1024)) MB; results lines: $(wc -l <"$work/results.jsonl")"
