"""The pandas side of PyMpiBridge.DataFrames (C# Microsoft.Data.Analysis DataFrames <-> pandas).

Used in a rank by the C# conversions, and on engines by the C# parallel client (push builds a frame with build(),
pull takes one apart with describe()). C# owns the Microsoft.Data.Analysis side and the element-type table; this module only takes pandas frames apart
and puts them together, with vectorized numpy operations: no Python loop runs per row for numeric, bool or
datetime columns (strings are Python objects and are made one by one).
"""
import numpy as np
import pandas as pd
from pandas.core.arrays.masked import BaseMaskedArray

# DateTime.Ticks of 1970-01-01 (100 ns units since 0001-01-01); DateTimeKind.Utc in DateTime's top two bits.
EPOCH_TICKS = 621355968000000000
KIND_UTC = 1 << 62
TICKS_MASK = (1 << 62) - 1
NAT = np.iinfo(np.int64).min


class FrameConversionError(TypeError):
    """A pandas column or frame that has no Microsoft.Data.Analysis form (the message says what to do)."""


def _bitmap(valid):
    """Arrow-style validity bitmap (LSB first, 1 = valid) of a boolean array."""
    return np.packbits(valid, bitorder="little")


def _name(label, taken):
    name = label if isinstance(label, str) else str(label)
    if name in taken:
        raise FrameConversionError(
            f"two columns are named {name!r} (names are compared as strings, and the index becomes columns unless it "
            "is a RangeIndex); rename one with df.rename(columns=...) or drop it first")
    taken.add(name)
    return name


def _index_columns(df):
    """(name, values) of the index levels; a RangeIndex is dropped (row positions are implicit in a DataFrame)."""
    index = df.index
    if isinstance(index, pd.RangeIndex):
        return []
    if index.nlevels == 1:
        return [(index.name if index.name is not None else "index", index._values)]
    return [(name if name is not None else f"level_{i}", index.get_level_values(i)._values)
            for i, name in enumerate(index.names)]


def _column_values(df, i):
    try:
        return df._mgr.iget_values(i)  # the block row itself: no Series is built
    except AttributeError:
        return df.iloc[:, i]._values


def describe(df, max_bytes, nan_as_null):
    """Takes a pandas DataFrame apart: (rows, [(name, code, kind, itemsize, values, bitmap, nulls), ...]).

    code 'n': numeric or bool, values a C-contiguous uint8 view of the elements (kind and itemsize name the type);
    code 't': DateTime, values uint8 view of int64 .NET DateTime bits; code 's': values a list of str or None.
    bitmap is a validity bitmap (uint8 array) or None when nothing is missing.
    """
    if not isinstance(df, pd.DataFrame):
        raise FrameConversionError(
            f"expected a pandas DataFrame, got a Python {type(df).__module__}.{type(df).__qualname__}"
            + ("; make one with series.to_frame()" if isinstance(df, pd.Series) else ""))
    rows = len(df)
    taken = set()
    labeled = [(_name(n, taken), v) for n, v in _index_columns(df)]
    labeled += [(_name(label, taken), _column_values(df, i)) for i, label in enumerate(df.columns)]
    return rows, [_column(name, values, rows, max_bytes, nan_as_null) for name, values in labeled]


def _too_long(name, rows, itemsize, dtype, max_bytes):
    if rows * itemsize > max_bytes:
        raise FrameConversionError(
            f"column {name!r} has {rows:,} rows of {dtype} ({rows * itemsize:,} bytes), more than one "
            f"Microsoft.Data.Analysis buffer holds ({max_bytes // itemsize:,} values of {itemsize} bytes); convert the "
            f"frame in row slices of at most that many rows (df.iloc[start:stop]) and process them one by one")


def _column(name, values, rows, max_bytes, nan_as_null):
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # by its values: str categories give a string column, numbers numbers
        return _column(name, np.asarray(values), rows, max_bytes, nan_as_null)
    if isinstance(values, BaseMaskedArray):  # Int64, UInt8, Float64, boolean, ...: values + mask (True = missing)
        data, missing = values._data, values._mask
        _too_long(name, rows, data.dtype.itemsize, dtype, max_bytes)
        nulls = int(missing.sum())
        return _numeric(name, data, _bitmap(~missing) if nulls else None, nulls)
    if dtype.kind == "M":  # datetime64[ns], tz-naive or tz-aware (then as UTC)
        _too_long(name, rows, 8, dtype, max_bytes)
        ns = np.asarray(values.asi8 if hasattr(values, "asi8") else values.view("i8"))
        missing = ns == NAT
        ticks = ns // 100 + EPOCH_TICKS  # .NET keeps 100 ns ticks: finer digits are dropped
        if getattr(dtype, "tz", None) is not None:
            ticks |= KIND_UTC
        nulls = int(missing.sum())
        if nulls:
            ticks[missing] = 0
        return name, "t", "M", 8, ticks.view(np.uint8), _bitmap(~missing) if nulls else None, nulls
    if isinstance(values, np.ndarray) and dtype.kind in "iufcb":
        _too_long(name, rows, dtype.itemsize, dtype, max_bytes)
        if dtype.byteorder == ">":
            raise FrameConversionError(f"column {name!r} is big-endian ({dtype}); convert with df[{name!r}].astype('{dtype.newbyteorder('=')}')")
        if nan_as_null and dtype.kind in "fc":
            missing = np.isnan(values)
            nulls = int(missing.sum())
            return _numeric(name, values, _bitmap(~missing) if nulls else None, nulls)
        return _numeric(name, values, None, 0)
    if dtype.kind == "O" or isinstance(dtype, pd.StringDtype):
        objects = np.asarray(values, dtype=object)
        inferred = pd.api.types.infer_dtype(objects, skipna=True)
        if inferred not in ("string", "empty"):
            found = sorted({type(v).__name__ for v in objects if not _is_missing(v)})
            raise FrameConversionError(
                f"column {name!r} holds Python objects of types {', '.join(found)} (pandas infers {inferred!r}); only "
                "columns of str (with None/NaN for missing) convert as objects: convert it first, e.g. "
                f"df[{name!r}].astype(str) or pd.to_numeric(df[{name!r}])")
        missing = pd.isna(objects)
        strings = objects.tolist()
        if missing.any():
            for i in np.flatnonzero(missing).tolist():
                strings[i] = None
        return name, "s", "O", 0, strings, None, int(missing.sum())
    hint = ("an int64 count of a unit, e.g. df[col] // pd.Timedelta('1ms')" if dtype.kind == "m"
            else "a numeric, bool, datetime64 or str dtype (df[col].astype(...))")
    raise FrameConversionError(f"column {name!r} has dtype {dtype}, which has no Microsoft.Data.Analysis column; convert it to {hint}")


def _is_missing(v):
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT


def _numeric(name, data, bitmap, nulls):
    if not data.flags.c_contiguous:
        data = np.ascontiguousarray(data)  # a row of an F-ordered block: one vectorized copy
    kind = data.dtype.kind
    return name, "n", kind, data.dtype.itemsize, data.view(np.uint8), bitmap, nulls


# ---------------------------------------------------------------------------------------------- Microsoft.Data.Analysis → pandas

def _missing(chunks, rows):
    """Boolean mask (True = missing) from the column's validity bitmaps, one (bitmap, count) per buffer."""
    masks = [np.unpackbits(np.frombuffer(bits, np.uint8), count=count, bitorder="little") == 0 for bits, count in chunks]
    return masks[0] if len(masks) == 1 else np.concatenate(masks) if masks else np.zeros(rows, bool)


def _datetimes(raw, chunks, rows):
    """int64 .NET DateTime bits → datetime64[ns] in place (the Kind bits are dropped: pandas gets naive times)."""
    ticks = raw & TICKS_MASK
    missing = _missing(chunks, rows) if chunks is not None else None
    if missing is not None:
        ticks[missing] = EPOCH_TICKS
    low, high = (NAT + 1) // 100 + EPOCH_TICKS, np.iinfo(np.int64).max // 100 + EPOCH_TICKS
    if rows and (ticks.min() < low or ticks.max() > high):
        raise FrameConversionError(
            "a DateTime falls outside what datetime64[ns] holds (1677-09-21 to 2262-04-11); "
            "convert that column to strings or to a tick count (long) first")
    np.subtract(ticks, EPOCH_TICKS, out=raw)
    np.multiply(raw, 100, out=raw)
    if missing is not None:
        raw[missing] = NAT
    return raw.view("M8[ns]")


def _masked(values, missing, nulls_as_nan):
    kind = values.dtype.kind
    if nulls_as_nan and kind in "iuf" or kind == "c" or values.dtype == np.float16:
        # pandas has no masked float16/complex: those (and any number when asked) take NaN for missing
        out = values.astype(np.float64) if kind in "iu" else values.copy() if not values.flags.writeable else values
        out[missing] = np.nan
        return out
    if kind == "b":
        return pd.arrays.BooleanArray(values, missing)
    if kind == "f":
        return pd.arrays.FloatingArray(values, missing)
    return pd.arrays.IntegerArray(values, missing)


def build(names, rows, blocks, singles, nulls_as_nan):
    """Puts a pandas DataFrame together without copying what C# prepared.

    blocks: [(array, [column positions])] - numeric columns without missing values: a 2-D (columns, rows) copy per
    dtype (pandas' own consolidated layout, as if pandas had made the frame), or one shared 1-D column. singles: [(position, code, values,
    bitmap chunks or None)] - 'm' numeric with missing values, 't' DateTime bits, 's' list of str/None.
    """
    from pandas.core.internals import BlockManager, api

    made = [api.make_block(values.reshape(len(positions), -1), placement=positions) for values, positions in blocks]
    for position, code, values, chunks in singles:
        if code == "m":
            column = _masked(values, _missing(chunks, rows), nulls_as_nan)
            made.append(api.make_block(column, placement=[position], ndim=2) if not isinstance(column, np.ndarray)
                        else api.make_block(column.reshape(1, -1), placement=[position]))
        elif code == "t":
            made.append(api.make_block(_datetimes(values, chunks, rows).reshape(1, -1), placement=[position]))
        else:
            made.append(api.make_block(np.array(values, dtype=object).reshape(1, -1), placement=[position]))
    axes = [pd.Index(names, dtype=object), pd.RangeIndex(rows)]
    return pd.DataFrame(BlockManager(made, axes))
