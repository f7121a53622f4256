#!/usr/bin/env bash
# Packs every packable project in the solution into one folder: the Sluice library, the sluice .NET tool (package
# Sluice.Cli) and any project added later that does not set IsPackable to false. Test, benchmark and example projects
# set it to false. Usage: eng/pack.sh [FOLDER] [dotnet pack options...]; FOLDER defaults to artifacts/packages and the
# configuration to Release ($CONFIGURATION overrides it). Then, for example:
#   dotnet tool install --tool-path ~/.sluice --add-source artifacts/packages Sluice.Cli
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/packages}
shift || true
dotnet pack Sluice.slnx -c "${CONFIGURATION:-Release}" -nologo -v quiet -o "$out" "$@"
ls "$out"/*.nupkg
