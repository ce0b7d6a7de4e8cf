"""A client on the controller's host driving engines of which some run on another host (seed 000's setup).
Usage: python3 cluster_client.py CONNECTION_FILE FORGED_FILE ENGINES. Prints one JSON object with what it saw."""
import json
import socket
import sys

import numpy as np

import pympibridge.parallel as ipp
from pympibridge.parallel import _wire

path, forged, engines = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {}
try:
    ipp.Client(url_file=forged, timeout=10)
    seen["forged_client"] = "connected"
except _wire.AuthenticationFailed as e:
    seen["forged_client"] = f"{type(e).__name__}: {e}"

rc = ipp.Client(url_file=path, timeout=10)
rc.wait_for_engines(engines, timeout=90)
seen["ids"] = rc.ids
# the address the client reached each engine at (its registration's url)
seen["urls"] = {str(eid): rc._engines[eid].url for eid in rc.ids}
view = rc[:]


def where():
    import socket
    from mpi4py import MPI
    return socket.gethostname(), MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()


seen["where"] = view.apply_sync(where)
seen["direct_map"] = view.map_sync(lambda x: (x * x, __import__("socket").gethostname()), range(12))
seen["lb_map"] = rc.load_balanced_view().map_sync(lambda x: x ** 3, range(60))
big = np.arange(1_000_000, dtype=np.float64)  # 8 MB: large frames over TCP both ways
view.push({"a": big, "scale": 3.0})
view.execute("a *= scale")
pulled = view.pull("a")
seen["pull_ok"] = [bool(np.array_equal(p, big * 3.0)) for p in pulled]
view.scatter("part", np.arange(90.0))
seen["gathered_ok"] = bool(np.array_equal(view.gather("part", block=True), np.arange(90.0)))
seen["apply_on_last"] = rc[rc.ids[-1]].apply_sync(lambda x: float(x.sum()), np.ones(1000))
seen["client_host"] = socket.gethostname()
rc.close()
print(json.dumps(seen))
