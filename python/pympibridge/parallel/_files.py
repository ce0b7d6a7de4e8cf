"""Where a cluster's files live: ``$PYMPIBRIDGE_DIR`` (default ``~/.pympibridge``)/``profile_<name>/security``.

Names follow ipyparallel's (``ipcontroller[-<cluster_id>]-client.json``), so a user finds them where they expect.
Connection files hold the cluster key: they are created with mode 0600 and never widened.
"""

import json
import os


def base_dir():
    return os.path.expanduser(os.environ.get("PYMPIBRIDGE_DIR") or "~/.pympibridge")


def profile_dir(profile=None):
    return os.path.join(base_dir(), f"profile_{profile or 'default'}")


def security_dir(profile=None):
    path = os.path.join(profile_dir(profile), "security")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def log_dir(profile=None):
    path = os.path.join(profile_dir(profile), "log")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def log_file(profile, cluster_id, who):
    """The log of a cluster's ``who`` ('controller' or 'engines')."""
    return os.path.join(log_dir(profile), f"{who}-{cluster_id or 'default'}.log")


def _stem(cluster_id):
    return f"ipcontroller-{cluster_id}" if cluster_id else "ipcontroller"


def client_file(profile=None, cluster_id=""):
    return os.path.join(security_dir(profile), f"{_stem(cluster_id)}-client.json")


def engine_file(profile=None, cluster_id=""):
    return os.path.join(security_dir(profile), f"{_stem(cluster_id)}-engine.json")


def write_private_json(path, data):
    """Writes ``data`` to ``path`` readable by the owner only, atomically (readers never see half a file)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def pid_alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_clusters():
    """Every cluster whose connection file exists under the base directory: (profile, cluster_id, data, alive)."""
    found = []
    base = base_dir()
    if not os.path.isdir(base):
        return found
    for entry in sorted(os.listdir(base)):
        if not entry.startswith("profile_"):
            continue
        sec = os.path.join(base, entry, "security")
        if not os.path.isdir(sec):
            continue
        for name in sorted(os.listdir(sec)):
            if name.startswith("ipcontroller") and name.endswith("-client.json"):
                try:
                    data = read_json(os.path.join(sec, name))
                except (OSError, ValueError):
                    continue
                found.append((entry[len("profile_"):], data.get("cluster_id", ""), data,
                              pid_alive(data.get("pid", -1))))
    return found
