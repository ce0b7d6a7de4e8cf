namespace PyMpiBridge.DataFrames;

/// <summary>How a DataFrame crosses between Microsoft.Data.Analysis and pandas. The defaults suit most uses.</summary>
public sealed record DataFrameConversionOptions
{
    /// <summary>The defaults: pandas gets its own (writable) copy of numeric columns; missing values use nullable dtypes.</summary>
    public static DataFrameConversionOptions Default { get; } = new();

    /// <summary>
    /// DataFrame → pandas: numeric columns that fit in one buffer are shown to pandas as READ-ONLY numpy views of the
    /// C# column's memory (no copy; the memory stays pinned while pandas uses it). Writes from pandas then fail
    /// ("assignment destination is read-only": use <c>df.copy()</c>), and later in-place changes of the C# column are
    /// visible in pandas. Off (the default): one vectorized copy per column into pandas' own consolidated blocks.
    /// </summary>
    public bool ShareMemory { get; init; }

    /// <summary>
    /// DataFrame → pandas: missing values of numeric columns become NaN in float64 (float32 and float16 stay) columns,
    /// pandas' classic float semantics. Off (the default): nullable dtypes (<c>Int64</c>, <c>Float64</c>, <c>boolean</c>,
    /// ...) that keep the integer type; float16 and complex columns, which have no nullable dtype, always use NaN.
    /// </summary>
    public bool NullsAsNaN { get; init; }

    /// <summary>
    /// pandas → DataFrame: NaN in float and complex columns becomes a missing value (null) in the C# column. Off (the
    /// default): NaN is an ordinary floating-point value, as in numpy, and the column wraps pandas' memory unchanged.
    /// </summary>
    public bool NaNAsNull { get; init; }
}
