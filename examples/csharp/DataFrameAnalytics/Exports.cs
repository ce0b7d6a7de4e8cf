using Microsoft.Data.Analysis;
using PyMpiBridge.Python;

namespace PyMpiBridge.Examples.DataFrameAnalytics;

/// <summary>
/// The same statistics as a C# function Python code can call with a pandas DataFrame:
/// <c>csharp.load("DataFrameAnalytics.dll"); csharp.revenue_by_region(sales)</c> returns a pandas DataFrame.
/// </summary>
public static class Exports
{
    [PythonExport("revenue_by_region", Doc = "revenue (quantity * price, rows without a quantity skipped) per region, sorted by region")]
    public static DataFrame RevenueByRegion(DataFrame sales)
    {
        var region = (StringDataFrameColumn)sales.Columns["region"];
        var quantity = sales.Columns["quantity"];
        var price = sales.Columns["price"];
        var revenue = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (long i = 0; i < sales.Rows.Count; i++)
            if (quantity[i] is { } q)
                revenue[region[i]] = revenue.GetValueOrDefault(region[i]) + Convert.ToDouble(q) * Convert.ToDouble(price[i]);
        return new DataFrame(new StringDataFrameColumn("region", revenue.Keys), new DoubleDataFrameColumn("revenue", revenue.Values));
    }
}
