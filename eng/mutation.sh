#!/usr/bin/env bash
# Mutation testing of Sluice's core with Stryker.NET, and the score per folder.
#
# Usage: eng/mutation.sh [options] [FOLDER|FILE ...]
#
#   FOLDER   a folder of src/Sluice to mutate (default: Gate Adaptive Dispatch Engine; a folder that does not exist is
#            skipped); FILE, a file in one (Adaptive/RateProbe.cs), mutates only that file, for a targeted run.
#
# Options:
#   -c, --concurrency N   parallel test sessions (default 1; this is a shared 2-core box: never more than 2)
#   -f, --filter EXPR     only run the tests matching a vstest filter (e.g. FullyQualifiedName~Sluice.Tests.Adaptive);
#                         faster for a targeted run, but the score then counts only what those tests kill
#   -o, --output DIR      where reports go (default artifacts/mutation); DIR/reports/mutation-report.{html,json}
#   -h, --help            this text
#
# Not run in CI: the full run takes about 20 minutes on 2 cores (docs/mutation.md has the figures).
# Stryker compiles every mutant with the project's compiler options, warnings as errors included, so a mutant that
# only adds a warning (a nullable one, say) would count as a compile error and never be tested. The run imports a
# targets file after the projects' own (MSBuild's CustomAfterMicrosoftCommonTargets) that turns warnings-as-errors off
# for Stryker's builds only; the repository's build settings are untouched.
# tests/Sluice.Tests/stryker-config.json (read by Stryker from the directory it runs in) ignores mutations inside
# ConfigureAwait(...): ConfigureAwait(false) -> (true) changes nothing without a synchronization context, which the
# library never has in its tests, so those mutants are equivalent and would only lower the score.
# Needs the .NET SDK, jq, and the dotnet-stryker tool pinned in .config/dotnet-tools.json (`dotnet tool restore`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed -E 's/^# ?//'; }

concurrency=1
filter=""
output="$root/artifacts/mutation"
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -c|--concurrency) concurrency=$2; shift 2 ;;
    -f|--filter) filter=$2; shift 2 ;;
    -o|--output) output=$(realpath -m "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=(Gate Adaptive Dispatch Engine)
if (( concurrency < 1 || concurrency > 2 )); then
  echo "--concurrency must be 1 or 2 on this machine" >&2
  exit 2
fi
command -v jq > /dev/null || { echo "jq is needed to read Stryker's report" >&2; exit 2; }

# Each target becomes a --mutate glob; the folders scored are the targets' first path segments.
mutate=()
folders=()
for target in "${targets[@]}"; do
  target=${target#src/Sluice/}
  target=${target%/}
  if [[ -d "src/Sluice/$target" ]]; then
    mutate+=(--mutate "**/src/Sluice/$target/**/*.cs")
  elif [[ -f "src/Sluice/$target" ]]; then
    mutate+=(--mutate "**/src/Sluice/$target")
  else
    echo "skipping $target: no src/Sluice/$target" >&2
    continue
  fi
  folder=${target%%/*}
  [[ " ${folders[*]-} " == *" $folder "* ]] || folders+=("$folder")
done
[[ ${#mutate[@]} -gt 0 ]] || { echo "nothing to mutate" >&2; exit 2; }

dotnet tool restore > /dev/null

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cat > "$scratch/NoWarningsAsErrors.targets" <<'XML'
<Project>
  <!-- Imported by eng/mutation.sh after each project's own settings: a mutant that only warns is still tested. -->
  <PropertyGroup>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
    <CodeAnalysisTreatWarningsAsErrors>false</CodeAnalysisTreatWarningsAsErrors>
  </PropertyGroup>
</Project>
XML
export CustomAfterMicrosoftCommonTargets="$scratch/NoWarningsAsErrors.targets"

args=(
  --project Sluice.csproj
  --configuration Release
  --concurrency "$concurrency"
  --reporter progress --reporter html --reporter json
  --output "$output"
  --skip-version-check
  "${mutate[@]}"
)
[[ -z "$filter" ]] || args+=(--test-case-filter "$filter")

echo "Stryker over src/Sluice/{${folders[*]}} (concurrency $concurrency)${filter:+, tests: $filter}"
started=$(date +%s)
(cd tests/Sluice.Tests && dotnet stryker "${args[@]}")
elapsed=$(( $(date +%s) - started ))

report="$output/reports/mutation-report.json"
[[ -f "$report" ]] || { echo "no report at $report" >&2; exit 1; }

# The score is Stryker's: detected (killed, timed out) over valid mutants (detected, survived, not covered);
# compile errors and ignored mutants are not counted.
echo
printf '%-12s %8s %8s %9s %9s %8s\n' folder score killed timeout survived nocov
for folder in "${folders[@]}"; do
  jq -r --arg folder "/src/Sluice/$folder/" '
    [.files | to_entries[] | select(.key | contains($folder)) | .value.mutants[].status] as $s
    | ($s | map(select(. == "Killed")) | length) as $k
    | ($s | map(select(. == "Timeout")) | length) as $t
    | ($s | map(select(. == "Survived")) | length) as $v
    | ($s | map(select(. == "NoCoverage")) | length) as $n
    | [$k, $t, $v, $n, (if ($k + $t + $v + $n) == 0 then "-" else ((($k + $t) * 1000 / ($k + $t + $v + $n) | round) / 10 | tostring) + "%" end)]
    | @tsv' "$report" |
    while IFS=$'\t' read -r k t v n score; do
      printf '%-12s %8s %8s %9s %9s %8s\n' "$folder" "$score" "$k" "$t" "$v" "$n"
    done
done
echo
echo "Surviving and uncovered mutants:"
jq -r '.files | to_entries[] | .key as $file | .value.mutants[]
  | select(.status == "Survived" or .status == "NoCoverage")
  | "  \($file | sub(".*/src/Sluice/"; "")):\(.location.start.line) \(.status) \(.mutatorName): \(.replacement // "" | gsub("\n"; " ") | .[0:90])"' "$report"
echo
echo "Took $((elapsed / 60)) min $((elapsed % 60)) s. Report: $output/reports/mutation-report.html"
