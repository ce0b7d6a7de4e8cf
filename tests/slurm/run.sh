#!/usr/bin/env bash
# The Slurm tests: starts a private single-node Slurm (tests/slurm/slurm-node.sh), runs tests/slurm/test_*.py against
# it under one overall timeout, and stops it — leaving no process behind, also on a failure, a timeout or Ctrl-C.
# Where Slurm cannot run here it exits 77 with the reason on its last line: scripts/run-tests.sh counts that as a
# skip (printed with the reason), never as a pass. Extra arguments go to pytest (e.g. -k cluster).
# Settings: PYMPI_SKIP_SLURM_TESTS=1 skips them; PYMPI_SLURM_TESTS_TIMEOUT (seconds, default 900); PYMPI_SLURM_KEEP=1
# keeps the Slurm directory (logs) afterwards.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"

skip() { echo "slurm tests skipped: $*"; exit 77; }
[[ ${PYMPI_SKIP_SLURM_TESTS:-0} == 1 ]] && skip "PYMPI_SKIP_SLURM_TESTS=1 is set"
[[ $(uname -s) == Linux ]] || skip "Slurm runs on Linux only"
[[ $(id -u) -eq 0 ]] || skip "the private Slurm needs root (slurmd starts the jobs; SlurmUser=root); run as root"
missing=()
for c in munged mungekey slurmctld slurmd sbatch salloc srun scancel squeue sinfo scontrol; do
  command -v "$c" >/dev/null || missing+=("$c")
done
[[ ${#missing[@]} -eq 0 ]] ||
  skip "Slurm is not installed (missing ${missing[*]}): apt-get install slurmctld slurmd slurm-client munge (scripts/install-deps.sh does)"

dir=$(mktemp -d /tmp/pympi-slurm.XXXXXX)
rmdir "$dir"   # slurm-node.sh start wants to create it
stopped=0
stop_slurm() {
  [[ $stopped == 1 ]] && return 0
  stopped=1
  tests/slurm/slurm-node.sh stop "$dir"
}
trap 'stop_slurm' EXIT
trap 'exit 130' INT TERM   # through the EXIT trap: the Slurm is stopped on Ctrl-C and on a timeout's TERM too

if ! tests/slurm/slurm-node.sh start "$dir"; then
  echo "slurm tests: the private single-node Slurm did not start (see the logs above)"
  exit 1
fi

# The mark goes to the tests' environment only (not this script's): slurm-node.sh stop ends every process carrying it.
PYMPI_SLURM_NODE=$dir SLURM_CONF=$dir/slurm.conf PYMPIBRIDGE_DIR=$dir/pympibridge \
  timeout -k 10 "${PYMPI_SLURM_TESTS_TIMEOUT:-900}" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/slurm "$@"
rc=$?
[[ $rc -eq 124 ]] && echo "slurm tests: stopped after ${PYMPI_SLURM_TESTS_TIMEOUT:-900} s (PYMPI_SLURM_TESTS_TIMEOUT)"
if ! stop_slurm; then
  echo "slurm tests: processes outlived the private Slurm (listed above)"
  rc=1
fi
exit "$rc"
