#!/usr/bin/env bash
# Makes docs/images/dashboard.png: the scene of DashboardTenantsTests.TwoTenants_ShowTheirSharesAndCounts_AsTheyChange
# (two tenants of weights 3 and 1 sharing an upstream with configured budgets and a daily spend cap, and a second
# upstream whose mock answers 429s until the proxy learns its budget), in Debian's headless chromium at 1280x800
# (full page), after letting requests flow for SECONDS (default 90) so the chart has some history.
# Usage: bench/dashboard/screenshot.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-90}"
out="$PWD/docs/images/dashboard.png"
dotnet build tests/Sluice.Browser.Tests -c Release -nologo -v quiet >/dev/null
SLUICE_DASHBOARD_SCREENSHOT="$out" SLUICE_DASHBOARD_SCREENSHOT_SECONDS="$seconds" \
  dotnet test tests/Sluice.Browser.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~DashboardTenantsTests.TwoTenants_ShowTheirSharesAndCounts_AsTheyChange"
echo "wrote $out"
