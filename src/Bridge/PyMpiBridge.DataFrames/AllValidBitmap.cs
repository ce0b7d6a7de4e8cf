namespace PyMpiBridge.DataFrames;

/// <summary>
/// One shared validity bitmap with every bit set, for columns without missing values: given to the wrapping
/// constructor, it spares Microsoft.Data.Analysis from allocating and filling rows/8 bytes per column, so wrapping
/// pandas memory costs the same for any number of rows. The columns hold it as read-only memory (their first change
/// copies it), so it is never written.
/// </summary>
internal static class AllValidBitmap
{
    private static byte[] s_ones = [];

    /// <summary>A bitmap of at least <paramref name="rows"/> set bits.</summary>
    public static ReadOnlyMemory<byte> For(int rows)
    {
        int bytes = (int)(((long)rows + 7) / 8);
        byte[] ones = Volatile.Read(ref s_ones);
        if (ones.Length < bytes)
        {
            ones = new byte[(int)Math.Min(Math.Max(bytes, 2L * ones.Length), Array.MaxLength)];
            ones.AsSpan().Fill(0xFF);
            Volatile.Write(ref s_ones, ones); // a racing thread may install its own: both are all ones
        }
        return ones.AsMemory(0, bytes);
    }
}
