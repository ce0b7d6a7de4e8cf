"""Tests in this folder run in plain Python (no PyMpiBridge host): python3 -m pytest tests/python/parallel."""
import pathlib
import sys

# Import the in-tree package (python/pympibridge) without installing it.
PYTHON = str(pathlib.Path(__file__).resolve().parents[3] / "python")
if PYTHON not in sys.path:
    sys.path.insert(0, PYTHON)
