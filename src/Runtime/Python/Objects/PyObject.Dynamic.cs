using System.Dynamic;
using System.Linq.Expressions;
using PyMpiBridge.Python.Interop;

namespace PyMpiBridge.Python;

// `dynamic` access: members, calls with named arguments (Python keywords), indexing (a[i, j] → a[(i, j)]),
// operators and conversions, so C# reads like Python: `dynamic np = Py.Import("numpy"); double s = np.arange(10).sum();`
// Every intermediate result is an owned PyObject released by the finalizer queue unless disposed.
public unsafe partial class PyObject : DynamicObject
{
    /// <inheritdoc/>
    public override bool TryGetMember(GetMemberBinder binder, out object? result)
    {
        result = GetAttr(binder.Name);
        return true;
    }

    /// <inheritdoc/>
    public override bool TrySetMember(SetMemberBinder binder, object? value)
    {
        SetAttr(binder.Name, value);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryDeleteMember(DeleteMemberBinder binder)
    {
        DelAttr(binder.Name);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryInvokeMember(InvokeMemberBinder binder, object?[]? args, out object? result)
    {
        using var method = GetAttr(binder.Name);
        result = InvokeDynamic(method, binder.CallInfo, args ?? []);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryInvoke(InvokeBinder binder, object?[]? args, out object? result)
    {
        result = InvokeDynamic(this, binder.CallInfo, args ?? []);
        return true;
    }

    private static PyObject InvokeDynamic(PyObject callable, CallInfo info, object?[] args)
    {
        int named = info.ArgumentNames.Count;
        int positional = args.Length - named;
        if (named == 0) return CallConverted(callable.Reference, args, default);
        var keywords = new List<KeyValuePair<string, object?>>(named);
        for (int i = 0; i < named; i++) keywords.Add(new(info.ArgumentNames[i], args[positional + i]));
        return CallConverted(callable.Reference, args.AsSpan(0, positional), keywords);
    }

    /// <inheritdoc/>
    public override bool TryGetIndex(GetIndexBinder binder, object?[] indexes, out object? result)
    {
        result = GetItem(IndexKey(indexes));
        return true;
    }

    /// <inheritdoc/>
    public override bool TrySetIndex(SetIndexBinder binder, object?[] indexes, object? value)
    {
        SetItem(IndexKey(indexes), value);
        return true;
    }

    /// <inheritdoc/>
    public override bool TryDeleteIndex(DeleteIndexBinder binder, object?[] indexes)
    {
        DelItem(IndexKey(indexes));
        return true;
    }

    private static object IndexKey(object?[] indexes) => indexes.Length == 1
        ? indexes[0] ?? throw new ArgumentNullException(nameof(indexes), "A null index has no Python meaning; use Py.None explicitly.")
        : new TupleKey(indexes);

    /// <summary>Several indexes become one Python tuple key (numpy's <c>a[i, j]</c>).</summary>
    private sealed class TupleKey(object?[] items) : System.Runtime.CompilerServices.ITuple
    {
        public object? this[int index] => items[index];
        public int Length => items.Length;
    }

    /// <inheritdoc/>
    public override bool TryConvert(ConvertBinder binder, out object? result)
    {
        result = binder.Type == typeof(PyObject) ? CloneRef() : PyConvert.ToManaged(Reference, binder.Type);
        return true;
    }

    /// <inheritdoc/>
    public override unsafe bool TryBinaryOperation(BinaryOperationBinder binder, object? arg, out object? result)
    {
        var self = Reference;
        using var converted = PyConvert.ToPython(arg);
        var other = converted.Borrow();
        using var r = binder.Operation switch
        {
            ExpressionType.Add or ExpressionType.AddAssign => CPython.PyNumber_Add(self, other),
            ExpressionType.Subtract or ExpressionType.SubtractAssign => CPython.PyNumber_Subtract(self, other),
            ExpressionType.Multiply or ExpressionType.MultiplyAssign => CPython.PyNumber_Multiply(self, other),
            ExpressionType.Divide or ExpressionType.DivideAssign => CPython.PyNumber_TrueDivide(self, other),
            ExpressionType.Modulo or ExpressionType.ModuloAssign => CPython.PyNumber_Remainder(self, other),
            ExpressionType.And or ExpressionType.AndAssign => CPython.PyNumber_And(self, other),
            ExpressionType.Or or ExpressionType.OrAssign => CPython.PyNumber_Or(self, other),
            ExpressionType.ExclusiveOr or ExpressionType.ExclusiveOrAssign => CPython.PyNumber_Xor(self, other),
            ExpressionType.LeftShift or ExpressionType.LeftShiftAssign => CPython.PyNumber_Lshift(self, other),
            ExpressionType.RightShift or ExpressionType.RightShiftAssign => CPython.PyNumber_Rshift(self, other),
            ExpressionType.Equal => CPython.PyObject_RichCompare(self, other, PyConst.Py_EQ),
            ExpressionType.NotEqual => CPython.PyObject_RichCompare(self, other, PyConst.Py_NE),
            ExpressionType.LessThan => CPython.PyObject_RichCompare(self, other, PyConst.Py_LT),
            ExpressionType.LessThanOrEqual => CPython.PyObject_RichCompare(self, other, PyConst.Py_LE),
            ExpressionType.GreaterThan => CPython.PyObject_RichCompare(self, other, PyConst.Py_GT),
            ExpressionType.GreaterThanOrEqual => CPython.PyObject_RichCompare(self, other, PyConst.Py_GE),
            _ => throw new NotSupportedException($"Operator {binder.Operation} has no Python counterpart."),
        };
        result = r.MoveToPyObject();
        return true;
    }

    /// <inheritdoc/>
    public override bool TryUnaryOperation(UnaryOperationBinder binder, out object? result)
    {
        var self = Reference;
        switch (binder.Operation)
        {
            case ExpressionType.Negate: result = CPython.PyNumber_Negative(self).MoveToPyObject(); return true;
            case ExpressionType.UnaryPlus: result = CPython.PyNumber_Positive(self).MoveToPyObject(); return true;
            case ExpressionType.OnesComplement: result = CPython.PyNumber_Invert(self).MoveToPyObject(); return true;
            case ExpressionType.Not: result = !IsTrue(); return true;
            case ExpressionType.IsTrue: result = IsTrue(); return true;
            case ExpressionType.IsFalse: result = !IsTrue(); return true;
            default: result = null; return false;
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<string> GetDynamicMemberNames()
    {
        using var names = CPython.PyObject_Dir(Reference).MoveToPyObject();
        return names.As<List<string>>();
    }
}
