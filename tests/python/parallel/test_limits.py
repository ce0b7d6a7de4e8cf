"""Limits a large cluster runs into: a client and the controller hold a socket per engine."""
import subprocess
import sys

from conftest import PYTHON


def test_raise_open_files_limit_lifts_the_soft_limit_to_the_hard_one():
    # in a child: the test process's own limit stays as it was
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {PYTHON!r})\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))\n"
        "from pympibridge.parallel import _limits\n"
        "new = _limits.raise_open_files_limit()\n"
        "assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == new\n"
        "print(new == (hard if hard != resource.RLIM_INFINITY else new), new > 256 or hard <= 256)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
