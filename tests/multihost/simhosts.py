"""Simulated hosts on one machine: each a network namespace with its own address and its own hostname.

A cluster needs what this machine lacks: several hosts that reach each other only over a network. Linux gives each
of them here from parts that exist on every node of a real one:

* a network namespace per host (``ip netns add``): its own interfaces, addresses, routes and abstract Unix sockets;
* a veth pair per host, one end in the namespace as ``eth0`` with a private address (``10.77.0.<i+1>/24``), the
  other on a bridge in the machine's namespace (which has no address on that subnet: only the hosts talk there);
* a UTS namespace per process started on a host (``unshare --uts`` + ``hostname``): Open MPI tells nodes apart by
  name, so ranks on ``simhost1`` are on another node than ranks on ``simhost0`` and talk TCP, never shared memory;
* ``/etc/netns/<namespace>/hosts`` (bind-mounted over ``/etc/hosts`` by ``ip netns exec``): every host resolves the
  others' names, as cluster nodes do through DNS or a shared ``/etc/hosts``;
* a launch agent (``netns-agent``, used instead of ``ssh``) that runs a command on a host the way ``ssh HOST CMD``
  does: words joined and run by ``sh -c`` in a clean environment (only PATH, HOME, LANG survive, so a launcher that
  forgets to forward a variable fails here as it would on a real cluster).

The file system and the process table stay shared (as an NFS home directory would be on a cluster: the checkout is
at the same path everywhere). ``SimulatedHosts`` creates everything on entry and removes everything on exit:
processes left in the namespaces are killed, namespaces, veths, the bridge and ``/etc/netns`` entries deleted.
Names carry the creating process id, so leftovers of a killed run are recognised and removed by the next one.

Needs root and a kernel that permits network namespaces; ``unavailable_reason()`` says why not, when not.
Manual use: ``python3 tests/multihost/simhosts.py [-n 2] -- COMMAND...`` runs COMMAND on the first host.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AGENT = HERE / "netns-agent"
SUBNET = "10.77.0"
PREFIX = "pympisim"  # namespaces are pympisim<creator pid>h<i>; the bridge psb<pid>, veths psv<pid>x<i> (15 chars max)
# What the agent hands a remote command, as sshd does: nothing of the caller's environment but these.
AGENT_ENV_KEEP = ("PATH", "HOME", "LANG")


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def unavailable_reason():
    """None when simulated hosts can be made here; otherwise what is missing, said so that a skip explains itself."""
    if os.geteuid() != 0:
        return "simulated hosts need root (network namespaces, veth pairs, a bridge); run the tests as root"
    for tool in ("ip", "unshare", "hostname"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (scripts/install-deps.sh installs iproute2 and util-linux)"
    probe = f"{PREFIX}probe{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"network namespaces are not permitted here: 'ip netns add' said: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


class SimHost:
    """One simulated host: ``name`` (its hostname), ``namespace``, ``address`` (on the hosts' subnet)."""

    def __init__(self, name, namespace, address):
        self.name, self.namespace, self.address = name, namespace, address

    def command(self, argv):
        """argv run on this host: in its network namespace, with its hostname (environment passed through)."""
        return ["ip", "netns", "exec", self.namespace, "unshare", "--uts", "--",
                "sh", "-c", 'hostname "$0" && exec "$@"', self.name, *map(str, argv)]

    def run(self, argv, timeout, env=None, cwd=None):
        """Runs argv on this host to completion, output captured as text; on ``timeout`` its whole process group is
        killed and TimeoutExpired raised (with what it printed so far)."""
        proc = self.popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
            raise subprocess.TimeoutExpired(proc.args, timeout, out, err) from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def popen(self, argv, **kwargs):
        """Starts argv on this host in a session of its own (``kill_group`` stops it with its children)."""
        return subprocess.Popen(self.command(argv), start_new_session=True, **kwargs)

    def __repr__(self):
        return f"SimHost({self.name}, {self.address})"


def kill_group(proc, sig=signal.SIGKILL):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class SimulatedHosts:
    """``with SimulatedHosts(2) as hosts: hosts[0].run([...])`` — see the module's doc."""

    def __init__(self, count=2):
        if not 1 <= count <= 200:
            raise ValueError(f"between 1 and 200 simulated hosts, not {count}")
        self.count = count
        self.tag = f"{PREFIX}{os.getpid()}"
        self.bridge = f"psb{os.getpid()}"          # interface names: at most 15 characters
        self.hosts = []

    # ---- names: one place ----------------------------------------------------------------------------------------

    def _namespace(self, i):
        return f"{self.tag}h{i}"

    def _veth(self, i):
        return f"psv{os.getpid()}x{i}"

    @staticmethod
    def hostname(i):
        return f"simhost{i}"

    # ---- life cycle ----------------------------------------------------------------------------------------------

    def __enter__(self):
        remove_leftovers()
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("link", "set", self.bridge, "up")
            for i in range(self.count):
                self.hosts.append(self._add_host(i))
            self._write_hosts_files()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _add_host(self, i):
        ns, veth, address = self._namespace(i), self._veth(i), f"{SUBNET}.{i + 1}"
        _ip("netns", "add", ns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        return SimHost(self.hostname(i), ns, address)

    def _write_hosts_files(self):
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        lines += [f"{h.address} {h.name}" for h in self.hosts]
        for h in self.hosts:
            d = Path("/etc/netns") / h.namespace
            d.mkdir(parents=True, exist_ok=True)
            (d / "hosts").write_text("\n".join(lines) + "\n")

    def __exit__(self, *exc):
        for i in range(self.count):
            _remove_namespace(self._namespace(i))
        _ip("link", "del", self.bridge, check=False)
        self.hosts = []
        return False

    def __getitem__(self, i):
        return self.hosts[i]

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self):
        return len(self.hosts)

    # ---- what launchers need -------------------------------------------------------------------------------------

    def agent_environment(self):
        """Variables the launch agent reads (set them for mpiexec): which namespace a host name lives in."""
        return {"PYMPI_SIMHOSTS": " ".join(f"{h.name}={h.namespace}" for h in self.hosts)}

    def write_hostfile(self, path, slots):
        """An Open MPI hostfile with ``slots`` slots on every host (``hostname slots=N`` lines)."""
        Path(path).write_text("".join(f"{h.name} slots={slots}\n" for h in self.hosts))
        return Path(path)


def _remove_namespace(ns):
    """Kills what still runs in ``ns``, then deletes it (its veth end goes with it) and its /etc/netns entry."""
    for attempt in range(50):
        pids = _ip("netns", "pids", ns, check=False).stdout.split()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        time.sleep(0.05)
    _ip("netns", "del", ns, check=False)
    shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)


def remove_leftovers():
    """Namespaces and bridges of earlier runs whose creating process is gone (a run killed before its cleanup)."""
    listed = _ip("netns", "list", check=False).stdout.split("\n")
    for line in listed:
        name = line.split(" ")[0]
        if not name.startswith(PREFIX) or "h" not in name[len(PREFIX):]:
            continue
        pid = name[len(PREFIX):].split("h")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            _remove_namespace(name)
    for line in _ip("-o", "link", "show", "type", "bridge", check=False).stdout.split("\n"):
        parts = line.split(":")
        if len(parts) > 1:
            name = parts[1].strip()
            pid = name[3:]
            if name.startswith("psb") and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                _ip("link", "del", name, check=False)


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description="Run a command on the first of N simulated hosts.")
    parser.add_argument("-n", type=int, default=2, help="number of hosts")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason:
        sys.exit(f"simhosts: {reason}")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with SimulatedHosts(args.n) as hosts:
        env = dict(os.environ, **hosts.agent_environment(), PYMPI_SIMHOSTS_AGENT=str(AGENT))
        print("hosts: " + ", ".join(f"{h.name} {h.address}" for h in hosts) + f"; agent {AGENT}", file=sys.stderr)
        proc = hosts[0].popen(command or ["sh"], env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            kill_group(proc)
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
