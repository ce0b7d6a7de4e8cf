using PN = Python.Runtime;
using Ours = PyMpiBridge.Python;

namespace PyMpiBridge.Pythonnet;

/// <summary>
/// Lets pythonnet code take our objects as they are: a PyMpiBridge <c>PyObject</c> (e.g. <c>PyArray.From(data)</c>) passed
/// to a pythonnet call arrives in Python as the object itself, not a wrapped .NET object; and
/// <c>theirs.As&lt;PyMpiBridge.Python.PyObject&gt;()</c> gives our reference to the same object.
/// </summary>
internal sealed class PyMpiBridgeCodec : PN.IPyObjectEncoder, PN.IPyObjectDecoder
{
    public static readonly PyMpiBridgeCodec Instance = new();

    /// <summary>Registers the codec with pythonnet (after it is initialized; its shutdown forgets codecs).</summary>
    public static void Register()
    {
        PN.PyObjectConversions.RegisterEncoder(Instance);
        PN.PyObjectConversions.RegisterDecoder(Instance);
    }

    public bool CanEncode(Type type) => typeof(Ours.PyObject).IsAssignableFrom(type);

    public PN.PyObject? TryEncode(object value) => value is Ours.PyObject ours ? ours.ToPythonnet() : null;

    public bool CanDecode(PN.PyType objectType, Type targetType) => targetType == typeof(Ours.PyObject);

    public bool TryDecode<T>(PN.PyObject pyObj, out T? value)
    {
        value = (T)(object)pyObj.ToPyMpiBridge();
        return true;
    }
}
