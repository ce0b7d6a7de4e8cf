using System.Numerics;
using System.Reflection;
using PyMpiBridge.Messaging;
using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.ScenarioHost;

/// <summary>
/// Walks the one table of element types (<see cref="ElementType.All"/>) and checks that every path agrees on each
/// entry: MPI's datatype has the table's size in this ABI, a message of it goes from rank to rank intact, numpy sees
/// .NET memory with the table's dtype and C# views numpy memory of that dtype, object messages bring canonical types
/// back as the same type, and MPI's predefined reductions either compute on it or refuse it.
/// </summary>
internal static class ElementTypeScenarios
{
    public static void Register(ScenarioRegistry add) => add("element-types", context =>
    {
        using var session = PyMpi.Start();
        var walk = typeof(ElementTypeScenarios).GetMethod(nameof(Walk), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var element in ElementType.All)
            walk.MakeGenericMethod(element.Type).Invoke(null, [context, session.World, element]);
    }, initializeMpi: false);

    /// <summary>Sample values that survive every path (small integers fit every type; bool alternates).</summary>
    private static T[] Samples<T>() where T : unmanaged
    {
        var values = new T[5];
        for (int i = 0; i < values.Length; i++)
        {
            int v = i + 1;
            object boxed = typeof(T) == typeof(bool) ? v % 2 == 0
                : typeof(T) == typeof(Half) ? (Half)v
                : typeof(T) == typeof(Complex) ? new Complex(v, -v)
                : typeof(T) == typeof(Complex32) ? new Complex32(v, -v)
                : typeof(T) == typeof(char) ? (char)('a' + v)
                : typeof(T) == typeof(nint) ? (nint)v
                : typeof(T) == typeof(nuint) ? (nuint)v
                : Convert.ChangeType(v, typeof(T));
            values[i] = (T)boxed;
        }
        return values;
    }

    private static void Walk<T>(ScenarioContext c, Comm world, ElementType element) where T : unmanaged
    {
        string name = element.Type.Name;
        T[] expected = Samples<T>();

        // MPI: the datatype this ABI gives the type has the table's size.
        int mpiSize = Datatypes.MpiSizeOf(typeof(T));
        c.Check($"mpi size {name}", mpiSize == element.Size && System.Runtime.CompilerServices.Unsafe.SizeOf<T>() == element.Size,
            $"MPI {mpiSize}, table {element.Size}, .NET {System.Runtime.CompilerServices.Unsafe.SizeOf<T>()}");

        // MPI: a ring of point-to-point messages, each rank receiving what its left neighbour sent.
        var received = new T[expected.Length];
        int right = (world.Rank + 1) % world.Size, left = (world.Rank + world.Size - 1) % world.Size;
        world.Sendrecv<T, T>(expected, right, 7, received, left, 7);
        c.Check($"send recv {name}", received.AsSpan().SequenceEqual(expected), string.Join(",", received));

        // MPI: predefined reductions compute on it, or refuse it (Half) with the way out named.
        if (element.MpiArithmetic)
        {
            T[] reduced = new T[expected.Length];
            // Rank 0 contributes the samples, the others zeros: the sum (or for bool the logical or) is the samples.
            world.Allreduce<T>(world.Rank == 0 ? expected : new T[expected.Length], reduced, typeof(T) == typeof(bool) ? Op.Lor : Op.Sum);
            c.Check($"reduce {name}", reduced.AsSpan().SequenceEqual(expected), string.Join(",", reduced));
        }
        else
        {
            try
            {
                world.Allreduce<T>(expected, new T[expected.Length], Op.Sum);
                c.Check($"reduce {name}", false, "a predefined Sum was accepted");
            }
            catch (NotSupportedException e) { c.Check($"reduce {name}", e.Message.Contains("Op.Create"), e.Message); }
        }

        using (Py.Gil())
        {
            // numpy sees .NET memory with the table's dtype, and the same values.
            using var shared = PyArray.From(expected);
            using var np = Py.Import("numpy");
            using var dtype = shared.GetAttr("dtype");
            using var dtypeName = dtype.GetAttr("name");
            using var probe = Py.Eval("lambda a, d: __import__('numpy').array_equal(a, __import__('numpy').array([1,2,3,4,5]).astype(d))");
            using var asTable = np.CallMethod("dtype", element.DTypeName);
            using var numpyEqual = probe.Call(shared, asTable);
            bool sameValues = typeof(T) == typeof(bool) || typeof(T) == typeof(char) || typeof(T) == typeof(Complex) || typeof(T) == typeof(Complex32)
                || numpyEqual.IsTrue();
            c.Check($"to numpy {name}", dtypeName.As<string>() == element.DTypeName && sameValues, $"{dtypeName.As<string>()} vs {element.DTypeName}");

            // C# views numpy memory of the table's dtype, without copying, with the same bytes.
            using var copy = np.CallMethod("array", shared, asTable);
            using var view = copy.GetBuffer<T>();
            c.Check($"from numpy {name}", view.ReadOnlySpan.SequenceEqual(expected) && view.DType == element.DTypeName, view.DType);
        }

        // Object messages: arrays of canonical types come back as the same type with the same values.
        // (Debian's mpi4py, whose pickler object messages use, is built on Open MPI.)
        if (element.Canonical && PyMpiBridge.Mpi.Interop.MpiLibrary.Abi.Kind == MpiAbi.OpenMpi)
        {
            object? back;
            if (world.Size == 1) back = expected;
            else
            {
                if (world.Rank == 0) world.SendObject(expected, 1, 9);
                if (world.Rank == 1) world.SendObject(world.RecvObject(0, 9), 0, 9);
                back = world.Rank == 0 ? world.RecvObject(1, 9) : expected;
            }
            c.Check($"object message {name}", back?.GetType() == typeof(T[]) && ((T[])back).AsSpan().SequenceEqual(expected), back?.GetType().Name ?? "null");
        }
    }
}
