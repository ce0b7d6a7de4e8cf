#!/usr/bin/env bash
# Installs the Debian packages PyMpiBridge needs, only those missing. Quiet when all are present.
# Uses sudo only when not root. Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail

packages=(
  openmpi-bin libopenmpi-dev        # Open MPI 4.1: the default MPI, the one mpi4py is built on
  mpich libmpich-dev                # MPICH: the second ABI, tested side by side
  libpython3-dev                    # libpython3.x.so, embedded in every rank
  python3-numpy python3-mpi4py python3-cloudpickle python3-pytest python3-pytest-timeout
  python3-dill python3-zmq                    # pympibridge.parallel: use_dill(); zmq only for the ipyparallel peer
  python3-ipython python3-ipykernel python3-nbclient  # %px magics, the seed notebook run in a real kernel
  python3-ipyparallel                         # the peer `pympi bench parallel` measures against
  python3-scipy python3-numba       # used by the examples (numpy/scipy step, numba kernel)
  python3-pandas                    # PyMpiBridge.DataFrames: Microsoft.Data.Analysis DataFrames <-> pandas
  gcc make                          # the native C benchmark baseline
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "install-deps: missing packages (${missing[*]}) and no apt-get: install them with your package manager." >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
