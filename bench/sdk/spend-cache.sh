#!/usr/bin/env bash
# Runs spend-cache.mjs: sluice mock and sluice proxy (an upstream with --cache-all and --max-spend-per-day 0.002) on
# free loopback ports, the official OpenAI Node SDK through the proxy. Needs node and npm (npm install here once).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sluice="$root/src/Sluice.Cli/bin/Release/net10.0/sluice"
[ -x "$sluice" ] || dotnet build "$root/src/Sluice.Cli" -c Release -nologo -v quiet
[ -d "$here/node_modules/openai" ] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); proxy_port=$(free_port)
"$sluice" mock --listen "127.0.0.1:$mock_port" --rpm 6000 --reply-tokens 30 >"$work/mock.log" 2>&1 & mock=$!
OPENAI_API_KEY=sk-test "$sluice" proxy --upstream "http://127.0.0.1:$mock_port" --api-key-env OPENAI_API_KEY \
  --listen "127.0.0.1:$proxy_port" --cache "$work/cache.db" --cache-all --max-spend-per-day 0.002 >"$work/proxy.log" 2>&1 & proxy=$!
trap 'kill $proxy $mock 2>/dev/null; wait $proxy $mock 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && curl -sf "http://127.0.0.1:$mock_port/mock/stats" >/dev/null && break; sleep 0.1; done
node "$here/spend-cache.mjs" "http://127.0.0.1:$proxy_port" "http://127.0.0.1:$mock_port"
