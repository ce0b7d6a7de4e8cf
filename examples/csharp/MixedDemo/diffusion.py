"""The Python half of the demo: numpy does the numerics on arrays that C# owns."""
import numpy as np
from pympibridge import world


def evolve(u, alpha, steps):
    """Explicit 1-D diffusion, in place, on ``u`` (a C# double[] seen as a numpy array: no copy).

    The ends are held at zero (cold walls). Returns the peak temperature, computed by numpy.
    """
    if not isinstance(u, np.ndarray) or u.dtype != np.float64:
        raise TypeError(f"expected a float64 numpy array, got {type(u).__name__}")
    inner = u[1:-1]
    for _ in range(steps):
        inner += alpha * (u[2:] - 2.0 * inner + u[:-2])
    return float(u.max())


def total_steps(local_steps):
    """Work done by all ranks, reduced with mpi4py over the communicator C# also uses."""
    return world.allreduce(local_steps)
