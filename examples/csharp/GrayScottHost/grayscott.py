"""Diffusion half of a Gray-Scott step: scipy's Laplacian written straight into C#'s arrays."""
import numpy as np

try:
    from scipy import ndimage
except ImportError:  # numpy fallback with the same periodic 5-point stencil
    ndimage = None


def laplacian(field, out):
    """out[...] = 5-point periodic Laplacian of field. Both are C# double[,] arrays seen as numpy (no copy)."""
    if ndimage is not None:
        ndimage.laplace(field, output=out, mode="wrap")
    else:
        out[...] = (np.roll(field, 1, 0) + np.roll(field, -1, 0) +
                    np.roll(field, 1, 1) + np.roll(field, -1, 1) - 4.0 * field)


def backend():
    return "scipy.ndimage" if ndimage is not None else "numpy.roll"
