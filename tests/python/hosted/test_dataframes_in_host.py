"""pandas DataFrames handed to a C# function that takes and returns a Microsoft.Data.Analysis DataFrame.

The assembly is loaded with csharp.load from its own build folder: its dependencies (Microsoft.Data.Analysis) and the
PyMpiBridge.DataFrames extension beside it are found there, though the host program ships neither.
"""
import numpy as np
import pandas as pd
import pytest

from conftest import REPO

ANALYTICS = REPO / "artifacts" / "bin" / "DataFrameAnalytics" / "release" / "DataFrameAnalytics.dll"


@pytest.fixture(scope="module")
def csharp():
    from pympibridge import csharp
    assert ANALYTICS.is_file(), f"{ANALYTICS} is not built: run make build"
    assert "revenue_by_region" in csharp.load(ANALYTICS)
    return csharp


def test_csharp_function_takes_a_pandas_frame_and_returns_one(csharp):
    sales = pd.DataFrame({
        "region": ["north", "south", "north", "east", "south"],
        "quantity": pd.array([2, None, 3, 1, 4], dtype="Int32"),
        "price": [10.0, 99.0, 1.5, 7.25, 0.5],
    })
    totals = csharp.revenue_by_region(sales)
    assert isinstance(totals, pd.DataFrame)
    assert totals["region"].tolist() == ["east", "north", "south"]
    expected = (sales["quantity"] * sales["price"]).groupby(sales["region"]).sum()
    assert np.allclose(totals["revenue"].to_numpy(), expected.loc[["east", "north", "south"]].to_numpy(dtype=float))


def test_a_frame_with_a_mixed_type_column_raises_type_error_naming_it(csharp):
    bad = pd.DataFrame({"region": ["north", 7], "quantity": [1, 2], "price": [1.0, 2.0]})
    with pytest.raises(TypeError, match="column 'region' holds Python objects of types int, str"):
        csharp.revenue_by_region(bad)
