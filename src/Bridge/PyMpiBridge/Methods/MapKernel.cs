using System.Linq.Expressions;
using System.Reflection;
using PyMpiBridge.Python;

namespace PyMpiBridge.Methods;

/// <summary>
/// A C# method mapped over the items of a chunk, natively: the engine calls it once per chunk with one column per
/// parameter (numpy arrays or lists); each column is converted once to a .NET array, a compiled loop calls the method on
/// every item, and the results go back as a numpy array (numbers) or a list (anything else). No Python runs per item.
/// </summary>
internal sealed class MapKernel
{
    private readonly MethodInfo _method;
    private readonly Type[] _columnTypes;
    private readonly Func<Array[], int, Array> _loop;
    private readonly ResultToPython _toPython;

    /// <summary>The results as a new Python object (a delegate of our own: a <c>Func</c> cannot return a ref struct).</summary>
    private delegate NewReference ResultToPython(Array results);

    public MapKernel(MethodInfo method)
    {
        string name = $"{method.DeclaringType?.Name}.{method.Name}";
        if (method.ReturnType == typeof(void))
            throw new NotSupportedException($"{name} returns nothing: a map needs a value per item (use Apply for a method run for its effect)");
        var parameters = method.GetParameters();
        if (parameters.Length == 0) throw new NotSupportedException($"{name} takes no argument: a map passes one item per parameter");
        foreach (var p in parameters)
            if (p.ParameterType.IsByRef || p.ParameterType == typeof(PyObject) ||
                p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() == typeof(PyBuffer<>))
                throw new NotSupportedException(
                    $"{name}: a map passes one item per parameter, and '{p.Name}' ({p.ParameterType.Name}) takes a whole object: use Apply");
        _method = method;
        _columnTypes = parameters.Select(p => p.ParameterType.MakeArrayType()).ToArray();
        _loop = CompileLoop(method, parameters);
        _toPython = ResultConversion(method.ReturnType);
    }

    /// <summary>(columns, n) => new TOut[n] { method(c0[i], c1[i], ...) }.</summary>
    private static Func<Array[], int, Array> CompileLoop(MethodInfo method, ParameterInfo[] parameters)
    {
        var columns = Expression.Parameter(typeof(Array[]), "columns");
        var n = Expression.Parameter(typeof(int), "n");
        var i = Expression.Variable(typeof(int), "i");
        var result = Expression.Variable(method.ReturnType.MakeArrayType(), "result");
        var typed = parameters.Select((p, k) => Expression.Variable(p.ParameterType.MakeArrayType(), $"column{k}")).ToArray();
        var end = Expression.Label("end");
        var body = new List<Expression> { Expression.Assign(result, Expression.NewArrayBounds(method.ReturnType, n)) };
        for (int k = 0; k < typed.Length; k++)
            body.Add(Expression.Assign(typed[k], Expression.Convert(Expression.ArrayIndex(columns, Expression.Constant(k)), typed[k].Type)));
        body.Add(Expression.Assign(i, Expression.Constant(0)));
        body.Add(Expression.Loop(
            Expression.IfThenElse(Expression.LessThan(i, n),
                Expression.Block(
                    Expression.Assign(Expression.ArrayAccess(result, i), Expression.Call(method, typed.Select(c => Expression.ArrayIndex(c, i)))),
                    Expression.PreIncrementAssign(i)),
                Expression.Break(end)),
            end));
        body.Add(Expression.Convert(result, typeof(Array)));
        return Expression.Lambda<Func<Array[], int, Array>>(Expression.Block(typeof(Array), [i, result, .. typed], body),
            $"map {method.Name}", [columns, n]).Compile();
    }

    private static ResultToPython ResultConversion(Type element)
    {
        if (ElementType.For(element) is null) return results => PyConvert.ToPython(results); // a list
        var numpy = typeof(MapKernel).GetMethod(nameof(Numpy), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(element);
        return numpy.CreateDelegate<ResultToPython>();
    }

    private static NewReference Numpy<T>(Array results) where T : unmanaged => NewReference.FromPyObject(PyArray.From((T[])results));

    /// <summary>The chunk runner Python calls: <c>runner(column0, column1, ...)</c>; returns a new reference.</summary>
    public NewReference Run(PyArguments args)
    {
        if (args.Count != _columnTypes.Length || args.KeywordCount != 0)
            throw new ArgumentCountException(
                $"{_method.Name}: the map chunk has {args.Count} column(s), the method takes {_columnTypes.Length} parameter(s)");
        var columns = new Array[_columnTypes.Length];
        int n = int.MaxValue;
        for (int k = 0; k < columns.Length; k++)
        {
            columns[k] = (Array)PyConvert.ToManaged(args.At(k), _columnTypes[k])!;
            n = Math.Min(n, columns[k].Length);
        }
        return _toPython(_loop(columns, n));
    }
}
