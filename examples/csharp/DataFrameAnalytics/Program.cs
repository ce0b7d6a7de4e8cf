using System.Globalization;
using Microsoft.Data.Analysis;
using PyMpiBridge;
using PyMpiBridge.DataFrames;
using PyMpiBridge.Messaging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

// A sales table made in C# as a Microsoft.Data.Analysis DataFrame, split by rows over the ranks; pandas groups every slice
// by region (rank 0 hands its slice to Python in-process, the other ranks receive theirs with mpi4py's comm.recv), and
// C# gathers the partial statistics as DataFrames and combines them.
//   mpiexec -n 4 dotnet DataFrameAnalytics.dll [rows]
using var session = PyMpi.Start(args, new RankSessionOptions { PythonPaths = [AppContext.BaseDirectory] });
Comm world = session.World;
int rank = world.Rank, size = world.Size;
int rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
string[] regions = ["north", "south", "east", "west", "central"];

if (rank != 0)
{
    using var gil = Py.Gil();
    using var analytics = Py.Import("analytics");
    using var count = analytics.CallMethod("worker");
    Console.WriteLine($"rank {rank}: pandas grouped {count.As<long>():N0} rows it received from C#");
    return;
}

// 1. The table, in C#: a string region, a quantity with missing values, a price, a date.
var random = new Random(2026);
var sales = new DataFrame(
    new StringDataFrameColumn("region", Enumerable.Range(0, rows).Select(i => regions[random.Next(regions.Length)])),
    new Int32DataFrameColumn("quantity", Enumerable.Range(0, rows).Select(i => i % 50 == 7 ? (int?)null : random.Next(1, 20))),
    new DoubleDataFrameColumn("price", Enumerable.Range(0, rows).Select(i => Math.Round(random.NextDouble() * 100, 2))),
    new DateTimeDataFrameColumn("day", Enumerable.Range(0, rows).Select(i => new DateTime(2026, 1, 1).AddDays(i % 365))));
Console.WriteLine($"rank 0: made {rows:N0} sales rows in C# ({sales.Columns.Count} columns, {sales.Columns["quantity"].NullCount:N0} without a quantity); {size} ranks group them with pandas");

// 2. Row slices: rank r gets rows [r*rows/size, (r+1)*rows/size). Each travels as a DataFrame: numbers as raw bytes.
DataFrame Slice(int r)
{
    long first = (long)rows * r / size, last = (long)rows * (r + 1) / size;
    return sales.Filter(new Int64DataFrameColumn("row", Enumerable.Range((int)first, (int)(last - first)).Select(i => (long)i)));
}
for (int r = 1; r < size; r++) world.SendObject(Slice(r), r, tag: 1);

// 3. Rank 0's own slice goes to pandas in-process; the other ranks' statistics come back as DataFrames.
var partials = new List<DataFrame>();
using (Py.Gil())
{
    using var analytics = Py.Import("analytics");
    using var mine = Slice(0).ToPandas();
    using var stats = analytics.CallMethod("region_stats", mine);
    partials.Add(stats.ToDataFrame());
}
for (int r = 1; r < size; r++) partials.Add(world.RecvObject<DataFrame>(r, tag: 2));

// 4. C# combines the partial statistics (Microsoft.Data.Analysis GroupBy) and checks them against its own count.
DataFrame combined = partials[0];
foreach (var partial in partials.Skip(1)) combined = combined.Append(partial.Rows);
DataFrame totals = combined.GroupBy("region").Sum("orders", "units", "revenue").OrderBy("region");
Console.WriteLine($"rank 0: revenue by region, grouped by pandas on {size} ranks, combined in C#:");
Console.WriteLine(totals);

var quantity = (Int32DataFrameColumn)sales.Columns["quantity"];
var price = (DoubleDataFrameColumn)sales.Columns["price"];
var region = (StringDataFrameColumn)sales.Columns["region"];
var expected = new Dictionary<string, double>();
for (long i = 0; i < rows; i++)
    if (quantity[i] is int q) expected[region[i]] = expected.GetValueOrDefault(region[i]) + q * price[i]!.Value;
bool matches = totals.Rows.All(row => Math.Abs((double)row["revenue"] - expected[(string)row["region"]]) <= 1e-6 * expected[(string)row["region"]]);
long orders = totals.Columns["orders"].Cast<long>().Sum();
Console.WriteLine($"rank 0: {orders:N0} orders in {totals.Rows.Count} regions; revenue matches C#'s own sum per region: {matches}");
return;
