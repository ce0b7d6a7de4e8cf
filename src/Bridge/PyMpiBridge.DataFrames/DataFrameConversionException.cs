namespace PyMpiBridge.DataFrames;

/// <summary>
/// A DataFrame (either kind) that cannot cross as asked: an unsupported column type, a mixed-type pandas column,
/// mismatched column lengths, a column larger than one Microsoft.Data.Analysis buffer. The message names the column
/// and says what to do. Python callers of exported functions see it as a <c>TypeError</c>.
/// </summary>
public sealed class DataFrameConversionException(string message, Exception? inner = null) : InvalidCastException(message, inner);
