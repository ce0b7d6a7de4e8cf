"""1-D heat diffusion whose inner step was moved to C#, one function at a time.

Python keeps the driver, the mpi4py communicator and the numpy array; the C# kernel
(examples/csharp/Kernels, [PythonExport] DiffuseStep) works on the same memory and the same
communicator. Run:  ./pympi run -n 4 examples/python/heat_with_csharp_kernel.py [cells_per_rank] [steps]
"""
import os
import sys

import numpy as np
from pympibridge import world, csharp

here = os.path.dirname(os.path.abspath(__file__))
kernels = os.path.join(here, "..", "..", "artifacts", "bin", "Kernels", "release", "Kernels.dll")
csharp.load(kernels)

cells = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
rank, size = world.Get_rank(), world.Get_size()

# A hot spot in the middle of the global rod; each rank owns one slab of it.
u = np.zeros(cells)
global_start = rank * cells
middle = size * cells // 2
if global_start <= middle < global_start + cells:
    u[middle - global_start] = 1000.0

heat_before = world.allreduce(u.sum())
for step in range(steps):
    change = csharp.diffuse_step(world, u, 0.25)   # C#: halo exchange + stencil, in place, no copy
heat_after = world.allreduce(u.sum())
energy = csharp.global_sum_of_squares(world, u)

if rank == 0:
    print(f"ranks={size} cells={size * cells} steps={steps}")
    print(f"heat conserved: {heat_before:.6f} -> {heat_after:.6f}")
    print(f"last max change {change:.6e}, sum of squares {energy:.6f}")
