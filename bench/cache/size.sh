#!/usr/bin/env bash
# The response cache's size on disk at scale (issue 16: 1,000,000 entries under 1 GB).
# Stores ENTRIES realistic chat completion answers (800–1,500 bytes of JSON, prose-like text) into a fresh SQLite cache,
# then prints the file's size, the store rate, the time to reopen it (integrity check) and lookups in the full file.
# Usage: bench/cache/size.sh [ENTRIES] [FILE]   (defaults: 1000000, a file under $TMPDIR, deleted afterwards)
set -euo pipefail
cd "$(dirname "$0")/../.."
entries=${1:-1000000}
file=${2:-}
keep=1
if [ -z "$file" ]; then
  file="$(mktemp -d)/cache.db"
  keep=0
fi

dotnet build bench/Sluice.Benchmarks -c Release -nologo -v quiet >/dev/null
dotnet bench/Sluice.Benchmarks/bin/Release/net10.0/Sluice.Benchmarks.dll cache-size "$entries" "$file"
if [ "$keep" -eq 0 ]; then
  rm -rf "$(dirname "$file")"
fi
