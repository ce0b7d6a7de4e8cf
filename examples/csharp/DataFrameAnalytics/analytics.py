"""The pandas half of the DataFrameAnalytics example: group a slice of the sales table by region."""
import pandas as pd
from pympibridge import world


def region_stats(sales):
    """Orders (rows with a quantity), units and revenue per region of one slice; pandas skips missing quantities."""
    sales = sales.assign(revenue=sales["quantity"] * sales["price"])
    stats = sales.groupby("region").agg(orders=("quantity", "count"), units=("quantity", "sum"), revenue=("revenue", "sum"))
    return stats.astype({"orders": "int64", "units": "int64"})  # the index (region) becomes a C# column


def worker():
    """A Python rank: the slice arrives as a pandas DataFrame (C# sent a DataFrame), the statistics go back as one."""
    sales = world.recv(source=0, tag=1)
    assert isinstance(sales, pd.DataFrame), type(sales)
    world.send(region_stats(sales), dest=0, tag=2)
    return len(sales)
