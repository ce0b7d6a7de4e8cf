using PyMpiBridge.Mpi;
using PyMpiBridge.Python;

namespace PyMpiBridge.Examples.Kernels;

/// <summary>
/// Point-to-point messages moved to C#: Python decides who talks and owns the numpy arrays; C# sends from and receives
/// into that same memory on the communicator Python passed. The other side may be mpi4py (<c>comm.Recv(array)</c>), on
/// this host or another: the bytes are MPI's either way.
/// </summary>
public static class ArrayMessages
{
    /// <summary>Sends the float64 array <paramref name="data"/> to rank <paramref name="dest"/> (no copy).</summary>
    [PythonExport]
    public static void SendArray(Comm comm, PyBuffer<double> data, int dest, int tag) => comm.Send(data.ReadOnlySpan, dest, tag);

    /// <summary>Receives float64 values from rank <paramref name="source"/> into <paramref name="into"/>; returns how many arrived.</summary>
    [PythonExport]
    public static int ReceiveArray(Comm comm, PyBuffer<double> into, int source, int tag)
    {
        if (into.IsReadOnly) throw new ArgumentException("into must be a writable float64 array");
        return comm.Recv(into.Span, source, tag).GetCount<double>();
    }
}
