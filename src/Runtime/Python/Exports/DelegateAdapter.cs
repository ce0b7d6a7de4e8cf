using System.Reflection;
using System.Runtime.ExceptionServices;

namespace PyMpiBridge.Python;

/// <summary>Turns a typed method into a <see cref="PyFunction"/> converting arguments by parameter type.</summary>
internal static class DelegateAdapter
{
    public static PyFunction Create(string name, MethodInfo method, object? target)
    {
        ParameterInfo[] parameters = method.GetParameters();
        foreach (var p in parameters)
            if (p.ParameterType.IsByRef || p.ParameterType.IsByRefLike)
                throw new NotSupportedException($"Parameter '{p.Name}' of {method.Name} is {p.ParameterType}; use PyBuffer<T> for zero-copy arrays, or register a PyFunction.");
        int required = parameters.Count(p => !p.IsOptional);
        bool returnsVoid = method.ReturnType == typeof(void);

        return args =>
        {
            if (args.Count > parameters.Length)
                throw new ArgumentCountException($"{name}() takes at most {parameters.Length} argument(s) ({args.Count} given).");
            var values = new object?[parameters.Length];
            var toDispose = new List<IDisposable>();
            try
            {
                string[] keywords = args.KeywordCount == 0 ? [] : args.KeywordNames();
                foreach (string keyword in keywords)
                {
                    int at = Array.FindIndex(parameters, p => p.Name == keyword);
                    if (at < 0) throw new ArgumentCountException($"{name}() got an unexpected keyword argument '{keyword}'.");
                    if (at < args.Count) throw new ArgumentCountException($"{name}() got multiple values for argument '{keyword}'.");
                }
                for (int i = 0; i < parameters.Length; i++)
                {
                    var p = parameters[i];
                    BorrowedReference argument;
                    if (i < args.Count) argument = args[i];
                    else if (!args.TryGetKeyword(p.Name!, out argument))
                    {
                        if (!p.IsOptional)
                            throw new ArgumentCountException($"{name}() missing required argument '{p.Name}' (takes {required} to {parameters.Length}).");
                        values[i] = p.DefaultValue is DBNull ? null : p.DefaultValue;
                        continue;
                    }
                    values[i] = Convert(argument, p, name, i, toDispose);
                }
                object? result;
                try { result = method.Invoke(target, values); }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                    throw;
                }
                if (returnsVoid || result is null) return null;
                // A PyObject the method returns stays the method's (it may be cached, or be an argument): Python gets a
                // new reference of its own, and the one returned here is fresh (the trampoline hands it over).
                if (result is PyObject py) return py.CloneRef();
                return PyObject.From(result);
            }
            finally
            {
                foreach (var d in toDispose) d.Dispose();
            }
        };
    }

    private static object? Convert(BorrowedReference argument, ParameterInfo p, string function, int index, List<IDisposable> toDispose)
    {
        Type type = p.ParameterType;
        try
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(PyBuffer<>))
            {
                using var o = argument.ToPyObject();
                var buffer = (IDisposable)type.GetMethod("Get")!.Invoke(null, [o, false])!;
                toDispose.Add(buffer);
                return buffer;
            }
            object? value = PyConvert.ToManaged(argument.Address, type);
            if (value is PyObject owned) toDispose.Add(owned);
            return value;
        }
        catch (TargetInvocationException e) when (e.InnerException is InvalidCastException inner)
        {
            throw new InvalidCastException($"{function}() argument '{p.Name}' (#{index + 1}): {inner.Message}", inner);
        }
        catch (InvalidCastException e)
        {
            throw new InvalidCastException($"{function}() argument '{p.Name}' (#{index + 1}): {e.Message}", e);
        }
    }
}
