using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Messaging;

/// <summary>
/// mpi4py's lowercase object messages (<c>comm.send/recv/bcast</c>) from C#: the object is pickled with mpi4py's
/// configured pickler (<c>MPI.pickle</c>, so a <c>dill</c> set up by the user is honoured) and travels as the same
/// bytes mpi4py sends, so a C# rank and a Python rank exchange objects in either direction.
/// Numeric .NET arrays travel as numpy arrays; see <see cref="ObjectCodec"/> for the mapping.
/// </summary>
public static class CommObjectMessages
{
    /// <summary>Sends <paramref name="value"/> to <paramref name="dest"/> like mpi4py's <c>comm.send(obj, dest, tag)</c>.</summary>
    public static void SendObject(this Comm comm, object? value, int dest, int tag = 0)
    {
        ArgumentNullException.ThrowIfNull(comm);
        using var gil = Py.Gil();
        using var payload = Pickle(value);
        using var bytes = payload.GetBuffer<byte>();
        comm.Send<byte>(bytes.ReadOnlySpan, dest, tag); // the GIL is released while MPI waits
    }

    /// <summary>
    /// Receives an object like mpi4py's <c>comm.recv(source, tag)</c>, returned in its natural .NET form
    /// (dict → Dictionary&lt;object, object?&gt;, list → List&lt;object?&gt;, numpy array → T[]...).
    /// </summary>
    public static object? RecvObject(this Comm comm, int source = Comm.AnySource, int tag = Comm.AnyTag)
        => RecvObject(comm, source, tag, out _);

    /// <summary>As <see cref="RecvObject(Comm, int, int)"/>, also giving the message's status (its source and tag).</summary>
    public static object? RecvObject(this Comm comm, int source, int tag, out Status status)
    {
        ArgumentNullException.ThrowIfNull(comm);
        byte[] data = ReceiveBytes(comm, source, tag, out status);
        using var gil = Py.Gil();
        using var value = Unpickle(data);
        return ObjectCodec.ToManaged(value);
    }

    /// <summary>Receives an object and converts it to <typeparamref name="T"/>, with a clear error when it is something else.</summary>
    public static T RecvObject<T>(this Comm comm, int source = Comm.AnySource, int tag = Comm.AnyTag)
    {
        object? value = comm.RecvObject(source, tag);
        return value is T typed ? typed : throw new InvalidCastException(
            $"rank {comm.Rank}: received a {value?.GetType().Name ?? "None"} from rank {source}, expected {typeof(T).Name}.");
    }

    /// <summary>
    /// Broadcasts an object from <paramref name="root"/> like mpi4py's <c>comm.bcast(obj, root)</c>: every rank
    /// returns the root's value. Interoperates with Python ranks calling <c>comm.bcast</c>.
    /// </summary>
    public static object? BcastObject(this Comm comm, object? value, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(comm);
        // mpi4py's bcast sends the pickle size first, then the bytes: the same two broadcasts here.
        byte[] data = [];
        if (comm.Rank == root)
        {
            using var gil = Py.Gil();
            using var payload = Pickle(value);
            using var bytes = payload.GetBuffer<byte>();
            data = bytes.ReadOnlySpan.ToArray();
        }
        int length = comm.Bcast(data.Length, root);
        if (comm.Rank != root) data = new byte[length];
        comm.Bcast<byte>(data, root);
        using (Py.Gil())
        {
            using var result = Unpickle(data);
            return ObjectCodec.ToManaged(result);
        }
    }

    private static byte[] ReceiveBytes(Comm comm, int source, int tag, out Status status)
    {
        // A matched probe claims the message, so a receive on another thread cannot take it between sizing the buffer
        // and receiving (what mpi4py's recv does too).
        Message message = comm.Mprobe(source, tag);
        byte[] data = message.Recv<byte>();
        status = message.Status;
        return data;
    }

    private static PyObject Pickle(object? value)
    {
        using var pickler = Pickler();
        using var pythonValue = ObjectCodec.ToPython(value);
        return pickler.CallMethod("dumps", pythonValue);
    }

    private static PyObject Unpickle(byte[] data)
    {
        using var pickler = Pickler();
        using var view = PyArray.From(data); // zero-copy: loads reads the received bytes in place
        return pickler.CallMethod("loads", view);
    }

    /// <summary>mpi4py's pickler (honours <c>MPI.pickle.__init__(dill.dumps, dill.loads)</c>), else the standard one.</summary>
    private static PyObject Pickler()
    {
        try
        {
            using var mpi = Py.Import("mpi4py.MPI");
            return mpi.GetAttr("pickle");
        }
        catch (PythonException e) when (e.PythonTypeName is "ModuleNotFoundError")
        {
            return Py.Import("pickle");
        }
    }
}
