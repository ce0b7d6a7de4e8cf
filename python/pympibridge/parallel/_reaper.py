"""Frees the large arrays a push replaced on an engine, off the task path.

Unmapping a 64 MiB array an earlier push left in the namespace took this VM 12-35 ms, and the push that replaced it
waited for that before it replied (so did its client). Only plain numpy arrays of 1 MiB or more are handed over:
freeing one runs no Python code (numpy frees or unmaps its memory, releasing the GIL for the unmap), so it may happen
on another thread while the engine runs the next task. Anything else is freed where it always was.
"""

import queue
import sys
import threading
import time

LARGE = 1 << 20


def large_arrays(values):
    """The plain numpy arrays of ``LARGE`` bytes or more among ``values``."""
    np = sys.modules.get("numpy")
    if np is None:
        return []
    return [v for v in values if type(v) is np.ndarray and v.nbytes >= LARGE]


class Reaper(threading.Thread):
    def __init__(self):
        super().__init__(name="pympi-engine-reaper", daemon=True)
        self._queue = queue.SimpleQueue()

    def free(self, arrays):
        """Takes over ``arrays`` (a list the caller drops right after): they are freed on this thread."""
        self._queue.put(arrays)

    def stop(self):
        self._queue.put(None)

    def run(self):
        while True:
            arrays = self._queue.get()
            if arrays is None:
                return
            # the engine's thread may still hold the list for a bytecode or two after handing it over: wait until
            # this thread's reference is the last, so the freeing happens here (getrefcount counts its argument)
            while sys.getrefcount(arrays) > 2:
                time.sleep(0.0005)
            del arrays
