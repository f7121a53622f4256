#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to PublicAPI.Unshipped.txt.
# Run it after a deliberate public API change, then review the diff: the file is the API's changelog.
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:-src/Sluice}
unshipped="$project/PublicAPI.Unshipped.txt"
dotnet build "$project" -nologo 2>&1 \
  | grep -o "RS0016: Symbol '.*' is not part of the declared public API" \
  | sed -E "s/RS0016: Symbol '(.*)' is not part of the declared public API/\1/" \
  | sort -u >> "$unshipped" || true
{ head -n 1 "$unshipped"; tail -n +2 "$unshipped" | sort -u; } > "$unshipped.tmp" && mv "$unshipped.tmp" "$unshipped"
echo "$(($(wc -l < "$unshipped") - 1)) public symbols declared in $unshipped"
