#!/usr/bin/env bash
# Runs every test runner (NUnit via dotnet test, then pytest) on an already built tree and ends
# with one line "N passed, N failed" totalling all runners. Exit code non-zero if any test failed
# or a runner could not run.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0; failed=0; status=0

# --- NUnit (unit + multi-rank integration; every multi-rank test has its own timeout,
#     the blame-hang timeout is a last line of defence against a stuck test host) ---
# Runs one NUnit project and adds its counts; a run that prints no summary counts as one failure.
count_dotnet() {
  local name=$1 project=$2
  dotnet test "$project" -c "${CONFIG:-Release}" --no-build --nologo \
    --blame-hang-timeout 15m -v q --logger "console;verbosity=minimal" 2>&1 | tee "$log/$name.txt"
  local rc=${PIPESTATUS[0]}
  local line f p
  line=$(grep -E '(Passed|Failed)!? +- +Failed: +[0-9]+, +Passed: +[0-9]+' "$log/$name.txt" | tail -n 1 || true)
  if [[ -n $line ]]; then
    f=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$line"); p=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "run-tests: dotnet test of $name printed no summary (exit $rc): counting it as one failure" >&2
    failed=$((failed + 1))
  fi
  [[ $rc -eq 0 ]] || status=1
}
count_dotnet tests tests/PyMpiBridge.Tests/PyMpiBridge.Tests.csproj
count_dotnet benchmarks benchmarks/PyMpiBridge.Benchmarks.Tests/PyMpiBridge.Benchmarks.Tests.csproj

# Runs one pytest invocation and adds its counts; a runner that fails without a summary counts as one failure.
count_pytest() {
  local name=$1; shift
  "$@" 2>&1 | tee "$log/$name.txt"
  local rc=${PIPESTATUS[0]}
  local summary p f
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?)[^=]* in [0-9.]+s' "$log/$name.txt" | tail -n 1 || true)
  p=$(grep -oE '[0-9]+ passed' <<<"$summary" | awk '{s+=$1} END {print s+0}')
  f=$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [[ $rc -ne 0 && $rc -ne 5 ]]; then status=1; [[ $f -gt 0 ]] || failed=$((failed + 1)); fi
}

# --- pytest with Debian's interpreter (it has mpi4py and numpy): the migration examples and friends ---
if compgen -G "tests/python/test_*.py" >/dev/null; then
  count_pytest pytest /usr/bin/python3 -m pytest -q -p no:cacheprovider --ignore=tests/python/hosted tests/python
fi

# --- pytest INSIDE our host: Python code running in a PyMpiBridge rank (./pympi run -m pytest) ---
if compgen -G "tests/python/hosted/test_*.py" >/dev/null; then
  count_pytest hosted ./pympi run -m pytest -q -p no:cacheprovider tests/python/hosted
fi

# The names of failed tests again at the end, where a truncated log still shows them.
if grep -hE '^\s*Failed [A-Za-z_]' "$log"/*.txt >/dev/null 2>&1; then
  echo "failed tests:"; grep -hE '^\s*Failed [A-Za-z_]' "$log"/*.txt | sed -E 's/^\s*/  /'
fi
grep -hE '^(FAILED|ERROR) ' "$log"/*.txt 2>/dev/null | sed -E 's/^/  /' || true
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $status -eq 0 ]]
