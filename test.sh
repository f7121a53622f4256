#!/usr/bin/env bash
# Runs every test project and ends with one line: "N passed, N failed, N skipped".
# Needs the .NET SDK, Debian's nginx with its echo module for the integration tests against a real limiter, and
# Debian's redis-server for the scale-out tests, and Debian's chromium for the dashboard's browser tests (all installed
# here with apt-get when missing).
# Exit code is non-zero when any test fails or a project fails to build.
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# nginx limit_req for tests/Sluice.Integration.Tests/Nginx: the tests start their own nginx on a loopback port with
# their own configuration, and fail (not skip) without it.
if [ ! -x /usr/sbin/nginx ] || [ ! -e /usr/lib/nginx/modules/ngx_http_echo_module.so ]; then
  echo "== installing nginx and libnginx-mod-http-echo (apt-get)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx libnginx-mod-http-echo >/dev/null
  # The package may start the system service on port 80; the tests never use it, so leave nothing running.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    $sudo systemctl stop nginx
    $sudo systemctl disable --quiet nginx
  elif command -v service >/dev/null 2>&1 && service nginx status >/dev/null 2>&1; then
    $sudo service nginx stop >/dev/null
  fi
fi

# Redis for tests/Sluice.Redis.Tests and the scale-out tests: they start their own redis-server on a loopback port
# with nothing persisted, and fail (not skip) without it.
if [ ! -x /usr/bin/redis-server ]; then
  echo "== installing redis-server (apt-get)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package may start the system service on port 6379; the tests never use it, so leave nothing running.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    $sudo systemctl stop redis-server
    $sudo systemctl disable --quiet redis-server
  elif command -v service >/dev/null 2>&1 && service redis-server status >/dev/null 2>&1; then
    $sudo service redis-server stop >/dev/null
  fi
fi

# Headless chromium for tests/Sluice.Browser.Tests (the dashboard, driven by PuppeteerSharp): Debian's package, never
# a downloaded browser. The tests fail (not skip) when it is missing or cannot start.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt-get)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # The package lists may be fresh enough already: update them only when the install cannot find the package.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

build_log="$results/build.log"
if ! dotnet build Sluice.slnx -c Release -nologo -v quiet >"$build_log" 2>&1; then
  cat "$build_log"
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  # Every test has its own bounded waits; the blame-hang guard is a last resort that names a hung test.
  if ! dotnet test "$project" -c Release --no-build -nologo \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --blame-hang --blame-hang-timeout 5m; then
    status=1
  fi
done

# Sum the counters of every TRX file: <Counters total=".." executed=".." passed=".." failed=".." ...>
passed=0 failed=0 skipped=0
counter() { grep -o "<Counters [^>]*>" "$1" | grep -o " $2=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  passed=$((passed + $(counter "$trx" passed)))
  failed=$((failed + $(counter "$trx" failed) + $(counter "$trx" error) + $(counter "$trx" timeout) + $(counter "$trx" aborted)))
  skipped=$((skipped + $(counter "$trx" notExecuted)))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host that crashed or hung leaves no counted failure; count the project as one.
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
